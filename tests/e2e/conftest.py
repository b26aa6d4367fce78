"""End-to-end fixtures: `recbot serve` running in a subprocess on the built home.

The home, the server class and the Postgres home are in tests/served.py (a plugin of the root
conftest, so each session fixture exists once however many suites use it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.served import ARTIFACTS, E2EHome, Server, free_port


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def server(e2e_home: E2EHome, widget_port: int) -> Iterator[Server]:
    srv = Server(
        e2e_home,
        free_port(),
        ARTIFACTS / "e2e-server.log",
        extra_env={"RECBOT_WIDGET_PORT": str(widget_port)},
    )
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
