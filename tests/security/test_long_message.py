"""A 1 MB chat message gets a plain answer and costs nothing else (issue 14, items 9 and 10).

The web chat reads messages up to RECBOT_MAX_REQUEST_MESSAGE_CHARS; a longer one is answered
with a short "too long" note, no turn runs on it (so no agent memory is written for it), and
the same chat, and the server, go on as before.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.e2e.test_protocol import Chat, cards_in, of, sign_in
from tests.security.conftest import Backend, StartServer, query

MEGABYTE = 1_000_000
LOG_ALARMS = ("Traceback", "ERROR", "Exception")


MEMORY_BYTES = {  # what the agent keeps of one conversation: checkpoints and writes, in bytes
    "sqlite": (
        "SELECT (SELECT COALESCE(SUM(LENGTH(checkpoint)), 0) FROM checkpoints"
        " WHERE thread_id = :t) + (SELECT COALESCE(SUM(LENGTH(value)), 0) FROM writes"
        " WHERE thread_id = :t)"
    ),
    "postgres": (  # LangGraph's Postgres saver keeps the channel values apart, as blobs
        "SELECT (SELECT COALESCE(SUM(OCTET_LENGTH(checkpoint::text)), 0) FROM checkpoints"
        " WHERE thread_id = :t) + (SELECT COALESCE(SUM(OCTET_LENGTH(blob)), 0)"
        " FROM checkpoint_blobs WHERE thread_id = :t) + (SELECT COALESCE(SUM(OCTET_LENGTH(blob)),"
        " 0) FROM checkpoint_writes WHERE thread_id = :t)"
    ),
}


def _memory_bytes(backend: Backend, thread_id: str) -> int:
    return int(query(backend.memory_database(), MEMORY_BYTES[backend.name], t=thread_id))


async def _long_then_normal(url: str) -> tuple[list[Any], list[Any], str]:
    """Both turns, and the chat's thread id."""
    chat = await Chat(url, await sign_in(url)).open()
    try:
        text = ("a film like Toy Story " * (MEGABYTE // 22 + 1))[:MEGABYTE]
        long_turn = await chat.say(text)
        # Chainlit stores the thread and only then tells the browser its id, in a task of its
        # own: the event may come just after the note's task_end (seen on either backend)
        first = await chat.wait_for("first_interaction")
        normal_turn = await chat.say("Something like Toy Story")
    finally:
        await chat.close()
    return long_turn, normal_turn, str(first["thread_id"])


def test_a_megabyte_message_gets_a_plain_answer_and_the_chat_goes_on(
    start_server: StartServer, backend: Backend
) -> None:
    srv = start_server()
    since = srv.log_path.stat().st_size  # the log file is shared with earlier runs
    long_turn, normal_turn, thread_id = asyncio.run(_long_then_normal(srv.url))

    steps = of(long_turn, "new_message") + of(long_turn, "update_message")
    said = [s["output"] for s in steps if s.get("type") == "assistant_message"]
    assert any("too long" in text and "20,000" in text for text in said), said
    assert not any(s.get("isError") for s in steps)
    assert not cards_in(long_turn) and not any(s.get("type") == "tool" for s in steps)
    assert cards_in(normal_turn), "the chat did not go on after the long message"
    assert _memory_bytes(backend, thread_id) < MEGABYTE // 2, (
        "the long message reached the agent's memory"
    )
    log = srv.log_path.read_bytes()[since:].decode(errors="replace")
    alarms = [line for line in log.splitlines() if any(a in line for a in LOG_ALARMS)]
    assert not alarms, "the server logged errors:\n" + "\n".join(alarms[:20])
