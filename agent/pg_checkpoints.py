"""Where the agent's memory (LangGraph checkpoints) lives: SQLite by default, Postgres by URL.

``RECBOT_DATABASE_URL=postgresql+psycopg://…`` puts every piece of state in Postgres: the app
database, the chat history and, from here, the checkpoints, so replicas share conversations.
The Postgres savers run on a ``psycopg_pool`` pool with autocommit, ``dict_row`` rows (what
LangGraph's saver expects), a health check on every checkout (a connection the server or a
proxy dropped is replaced, not handed out), and ``prepare_threshold=None``: no server-side
prepared statements, so it works behind pgbouncer in transaction mode.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import make_url

from agent.persistence import async_sqlite_checkpointer, serializer, sqlite_checkpointer
from agent.settings import Settings

POOL_MAX = 20  # connections per process; a turn holds one for a few statements


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://…``) as the ``postgresql://…`` libpq reads."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pool_kwargs() -> dict[str, Any]:
    from psycopg.rows import dict_row

    return {"autocommit": True, "row_factory": dict_row, "prepare_threshold": None}


def postgres_checkpointer(url: str, *, max_size: int = POOL_MAX) -> Any:
    """A synchronous Postgres saver on its own pool (the CLI's); close with ``saver.conn.close()``."""
    from psycopg_pool import ConnectionPool

    from agent.pg_pruning import PruningPostgresSaver

    pool = ConnectionPool(
        libpq_url(url),
        min_size=1,
        max_size=max_size,
        kwargs=_pool_kwargs(),
        check=ConnectionPool.check_connection,
        open=True,
    )
    saver = PruningPostgresSaver(pool, serde=serializer())  # type: ignore[arg-type]
    saver.setup()
    return saver


async def async_postgres_checkpointer(url: str, *, max_size: int = POOL_MAX) -> Any:
    """The web app's Postgres saver on an async pool, bound to the running event loop; close
    with ``await saver.conn.close()``."""
    from psycopg_pool import AsyncConnectionPool

    from agent.pg_pruning import PruningAsyncPostgresSaver

    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        libpq_url(url),
        min_size=1,
        max_size=max_size,
        kwargs=_pool_kwargs(),
        check=AsyncConnectionPool.check_connection,
        open=False,
    )
    await pool.open(wait=True)
    saver = PruningAsyncPostgresSaver(pool, serde=serializer())
    await saver.setup()
    return saver


def checkpointer(settings: Settings) -> Any:
    """The CLI's saver: Postgres when the database URL says so, else the SQLite file."""
    url = settings.resolved_database_url
    return (
        postgres_checkpointer(url)
        if is_postgres(url)
        else sqlite_checkpointer(settings.checkpoint_path)
    )


async def async_checkpointer(settings: Settings) -> Any:
    """The web app's saver: Postgres when the database URL says so, else the SQLite file."""
    url = settings.resolved_database_url
    if is_postgres(url):
        return await async_postgres_checkpointer(url)
    return await async_sqlite_checkpointer(settings.checkpoint_path)


async def aping(saver: Any) -> None:
    """One round trip to where an async saver keeps conversations; raises when it can't."""
    if hasattr(saver.conn, "connection"):  # a psycopg pool
        async with saver.conn.connection() as connection:
            await connection.execute("SELECT 1")
    else:  # an aiosqlite connection
        async with saver.conn.execute("SELECT 1") as cursor:
            await cursor.fetchone()


async def aclose(saver: Any) -> None:
    """Close what an async saver holds: an aiosqlite connection or a psycopg pool."""
    await saver.conn.close()


def close(saver: Any) -> None:
    """Close what a sync saver holds: an sqlite3 connection or a psycopg pool."""
    saver.conn.close()
