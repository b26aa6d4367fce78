"""The store's columnar readers: every row once, in chunks, equal to the object readers."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from catalog.domain import Catalog, Interaction, Item
from catalog.store import InteractionColumns, ItemColumns, Store

ITEMS = [
    Item(3, "Inception", 2010, ("Sci-Fi", "Action"), (), "", 0, None),
    Item(1, "Toy Story", 1995, ("Animation", "Children"), (), "", 0, None),
    Item(2, "Untitled", None, (), (), "", 0, None),
    Item(7, "Heat", 1995, ("Crime", "Action"), (), "", 0, None),
]
# ties on timestamp on purpose: the database id breaks them, as in Store.interactions
INTERACTIONS = [
    Interaction(user, item, 0.5 * ((user * item) % 10 + 1), 100 + (user + item) % 4)
    for user in range(1, 6)
    for item in (1, 2, 3, 7)
]


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    store.write_catalog(Catalog(ITEMS), INTERACTIONS)
    yield store
    store.close()


def test_interaction_chunks_return_every_row_once(store: Store) -> None:
    chunks = list(store.interaction_chunks(size=3))
    assert [len(c) for c in chunks] == [3] * 6 + [2]
    rows = np.concatenate([c.row for c in chunks])
    assert len(np.unique(rows)) == len(rows) == len(INTERACTIONS)
    assert np.all(np.diff(rows) > 0)  # in id order


def test_interaction_columns_equal_the_objects(store: Store) -> None:
    for size in (1, 7, 1000):
        columns = store.interaction_columns(size=size)
        assert len(columns) == len(INTERACTIONS)
        assert columns.to_interactions() == store.interactions()


def test_interaction_columns_grow_past_the_count() -> None:
    small = InteractionColumns.from_interactions(INTERACTIONS[:2])
    grown = small.resized(5)
    assert len(grown) == 5 and grown.to_interactions()[-2:] == INTERACTIONS[:2]
    assert grown.resized(2).to_interactions() == INTERACTIONS[:2]


def test_item_columns_equal_the_catalog(store: Store) -> None:
    catalog = store.load_catalog()
    columns = store.item_columns(size=2)
    assert columns.ids.tolist() == catalog.ids
    assert columns.genre_names == catalog.genres
    for k, item in enumerate(catalog):
        codes = columns.genre_codes[columns.genre_offsets[k] : columns.genre_offsets[k + 1]]
        assert tuple(columns.genre_names[c] for c in codes) == item.genres
        assert bool(columns.has_year[k]) == (item.year is not None)
        assert columns.year[k] == (item.year or 0)
    reference = ItemColumns.from_catalog(catalog)
    for name in ("ids", "year", "has_year", "genre_offsets", "genre_codes"):
        assert np.array_equal(getattr(columns, name), getattr(reference, name))
