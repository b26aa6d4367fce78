"""Ranking metrics against hand-computed cases."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest

from ranker.metrics import (
    HISTORY_BUCKETS,
    METRIC_NAMES,
    bucket_of,
    mrr,
    ndcg_at,
    rank_of_target,
    recall_at,
    summarize,
)


@pytest.mark.parametrize(
    ("scores", "target", "excluded", "rank"),
    [
        ([0.9, 0.5, 0.1], 0, [], 1),
        ([0.9, 0.5, 0.1], 2, [], 3),
        ([0.9, 0.5, 0.1], 2, [0], 2),  # excluding a better item lifts the target
        ([0.9, 0.5, 0.1], 2, [0, 1], 1),
        ([0.9, 0.5, 0.1], 1, [2], 2),  # excluding a worse item changes nothing
        ([0.5, 0.5, 0.5], 1, [], 3),  # ties are pessimistic: all equals rank above
        ([0.7, 0.5, 0.5, 0.5], 2, [3], 3),
        ([0.2, 0.9, 0.1], 1, [1], 1),  # the target is never excluded
        ([float("nan"), 0.1], 1, [], 1),  # NaN is the lowest score
        ([0.1, float("nan")], 1, [], 2),
        ([-np.inf, -np.inf], 0, [], 2),
    ],
)
def test_rank_of_target(scores: list[float], target: int, excluded: list[int], rank: int) -> None:
    assert rank_of_target(np.array(scores, dtype=np.float32), target, excluded) == rank


def test_rank_accepts_numpy_exclusions() -> None:
    scores = np.arange(10, dtype=np.float32)[::-1].copy()  # item 0 best
    assert rank_of_target(scores, 5, np.arange(5)) == 1


@pytest.mark.parametrize(
    ("ranks", "k", "recall", "ndcg"),
    [
        ([1, 2, 11], 10, 2 / 3, (1 + 1 / math.log2(3)) / 3),
        ([1, 2, 11], 1, 1 / 3, 1 / 3),
        ([1, 2, 11], 20, 1.0, (1 + 1 / math.log2(3) + 1 / math.log2(12)) / 3),
        ([5, 6], 5, 0.5, (1 / math.log2(6)) / 2),
        ([100], 10, 0.0, 0.0),
        ([], 10, 0.0, 0.0),
    ],
)
def test_recall_and_ndcg(ranks: list[int], k: int, recall: float, ndcg: float) -> None:
    assert recall_at(ranks, k) == pytest.approx(recall)
    assert ndcg_at(ranks, k) == pytest.approx(ndcg)


@pytest.mark.parametrize(
    ("ranks", "expected"),
    [([1, 2, 11], (1 + 1 / 2 + 1 / 11) / 3), ([1000], 1 / 1000), ([1], 1.0), ([], 0.0)],
)
def test_mrr_has_no_cutoff(ranks: list[int], expected: float) -> None:
    assert mrr(ranks) == pytest.approx(expected)


def test_summarize_names_every_metric() -> None:
    summary = summarize([1, 2, 11])
    assert set(summary) == {*METRIC_NAMES, "count"}
    assert summary["count"] == 3
    assert summary["Recall@10"] == pytest.approx(2 / 3)
    assert summary["Recall@5"] == summary["Recall@10"]  # 11 is outside both
    assert summary["MRR"] == pytest.approx((1 + 1 / 2 + 1 / 11) / 3)


def test_summarize_empty_is_zero_not_nan() -> None:
    summary = summarize([])
    assert summary["count"] == 0
    assert all(value == 0.0 for value in summary.values())


@pytest.mark.parametrize(
    ("length", "label"),
    [
        (0, "<=5"),
        (5, "<=5"),
        (6, "6-20"),
        (20, "6-20"),
        (21, "21-100"),
        (100, "21-100"),
        (101, ">100"),
        (5000, ">100"),
    ],
)
def test_bucket_of(length: int, label: str) -> None:
    assert bucket_of(length) == label


def test_buckets_tile_the_lengths() -> None:
    for (_, high, _), (low, _, _) in pairwise(HISTORY_BUCKETS):
        assert high is not None and low == high + 1
    assert HISTORY_BUCKETS[0][0] == 0 and HISTORY_BUCKETS[-1][1] is None
    with pytest.raises(ValueError):
        bucket_of(-1)
