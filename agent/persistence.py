"""Persistence beyond one graph run: the checkpointer, and users' history and feedback.

Feedback (liked / not for me / seen) lives in the app database next to the catalog, keyed by
user, so it shapes that user's later conversations; the dialog itself lives in the LangGraph
checkpointer, keyed by conversation (thread) id.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import DateTime, Integer, String, UniqueConstraint, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from catalog.errors import StoreError
from catalog.store import Store, keep_private

FeedbackKind = Literal["liked", "rejected", "seen"]
FEEDBACK_KINDS: tuple[FeedbackKind, ...] = ("liked", "rejected", "seen")


class FeedbackBase(DeclarativeBase):
    pass


class FeedbackRow(FeedbackBase):
    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("user_id", "item_id", name="uq_feedback"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    item_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AccountRow(FeedbackBase):
    """A signed-in identity (web login, header auth, widget token) and the user id it acts as."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    identifier: Mapped[str] = mapped_column(String(255), unique=True)
    user_id: Mapped[int] = mapped_column(Integer, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


ACCOUNT_ID_BASE = 1_000_000_000  # new accounts' user ids start here, clear of catalog users
ACCOUNT_RETRIES = 20  # attempts at a fresh id when concurrent visitors race for the same one
# Postgres: account creation takes this transaction-scoped advisory lock first, so concurrent
# first visits (on one replica or many) compute their new ids one after another instead of
# racing for the same max + 1 (50 at once could exhaust the retries).
ACCOUNT_LOCK_KEY = 0x7265_6362_6F74  # "recbot"
MAX_USER_ID = 2**63 - 1  # the largest id an SQL BIGINT holds


def catalog_user_id(identifier: str) -> int | None:
    """The catalog user id an identifier spells, if it is plain ASCII digits within range.

    ``str.isdigit`` also accepts "²" or "٤٢", which ``int`` rejects or reads as 42; such names are
    ordinary identities, never a catalog user's id.
    """
    if not (identifier.isascii() and identifier.isdigit()):
        return None
    value = int(identifier)
    return value if value <= MAX_USER_ID else None


@dataclass(frozen=True)
class UserProfile:
    user_id: int | None
    history: tuple[int, ...] = ()  # newest first
    ratings: tuple[float, ...] = ()
    liked: tuple[int, ...] = ()
    rejected: tuple[int, ...] = ()
    seen: tuple[int, ...] = ()
    rated: frozenset[int] = frozenset()  # every item the user has interacted with

    @property
    def known_interactions(self) -> int:
        return len(self.rated)


class UserData:
    """Known users' interactions (from the catalog store) and their feedback."""

    def __init__(self, store: Store) -> None:
        self.store = store
        with store.guard("create the feedback table in"):
            FeedbackBase.metadata.create_all(store.engine)

    def profile(self, user_id: int | None, max_history: int = 200) -> UserProfile:
        """History newest first (store interactions), plus the user's feedback."""
        if user_id is None:
            return UserProfile(None)
        everything = self.store.interactions(user_id)
        recent = everything[::-1][:max_history]
        feedback = self.feedback(user_id)
        return UserProfile(
            user_id,
            tuple(i.item_id for i in recent),
            tuple(i.rating for i in recent),
            tuple(feedback["liked"]),
            tuple(feedback["rejected"]),
            tuple(feedback["seen"]),
            frozenset(i.item_id for i in everything),
        )

    def feedback(self, user_id: int) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {kind: [] for kind in FEEDBACK_KINDS}
        query = select(FeedbackRow).where(FeedbackRow.user_id == user_id).order_by(FeedbackRow.id)
        with self.store.guard("read from"), Session(self.store.engine) as session:
            for row in session.scalars(query):
                out.setdefault(row.kind, []).append(row.item_id)
        return out

    def user_id_for(self, identifier: str) -> int:
        """The user id an identity acts as, created on first sight.

        An identifier that is a catalog user's id ("42") acts as that user, so a demo login can
        show the warm path; any other identifier gets a new id of its own. Creation is one
        insert-if-absent statement, retried when a concurrent visitor took the same new id, so
        visitors arriving together never collide. SQLite serialises writers itself; on Postgres
        the insert first takes a transaction-scoped advisory lock, so new ids are drawn one at a
        time across every replica and a retry is only needed for a catalog id already taken.
        """
        identifier = identifier.strip()
        if not identifier:
            raise ValueError("an account needs a non-empty identifier")
        if (known := self._account(identifier)) is not None:
            return known
        catalog_id = catalog_user_id(identifier)
        if catalog_id is not None and not self.store.interactions(catalog_id):
            catalog_id = None
        for _ in range(ACCOUNT_RETRIES):
            try:
                with self.store.guard("write to"), self.store.engine.begin() as connection:
                    if connection.dialect.name == "postgresql":
                        connection.execute(select(func.pg_advisory_xact_lock(ACCOUNT_LOCK_KEY)))
                    connection.execute(self._insert_account(identifier, catalog_id))
            except StoreError as error:
                if not isinstance(error.__cause__, IntegrityError):
                    raise
                catalog_id = None  # a new id was taken at the same moment, or "0042" after "42"
                continue
            if (known := self._account(identifier)) is not None:
                return known
        raise StoreError("Could not create an account for this sign-in; please try again.")

    def _account(self, identifier: str) -> int | None:
        query = select(AccountRow.user_id).where(AccountRow.identifier == identifier)
        with self.store.guard("read from"), Session(self.store.engine) as session:
            return session.scalars(query).first()

    def _insert_account(self, identifier: str, catalog_id: int | None) -> Any:
        """INSERT … ON CONFLICT (identifier) DO NOTHING, the new id computed in the statement."""
        next_id = (
            select(func.coalesce(func.max(AccountRow.user_id), ACCOUNT_ID_BASE) + 1)
            .where(AccountRow.user_id > ACCOUNT_ID_BASE)
            .scalar_subquery()
        )
        dialect = self.store.engine.dialect.name
        insert = sqlite_insert if dialect == "sqlite" else pg_insert
        return (
            insert(AccountRow)
            .values(
                identifier=identifier,
                user_id=catalog_id if catalog_id is not None else next_id,
                created_at=datetime.now(UTC),
            )
            .on_conflict_do_nothing(index_elements=["identifier"])
        )

    def record_feedback(self, user_id: int, item_id: int, kind: FeedbackKind) -> None:
        """Store (or replace) this user's feedback on an item."""
        if kind not in FEEDBACK_KINDS:
            raise ValueError(f"feedback kind must be one of {FEEDBACK_KINDS}")
        with self.store.guard("write to"), Session(self.store.engine) as session, session.begin():
            session.execute(
                delete(FeedbackRow).where(
                    FeedbackRow.user_id == user_id, FeedbackRow.item_id == item_id
                )
            )
            session.add(
                FeedbackRow(
                    user_id=user_id, item_id=item_id, kind=kind, created_at=datetime.now(UTC)
                )
            )


# The state's own types, allowed through the checkpointer's strict msgpack deserialisation.
STATE_TYPES = [
    ("agent.plan", "Plan"),
    ("agent.plan", "ShownFeedback"),
    ("agent.plan", "YearSpan"),
    ("agent.state", "Preferences"),
    ("agent.state", "Recommendation"),
    ("agent.state", "GuardRecord"),
    ("agent.state", "Candidate"),
    ("agent.state", "UserFacts"),
]


def serializer() -> Any:
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    return JsonPlusSerializer(allowed_msgpack_modules=STATE_TYPES)


def sqlite_checkpointer(path: Path) -> Any:
    """A synchronous SQLite checkpointer in a file (the CLI's; the web app uses the async one);
    it keeps only each conversation's newest checkpoint (:mod:`agent.checkpoints`)."""
    from agent.checkpoints import PruningSqliteSaver

    keep_private(path)
    connection = sqlite3.connect(str(path), check_same_thread=False, timeout=5.0)
    saver = PruningSqliteSaver(connection, serde=serializer())
    saver.setup()
    return saver


async def async_sqlite_checkpointer(path: Path) -> Any:
    """The web app's checkpointer: async SQLite in a file, bound to the running event loop;
    it keeps only each conversation's newest checkpoint (:mod:`agent.checkpoints`).

    Create it inside the server's loop (Chainlit ``@cl.on_app_startup``); close it with
    ``await saver.conn.close()``.
    """
    import aiosqlite

    from agent.checkpoints import PruningAsyncSqliteSaver

    keep_private(path)
    connection = await aiosqlite.connect(str(path), timeout=5.0)
    saver = PruningAsyncSqliteSaver(connection, serde=serializer())
    await saver.setup()
    return saver


def memory_checkpointer() -> Any:
    """An in-memory checkpointer (tests, one-off requests) that also keeps only the newest."""
    from agent.checkpoints import PruningMemorySaver

    return PruningMemorySaver(serde=serializer())
