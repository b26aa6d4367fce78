"""Item-side features shared by the DNN and the baselines, aligned with a Catalog's id order."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from catalog.domain import Catalog, Interaction
from catalog.store import ItemColumns


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
        counts = Counter(i.item_id for i in interactions)
        pop = np.array([counts.get(i, 0) for i in catalog.ids], dtype=np.float32)
        return cls.from_columns(ItemColumns.from_catalog(catalog), content.astype(np.float32), pop)

    @classmethod
    def from_columns(
        cls, items: ItemColumns, content: np.ndarray, popularity: np.ndarray
    ) -> ItemFeatures:
        """Features from item columns, ``content`` (N, D) rows and interaction counts (N,) in
        ``items.ids`` order. ``content`` is kept as given when float32 (a memory map stays one)."""
        ids = items.ids
        if content.shape[0] != len(ids):
            raise ValueError(f"content has {content.shape[0]} rows for {len(ids)} items")
        genres = np.zeros((len(ids), len(items.genre_names)), dtype=np.float32)
        owner = np.repeat(np.arange(len(ids)), np.diff(items.genre_offsets))
        genres[owner, items.genre_codes] = 1.0
        year = np.where(items.has_year, (items.year - 1990) / 30.0, 0.0).astype(np.float32)
        pop = np.asarray(popularity, dtype=np.float32)
        top = float(np.log1p(pop.max(initial=0.0)))
        log_pop = np.log1p(pop) / (top if top > 0 else 1.0)
        return cls(
            ids,
            np.asarray(content, dtype=np.float32),
            genres,
            items.genre_names,
            year,
            items.has_year.astype(np.float32),
            log_pop,
        )

    def rows(self, item_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Row of each item id, -1 for ids this table does not know."""
        ids = np.asarray(item_ids, dtype=np.int64)
        pos = np.searchsorted(self.ids, ids)
        pos = np.clip(pos, 0, max(len(self.ids) - 1, 0))
        found = (self.ids[pos] == ids) if len(self.ids) else np.zeros(len(ids), dtype=bool)
        return np.where(found, pos, -1)

    def __len__(self) -> int:
        return len(self.ids)
