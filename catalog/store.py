"""The app database: SQLAlchemy 2.x typed models and the :class:`Store` that reads and writes them.

An SQLite file by default, any SQLAlchemy URL otherwise. Rows are separate from the domain
dataclasses and converted at this module's edge. Writing the same catalog twice changes nothing.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from array import array
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import (
    JSON,
    Engine,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from catalog.domain import Catalog, Interaction, Item
from catalog.errors import StoreError


class Base(DeclarativeBase):
    pass


class ItemRow(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(512))
    year: Mapped[int | None]
    genres: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    overview: Mapped[str] = mapped_column(Text, default="")
    popularity: Mapped[int] = mapped_column(Integer, default=0)
    mean_rating: Mapped[float | None] = mapped_column(Float)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n_interactions: Mapped[int] = mapped_column(Integer, default=0)


class InteractionRow(Base):
    __tablename__ = "interactions"
    __table_args__ = (UniqueConstraint("user_id", "item_id", "timestamp", name="uq_interaction"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    rating: Mapped[float] = mapped_column(Float)
    timestamp: Mapped[int] = mapped_column(Integer)


@dataclass(frozen=True)
class WriteReport:
    """What a catalog write changed. All zeros but ``unchanged`` means the data was already there."""

    items_added: int
    items_updated: int
    items_removed: int
    items_unchanged: int
    interactions_added: int
    users: int

    @property
    def changed(self) -> bool:
        return bool(
            self.items_added or self.items_updated or self.items_removed or self.interactions_added
        )


@dataclass(frozen=True)
class InteractionColumns:
    """Interactions as parallel arrays, one row each: 36 bytes a row instead of a Python object.

    ``row`` orders rows that share a timestamp: the database id when read from a store, the
    input position when made from a list (the tie-break :meth:`Store.interactions` uses).
    """

    row: np.ndarray  # (n,) int64
    user: np.ndarray  # (n,) int64
    item: np.ndarray  # (n,) int64
    rating: np.ndarray  # (n,) float64
    timestamp: np.ndarray  # (n,) int64

    @classmethod
    def from_interactions(cls, interactions: Sequence[Interaction]) -> InteractionColumns:
        n = len(interactions)
        return cls(
            np.arange(n, dtype=np.int64),
            np.fromiter((i.user_id for i in interactions), np.int64, n),
            np.fromiter((i.item_id for i in interactions), np.int64, n),
            np.fromiter((i.rating for i in interactions), np.float64, n),
            np.fromiter((i.timestamp for i in interactions), np.int64, n),
        )

    @classmethod
    def empty(cls, n: int) -> InteractionColumns:
        def zeros() -> np.ndarray:
            return np.zeros(n, dtype=np.int64)

        return cls(zeros(), zeros(), zeros(), np.zeros(n, dtype=np.float64), zeros())

    def columns(self) -> tuple[np.ndarray, ...]:
        return self.row, self.user, self.item, self.rating, self.timestamp

    def put(self, start: int, chunk: InteractionColumns) -> None:
        """Copy ``chunk`` into rows ``start:start + len(chunk)``."""
        for mine, theirs in zip(self.columns(), chunk.columns(), strict=True):
            mine[start : start + len(chunk)] = theirs

    def resized(self, n: int) -> InteractionColumns:
        """The first ``n`` rows (zero rows appended when ``n`` is larger), as new arrays."""
        out = InteractionColumns.empty(n)
        out.put(0, self.take(slice(0, min(n, len(self)))))
        return out

    def take(self, rows: slice | np.ndarray) -> InteractionColumns:
        row, user, item, rating, timestamp = (column[rows] for column in self.columns())
        return InteractionColumns(row, user, item, rating, timestamp)

    def __len__(self) -> int:
        return len(self.row)

    def to_interactions(self) -> list[Interaction]:
        """As objects, oldest first (timestamp, then ``row``): what ``Store.interactions`` gives."""
        order = np.lexsort((self.row, self.timestamp))
        return [
            Interaction(int(u), int(i), float(r), int(t))
            for u, i, r, t in zip(
                self.user[order],
                self.item[order],
                self.rating[order],
                self.timestamp[order],
                strict=True,
            )
        ]


@dataclass(frozen=True)
class ItemColumns:
    """The item fields the ranker's features use, as arrays in id order (no titles or texts)."""

    ids: np.ndarray  # (N,) int64, ascending
    year: np.ndarray  # (N,) int64, 0 where unknown
    has_year: np.ndarray  # (N,) bool
    genre_names: tuple[str, ...]  # every genre some item has, sorted (``Catalog.genres``)
    genre_offsets: np.ndarray  # (N + 1,) int64: item k's genres are codes[offsets[k]:offsets[k+1]]
    genre_codes: np.ndarray  # (total,) int32, positions in ``genre_names``

    @classmethod
    def from_rows(cls, rows: Iterator[tuple[int, int | None, Sequence[str]]]) -> ItemColumns:
        """From (id, year, genres) rows in ascending id order."""
        ids, years, counts, codes = array("q"), array("q"), array("q"), array("i")
        first_seen: dict[str, int] = {}
        for item_id, item_year, genres in rows:
            ids.append(item_id)
            years.append(-1 if item_year is None else item_year)
            counts.append(len(genres))
            codes.extend(first_seen.setdefault(g, len(first_seen)) for g in genres)
        names = tuple(sorted(first_seen))
        recode = np.array([names.index(g) for g in first_seen], dtype=np.int32)
        year = np.frombuffer(years, dtype=np.int64)
        offsets = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(np.frombuffer(counts, dtype=np.int64), out=offsets[1:])
        return cls(
            np.frombuffer(ids, dtype=np.int64).copy(),
            np.where(year == -1, 0, year),
            year != -1,
            names,
            offsets,
            recode[np.frombuffer(codes, dtype=np.int32)] if codes else np.zeros(0, np.int32),
        )

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> ItemColumns:
        return cls.from_rows((i.id, i.year, i.genres) for i in catalog)

    def __len__(self) -> int:
        return len(self.ids)


