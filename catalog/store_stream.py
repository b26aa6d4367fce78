"""Write a streamed catalog to the app database in chunks, and read its items back in pages.

:class:`ChunkedCatalogWrite` gives the database the same end state as
:meth:`catalog.store.Store.write_catalog` (items upserted by id, items no longer in the catalog
removed with their interactions, interactions inserted once each, users recounted) without the
catalog in memory: each chunk is its own short transaction, so a writer elsewhere (the web app's
feedback) never waits long for the build's lock. The cost is that a reader of the database during
a build may see part of the new catalog; the served artifacts are loaded from files, not from
these tables, and a build that stops half-way writes no manifest, so the next one redoes it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from catalog.domain import Interaction, Item
from catalog.store import (
    InteractionRow,
    ItemRow,
    Store,
    UserRow,
    WriteReport,
    _chunks,
    _item_values,
    _row_to_item,
)
from catalog.stream import CHUNK_ROWS, CatalogSource

WRITE_CHUNK = 5_000  # rows per statement: below SQLite's bound-parameter limit for IN (...)


class ChunkedCatalogWrite:
    """Makes the database hold exactly the items of ``ids`` (sorted), written chunk by chunk."""

    def __init__(self, store: Store, ids: np.ndarray) -> None:
        self.store = store
        self.ids = ids  # (n,) int64, sorted
        self.added = np.zeros(len(ids), dtype=bool)
        self.updated = np.zeros(len(ids), dtype=bool)
        self.with_overview = np.zeros(len(ids), dtype=bool)
        self.users = np.empty(0, dtype=np.int64)
        self.interactions_before = self._count(InteractionRow)
        sqlite = store.engine.dialect.name == "sqlite"
        self._insert_ignoring = sqlite_insert if sqlite else pg_insert

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self.store.guard("write to"), Session(self.store.engine) as session, session.begin():
            yield session

    def items(self, items: Sequence[Item], *, overviews_later: bool = False) -> None:
        """Upsert these items; with ``overviews_later`` their overviews are left as stored (new
        items get none) for :meth:`overviews` to set."""
        for chunk in _chunks(items, WRITE_CHUNK):
            with self._transaction() as session:
                query = select(ItemRow).where(ItemRow.id.in_([item.id for item in chunk]))
                stored = {row.id: _item_values(_row_to_item(row)) for row in session.scalars(query)}
                new, changed = [], []
                for item in chunk:
                    values = _item_values(item)
                    old = stored.get(item.id)
                    if overviews_later:
                        values.pop("overview")
                        if old is not None:
                            old.pop("overview")
                    if old is None:
                        new.append(values)
                    elif old != values:
                        changed.append(values)
                if new:  # Core executemany: the ORM's bulk insert costs ~3x more here
                    session.connection().execute(insert(ItemRow), new)
                if changed:
                    session.execute(update(ItemRow), changed)  # by primary key
            self.added[self._positions([row["id"] for row in new])] = True
            self._mark_updated([row["id"] for row in changed])

    def overviews(self, pairs: Sequence[tuple[int, str]]) -> None:
        """Set these items' overviews (items written by :meth:`items` first)."""
        for chunk in _chunks(pairs, WRITE_CHUNK):
            ids = [item_id for item_id, _ in chunk]
            with self._transaction() as session:
                query = select(ItemRow.id, ItemRow.overview).where(ItemRow.id.in_(ids))
                stored = {row[0]: row[1] for row in session.execute(query)}
                changed = [{"id": i, "overview": text} for i, text in chunk if stored[i] != text]
                if changed:
                    session.execute(update(ItemRow), changed)
            self.with_overview[self._positions(ids)] = True
            self._mark_updated([row["id"] for row in changed])

    def clear_other_overviews(self) -> None:
        """Empty the stored overview of every item :meth:`overviews` did not set."""
        without = self.ids[~self.with_overview].tolist()
        for chunk in _chunks(without, WRITE_CHUNK):
            with self._transaction() as session:
                query = select(ItemRow.id).where(ItemRow.id.in_(chunk), ItemRow.overview != "")
                stale = list(session.scalars(query))
                if stale:
                    session.execute(update(ItemRow), [{"id": i, "overview": ""} for i in stale])
            self._mark_updated(stale)

    def interactions(self, interactions: Sequence[Interaction]) -> None:
        """Insert these interactions and their users, each once (items written first), in one
        transaction: a commit costs a WAL sync, so this takes the caller's bigger chunks."""
        users = np.unique(np.fromiter((i.user_id for i in interactions), dtype=np.int64))
        with self._transaction() as session:
            connection = session.connection()
            for ids in _chunks(users.tolist(), WRITE_CHUNK):
                connection.execute(
                    self._insert_ignoring(UserRow).on_conflict_do_nothing(),
                    [{"id": user_id, "n_interactions": 0} for user_id in ids],
                )
            for chunk in _chunks(interactions, WRITE_CHUNK):
                connection.execute(
                    self._insert_ignoring(InteractionRow).on_conflict_do_nothing(),
                    [_interaction_row(interaction) for interaction in chunk],
                )
        self.users = np.union1d(self.users, users)

    def finish(self) -> WriteReport:
        """Remove the items no longer in the catalog, recount users, and say what changed."""
        removed = 0
        for stale in self._stale_pages():
            with self._transaction() as session:
                session.execute(delete(InteractionRow).where(InteractionRow.item_id.in_(stale)))
                session.execute(delete(ItemRow).where(ItemRow.id.in_(stale)))
            removed += len(stale)
        after = self._count(InteractionRow)
        if after != self.interactions_before or removed:
            with self._transaction() as session:
                per_user = (
                    select(func.count())
                    .where(InteractionRow.user_id == UserRow.id)
                    .scalar_subquery()
                )
                session.execute(update(UserRow).values(n_interactions=per_user))
        added, updated = int(self.added.sum()), int(self.updated.sum())
        return WriteReport(
            items_added=added,
            items_updated=updated,
            items_removed=removed,
            items_unchanged=len(self.ids) - added - updated,
            interactions_added=after - self.interactions_before,
            users=len(self.users),
        )

    def _stale_pages(self) -> Iterator[list[int]]:
        """Stored item ids not in the catalog, a page of stored ids at a time."""
        last = None
        while True:
            query = select(ItemRow.id).order_by(ItemRow.id).limit(50_000)
            if last is not None:
                query = query.where(ItemRow.id > last)
            with self.store.guard("read from"), Session(self.store.engine) as session:
                page = np.array(list(session.scalars(query)), dtype=np.int64)
            if not len(page):
                return
            last = int(page[-1])
            slots = np.minimum(np.searchsorted(self.ids, page), max(len(self.ids) - 1, 0))
            known = self.ids[slots] == page if len(self.ids) else np.zeros(len(page), bool)
            if (~known).any():
                yield page[~known].tolist()

    def _positions(self, item_ids: Sequence[int]) -> np.ndarray:
        return np.searchsorted(self.ids, np.asarray(item_ids, dtype=np.int64))

    def _mark_updated(self, item_ids: Sequence[int]) -> None:
        positions = self._positions(item_ids)
        self.updated[positions[~self.added[positions]]] = True  # a new item is only "added"

    def _count(self, model: Any) -> int:
        with self.store.guard("read from"), Session(self.store.engine) as session:
            return session.scalar(select(func.count()).select_from(model)) or 0


