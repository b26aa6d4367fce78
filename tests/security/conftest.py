"""The security suite: each scenario of the hardening issue replayed against a real `recbot serve`.

Servers run as in tests/e2e (the same built home: the real catalog in CI, the generated one
otherwise); a test that needs its own settings (password sign-in, a slow LLM, a second server on
the same files) starts one with ``start_server(**env)``, stopped when the test ends. Browser-side
traffic is spoken with the socket.io client of tests/e2e/test_protocol.py.

Every scenario runs once per backend (issue 15: Postgres and SQLite pass the same suite): the
servers' state lives in the home's SQLite files (``[sqlite]``) or in a database of the suite's
Postgres server (``[postgres]``, the e2e ``postgres_home``; ``RECBOT_DATABASE_URL`` is all a
server needs). None is SQLite-only: even two servers on one home (app roots) is how replicas
share theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy

from tests.served import ARTIFACTS, E2EHome, PostgresHome, Server, free_port

HERE = Path(__file__).parent
BACKENDS = ("sqlite", "postgres")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.security)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test reaching a server runs as ``[sqlite]`` and as ``[postgres]``; session-scoped,
    so each backend's home is made once and its tests run together."""
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", BACKENDS, indirect=True, scope="session")


@dataclass
class Backend:
    """Where the servers of one run keep their state: the home's SQLite files, or ``url``."""

    name: str
    home: E2EHome
    url: str | None = None  # a Postgres database; None: the home's SQLite files

    def env(self) -> dict[str, str]:
        return {"RECBOT_DATABASE_URL": self.url} if self.url else {}

    def app_database(self, home: Path | None = None) -> str:
        """The app database (accounts, owners, chat history) as a SQLAlchemy URL."""
        return self.url or f"sqlite:///{(home or self.home.home) / 'recbot.db'}"

    def memory_database(self) -> str:
        """The agent's memory (LangGraph checkpoints) as a SQLAlchemy URL."""
        return self.url or f"sqlite:///{self.home.home / 'conversations.db'}"


def query(url: str, sql: str, **params: Any) -> Any:
    """One value read from the database at ``url`` (the servers' own, read from outside)."""
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as connection:
            return connection.execute(sqlalchemy.text(sql), params).scalar()
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        return set(sqlalchemy.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest, e2e_home: E2EHome) -> Backend:
    if request.param == "postgres":
        shared: PostgresHome = request.getfixturevalue("postgres_home")
        return Backend("postgres", shared.home, shared.url)
    return Backend("sqlite", e2e_home)


def backend_server(backend: Backend, log_name: str, **env: str) -> Server:
    """A server (not started) on ``backend``'s home and database, its log in test-artifacts/."""
    log = ARTIFACTS / f"{log_name}-{backend.name}.log"
    return Server(backend.home, free_port(), log, extra_env={**backend.env(), **env})


@pytest.fixture(scope="session")
def server(backend: Backend, widget_port: int) -> Iterator[Server]:
    srv = backend_server(backend, "security-server", RECBOT_WIDGET_PORT=str(widget_port))
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


StartServer = Callable[..., Server]


@pytest.fixture
def start_server(backend: Backend, request: pytest.FixtureRequest) -> Iterator[StartServer]:
    """``start_server(home=None, **env)`` → a running server with these extra settings (its own
    port; the backend's home and database unless ``home`` is given); all are stopped after the
    test."""
    started: list[Server] = []

    def start(home: E2EHome | None = None, **env: str) -> Server:
        name = f"security-{request.node.name}-{len(started)}.log"
        extra = {**backend.env(), **env}
        srv = Server(home or backend.home, free_port(), ARTIFACTS / name, extra_env=extra)
        srv.start()
        started.append(srv)
        return srv

    try:
        yield start
    finally:
        for srv in started:
            srv.stop()
