"""Each identity's session version, in the app database: what makes a sign-in revocable.

Every sign-in token carries the version its identity had when it was issued; signing out raises
the version, so every token issued before stops working, on every replica sharing the database.
An identity that never signed out has version 0 and no row (sign-ins only read).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Integer, String, create_engine, inspect, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from catalog.errors import StoreError
from catalog.store import keep_private

log = logging.getLogger("recbot.ui")


class SessionBase(DeclarativeBase):
    pass


class SessionVersionRow(SessionBase):
    __tablename__ = "session_versions"

    identifier: Mapped[str] = mapped_column(String, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    revoked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class SessionVersions:
    """Read and raise session versions through an async SQLAlchemy URL (SQLite or Postgres).

    Driver errors become a :class:`StoreError` without the URL or SQL; the cause is logged.
    """

    def __init__(self, url: str, *, busy_timeout_s: float = 15.0) -> None:
        self.url, self.busy_timeout_s = url, busy_timeout_s
        self._engine: AsyncEngine | None = None  # made on first use, in the serving loop
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self._schema_lock = asyncio.Lock()

    async def _ready(self) -> async_sessionmaker[AsyncSession]:
        async with self._schema_lock:
            if self._sessions is None:
                connect_args: dict[str, Any] = {}
                parsed = make_url(self.url)
                if parsed.get_backend_name() == "sqlite":
                    connect_args["timeout"] = self.busy_timeout_s
                    if parsed.database and parsed.database != ":memory:":
                        keep_private(Path(parsed.database))
                engine = create_async_engine(self.url, connect_args=connect_args)
                try:
                    async with engine.begin() as connection:
                        await connection.run_sync(SessionBase.metadata.create_all)
                except SQLAlchemyError:
                    await engine.dispose()
                    raise
                self._engine = engine
                self._sessions = async_sessionmaker(engine, expire_on_commit=False)
            return self._sessions

    async def current(self, identifier: str) -> int:
        """The identity's version now (0 until it first signs out)."""
        try:
            sessions = await self._ready()
            async with sessions() as session:
                found = await session.scalar(
                    select(SessionVersionRow.version).where(
                        SessionVersionRow.identifier == identifier
                    )
                )
        except SQLAlchemyError as error:
            raise _store_error("read", error) from error
        return found or 0

    async def revoke(self, identifier: str) -> int:
        """Raise the identity's version: every token issued before stops working. The new
        version is returned."""
        try:
            sessions = await self._ready()
            try:
                return await self._raise(sessions, identifier)
            except IntegrityError:  # a concurrent first sign-out inserted the row meanwhile
                return await self._raise(sessions, identifier)
        except SQLAlchemyError as error:
            raise _store_error("raise", error) from error

    @staticmethod
    async def _raise(sessions: async_sessionmaker[AsyncSession], identifier: str) -> int:
        now = datetime.now(UTC)
        row = SessionVersionRow
        async with sessions() as session, session.begin():
            await session.execute(
                update(row)
                .where(row.identifier == identifier)
                .values(version=row.version + 1, revoked_at=now)
            )
            version = await session.scalar(select(row.version).where(row.identifier == identifier))
            if version is None:
                session.add(row(identifier=identifier, version=1, revoked_at=now))
                version = 1
        return version

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine, self._sessions = None, None


def _store_error(doing: str, error: SQLAlchemyError) -> StoreError:
    log.error("could not %s a session version: %s", doing, getattr(error, "orig", None) or error)
    return StoreError("Sign-in can't be checked right now; please try again in a moment.")


def read_version(sync_url: str, identifier: str) -> int:
    """The identity's version, read through the app database's own (sync) URL, for code outside
    the server (a widget token minter)."""
    engine = create_engine(sync_url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table(SessionVersionRow.__tablename__):
                return 0
            query = select(SessionVersionRow.version).where(
                SessionVersionRow.identifier == identifier
            )
            return connection.scalar(query) or 0
    except SQLAlchemyError as error:
        raise _store_error("read", error) from error
    finally:
        engine.dispose()
