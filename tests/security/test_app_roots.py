"""Issue 14, item 1: stopping one server must not break another started from the same install.

Chainlit deletes ``<app root>/.files`` when a server stops; two servers on one root lost their
cards when either stopped. Each `recbot serve` now runs from an app root of its own.
"""

from __future__ import annotations

import asyncio

from tests.e2e.test_protocol import Chat, cards_in, sign_in
from tests.security.conftest import StartServer


def test_stopping_one_server_leaves_the_other_serving_cards(start_server: StartServer) -> None:
    first, second = start_server(), start_server()
    first.stop()  # Chainlit's shutdown runs and removes its own files

    async def run() -> list[dict[str, object]]:
        chat = await Chat(second.url, await sign_in(second.url)).open()
        try:
            return cards_in(await chat.say("Something like Toy Story"))
        finally:
            await chat.close()

    assert asyncio.run(run()), "no cards from the server that kept running"
    log = second.log_path.read_text(errors="replace")
    assert "No such file or directory" not in log and "Traceback" not in log, log[-2000:]
    # other servers of the session may run on the same home, each with a root of its own
    roots = [root.name for root in (second.home.home / "run").iterdir()]
    assert not [name for name in roots if name.startswith(f"{first.port}-")], roots  # gone
    assert [name for name in roots if name.startswith(f"{second.port}-")], roots
