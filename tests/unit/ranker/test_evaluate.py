"""evaluate(): full ranking with history excluded, buckets, tables and JSON, end to end."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pytest

from catalog.domain import Interaction
from ranker.baselines import ItemKNNScorer, PopularityScorer
from ranker.evaluate import (
    EvalResult,
    evaluate,
    evaluate_many,
    format_table,
    results_to_json,
    user_context,
)
from ranker.metrics import HISTORY_BUCKETS, METRIC_NAMES
from ranker.protocol import Split, Stage, leave_last_out
from ranker.types import Scorer, UserContext
from tests.unit.ranker.test_baselines import Planted, planted


class RecordingScorer:
    """Scores from a fixed table (default 0), recording every context it is asked about."""

    def __init__(self, table: dict[int, float] | None = None, name: str = "recording") -> None:
        self.name = name
        self.table = table or {}
        self.contexts: list[UserContext] = []

    def score(self, context: UserContext, candidates: Sequence[int]) -> np.ndarray:
        self.contexts.append(context)
        return np.array([self.table.get(c, 0.0) for c in candidates], dtype=np.float32)


class OracleScorer:
    """Knows each user's target but also loves their history: exclusion must save it."""

    name = "oracle"

    def __init__(self, split: Split, stage: Stage) -> None:
        self.split, self.stage = split, stage

    def score(self, context: UserContext, candidates: Sequence[int]) -> np.ndarray:
        assert context.user_id is not None
        target = self.split.targets(self.stage)[context.user_id]
        seen = set(self.split.history(context.user_id, self.stage))
        values = [2.0 if c in seen else 1.0 if c == target else 0.0 for c in candidates]
        return np.array(values, dtype=np.float32)


@pytest.fixture(scope="module")
def data() -> Planted:
    return planted()


def sequence_split(lengths: dict[int, int]) -> Split:
    """Users with the given numbers of interactions over disjoint item ranges, no filtering."""
    rows = []
    for user, n in lengths.items():
        rows += [Interaction(user, 1000 * user + j, float(j % 5 + 1), j) for j in range(n)]
    return leave_last_out(rows, k=0)


@pytest.mark.parametrize("stage", ["valid", "test"])
def test_history_is_excluded_from_the_ranking(data: Planted, stage: Stage) -> None:
    result = evaluate(OracleScorer(data.split, stage), data.split, stage)
    assert set(result.ranks.values()) == {1}
    assert result.overall["NDCG@10"] == pytest.approx(1.0)


def test_a_constant_scorer_gets_the_worst_rank() -> None:
    split = sequence_split({1: 5, 2: 5})
    result = evaluate(RecordingScorer(), split, "test")
    assert result.ranks == {1: 6, 2: 6}  # the other user's 5 items tie with the target


def test_contexts_are_newest_first_and_truncated() -> None:
    split = sequence_split({1: 10})
    scorer = RecordingScorer()
    evaluate(scorer, split, "test", max_history=3)
    (context,) = scorer.contexts
    assert context.user_id == 1
    assert context.history == (1008, 1007, 1006)  # the validation item comes first
    assert context.ratings == (4.0, 3.0, 2.0)
    evaluate(scorer, split, "valid", max_history=100)
    assert scorer.contexts[-1].history == tuple(range(1007, 999, -1))


def test_truncation_does_not_unexclude_old_history() -> None:
    split = sequence_split({1: 10, 2: 5})
    old_items = dict.fromkeys(split.history(1, "test")[:-2], 5.0)  # not shown to the scorer
    result = evaluate(RecordingScorer(old_items), split, "test", max_history=2)
    assert result.ranks[1] == 6  # ties with user 2's five items only


def test_buckets_follow_the_visible_history_length() -> None:
    split = sequence_split({1: 4, 2: 9, 3: 30, 4: 150})  # test-stage history: 3, 8, 29, 149
    result = evaluate(RecordingScorer(), split, "test")
    assert [result.buckets[label]["count"] for *_, label in HISTORY_BUCKETS] == [1, 1, 1, 1]
    valid = evaluate(RecordingScorer(), sequence_split({1: 8}), "valid")  # 6 visible
    assert valid.buckets["6-20"]["count"] == 1 and valid.buckets["<=5"]["count"] == 0


def test_target_outside_the_universe_is_a_miss() -> None:
    split = sequence_split({1: 5})
    universe = [i for i in split.item_ids.tolist() if i != split.test[1]]
    result = evaluate(RecordingScorer(), split, "test", item_ids=universe)
    assert result.ranks == {1: len(universe) + 1}
    assert result.n_items == len(universe)


def test_wrong_score_shape_is_a_bug() -> None:
    class Broken(RecordingScorer):
        def score(self, context: UserContext, candidates: Sequence[int]) -> np.ndarray:
            return np.zeros(3, dtype=np.float32)

    with pytest.raises(ValueError, match="shape"):
        evaluate(Broken(name="broken"), sequence_split({1: 5}), "test")


def test_user_context_without_valid_rating_has_no_ratings() -> None:
    split = Split(
        train={1: [Interaction(1, 10, 4.0, 0)]},
        valid={1: 11},
        test={1: 12},
        item_ids=np.array([10, 11, 12]),
    )
    assert user_context(split, 1, "test", 10) == UserContext(user_id=1, history=(11, 10))


def test_end_to_end_on_planted_data(data: Planted) -> None:
    train = data.split.train_interactions()
    scorers: list[Scorer] = [PopularityScorer.fit(train), ItemKNNScorer.fit(train)]
    results = evaluate_many(scorers, data.split, "test")
    assert [r.scorer for r in results] == ["popularity", "itemknn"]
    popularity, knn = results
    assert knn.overall["NDCG@10"] > popularity.overall["NDCG@10"] + 0.15
    for result in results:
        assert result.overall["count"] == len(data.split.users)
        assert sum(b["count"] for b in result.buckets.values()) == len(data.split.users)
        assert set(result.overall) == {*METRIC_NAMES, "count"}
        assert result.n_items == len(data.split.item_ids)


def test_table_and_json(data: Planted) -> None:
    results = evaluate_many([PopularityScorer.fit(data.split.train_interactions())], data.split)
    table = format_table(results)
    header, row, footer = table.splitlines()
    assert header.split()[:8] == ["scorer", "R@5", "R@10", "R@20", "N@5", "N@10", "N@20", "MRR"]
    assert row.startswith("popularity")
    assert "<=5 R@10" in header and ">100 N@10" in header
    assert "users=80" in footer
    record = json.loads(json.dumps(results_to_json(results)))
    (entry,) = record["results"]
    assert entry["scorer"] == "popularity" and entry["stage"] == "test"
    assert entry["overall"]["Recall@10"] == pytest.approx(results[0].overall["Recall@10"])
    assert set(entry["buckets"]) == {label for *_, label in HISTORY_BUCKETS}
    assert len(format_table([]).splitlines()) == 1


def test_eval_result_equality_ignores_timing() -> None:
    split = sequence_split({1: 5, 2: 6})
    a, b = (evaluate(RecordingScorer(), split) for _ in range(2))
    assert isinstance(a, EvalResult) and a == b
