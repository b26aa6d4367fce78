"""Collaborative evidence for a conversation: "people who liked X also watched Y".

When someone names movies they liked, the strongest signal a catalog has is which movies the same
people watched: item-item cosine on the rating matrix (:class:`ranker.baselines.ItemKNNScorer`),
fitted on the ranker's visible interactions (no held-out item counts). Fitting takes seconds on
ml-latest-small, so the neighbour lists are cached next to the other artifacts, keyed by a
fingerprint of the interactions.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from catalog.domain import Interaction
from ranker.baselines import ItemKNNScorer, lookup

NEIGHBOURS = 100  # per item; enough to fill a list of 50 from one or two named movies
FILE = "neighbours.npz"


def fingerprint(interactions: Sequence[Interaction]) -> str:
    digest = hashlib.sha256()
    pairs = np.array(sorted({(i.user_id, i.item_id) for i in interactions}), dtype=np.int64)
    digest.update(pairs.tobytes())
    digest.update(str(NEIGHBOURS).encode())
    return digest.hexdigest()[:16]


MAX_MATRIX_CELLS = 200_000_000  # users × items the dense fit may hold (800 MB of float32)


def load_or_fit(directory: Path, interactions: Sequence[Interaction]) -> ItemKNNScorer | None:
    """The cached neighbours when they match ``interactions``; otherwise fit and cache them.

    None when the catalog is too large for the dense fit (the co-watched signal is then 0,
    everything else ranks as usual); a sparse fit is the step beyond ml-latest-small's size.
    """
    users = len({i.user_id for i in interactions})
    items = len({i.item_id for i in interactions})
    if users * items > MAX_MATRIX_CELLS:
        return None
    key = fingerprint(interactions)
    path = directory / FILE
    try:
        with np.load(path) as saved:
            if str(saved["key"]) == key:
                return ItemKNNScorer(
                    saved["item_ids"], saved["rows"], saved["sims"], saved["popularity"], 1.0
                )
    except (OSError, KeyError, ValueError):
        pass
    knn = ItemKNNScorer.fit(interactions, neighbours=NEIGHBOURS, recency=1.0)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{FILE}.tmp.npz"
    np.savez(
        tmp,
        key=np.array(key),
        item_ids=knn.item_ids,
        rows=knn.neighbour_rows,
        sims=knn.neighbour_sims,
        popularity=knn.popularity,
    )
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return knn


def evidence(knn: ItemKNNScorer, seeds: Sequence[int], candidates: Sequence[int]) -> np.ndarray:
    """Summed neighbour similarity of each candidate to the seeds (0 without evidence)."""
    out = np.zeros(len(candidates), dtype=np.float64)
    rows = lookup(knn.item_ids, list(seeds))
    rows = rows[rows >= 0]
    if not len(rows) or not len(candidates):
        return out
    total = np.zeros(len(knn.item_ids), dtype=np.float64)
    np.add.at(total, knn.neighbour_rows[rows].ravel(), knn.neighbour_sims[rows].ravel())
    positions = lookup(knn.item_ids, list(candidates))
    known = positions >= 0
    out[known] = total[positions[known]]
    return out


def recent_counts(interactions: Sequence[Interaction], years: float = 3.0) -> dict[int, int]:
    """Interactions per item in the last ``years`` of the data: what people watch lately."""
    if not interactions:
        return {}
    end = max(i.timestamp for i in interactions)
    start = end - int(years * 365.25 * 24 * 3600)
    counts: dict[int, int] = {}
    for interaction in interactions:
        if interaction.timestamp >= start:
            counts[interaction.item_id] = counts.get(interaction.item_id, 0) + 1
    return counts
