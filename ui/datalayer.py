"""Chainlit's chat history (users, threads, steps, elements, feedback) in the app database.

Chainlit's own layers do not fit: ``SQLAlchemyDataLayer`` needs hand-written DDL and loses list
columns on SQLite, ``ChainlitDataLayer`` is Postgres-only. Here each Chainlit dict is kept as a
JSON document next to the few columns the queries need, so SQLite and Postgres behave alike.
Returned shapes follow ``chainlit/data/sql_alchemy.py`` so the frontend can resume a thread.

Every thread has an owner, the signed-in identifier that created it (``ui/requester.py`` says
who is asking). Steps, elements and feedback are read, written and deleted only inside threads
the requester owns, and an id already stored in one thread is never moved to another; anything
else is refused without a write and logged, never raised to the page.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from chainlit.data.base import BaseDataLayer
from chainlit.data.utils import queue_until_user_message
from chainlit.types import Feedback, FeedbackDict, PageInfo, PaginatedResponse, ThreadDict
from chainlit.user import PersistedUser, User
from sqlalchemy import (
    JSON,
    DateTime,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import CursorResult, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from catalog.errors import StoreError
from catalog.store import keep_private, redact_url
from ui.auth import VISITOR_PREFIX
from ui.requester import Requester, current_requester

if TYPE_CHECKING:
    from chainlit.element import Element, ElementDict
    from chainlit.step import StepDict
    from chainlit.types import Pagination, ThreadFilter

logger = logging.getLogger(__name__)

_ASYNC_SCHEMES = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg2": "postgresql+psycopg",
}


def async_database_url(sync_url: str) -> str:
    """The async-driver form of one of our sync URLs; URLs naming another driver pass unchanged."""
    scheme, sep, rest = sync_url.partition("://")
    return f"{_ASYNC_SCHEMES[scheme]}{sep}{rest}" if sep and scheme in _ASYNC_SCHEMES else sync_url


class ChatBase(DeclarativeBase):
    pass


class UserRow(ChatBase):
    __tablename__ = "chat_users"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    identifier: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    doc: Mapped[dict[str, Any]] = mapped_column(JSON)  # display_name, metadata, chat_settings


class ThreadRow(ChatBase):
    __tablename__ = "chat_threads"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(String(255), index=True)
    user_identifier: Mapped[str | None] = mapped_column(String(255), index=True)
    name: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, index=True)  # latest step's time
    doc: Mapped[dict[str, Any]] = mapped_column(JSON)  # metadata, tags


class StepRow(ChatBase):
    __tablename__ = "chat_steps"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    thread_id: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    doc: Mapped[dict[str, Any]] = mapped_column(JSON)  # the StepDict, feedback excluded


class ElementRow(ChatBase):
    __tablename__ = "chat_elements"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    thread_id: Mapped[str | None] = mapped_column(String(255), index=True)
    for_id: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    doc: Mapped[dict[str, Any]] = mapped_column(JSON)  # the ElementDict, props included


class FeedbackRow(ChatBase):
    __tablename__ = "chat_feedback"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    for_id: Mapped[str] = mapped_column(String(255), index=True)
    thread_id: Mapped[str | None] = mapped_column(String(255))
    value: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)


# The hot writes (a chat turn saves about five steps and a cards element) as Core statements built
# once: no ORM object is loaded or flushed, and the requester's ownership of the thread is checked
# by the same statement that touches it (see ``_claim_thread``).
_STEP = select(StepRow.thread_id, StepRow.doc).where(StepRow.id == bindparam("id"))
_ELEMENT = select(ElementRow.thread_id).where(ElementRow.id == bindparam("id"))
_OWNER = select(ThreadRow.user_identifier).where(ThreadRow.id == bindparam("thread_id"))
_ACTIVE_AT = bindparam("active_at", type_=DateTime())
_TOUCH = (  # updated_at = max(updated_at, :active_at), in the owner's thread only
    update(ThreadRow)
    .where(ThreadRow.id == bindparam("thread_id"), ThreadRow.user_identifier == bindparam("owner"))
    .values(
        updated_at=case((ThreadRow.updated_at < _ACTIVE_AT, _ACTIVE_AT), else_=ThreadRow.updated_at)
    )
)
_INSERT_STEP = insert(StepRow)
_UPDATE_STEP = update(StepRow).where(StepRow.id == bindparam("step_id"))
_INSERT_ELEMENT = insert(ElementRow)
_UPDATE_ELEMENT = update(ElementRow).where(ElementRow.id == bindparam("element_id"))


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _iso(moment: datetime) -> str:
    return moment.isoformat() + "Z"  # the format of chainlit.utils.utc_now


def _parse_time(value: object) -> datetime:
    """Chainlit's ISO timestamp as naive UTC, so rows sort by time on every backend."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return _now()
        return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
    return _now()


