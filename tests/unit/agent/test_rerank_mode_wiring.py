"""The predictor mode setting, through ``agent.wiring``: the right reranker, and an agent built
from those parts that follows the verbalizer's logprobs (real ChatOpenAI client, loopback stub)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from agent.context import Deps
from agent.llm import UsageCounter
from agent.recommender import Recommender
from agent.settings import Settings
from agent.wiring import assemble_deps, llm_parts, llm_reranker
from catalog.domain import Item
from tools.rerank_modes import PointwiseReranker, VerbalizerReranker
from tools.reranker import LLMReranker

if TYPE_CHECKING:
    from tests.llm_stub import LLMStub

ITEMS = [Item(n, f"Film {n}", 2000, ("Drama",)) for n in range(1, 7)]
PLAN = {"action": "recommend", "liked_titles": ["Toy Story"], "include_genres": ["Animation"]}


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        ("listwise", LLMReranker),
        ("verbalizer", VerbalizerReranker),
        ("pointwise", PointwiseReranker),
    ],
)
def test_the_mode_setting_picks_the_reranker(mode: Any, kind: type) -> None:
    parts = llm_parts(Settings(llm_base_url="http://127.0.0.1:9/v1", llm_rerank_mode=mode), ())
    assert type(parts.reranker) is kind


def test_pointwise_judges_at_most_the_configured_number() -> None:
    model = FakeListChatModel(responses=["No", "Yes", "Yes", "Yes"])
    settings = Settings(llm_rerank_mode="pointwise", llm_pointwise_max=2)
    counter = UsageCounter()  # thread-safe, unlike the fake's own position
    result = llm_reranker(settings, model, counter).rerank("x", ITEMS, 4)
    assert counter.calls == 2
    assert result.mode == "pointwise" and len(result.order) == 4 and not result.fell_back


def test_a_verbalizer_agent_from_settings_reorders_by_logprobs(
    agent_deps: Deps, llm_stub: LLMStub
) -> None:
    settings = Settings(
        llm_base_url=llm_stub.base_url,
        llm_rerank_mode="verbalizer",
        llm_timeout_s=5,
        llm_max_retries=0,
    )
    tuned = settings.model_copy(
        update={"k": 3, "rerank_top": 5, "warm_threshold": agent_deps.config.warm_threshold}
    )
    deps = assemble_deps(
        tuned,
        tools=agent_deps.tools,
        users=agent_deps.users,
        offline_planner=agent_deps.offline_planner,
    )
    agent = Recommender(deps)
    llm_stub.enqueue_json(PLAN)
    llm_stub.enqueue("D", logprobs=[{"D": -0.1, "C": -1.0, "B": -2.0, "The": -3.0}])

    reply = agent.reply("I loved Toy Story, more animation please", thread_id="verbalizer")

    _plan_request, rerank_request = llm_stub.requests
    assert rerank_request["logprobs"] is True and rerank_request["top_logprobs"] == 20
    prompt = rerank_request["messages"][1]["content"]
    labelled = dict(re.findall(r"^([A-T])\. (.+?) \|", prompt, flags=re.MULTILINE))
    assert sorted(labelled)[:4] == ["A", "B", "C", "D"]  # the ranker's top candidates, lettered
    titles = [rec.title for rec in reply.recommendations]
    assert titles == [labelled["D"], labelled["C"], labelled["B"]]  # not the ranker's A, B, C
    guard = agent.graph.get_state(agent._config("verbalizer")).values["guard"]
    assert guard.ran and not guard.fell_back and not guard.dropped
    assert reply.llm.calls == 2