def _interaction_row(i: Interaction) -> dict[str, Any]:
    return {
        "user_id": i.user_id,
        "item_id": i.item_id,
        "rating": i.rating,
        "timestamp": i.timestamp,
    }


def write_streamed(store: Store, source: CatalogSource, *, chunk: int = CHUNK_ROWS) -> WriteReport:
    """Write a scanned catalog: items, then overviews, then interactions (which need their
    items), ``chunk`` rows read at a time."""
    write = ChunkedCatalogWrite(store, source.ids)
    overviews_later = source.files.overviews is not None
    for items in source.items(chunk):
        write.items(items, overviews_later=overviews_later)
    if overviews_later:
        for pairs in source.overviews(chunk):
            write.overviews(pairs)
        write.clear_other_overviews()
    for interactions in source.interactions(chunk):
        write.interactions(interactions)
    return write.finish()


def stored_items(store: Store, page: int = 4_096) -> Iterator[list[Item]]:
    """Every stored item in id order, ``page`` at a time (keyset pagination: constant memory)."""
    last = None
    while True:
        query = select(ItemRow).order_by(ItemRow.id).limit(page)
        if last is not None:
            query = query.where(ItemRow.id > last)
        with store.guard("read from"), Session(store.engine) as session:
            items = [_row_to_item(row) for row in session.scalars(query)]
        if not items:
            return
        last = items[-1].id
        yield items