ThreadDeleted = Callable[[str, str], Awaitable[None]]  # (thread id, owner's identifier)


def _refused(doing: str, thread_id: str | None, who: Requester | None) -> None:
    """Log a refused call (ids only): the caller writes nothing and raises nothing."""
    by = repr(who.identifier) if who else "an unidentified caller"
    logger.warning("Refused to %s (thread %s) for %s: not the owner", doing, thread_id, by)


def _is_visitor(user: User) -> bool:
    return user.identifier.startswith(VISITOR_PREFIX) and user.metadata.get("provider") == "visitor"


def _visitor_row(identifier: str) -> UserRow:
    """An anonymous visitor's row, stored on first use under its identifier as id."""
    doc = {"display_name": None, "metadata": {"provider": "visitor"}}
    return UserRow(id=identifier, identifier=identifier, created_at=_now(), doc=doc)


def _persisted_user(row: UserRow) -> PersistedUser:
    return PersistedUser(
        id=row.id,
        identifier=row.identifier,
        createdAt=_iso(row.created_at),
        display_name=row.doc.get("display_name"),
        metadata=row.doc.get("metadata") or {},
    )


def _thread_dict(row: ThreadRow, steps: list[StepDict], elements: list[ElementDict]) -> ThreadDict:
    return ThreadDict(
        id=row.id,
        createdAt=_iso(row.created_at),
        name=row.name,
        userId=row.user_id,
        userIdentifier=row.user_identifier,
        tags=row.doc.get("tags"),
        metadata=row.doc.get("metadata") or {},
        steps=steps,
        elements=elements,
    )


def _author_only(row: ThreadRow) -> ThreadDict:
    """What may be told without knowing who asks: that the thread exists and whose it is."""
    return ThreadDict(
        id=row.id,
        createdAt=_iso(row.created_at),
        name=None,
        userId=row.user_id,
        userIdentifier=row.user_identifier,
        tags=None,
        metadata={},
        steps=[],
        elements=[],
    )


def _step_dict(row: StepRow, feedback: FeedbackRow | None) -> StepDict:
    step: dict[str, Any] = {"input": "", "output": "", "metadata": {}, **row.doc}
    step["feedback"] = None
    if feedback is not None:
        step["feedback"] = FeedbackDict(
            forId=feedback.for_id,
            id=feedback.id,
            value=1 if feedback.value else 0,
            comment=feedback.comment,
        )
    return cast("StepDict", step)


