"""A 1 MB chat message gets a plain answer and costs nothing else (issue 14, items 9 and 10).

The web chat reads messages up to RECBOT_MAX_REQUEST_MESSAGE_CHARS; a longer one is answered
with a short "too long" note, no turn runs on it (so no agent memory is written for it), and
the same chat, and the server, go on as before.
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from tests.e2e.test_protocol import Chat, cards_in, of, sign_in
from tests.security.conftest import StartServer

MEGABYTE = 1_000_000
LOG_ALARMS = ("Traceback", "ERROR", "Exception")


def _memory_bytes(path: Path, thread_id: str) -> int:
    """What the agent keeps of one conversation: its checkpoints and writes, in bytes."""
    with closing(sqlite3.connect(path)) as db:
        kept = db.execute(
            "SELECT COALESCE(SUM(LENGTH(checkpoint)), 0) FROM checkpoints WHERE thread_id = ?",
            (thread_id,),
        ).fetchone()[0]
        written = db.execute(
            "SELECT COALESCE(SUM(LENGTH(value)), 0) FROM writes WHERE thread_id = ?", (thread_id,)
        ).fetchone()[0]
    return int(kept) + int(written)


async def _long_then_normal(url: str) -> tuple[list[Any], list[Any]]:
    chat = await Chat(url, await sign_in(url)).open()
    try:
        text = ("a film like Toy Story " * (MEGABYTE // 22 + 1))[:MEGABYTE]
        long_turn = await chat.say(text)
        normal_turn = await chat.say("Something like Toy Story")
    finally:
        await chat.close()
    return long_turn, normal_turn


def test_a_megabyte_message_gets_a_plain_answer_and_the_chat_goes_on(
    start_server: StartServer,
) -> None:
    srv = start_server()
    since = srv.log_path.stat().st_size  # the log file is shared with earlier runs
    long_turn, normal_turn = asyncio.run(_long_then_normal(srv.url))

    steps = of(long_turn, "new_message") + of(long_turn, "update_message")
    said = [s["output"] for s in steps if s.get("type") == "assistant_message"]
    assert any("too long" in text and "20,000" in text for text in said), said
    assert not any(s.get("isError") for s in steps)
    assert not cards_in(long_turn) and not any(s.get("type") == "tool" for s in steps)
    assert cards_in(normal_turn), "the chat did not go on after the long message"
    (first,) = of(long_turn, "first_interaction")
    assert _memory_bytes(srv.home.home / "conversations.db", first["thread_id"]) < MEGABYTE // 2, (
        "the long message reached the agent's memory"
    )
    log = srv.log_path.read_bytes()[since:].decode(errors="replace")
    alarms = [line for line in log.splitlines() if any(a in line for a in LOG_ALARMS)]
    assert not alarms, "the server logged errors:\n" + "\n".join(alarms[:20])