def _item_values(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "year": item.year,
        "genres": list(item.genres),
        "tags": list(item.tags),
        "overview": item.overview,
        "popularity": item.popularity,
        "mean_rating": item.mean_rating,
    }


def _row_to_item(row: ItemRow) -> Item:
    return Item(
        id=row.id,
        title=row.title,
        year=row.year,
        genres=tuple(row.genres or ()),
        tags=tuple(row.tags or ()),
        overview=row.overview or "",
        popularity=row.popularity or 0,
        mean_rating=row.mean_rating,
    )


PRIVATE_MODE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")  # SQLite gives new ones the database's mode


def keep_private(path: Path) -> None:
    """Make ``path`` readable by its owner only: created empty with mode 0600 when absent (an
    empty file is a valid SQLite database), narrowed to 0600 when it exists and is ours, with
    its SQLite companion files. Conversations, accounts and secrets are nobody else's to read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_MODE))
    for each in (path, *(Path(f"{path}{suffix}") for suffix in SQLITE_COMPANIONS)):
        if not each.exists():
            continue
        info = each.stat()
        if stat.S_IMODE(info.st_mode) != PRIVATE_MODE and info.st_uid == os.getuid():
            each.chmod(PRIVATE_MODE)  # another's file (a shared read-only catalog) is left


def redact_url(url: str) -> str:
    """The URL with any password hidden, for logs and manifests."""
    return make_url(url).render_as_string(hide_password=True)


class Store:
    """Reads and writes items, interactions and users in one database."""

    _CHUNK = 5_000

    def __init__(self, url: str, *, create: bool = True, busy_timeout_s: float = 5.0) -> None:
        self.url = url
        parsed = make_url(url)
        self._sqlite = parsed.get_backend_name() == "sqlite"
        connect_args: dict[str, Any] = {}
        if self._sqlite:
            database = parsed.database
            if database and database != ":memory:":
                path = Path(database)
                if not create and not path.exists():
                    raise StoreError(f"No database at {path}. Run `recbot build` first.")
                keep_private(path)
            connect_args["timeout"] = busy_timeout_s
        try:
            self.engine: Engine = create_engine(url, connect_args=connect_args)
        except (SQLAlchemyError, ImportError) as error:
            raise StoreError(f"Cannot open the database {redact_url(url)}: {error}") from error
        if self._sqlite:
            event.listen(self.engine, "connect", _enable_sqlite_foreign_keys)
            if parsed.database and parsed.database != ":memory:":
                event.listen(self.engine, "connect", _write_ahead_log)
        if create:
            with self.guard("create the schema in"):
                Base.metadata.create_all(self.engine)

    @contextmanager
    def guard(self, doing: str) -> Iterator[None]:
        """Translate driver errors into a StoreError a person can act on."""
        try:
            yield
        except OperationalError as error:
            text = str(error.orig).lower()
            where = redact_url(self.url)
            if "locked" in text or "busy" in text:
                raise StoreError(
                    f"The database {where} is locked by another process; "
                    "wait for it to finish (another `recbot build`?) and try again."
                ) from error
            raise StoreError(f"Could not {doing} the database {where}: {error.orig}") from error
        except SQLAlchemyError as error:
            raise StoreError(
                f"Could not {doing} the database {redact_url(self.url)}: {error}"
            ) from error

    def close(self) -> None:
        self.engine.dispose()

    def _insert(self, table: Any) -> Any:
        return sqlite_insert(table) if self._sqlite else pg_insert(table)

    def write_catalog(self, catalog: Catalog, interactions: Sequence[Interaction]) -> WriteReport:
        """Make the database hold exactly this catalog and at least these interactions.

        Items are upserted by id and items no longer in the catalog are removed (with their
        interactions), so the database mirrors its source; interactions are inserted once each.
        """
        with self.guard("write to"), Session(self.engine) as session, session.begin():
            added, updated, unchanged, removed = self._sync_items(session, catalog)
            users = sorted({i.user_id for i in interactions})
            for chunk in _chunks([{"id": u, "n_interactions": 0} for u in users], self._CHUNK):
                session.execute(self._insert(UserRow).on_conflict_do_nothing(), chunk)
            before = session.scalar(select(func.count()).select_from(InteractionRow)) or 0
            rows = [
                {
                    "user_id": i.user_id,
                    "item_id": i.item_id,
                    "rating": i.rating,
                    "timestamp": i.timestamp,
                }
                for i in interactions
                if i.item_id in catalog
            ]
            for chunk in _chunks(rows, self._CHUNK):
                session.execute(self._insert(InteractionRow).on_conflict_do_nothing(), chunk)
            after = session.scalar(select(func.count()).select_from(InteractionRow)) or 0
            if after != before or removed:
                self._recount_users(session)
        return WriteReport(added, updated, removed, unchanged, after - before, len(users))

    def _sync_items(self, session: Session, catalog: Catalog) -> tuple[int, int, int, int]:
        existing = {row.id: row for row in session.scalars(select(ItemRow))}
        added = updated = unchanged = 0
        new_rows = []
        for item in catalog:
            values = _item_values(item)
            row = existing.get(item.id)
            if row is None:
                new_rows.append(values)
                added += 1
            elif _item_values(_row_to_item(row)) != values:
                for key, value in values.items():
                    setattr(row, key, value)
                updated += 1
            else:
                unchanged += 1
        for chunk in _chunks(new_rows, self._CHUNK):
            session.execute(self._insert(ItemRow), chunk)
        stale = [item_id for item_id in existing if item_id not in catalog]
        for chunk in _chunks(stale, self._CHUNK):
            session.execute(delete(InteractionRow).where(InteractionRow.item_id.in_(chunk)))
            session.execute(delete(ItemRow).where(ItemRow.id.in_(chunk)))
        return added, updated, unchanged, len(stale)

    def _recount_users(self, session: Session) -> None:
        counts = select(func.count()).where(InteractionRow.user_id == UserRow.id).scalar_subquery()
        session.execute(update(UserRow).values(n_interactions=counts))

    def load_catalog(self) -> Catalog:
        """Every item in the database, as a :class:`Catalog`."""
        with self.guard("read from"), Session(self.engine) as session:
            items = [_row_to_item(row) for row in session.scalars(select(ItemRow))]
        return Catalog(items)

    def interactions(self, user_id: int | None = None) -> list[Interaction]:
        """Interactions, oldest first; of one user when ``user_id`` is given."""
        query = select(InteractionRow).order_by(InteractionRow.timestamp, InteractionRow.id)
        if user_id is not None:
            query = query.where(InteractionRow.user_id == user_id)
        with self.guard("read from"), Session(self.engine) as session:
            return [
                Interaction(row.user_id, row.item_id, row.rating, row.timestamp)
                for row in session.scalars(query)
            ]

    def interaction_chunks(self, size: int = 50_000) -> Iterator[InteractionColumns]:
        """Every interaction once, ``size`` rows at a time in id order, as columns.

        One query streamed from one cursor (``yield_per``): memory holds one chunk of rows, not
        the table; the caller decides what to keep.
        """
        query = select(
            InteractionRow.id,
            InteractionRow.user_id,
            InteractionRow.item_id,
            InteractionRow.rating,
            InteractionRow.timestamp,
        ).order_by(InteractionRow.id)
        with self.guard("read from"), Session(self.engine) as session:
            result = session.execute(query.execution_options(yield_per=size))
            for rows in result.partitions():
                row, user, item, rating, timestamp = zip(*rows, strict=True)
                yield InteractionColumns(
                    np.array(row, dtype=np.int64),
                    np.array(user, dtype=np.int64),
                    np.array(item, dtype=np.int64),
                    np.array(rating, dtype=np.float64),
                    np.array(timestamp, dtype=np.int64),
                )

    def interaction_columns(self, size: int = 50_000) -> InteractionColumns:
        """Every interaction as columns, filled :meth:`interaction_chunks` at a time into arrays
        sized by a count first (grown if rows arrive meanwhile): one copy, never two."""
        with self.guard("read from"), Session(self.engine) as session:
            total = session.scalar(select(func.count()).select_from(InteractionRow)) or 0
        out, filled = InteractionColumns.empty(total), 0
        for chunk in self.interaction_chunks(size):
            if filled + len(chunk) > len(out):
                out = out.resized(max(2 * len(out), filled + len(chunk)))
            out.put(filled, chunk)
            filled += len(chunk)
        return out.resized(filled) if filled < len(out) else out

    def item_columns(self, size: int = 5_000) -> ItemColumns:
        """Ids, years and genres of every item in id order, read ``size`` rows at a time."""
        query = select(ItemRow.id, ItemRow.year, ItemRow.genres).order_by(ItemRow.id)

        def rows() -> Iterator[tuple[int, int | None, Sequence[str]]]:
            result = session.execute(query.execution_options(yield_per=size))
            for item_id, year, genres in result:
                yield item_id, year, genres or ()

        with self.guard("read from"), Session(self.engine) as session:
            return ItemColumns.from_rows(rows())

    def counts(self) -> dict[str, int]:
        """How many items, interactions and users the database holds."""
        with self.guard("read from"), Session(self.engine) as session:
            return {
                name: session.scalar(select(func.count()).select_from(model)) or 0
                for name, model in (
                    ("items", ItemRow),
                    ("interactions", InteractionRow),
                    ("users", UserRow),
                )
            }


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _write_ahead_log(dbapi_connection: Any, _record: Any) -> None:
    """WAL: readers (the web app's turns) never wait for a writer (feedback, accounts, a
    chat-history save) and a writer waits only for another writer, up to the busy timeout. The
    mode stays with the file; a read-only file keeps the mode it has."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError:
        pass  # read-only (a shared catalog): readers do not need it
    finally:
        cursor.close()


def _chunks(rows: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
