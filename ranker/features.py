"""Item-side features shared by the DNN and the baselines, aligned with a Catalog's id order."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from catalog.domain import Catalog, Interaction


@dataclass(frozen=True)
class ItemFeatures:
    """Dense per-item arrays in catalog id order (row ``i`` is ``ids[i]``).

    ``popularity`` is counted from the interactions passed in, not from the catalog, so the
    offline protocol can count training interactions only (no leak of held-out items).
    """

    ids: np.ndarray  # (N,) int64, ascending
    content: np.ndarray  # (N, D) float32, unit-norm sentence embeddings of the item text
    genres: np.ndarray  # (N, G) float32 multi-hot
    genre_names: tuple[str, ...]
    year: np.ndarray  # (N,) float32, (year - 1990) / 30; 0 when unknown
    has_year: np.ndarray  # (N,) float32, 1 or 0
    log_popularity: np.ndarray  # (N,) float32, log1p(count) / log1p(max count)

    @classmethod
    def build(
        cls, catalog: Catalog, content: np.ndarray, interactions: Iterable[Interaction]
    ) -> ItemFeatures:
        """Features for every catalog item; ``content`` rows follow ``catalog.ids``."""
        ids = np.asarray(catalog.ids, dtype=np.int64)
        if content.shape[0] != len(ids):
            raise ValueError(f"content has {content.shape[0]} rows for {len(ids)} items")
        names = catalog.genres
        column = {name: j for j, name in enumerate(names)}
        genres = np.zeros((len(ids), len(names)), dtype=np.float32)
        year = np.zeros(len(ids), dtype=np.float32)
        has_year = np.zeros(len(ids), dtype=np.float32)
        for row, item in enumerate(catalog):
            genres[row, [column[g] for g in item.genres]] = 1.0
            if item.year is not None:
                year[row] = (item.year - 1990) / 30.0
                has_year[row] = 1.0
        counts = Counter(i.item_id for i in interactions)
        pop = np.array([counts.get(int(i), 0) for i in ids], dtype=np.float32)
        top = float(np.log1p(pop.max(initial=0.0)))
        log_pop = np.log1p(pop) / (top if top > 0 else 1.0)
        return cls(ids, content.astype(np.float32), genres, names, year, has_year, log_pop)

    def rows(self, item_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Row of each item id, -1 for ids this table does not know."""
        ids = np.asarray(item_ids, dtype=np.int64)
        pos = np.searchsorted(self.ids, ids)
        pos = np.clip(pos, 0, max(len(self.ids) - 1, 0))
        found = (self.ids[pos] == ids) if len(self.ids) else np.zeros(len(ids), dtype=bool)
        return np.where(found, pos, -1)

    def __len__(self) -> int:
        return len(self.ids)
