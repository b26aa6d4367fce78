"""A killed server loses nothing it acknowledged (issue 14, item 6).

The browser is told a 👎 worked once the action's HTTP answer arrives, and that settings took
once the panel's socket.io call returns. The server is killed with SIGKILL right after those
answers (no shutdown, no disconnect handler, no background task left to finish), started again
on the same files, and the thread is resumed: the replacement card, the settings and the agent's
memory of the click must all be there.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from tests.e2e.test_protocol import TIMEOUT_S, Chat, cards_in, ids, of, sign_in
from tests.security.conftest import StartServer

K = 3
FIRST = "Something like Toy Story"


async def _ask_reject_then_kill(srv: Any) -> dict[str, Any]:
    """Pick K, ask, choose more detail, 👎 the first card; SIGKILL as soon as the click's answer
    arrives."""
    seen: dict[str, Any] = {"cookie": await sign_in(srv.url)}
    chat = await Chat(srv.url, seen["cookie"]).open()
    try:
        await chat.sio.call("chat_settings_change", {"k": K}, timeout=TIMEOUT_S)  # no thread yet
        turn = await chat.say(FIRST)
        seen["thread_id"] = of(turn, "first_interaction")[0]["thread_id"]
        seen["cards"] = cards = cards_in(turn)[-1]
        settings = {"k": K, "detail": "full"}  # a change inside the thread
        await chat.sio.call("chat_settings_change", settings, timeout=TIMEOUT_S)
        seen["rejected"] = ids(cards)[0]
        seen["clicked"] = await chat.click(cards, seen["rejected"], "rejected")
        srv.process.kill()  # the acknowledgement is in: nothing may be lost from here
        srv.process.wait()
    finally:
        with contextlib.suppress(Exception):
            await chat.close()
    return seen


async def _resume(srv: Any, seen: dict[str, Any]) -> tuple[dict[str, Any], list[Any], list[Any]]:
    chat = await Chat(srv.url, seen["cookie"]).open(seen["thread_id"])
    try:
        (thread,) = of(chat.events, "resume_thread")
        panel = of(chat.events, "chat_settings")[-1]
        turn = await chat.say("more please")
    finally:
        await chat.close()
    return thread, panel, turn


def test_a_killed_server_keeps_the_replacement_card_and_the_settings(
    start_server: StartServer,
) -> None:
    srv = start_server()
    seen = asyncio.run(_ask_reject_then_kill(srv))
    clicked, cards, rejected = seen["clicked"], seen["cards"], seen["rejected"]
    assert clicked["success"] is True and clicked["response"]["ok"] is True, clicked
    replacement = clicked["response"]["replacement"]
    assert isinstance(replacement, int)

    srv.stop()  # already dead: this only closes its log
    srv.start()  # the same home and files
    thread, panel, turn = asyncio.run(_resume(srv, seen))

    stored = [e for e in thread["elements"] if e["id"] == cards["id"]]
    assert stored, "the cards element is gone"
    expected = [replacement if i == rejected else i for i in ids(cards)]
    assert ids(stored[0]) == expected, "the replacement card was acknowledged but not stored"
    initial = {w["id"]: w["initial"] for w in panel}
    assert initial["k"] == K, f"the number of picks reverted: {initial}"
    assert initial["detail"] == "full", f"the detail reverted: {initial}"
    later = cards_in(turn)
    assert later, f"no cards after resuming: {[e for e, _ in turn]}"
    assert rejected not in ids(later[-1]), "the agent forgot the 👎"
    assert len(ids(later[-1])) == K
