"""Ranking metrics for one relevant item per user (leave-last-out), in plain numpy.

Everything starts from the 1-based rank of the held-out item among the candidates that were not
excluded (the user's visible history). Recall@k is then the hit rate, NDCG@k is
``1 / log2(rank + 1)`` inside the cutoff (the ideal DCG of a single relevant item is 1), and MRR
is the mean reciprocal rank without a cutoff.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CUTOFFS = (5, 10, 20)
METRIC_NAMES = tuple([f"Recall@{k}" for k in CUTOFFS] + [f"NDCG@{k}" for k in CUTOFFS] + ["MRR"])
# (lowest, highest or None, label): visible-history lengths, inclusive on both ends.
HISTORY_BUCKETS: tuple[tuple[int, int | None, str], ...] = (
    (0, 5, "<=5"),
    (6, 20, "6-20"),
    (21, 100, "21-100"),
    (101, None, ">100"),
)


def rank_of_target(
    scores: np.ndarray, target_index: int, excluded_indices: Sequence[int] | np.ndarray = ()
) -> int:
    """1-based rank of ``scores[target_index]`` among the candidates not excluded.

    Ties are counted pessimistically: every other candidate scoring at least as high as the
    target ranks above it, so a constant scorer gets the worst rank, not a lucky one. NaN counts
    as the lowest possible score. The target itself is never excluded: if it is in
    ``excluded_indices`` (a re-consumed item) it is still ranked.
    """
    values = np.nan_to_num(np.asarray(scores, dtype=np.float64), nan=-np.inf)
    keep = np.ones(len(values), dtype=bool)
    excluded = np.asarray(excluded_indices, dtype=np.int64)
    if excluded.size:
        keep[excluded] = False
    keep[target_index] = False
    return 1 + int(np.count_nonzero(values[keep] >= values[target_index]))


def recall_at(ranks: Sequence[int] | np.ndarray, k: int) -> float:
    """Share of users whose held-out item is in the top ``k`` (= HitRate@k with one target)."""
    values = np.asarray(ranks)
    return float(np.mean(values <= k)) if values.size else 0.0


def ndcg_at(ranks: Sequence[int] | np.ndarray, k: int) -> float:
    """Mean NDCG@k with one relevant item: ``1 / log2(rank + 1)`` when ``rank <= k``, else 0."""
    values = np.asarray(ranks, dtype=np.float64)
    if not values.size:
        return 0.0
    gains = np.where(values <= k, 1.0 / np.log2(values + 1.0), 0.0)
    return float(gains.mean())


def mrr(ranks: Sequence[int] | np.ndarray) -> float:
    """Mean reciprocal rank over the full ranking (no cutoff)."""
    values = np.asarray(ranks, dtype=np.float64)
    return float(np.mean(1.0 / values)) if values.size else 0.0


def summarize(ranks: Sequence[int] | np.ndarray) -> dict[str, float]:
    """Recall and NDCG at 5/10/20, MRR, and the number of users (``count``)."""
    values = np.asarray(ranks)
    summary = {f"Recall@{k}": recall_at(values, k) for k in CUTOFFS}
    summary |= {f"NDCG@{k}": ndcg_at(values, k) for k in CUTOFFS}
    summary["MRR"] = mrr(values)
    summary["count"] = float(values.size)
    return summary


def bucket_of(n_history: int) -> str:
    """Label of the history-length bucket holding ``n_history`` (see ``HISTORY_BUCKETS``)."""
    if n_history < 0:
        raise ValueError("history length cannot be negative")
    for low, high, label in HISTORY_BUCKETS:
        if n_history >= low and (high is None or n_history <= high):
            return label
    raise AssertionError("HISTORY_BUCKETS must cover every length")  # pragma: no cover