class RecbotDataLayer(BaseDataLayer):
    """Chainlit data layer on an async SQLAlchemy URL (SQLite by default, or Postgres).

    Tables are created on first use. Writes in one process are serialised by a lock, so
    Chainlit's fire-and-forget create/update tasks cannot interleave their read-modify-writes.
    Elements are stored as their dicts only: there is no file storage provider.
    """

    def __init__(
        self,
        url: str,
        *,
        busy_timeout_s: float = 15.0,
        on_delete_thread: ThreadDeleted | None = None,
    ) -> None:
        """``on_delete_thread(thread_id, owner)`` runs after a thread is deleted (the web app
        deletes the agent's memory of it there); its failures are logged, not raised."""
        self.url = url
        self._on_delete_thread = on_delete_thread
        connect_args: dict[str, Any] = {}
        try:
            parsed = make_url(url)
            if parsed.get_backend_name() == "sqlite":
                connect_args["timeout"] = busy_timeout_s  # wait for another writer, don't fail
                database = parsed.database
                if database and database != ":memory:" and not Path(database).parent.is_dir():
                    raise StoreError(
                        f"Cannot open the chat history database {redact_url(url)}: "
                        f"the directory {Path(database).parent} does not exist."
                    )
                if database and database != ":memory:":
                    keep_private(Path(database))
            self.engine = create_async_engine(url, connect_args=connect_args)
        except (SQLAlchemyError, ImportError) as error:
            raise self._error("open", error) from error
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._schema_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        self._ready = False

    def _error(self, doing: str, error: Exception) -> StoreError:
        """Log and return a StoreError naming the URL: Chainlit runs most writes as tasks
        whose exceptions nobody awaits, so the log line is what a person will see."""
        cause = getattr(error, "orig", None) or error
        where = redact_url(self.url)
        if "locked" in str(cause).lower() or "busy" in str(cause).lower():
            message = f"The chat history database {where} is locked by another process."
        else:
            message = f"Could not {doing} the chat history database {where}: {cause}"
        logger.error(message)
        return StoreError(message)

    async def _ensure_schema(self) -> None:
        if self._ready:
            return
        async with self._schema_lock:
            if self._ready:
                return
            try:
                async with self.engine.begin() as connection:
                    await connection.run_sync(ChatBase.metadata.create_all)
            except SQLAlchemyError as error:
                raise self._error("create the tables in", error) from error
            self._ready = True

    @asynccontextmanager
    async def _guarded(self, doing: str, *, write: bool) -> AsyncIterator[None]:
        """The tables exist, writes hold the write lock; driver errors become a StoreError
        naming the URL."""
        await self._ensure_schema()
        lock: AbstractAsyncContextManager[Any] = self._write_lock if write else nullcontext()
        async with lock:
            try:
                yield
            except SQLAlchemyError as error:
                raise self._error(doing, error) from error

    @asynccontextmanager
    async def _session(self, doing: str, *, write: bool = False) -> AsyncIterator[AsyncSession]:
        """One transaction in an ORM session."""
        async with self._guarded(doing, write=write), self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def _writing(self, doing: str) -> AsyncIterator[AsyncConnection]:
        """One write transaction on a bare connection, for the hot writes' Core statements
        (an ORM session around them cost 0.1-0.2 CPU ms more a write)."""
        async with self._guarded(doing, write=True), self.engine.begin() as connection:
            yield connection

    async def get_user(self, identifier: str) -> PersistedUser | None:
        async with self._session("read a user from") as session:
            row = await session.scalar(select(UserRow).where(UserRow.identifier == identifier))
            return None if row is None else _persisted_user(row)

    async def create_user(self, user: User) -> PersistedUser | None:
        """The stored user for this identifier, created if new; its metadata is refreshed.

        An anonymous visitor (``none`` sign-in, minted on every unauthenticated request) is not
        stored here: it gets its identifier as id, and a row once it saves a thread or settings.
        """
        if _is_visitor(user) and await self.get_user(user.identifier) is None:
            return PersistedUser(
                id=user.identifier,
                identifier=user.identifier,
                createdAt=_iso(_now()),
                display_name=user.display_name,
                metadata=dict(user.metadata),
            )
        async with self._session("save a user in", write=True) as session:
            row = await session.scalar(select(UserRow).where(UserRow.identifier == user.identifier))
            if row is None:
                row = UserRow(id=str(uuid.uuid4()), identifier=user.identifier, created_at=_now())
                session.add(row)
            kept = {k: v for k, v in (row.doc or {}).items() if k == "chat_settings"}
            row.doc = {
                "display_name": user.display_name,
                "metadata": dict(user.metadata),
                **kept,
            }
            return _persisted_user(row)

    async def get_user_settings(self, identifier: str) -> dict[str, Any] | None:
        """The settings panel's values this user chose last (None before any choice)."""
        async with self._session("read a user's settings from") as session:
            row = await session.scalar(select(UserRow).where(UserRow.identifier == identifier))
            saved = None if row is None else (row.doc or {}).get("chat_settings")
            return dict(saved) if isinstance(saved, dict) else None

    async def set_user_settings(self, identifier: str, values: dict[str, Any]) -> None:
        """Keeps ``values`` as the user's defaults for new chats (the user row must exist,
        as it does once they signed in)."""
        async with self._session("save a user's settings in", write=True) as session:
            row = await session.scalar(select(UserRow).where(UserRow.identifier == identifier))
            if row is None and identifier.startswith(VISITOR_PREFIX):
                row = _visitor_row(identifier)
                session.add(row)
            if row is not None:
                row.doc = {**(row.doc or {}), "chat_settings": dict(values)}

    async def _chat_user_id(self, session: AsyncSession, who: Requester) -> str | None:
        if who.chat_user_id:
            return who.chat_user_id
        query = select(UserRow.id).where(UserRow.identifier == who.identifier)
        return await session.scalar(query)

    async def _owned_thread(
        self,
        session: AsyncSession,
        thread_id: str | None,
        who: Requester | None,
        doing: str,
        *,
        create: bool = False,
    ) -> ThreadRow | None:
        """The thread if ``who`` owns it; created as theirs when new and ``create``.

        None for a thread that is someone else's, has no owner, or cannot be told (logged then).
        """
        row = await session.get(ThreadRow, thread_id) if thread_id else None
        if row is None and create and thread_id and who is not None:
            now = _now()
            row = ThreadRow(id=thread_id, created_at=now, updated_at=now, doc={})
            row.user_identifier = who.identifier
            row.user_id = await self._chat_user_id(session, who)
            session.add(row)
            return row
        if row is not None and who is not None and row.user_identifier == who.identifier:
            return row
        if row is not None or who is None:
            _refused(doing, thread_id, who)
        return None

    async def _claim_thread(
        self,
        connection: AsyncConnection,
        thread_id: str | None,
        who: Requester | None,
        doing: str,
        *,
        active_at: datetime | None = None,
    ) -> bool:
        """Whether ``who`` owns the thread, created as theirs when new (``_owned_thread`` with
        ``create``); with ``active_at``, the thread's updated_at is raised to it.

        The usual call, on the requester's own thread, is one Core statement that reads (or,
        with ``active_at``, updates) the row only where its stored owner is ``who``: ownership is
        told by the database in this transaction, never by a copy kept in the process, so a
        thread deleted or written by another process meanwhile is seen as it is now. Anything
        else (a new thread, someone else's, no requester) goes through ``_owned_thread``, in a
        session joining this transaction.
        """
        if thread_id and who is not None:
            if active_at is None:
                owner = await connection.scalar(_OWNER, {"thread_id": thread_id})
                if owner == who.identifier:
                    return True
            else:
                values = {"thread_id": thread_id, "owner": who.identifier, "active_at": active_at}
                touched = await connection.execute(_TOUCH, values)
                if touched.rowcount == 1:
                    return True
        async with self._sessions(bind=connection) as session:
            thread = await self._owned_thread(session, thread_id, who, doing, create=True)
            if thread is not None and active_at is not None:
                thread.updated_at = max(thread.updated_at, active_at)
            await session.flush()  # the caller's transaction commits it
        return thread is not None

    async def upsert_feedback(self, feedback: Feedback) -> str:
        """Saves the feedback and returns its id ("" when refused); a step keeps one feedback,
        so an id-less feedback replaces the step's existing one instead of adding a second.
        It belongs to its step's thread, whatever thread the request names."""
        who = current_requester()
        async with self._session("save feedback in", write=True) as session:
            rated = await session.get(StepRow, feedback.forId)
            thread = await self._owned_thread(
                session, rated.thread_id if rated else None, who, f"rate step {feedback.forId}"
            )
            if rated is None or thread is None:
                return ""
            if feedback.id:
                row = await session.get(FeedbackRow, feedback.id)
                if row is not None and row.for_id != rated.id:
                    _refused(f"move feedback {feedback.id} to step {rated.id}", thread.id, who)
                    return ""
            else:
                query = select(FeedbackRow).where(FeedbackRow.for_id == rated.id)
                row = await session.scalar(query)
            if row is None:
                row = FeedbackRow(id=feedback.id or str(uuid.uuid4()))
                session.add(row)
            row.for_id, row.thread_id = rated.id, thread.id
            row.value, row.comment = int(feedback.value), feedback.comment
            return row.id

    async def delete_feedback(self, feedback_id: str) -> bool:
        """True when the feedback is gone (or was never there); False when refused."""
        who = current_requester()
        async with self._session("delete feedback from", write=True) as session:
            row = await session.get(FeedbackRow, feedback_id)
            if row is None:
                return True
            rated = await session.get(StepRow, row.for_id)
            thread_id = rated.thread_id if rated is not None else row.thread_id
            if (
                await self._owned_thread(session, thread_id, who, f"delete feedback {feedback_id}")
                is None
            ):
                return False
            await session.delete(row)
        return True

    # Chainlit's decorator, as on its own layers: in a websocket session it holds writes until
    # the first user message, so opening the app leaves no empty thread. It reads the Chainlit
    # context, so callers (and tests) need one; an HTTP context runs the method at once.
    @queue_until_user_message()
    async def create_element(self, element: Element) -> None:
        if not element.for_id:
            return  # like Chainlit's layers: only elements attached to a step are resumed
        if element.type != "custom" and not element.url and (element.path or element.content):
            logger.warning(
                "Element %s (%s) is saved without its file: no storage provider is configured, "
                "so it will not render when the thread is resumed.",
                element.id,
                element.name,
            )
        who = current_requester()
        async with self._writing("save an element in") as connection:
            stored = (await connection.execute(_ELEMENT, {"id": element.id})).first()
            thread_id = element.thread_id or (stored.thread_id if stored else None)
            if stored is not None and stored.thread_id != thread_id:
                _refused(f"move element {element.id} to another thread", thread_id, who)
                return
            doing = f"save element {element.id}"
            if not await self._claim_thread(connection, thread_id, who, doing):
                return
            values: dict[str, Any] = {
                "thread_id": thread_id,
                "for_id": element.for_id,
                "doc": {**element.to_dict(), "threadId": thread_id},
            }
            if stored is None:
                values.update(id=element.id, created_at=_now())
                await connection.execute(_INSERT_ELEMENT, values)
            else:
                await connection.execute(_UPDATE_ELEMENT, {"element_id": element.id, **values})

    async def get_element(self, thread_id: str, element_id: str) -> ElementDict | None:
        who = current_requester()
        async with self._session("read an element from") as session:
            row = await session.get(ElementRow, element_id)
            if row is None or row.thread_id != thread_id:
                return None
            if (
                await self._owned_thread(session, thread_id, who, f"read element {element_id}")
                is None
            ):
                return None
            return cast("ElementDict", dict(row.doc))

    @queue_until_user_message()
    async def delete_element(self, element_id: str, thread_id: str | None = None) -> None:
        who = current_requester()
        async with self._session("delete an element from", write=True) as session:
            row = await session.get(ElementRow, element_id)
            if row is None or (thread_id and row.thread_id != thread_id):
                return
            doing = f"delete element {element_id}"
            if await self._owned_thread(session, row.thread_id, who, doing) is not None:
                await session.delete(row)

    @queue_until_user_message()
    async def create_step(self, step_dict: StepDict) -> None:
        await self._upsert_step(step_dict)

    @queue_until_user_message()
    async def update_step(self, step_dict: StepDict) -> None:
        await self._upsert_step(step_dict)

    async def _upsert_step(self, step_dict: StepDict) -> None:
        """Merge the step's set fields into the stored one; empty dicts don't erase metadata."""
        fields = {
            key: value
            for key, value in step_dict.items()
            if value is not None and value != {} and key != "feedback"
        }
        who = current_requester()
        step_id = step_dict["id"]
        async with self._writing("save a step in") as connection:
            stored = (await connection.execute(_STEP, {"id": step_id})).first()
            thread_id = step_dict.get("threadId") or (stored.thread_id if stored else None)
            if stored is not None and stored.thread_id and stored.thread_id != thread_id:
                _refused(f"move step {step_id} to another thread", thread_id, who)
                return
            doc = {**(stored.doc if stored else {}), **fields, "threadId": thread_id}
            created_at = _parse_time(doc.get("createdAt"))
            doc.setdefault("createdAt", _iso(created_at))  # resuming needs one
            doing = f"save step {step_id}"
            if not await self._claim_thread(
                connection, thread_id, who, doing, active_at=created_at
            ):
                return
            values = {"thread_id": thread_id, "created_at": created_at, "doc": doc}
            if stored is None:
                await connection.execute(_INSERT_STEP, {"id": step_id, **values})
            else:
                await connection.execute(_UPDATE_STEP, {"step_id": step_id, **values})

    @queue_until_user_message()
    async def delete_step(self, step_id: str) -> None:
        who = current_requester()
        async with self._session("delete a step from", write=True) as session:
            row = await session.get(StepRow, step_id)
            doing = f"delete step {step_id}"
            if row is None or await self._owned_thread(session, row.thread_id, who, doing) is None:
                return
            await session.execute(delete(FeedbackRow).where(FeedbackRow.for_id == step_id))
            await session.execute(
                delete(ElementRow).where(
                    ElementRow.for_id == step_id, ElementRow.thread_id == row.thread_id
                )
            )
            await session.delete(row)

    async def get_thread_author(self, thread_id: str) -> str:
        """The author's identifier, or "" for an unknown thread (Chainlit's ACL answers 404)."""
        async with self._session("read a thread from") as session:
            row = await session.get(ThreadRow, thread_id)
            return (row.user_identifier or "") if row is not None else ""

    async def delete_thread(self, thread_id: str) -> None:
        """Delete the thread with its steps, elements and feedback, then ``on_delete_thread``."""
        who = current_requester()
        step_ids = select(StepRow.id).where(StepRow.thread_id == thread_id)
        async with self._session("delete a thread from", write=True) as session:
            row = await self._owned_thread(session, thread_id, who, "delete a thread")
            if row is None or who is None:
                return
            await session.execute(
                delete(FeedbackRow).where(
                    or_(FeedbackRow.for_id.in_(step_ids), FeedbackRow.thread_id == thread_id)
                )
            )
            await session.execute(delete(ElementRow).where(ElementRow.thread_id == thread_id))
            await session.execute(delete(StepRow).where(StepRow.thread_id == thread_id))
            await session.delete(row)
        if self._on_delete_thread is not None:
            try:
                await self._on_delete_thread(thread_id, who.identifier)
            except Exception:  # the history is gone either way; the page gets no traceback
                logger.exception("Thread %s: deleting what else it kept failed", thread_id)

    async def list_threads(
        self, pagination: Pagination, filters: ThreadFilter
    ) -> PaginatedResponse[ThreadDict]:
        """The requester's threads, latest activity first; steps and elements are left empty."""
        if not filters.userId:
            raise ValueError("userId is required")
        who = current_requester()
        query = select(ThreadRow).where(
            ThreadRow.user_id == filters.userId,
            ThreadRow.user_identifier == (who.identifier if who else None),
        )
        if filters.search:
            needle = filters.search.lower()
            query = query.where(func.lower(ThreadRow.name).contains(needle, autoescape=True))
        if filters.feedback is not None:
            rated = select(FeedbackRow.id).join(StepRow, StepRow.id == FeedbackRow.for_id)
            rated = rated.where(StepRow.thread_id == ThreadRow.id)
            query = query.where(rated.where(FeedbackRow.value == filters.feedback).exists())
        async with self._session("list threads from") as session:
            cursor = await session.get(ThreadRow, pagination.cursor) if pagination.cursor else None
            if cursor is not None:
                query = query.where(
                    or_(
                        ThreadRow.updated_at < cursor.updated_at,
                        and_(ThreadRow.updated_at == cursor.updated_at, ThreadRow.id < cursor.id),
                    )
                )
            order = (ThreadRow.updated_at.desc(), ThreadRow.id.desc())
            rows = list(await session.scalars(query.order_by(*order).limit(pagination.first + 1)))
        page = [_thread_dict(row, [], []) for row in rows[: pagination.first]]
        return PaginatedResponse(
            pageInfo=PageInfo(
                hasNextPage=len(rows) > pagination.first,
                startCursor=page[0]["id"] if page else None,
                endCursor=page[-1]["id"] if page else None,
            ),
            data=page,
        )

    async def get_thread(self, thread_id: str) -> ThreadDict | None:
        """The thread with its steps in time order, each with its feedback, and its elements.

        Only its owner reads it; a call that cannot tell who asks (Chainlit's own websocket
        check of a thread's author) gets the author alone, as ``get_thread_author`` tells it.
        """
        who = current_requester()
        async with self._session("read a thread from") as session:
            row = await session.get(ThreadRow, thread_id)
            if row is None:
                return None
            if who is None:
                return _author_only(row)
            if row.user_identifier != who.identifier:
                _refused("read a thread", thread_id, who)
                return None
            in_thread = StepRow.thread_id == thread_id
            steps = await session.scalars(
                select(StepRow).where(in_thread).order_by(StepRow.created_at, StepRow.id)
            )
            rated = select(FeedbackRow).join(StepRow, StepRow.id == FeedbackRow.for_id)
            feedback = {f.for_id: f for f in await session.scalars(rated.where(in_thread))}
            elements = await session.scalars(
                select(ElementRow)
                .where(ElementRow.thread_id == thread_id)
                .order_by(ElementRow.created_at, ElementRow.id)
            )
            return _thread_dict(
                row,
                [_step_dict(step, feedback.get(step.id)) for step in steps],
                [cast("ElementDict", dict(element.doc)) for element in elements],
            )

    async def _identifier_of(self, session: AsyncSession, user_id: str) -> str | None:
        """The identifier of a chat user id; a visitor's id is its identifier (no row yet)."""
        query = select(UserRow.identifier).where(UserRow.id == user_id)
        identifier = await session.scalar(query)
        return user_id if identifier is None and user_id.startswith(VISITOR_PREFIX) else identifier

    async def update_thread(
        self,
        thread_id: str,
        name: str | None = None,
        user_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        tags: list[str] | None = None,
    ) -> None:
        """Create the thread (the requester's) if missing; set only the given fields. Metadata
        is merged and a key given as None is removed; a metadata "name" names the thread when
        name is None. A ``user_id`` other than the requester's is refused."""
        who = current_requester()
        async with self._session("save a thread in", write=True) as session:
            if user_id is not None:
                identifier = await self._identifier_of(session, user_id)
                if who is None or identifier != who.identifier:
                    _refused(f"give a thread to user {user_id}", thread_id, who)
                    return
            row = await self._owned_thread(session, thread_id, who, "save a thread", create=True)
            if row is None:
                return
            doc = dict(row.doc)
            if metadata is not None:
                merged = {**(doc.get("metadata") or {}), **metadata}
                doc["metadata"] = {key: value for key, value in merged.items() if value is not None}
                name = name if name is not None else metadata.get("name")
            if tags is not None:
                doc["tags"] = list(tags)
            row.doc = doc
            if name is not None:
                row.name = name
            if user_id is not None:
                row.user_id = user_id
                if (
                    user_id.startswith(VISITOR_PREFIX)
                    and await session.get(UserRow, user_id) is None
                ):
                    session.add(_visitor_row(user_id))  # a visitor's first saved thread

    async def get_favorite_steps(self, user_id: str) -> list[StepDict]:
        who = current_requester()
        query = (
            select(StepRow)
            .join(ThreadRow, ThreadRow.id == StepRow.thread_id)
            .where(
                ThreadRow.user_id == user_id,
                ThreadRow.user_identifier == (who.identifier if who else None),
            )
            .order_by(StepRow.created_at.desc())
        )
        async with self._session("read favorite steps from") as session:
            rows = await session.scalars(query)
            return [
                _step_dict(row, None)
                for row in rows
                if (row.doc.get("metadata") or {}).get("favorite")
            ]

    async def erase_users(self, identifiers: list[str]) -> dict[str, int]:
        """Delete these users' chat history (threads with their steps, elements and feedback)
        and their chat-user rows, whoever asks (``recbot forget``); the counts deleted."""
        theirs = select(ThreadRow.id).where(ThreadRow.user_identifier.in_(identifiers))
        steps = select(StepRow.id).where(StepRow.thread_id.in_(theirs))
        rated = or_(FeedbackRow.for_id.in_(steps), FeedbackRow.thread_id.in_(theirs))
        statements = {  # in this order: what refers to a thread goes before it
            "chat feedback": delete(FeedbackRow).where(rated),
            "chat elements": delete(ElementRow).where(ElementRow.thread_id.in_(theirs)),
            "chat messages": delete(StepRow).where(StepRow.thread_id.in_(theirs)),
            "chat threads": delete(ThreadRow).where(ThreadRow.user_identifier.in_(identifiers)),
            "chat users": delete(UserRow).where(UserRow.identifier.in_(identifiers)),
        }
        async with self._session("delete users from", write=True) as session:
            return {
                what: cast("CursorResult[Any]", await session.execute(statement)).rowcount
                for what, statement in statements.items()
            }

    async def ping(self) -> None:
        """One round trip to the chat history's database (readiness); raises when it can't."""
        async with self._session("reach") as session:
            await session.execute(select(1))

    async def erase_idle_threads(self, cutoff: datetime) -> int:
        """Delete the threads with no message since ``cutoff``, with their steps, elements and
        feedback, whoever asks (retention, ``RECBOT_RETENTION_DAYS``: ui/runtime.py); how many."""
        since = cutoff.astimezone(UTC).replace(tzinfo=None)  # rows hold naive UTC
        idle = select(ThreadRow.id).where(ThreadRow.updated_at < since)
        steps = select(StepRow.id).where(StepRow.thread_id.in_(idle))
        rated = or_(FeedbackRow.for_id.in_(steps), FeedbackRow.thread_id.in_(idle))
        async with self._session("delete idle threads from", write=True) as session:
            await session.execute(delete(FeedbackRow).where(rated))
            await session.execute(delete(ElementRow).where(ElementRow.thread_id.in_(idle)))
            await session.execute(delete(StepRow).where(StepRow.thread_id.in_(idle)))
            gone = await session.execute(delete(ThreadRow).where(ThreadRow.updated_at < since))
            return cast("CursorResult[Any]", gone).rowcount

    async def build_debug_url(self) -> str:
        return ""

    async def close(self) -> None:
        await self.engine.dispose()


def chat_history_eraser(url: str) -> Callable[[list[str]], dict[str, int]]:
    """A blocking ``erase_users`` on the chat history at ``url``, for ``recbot forget``."""

    def erase(identifiers: list[str]) -> dict[str, int]:
        async def run() -> dict[str, int]:
            layer = RecbotDataLayer(url)
            try:
                return await layer.erase_users(identifiers)
            finally:
                await layer.close()

        return asyncio.run(run())

    return erase
