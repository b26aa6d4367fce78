"""The browser protocol's tests again, with all state in Postgres: sign-in, a turn with its
cards, a 👎 swap, a reconnect, a server restart and a click after resuming all hold when the app
database, the chat history and the agent's memory live in the suite's Postgres server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.test_protocol import *  # noqa: F403  (the same tests, collected here again)
from tests.e2e.test_protocol import convo as convo
from tests.served import ARTIFACTS, PostgresHome, Server, free_port


@pytest.fixture(scope="module")
def server(postgres_home: PostgresHome, widget_port: int) -> Iterator[Server]:
    env = {**postgres_home.env(), "RECBOT_WIDGET_PORT": str(widget_port)}
    srv = Server(postgres_home.home, free_port(), ARTIFACTS / "e2e-postgres.log", extra_env=env)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
