"""``recbot eval --llm-rerank``: the DNN's top K reranked by the LLM, on generated data.

The LLM is the REAL ``ChatOpenAI`` (built by the composition root from settings) against the
loopback stub, which scripts the answers, their logprobs and the usage blocks; the DNN is a
fixed scorer whose order is known, so every expected rank can be read off the test.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pytest

from agent.settings import Settings
from catalog.domain import Catalog, Interaction, Item
from catalog.errors import ConfigurationError
from jobs.rerank_eval import (
    RerankEvalConfig,
    UserOutcome,
    dnn_ranking,
    eval_reranker,
    pick_users,
    rerank_users,
)
from jobs.rerank_report import build_report, format_report, write_rerank_report
from ranker.metrics import rank_of_target
from ranker.protocol import Split
from ranker.types import UserContext
from tools.reranker import RerankMode

if TYPE_CHECKING:
    from pathlib import Path

    from tests.llm_stub import LLMStub

ITEMS = 30
CATALOG = Catalog([Item(i, f"Movie {i}", 1990 + i, ("Drama",)) for i in range(1, ITEMS + 1)])
# user -> (history oldest first, test target): the DNN ranks by id, history excluded
USERS = {1: ([25, 26, 27, 28], 5), 2: ([1, 2, 29, 30], 9), 3: ([3, 4, 5, 6], 26)}


class ByIdScorer:
    """The fake DNN: the lower the id, the better; records whom it scored."""

    name = "by-id"

    def __init__(self) -> None:
        self.users: list[int | None] = []

    def score(self, context: UserContext, candidates: Sequence[int]) -> np.ndarray:
        self.users.append(context.user_id)
        return -np.asarray(candidates, dtype=np.float32)


def split() -> Split:
    train, valid = {}, {}
    for user, (history, _) in USERS.items():
        train[user] = [Interaction(user, item, 4.0, n) for n, item in enumerate(history[:-1])]
        valid[user] = history[-1]
    test = {user: target for user, (_, target) in USERS.items()}
    return Split(train, valid, test, np.arange(1, ITEMS + 1, dtype=np.int64))


def run(
    stub: LLMStub, mode: RerankMode, users: Sequence[int] = (1,), *, timeout: float = 10.0
) -> list[UserOutcome]:
    settings = Settings(llm_base_url=stub.base_url, llm_model="stub-model")
    config = RerankEvalConfig(mode=mode, call_timeout=timeout)
    reranker, calls, usage = eval_reranker(settings, config)
    return rerank_users(
        users, split(), ByIdScorer(), CATALOG, reranker, config, usage=usage, calls=calls
    )


def letters(*ranked: str) -> list[dict[str, float]]:
    """The first token's alternatives: the first letter chosen, each next one less likely."""
    return [{letter: -0.1 - n for n, letter in enumerate(ranked)}]


def test_the_dnn_top_20_excludes_history_and_ranks_like_the_protocol() -> None:
    ranked, rank = dnn_ranking(-np.arange(1, 31.0), np.arange(1, 31), [1, 2, 29], target=9)
    assert rank == 7 and ranked[:3].tolist() == [3, 4, 5] and 29 not in ranked
    scores = np.array([3.0, 1.0, 3.0, np.nan, 3.0])  # ties with the target go before it
    items = np.array([10, 11, 12, 13, 14])
    ranked, rank = dnn_ranking(scores, items, [10], target=12)
    assert rank == rank_of_target(scores, 2, [0]) == 2
    assert ranked.tolist() == [14, 12, 11, 13]


def test_the_verbalizer_reorders_the_top_20_as_the_model_says(llm_stub: LLMStub) -> None:
    llm_stub.enqueue("C", logprobs=letters("C", "E", "A"), usage=(321, 1))
    (outcome,) = run(llm_stub, "verbalizer")
    assert outcome.candidates == tuple(range(1, 21))  # by id; 25-28 were watched
    assert outcome.reranked[:3] == (3, 5, 1)  # C, E, A: by the letters' probabilities
    assert outcome.reranked[3:] == (2, 4, *range(6, 21))  # the rest keep the DNN's order
    assert (outcome.dnn_rank, outcome.llm_rank) == (5, 2)
    assert not outcome.fell_back and outcome.error is None
    assert (outcome.calls, outcome.answered) == (1, 1)
    assert (outcome.input_tokens, outcome.output_tokens) == (321, 1)  # the server's usage
    request = llm_stub.requests[0]
    assert request["logprobs"] is True and request["top_logprobs"] == 20
    prompt = request["messages"][-1]["content"]
    assert "watched, oldest first: Movie 25 (2015); Movie 26 (2016)" in prompt
    assert "T. Movie 20" in prompt and "Movie 21" not in prompt


def test_answers_that_are_not_candidates_are_dropped_by_the_guard(llm_stub: LLMStub) -> None:
    llm_stub.enqueue("Z", logprobs=letters("Z", "B"))  # a letter beyond T: not a candidate
    llm_stub.enqueue("[999, 42, 5]")  # listwise: 999 and 42 are not among the 20
    (verbalizer,) = run(llm_stub, "verbalizer")
    (listwise,) = run(llm_stub, "listwise")
    assert verbalizer.fell_back is False and verbalizer.dropped == ("'Z': out of range",)
    assert verbalizer.reranked[0] == 2  # B, the one label the model ranked that exists
    assert listwise.dropped == ("999: out of range", "42: out of range")
    assert listwise.reranked[0] == 5 and listwise.llm_rank == 1
    for outcome in (verbalizer, listwise):
        assert sorted(outcome.reranked) == sorted(outcome.candidates)  # only the top 20


