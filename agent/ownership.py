"""Who a conversation belongs to: thread → owner, recorded at its first turn, checked at every
later read and write of its memory (the LangGraph checkpoints).

The owner is the user id the conversation acts as (an account's id on the web, ``--user`` in
``recbot chat``), or None for an anonymous terminal conversation. Thread ids travel through
browsers and terminals, so knowing one must never be enough to read or continue someone else's
conversation: a mismatch raises :class:`NotYourConversation`, whose message the edges show.

:class:`ThreadOwners` keeps the book in the app database, next to the persistent checkpointer;
:class:`MemoryOwners` keeps it as long as an in-memory checkpointer keeps the conversations.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, String, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from catalog.errors import NotYourConversation
from catalog.store import Store


class OwnershipBase(DeclarativeBase):
    pass


class ThreadOwnerRow(OwnershipBase):
    __tablename__ = "thread_owners"

    thread_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)  # None: anonymous
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class Owner:
    """A recorded owner; ``user_id`` None is an anonymous conversation's (not "no owner")."""

    user_id: int | None


class OwnerBook:
    """Thread → owner. ``claim`` before a write, ``check`` before a read; a thread nobody owns
    yet (new, or from before owners were recorded) goes to the first who writes to it."""

    def owner(self, thread_id: str) -> Owner | None:
        raise NotImplementedError

    def _record(self, thread_id: str, user_id: int | None) -> None:
        """Record ``user_id`` as the owner unless the thread has one (never overwrites)."""
        raise NotImplementedError

    def release(self, thread_id: str) -> bool:
        """Forget the thread's owner (its memory is gone); True when there was one."""
        raise NotImplementedError

    def threads_of(self, user_id: int | None) -> list[str]:
        raise NotImplementedError

    def check(self, thread_id: str, user_id: int | None) -> None:
        """Raise NotYourConversation when someone other than ``user_id`` owns the thread."""
        self._refuse_unless(self.owner(thread_id), thread_id, user_id)

    def claim(self, thread_id: str, user_id: int | None) -> None:
        """The thread is ``user_id``'s from now on, unless it already is someone else's.

        One read of the book on every turn but a conversation's first (this runs each turn)."""
        found = self.owner(thread_id)
        if found is None:
            self._record(thread_id, user_id)
            found = self.owner(thread_id)  # a racing claimant may have won: the book says who
        self._refuse_unless(found, thread_id, user_id)

    @staticmethod
    def _refuse_unless(found: Owner | None, thread_id: str, user_id: int | None) -> None:
        if found is not None and found.user_id != user_id:
            raise NotYourConversation(thread_id)


class MemoryOwners(OwnerBook):
    """The book of an in-memory checkpointer: it lives and dies with the process."""

    def __init__(self) -> None:
        self._owners: dict[str, int | None] = {}
        self._lock = threading.Lock()

    def owner(self, thread_id: str) -> Owner | None:
        with self._lock:
            return Owner(self._owners[thread_id]) if thread_id in self._owners else None

    def _record(self, thread_id: str, user_id: int | None) -> None:
        with self._lock:
            self._owners.setdefault(thread_id, user_id)

    def release(self, thread_id: str) -> bool:
        with self._lock:
            return self._owners.pop(thread_id, _MISSING) is not _MISSING

    def threads_of(self, user_id: int | None) -> list[str]:
        with self._lock:
            return [thread for thread, owner in self._owners.items() if owner == user_id]


_MISSING = object()


class ThreadOwners(OwnerBook):
    """The book in the app database (the catalog store's engine), shared by every process that
    opens it: the web servers and ``recbot chat``."""

    def __init__(self, store: Store) -> None:
        self.store = store
        with store.guard("create the conversation owners table in"):
            OwnershipBase.metadata.create_all(store.engine)

    def owner(self, thread_id: str) -> Owner | None:
        with self.store.guard("read from"), Session(self.store.engine) as session:
            row = session.get(ThreadOwnerRow, thread_id)
            return None if row is None else Owner(row.user_id)

    def _record(self, thread_id: str, user_id: int | None) -> None:
        insert = sqlite_insert if self.store.engine.dialect.name == "sqlite" else pg_insert
        statement = (
            insert(ThreadOwnerRow)
            .values(thread_id=thread_id, user_id=user_id, created_at=datetime.now(UTC))
            .on_conflict_do_nothing(index_elements=["thread_id"])
        )
        with self.store.guard("write to"), self.store.engine.begin() as connection:
            connection.execute(statement)

    def release(self, thread_id: str) -> bool:
        query = delete(ThreadOwnerRow).where(ThreadOwnerRow.thread_id == thread_id)
        with self.store.guard("write to"), self.store.engine.begin() as connection:
            return bool(connection.execute(query).rowcount)

    def threads_of(self, user_id: int | None) -> list[str]:
        owned = (
            ThreadOwnerRow.user_id.is_(None)
            if user_id is None
            else ThreadOwnerRow.user_id == user_id
        )
        query = select(ThreadOwnerRow.thread_id).where(owned).order_by(ThreadOwnerRow.thread_id)
        with self.store.guard("read from"), Session(self.store.engine) as session:
            return list(session.scalars(query))
