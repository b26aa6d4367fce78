"""Full-ranking offline evaluation of any :class:`Scorer` on a leave-last-out :class:`Split`.

Each user's held-out item is ranked against every item of the protocol (no sampled negatives),
after removing the items the user has already seen at that stage, as LlamaRec's evaluation
does. Metrics are reported overall and per history-length bucket, because a ranker that helps
heavy users can still fail the cold ones the chat mostly serves.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ranker.metrics import HISTORY_BUCKETS, bucket_of, rank_of_target, summarize
from ranker.protocol import Split, Stage
from ranker.types import Scorer, UserContext

DEFAULT_MAX_HISTORY = 200  # LlamaRec's sequence length on MovieLens (bert_max_len)
TABLE_COLUMNS = (
    ("R@5", "Recall@5"),
    ("R@10", "Recall@10"),
    ("R@20", "Recall@20"),
    ("N@5", "NDCG@5"),
    ("N@10", "NDCG@10"),
    ("N@20", "NDCG@20"),
    ("MRR", "MRR"),
)
BUCKET_COLUMNS = (("R@10", "Recall@10"), ("N@10", "NDCG@10"))


@dataclass(frozen=True)
class EvalResult:
    """Metrics of one scorer at one stage: overall, per history bucket, and each user's rank."""

    scorer: str
    stage: Stage
    overall: dict[str, float]
    buckets: dict[str, dict[str, float]]  # bucket label -> metrics, every label present
    ranks: dict[int, int] = field(compare=False, repr=False)  # user -> 1-based rank
    n_items: int = 0
    max_history: int = DEFAULT_MAX_HISTORY
    seconds: float = field(default=0.0, compare=False)


def user_context(split: Split, user: int, stage: Stage, max_history: int) -> UserContext:
    """What a scorer is told about ``user`` at ``stage``: the newest ``max_history`` items."""
    history = split.history(user, stage)[::-1][:max_history]
    ratings = split.history_ratings(user, stage)
    newest = tuple(ratings[::-1][:max_history]) if ratings is not None else ()
    return UserContext(user_id=user, history=tuple(history), ratings=newest)


def evaluate(
    scorer: Scorer,
    split: Split,
    stage: Stage = "test",
    item_ids: Sequence[int] | np.ndarray | None = None,
    *,
    max_history: int = DEFAULT_MAX_HISTORY,
) -> EvalResult:
    """Rank every user's ``stage`` target among ``item_ids`` (default: all protocol items).

    The whole visible history is excluded from the ranking, even the part beyond
    ``max_history`` that the scorer is not shown. A target missing from ``item_ids`` counts
    as a miss ranked last. Raises ValueError if the scorer returns the wrong shape.
    """
    universe = np.asarray(split.item_ids if item_ids is None else item_ids, dtype=np.int64)
    candidates: list[int] = universe.tolist()
    position = {item: index for index, item in enumerate(candidates)}
    started = time.perf_counter()
    ranks: dict[int, int] = {}
    lengths: dict[int, int] = {}
    for user, target in sorted(split.targets(stage).items()):
        visible = split.history(user, stage)
        lengths[user] = len(visible)
        if target not in position:
            ranks[user] = len(universe) + 1
            continue
        scores = scorer.score(user_context(split, user, stage, max_history), candidates)
        if np.shape(scores) != (len(universe),):
            raise ValueError(f"{scorer.name} returned shape {np.shape(scores)} for {len(universe)}")
        excluded = [position[item] for item in visible if item in position]
        ranks[user] = rank_of_target(scores, position[target], excluded)
    seconds = time.perf_counter() - started
    return EvalResult(
        scorer=scorer.name,
        stage=stage,
        overall=summarize(list(ranks.values())),
        buckets=_by_bucket(ranks, lengths),
        ranks=ranks,
        n_items=len(universe),
        max_history=max_history,
        seconds=seconds,
    )


def _by_bucket(ranks: dict[int, int], lengths: dict[int, int]) -> dict[str, dict[str, float]]:
    grouped: dict[str, list[int]] = {label: [] for *_, label in HISTORY_BUCKETS}
    for user, rank in ranks.items():
        grouped[bucket_of(lengths[user])].append(rank)
    return {label: summarize(values) for label, values in grouped.items()}


def evaluate_many(
    scorers: Sequence[Scorer],
    split: Split,
    stage: Stage = "test",
    *,
    max_history: int = DEFAULT_MAX_HISTORY,
) -> list[EvalResult]:
    """:func:`evaluate` each scorer on the same split and stage, in the given order."""
    return [evaluate(s, split, stage, max_history=max_history) for s in scorers]


def format_table(results: Sequence[EvalResult]) -> str:
    """A plain-text table: one row per result, overall metrics then R@10/N@10 per bucket."""
    bucket_labels = [label for *_, label in HISTORY_BUCKETS]
    header = ["scorer", *(short for short, _ in TABLE_COLUMNS)]
    header += [f"{label} {short}" for label in bucket_labels for short, _ in BUCKET_COLUMNS]
    rows = [header]
    for result in results:
        row = [result.scorer, *(f"{result.overall[key]:.4f}" for _, key in TABLE_COLUMNS)]
        row += [
            f"{result.buckets[label][key]:.4f}"
            for label in bucket_labels
            for _, key in BUCKET_COLUMNS
        ]
        rows.append(row)
    widths = [max(len(row[c]) for row in rows) for c in range(len(header))]
    lines = [
        "  ".join(
            cell.rjust(w) if c else cell.ljust(w)
            for c, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    if results:
        counts = ", ".join(
            f"{label}: {int(results[0].buckets[label]['count'])}" for label in bucket_labels
        )
        lines.append(
            f"stage={results[0].stage}, users={int(results[0].overall['count'])} ({counts}), "
            f"items={results[0].n_items}, max_history={results[0].max_history}"
        )
    return "\n".join(lines)


def results_to_json(results: Sequence[EvalResult]) -> dict[str, object]:
    """A JSON-ready record of the results (no per-user ranks), for ``recbot eval`` to write."""
    return {
        "protocol": {
            "name": "llamarec-leave-last-out",
            "filtering": "5-core, all ratings as implicit interactions",
            "ranking": "full ranking over all protocol items, visible history excluded",
            "ties": "pessimistic",
        },
        "results": [
            {
                "scorer": r.scorer,
                "stage": r.stage,
                "n_items": r.n_items,
                "max_history": r.max_history,
                "seconds": round(r.seconds, 3),
                "overall": r.overall,
                "buckets": r.buckets,
            }
            for r in results
        ],
    }
