"""The security suite: each scenario of the hardening issue replayed against a real `recbot serve`.

Servers run as in tests/e2e (the same built home: the real catalog in CI, the generated one
otherwise); a test that needs its own settings (password sign-in, a slow LLM, a second server on
the same files) starts one with ``start_server(**env)``, stopped when the test ends. Browser-side
traffic is spoken with the socket.io client of tests/e2e/test_protocol.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ARTIFACTS, E2EHome, Server, free_port
from tests.e2e.conftest import e2e_home as e2e_home  # fixtures re-used by name
from tests.e2e.conftest import server as server
from tests.e2e.conftest import widget_port as widget_port

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.security)


StartServer = Callable[..., Server]


@pytest.fixture
def start_server(e2e_home: E2EHome, request: pytest.FixtureRequest) -> Iterator[StartServer]:
    """``start_server(home=None, **env)`` → a running server with these extra settings (its own
    port; the shared e2e home unless ``home`` is given); all are stopped after the test."""
    started: list[Server] = []

    def start(home: E2EHome | None = None, **env: str) -> Server:
        name = f"security-{request.node.name}-{len(started)}.log"
        srv = Server(home or e2e_home, free_port(), ARTIFACTS / name, extra_env=dict(env))
        srv.start()
        started.append(srv)
        return srv

    try:
        yield start
    finally:
        for srv in started:
            srv.stop()