def test_a_failing_or_late_model_keeps_the_dnn_order_and_counts(llm_stub: LLMStub) -> None:
    llm_stub.enqueue("A", status=500)
    llm_stub.enqueue("A", delay=2.0)  # later than the call timeout
    llm_stub.enqueue("sorry, I cannot help with that")  # answered, but not a letter
    outcomes = run(llm_stub, "verbalizer", users=(1, 2, 3), timeout=0.5)
    assert [o.fell_back for o in outcomes] == [True, True, True]
    assert [o.reranked == o.candidates for o in outcomes] == [True, True, True]
    assert [o.llm_rank == o.dnn_rank for o in outcomes] == [True, True, True]
    assert [(o.calls, o.answered) for o in outcomes] == [(1, 0), (1, 0), (1, 1)]
    assert "500" in str(outcomes[0].error) and outcomes[0].answer is None
    assert outcomes[2].answer == "sorry, I cannot help with that" and outcomes[2].error is None
    assert "Timeout" in str(outcomes[1].error) and 0.4 < outcomes[1].latencies[0] < 1.9
    assert len(llm_stub.requests) == 3  # no retry
    report = build_report(outcomes, RerankEvalConfig(), model="stub-model", split_users=3)
    assert report["llm"]["fallbacks"] == 3 and report["llm"]["answered_calls"] == 1
    assert report["systems"]["dnn"] == report["systems"]["dnn+verbalizer"]


def test_pointwise_asks_once_per_candidate_and_sums_the_usage(llm_stub: LLMStub) -> None:
    llm_stub.always("Yes", logprobs=[{"Yes": -0.2, "No": -1.8}], usage=(50, 1))
    (outcome,) = run(llm_stub, "pointwise")
    assert (outcome.calls, outcome.answered) == (20, 20) and len(outcome.latencies) == 20
    assert (outcome.input_tokens, outcome.output_tokens) == (1000, 20)
    assert outcome.reranked == outcome.candidates and not outcome.fell_back  # all alike


def test_users_picks_a_seeded_subset() -> None:
    users = list(range(1, 611))
    three = pick_users(users, 3, seed=0)
    assert three == pick_users(users, 3, seed=0) == sorted(three) and len(set(three)) == 3
    assert set(three) <= set(pick_users(users, 10, seed=0))  # more users keep these
    assert three != pick_users(users, 3, seed=1)
    assert pick_users(users, None, seed=0) == users == pick_users(users, 9999, seed=5)


def test_the_report_compares_on_the_same_users(llm_stub: LLMStub, tmp_path: Path) -> None:
    llm_stub.enqueue("E", logprobs=letters("E"), usage=(100, 1))  # user 1: 5 -> 1
    llm_stub.enqueue("A", logprobs=letters("A"), usage=(300, 1))  # user 2: 9 stays at 7
    llm_stub.enqueue("no idea", usage=(200, 1))  # user 3: 26 is beyond the top 20 anyway
    outcomes = run(llm_stub, "verbalizer", users=(1, 2, 3))
    assert [(o.dnn_rank, o.llm_rank) for o in outcomes] == [(5, 1), (7, 7), (22, 22)]
    report = build_report(outcomes, RerankEvalConfig(), model="stub-model", split_users=610)
    dnn, reranked = report["systems"]["dnn"], report["systems"]["dnn+verbalizer"]
    assert dnn["Recall@1"] == 0 and reranked["Recall@1"] == pytest.approx(1 / 3)
    assert dnn["Recall@20"] == reranked["Recall@20"] == pytest.approx(2 / 3)
    assert report["ratios"]["Recall@10"] == 1.0 and report["ratios"]["Recall@1"] is None
    assert report["ratios"]["NDCG@5"] == pytest.approx(np.log2(6))
    assert report["targets_in_top"] == 2 and report["moved"] == {"up": 1, "down": 0, "same": 1}
    llm = report["llm"]
    assert (llm["calls"], llm["answered_calls"], llm["fallbacks"]) == (3, 3, 1)  # no letter
    assert llm["input_tokens_per_user"] == 200 and llm["output_tokens_per_user"] == 1
    assert llm["latency_p50_s"] is not None and llm["latency_p95_s"] >= llm["latency_p50_s"]
    text = format_report(report)
    assert "| × dnn | n/a |" in text and "3 of 610 users" in text
    assert "Recall@10 can only move within it" in text
    path = write_rerank_report(tmp_path, report)
    assert path.name == "verbalizer.json" and (tmp_path / "verbalizer.md").exists()


def test_without_an_llm_it_says_what_to_set() -> None:
    with pytest.raises(ConfigurationError, match="RECBOT_LLM=local"):
        eval_reranker(Settings(llm="off"), RerankEvalConfig())


def test_the_verbalizer_cannot_label_more_than_20() -> None:
    with pytest.raises(ValueError, match="at most 20"):
        RerankEvalConfig(mode="verbalizer", top=21)
    assert RerankEvalConfig(mode="listwise", top=50).top == 50
