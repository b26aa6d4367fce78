"""A hundred first-time visitors arriving together each start a chat (issue 14's goal).

Every visitor signs in over HTTP (a new identity and account), opens the chat over socket.io and
sends one message, all at the same moment: half say hello, half ask for films. Each must get the
settings panel and an answer (cards for a request), and the server's log must show no error and
no traceback. A server of its own, so its log holds only this.
"""

from __future__ import annotations

import asyncio
import contextlib

from tests.e2e.test_protocol import Chat, cards_in, of, sign_in
from tests.security.conftest import StartServer

VISITORS = 100
MESSAGES = ("hi", "Something like Toy Story")  # small talk, and a whole recommendation turn
LOG_ALARMS = (  # SQLite's and Postgres' words for two first visits colliding, and any error
    "Traceback",
    "ERROR",
    "Exception",
    "UNIQUE constraint",
    "database is locked",
    "duplicate key",
    "deadlock detected",
    "UniqueViolation",
)


async def _visit(url: str, message: str) -> str | None:
    """One visitor's first chat: None when it got an answer, else what went wrong."""
    chat: Chat | None = None
    try:
        cookie = await sign_in(url)
        chat = await Chat(url, cookie).open()
        turn = await chat.say(message)
    except Exception as error:  # reported with the others, not raised one by one
        return f"{type(error).__name__}: {error}"[:300]
    finally:
        if chat is not None:
            with contextlib.suppress(Exception):
                await chat.close()
    steps = of(turn, "new_message") + of(turn, "update_message")
    answers = [s for s in steps if s.get("type") == "assistant_message" and s["output"].strip()]
    if not answers:
        return f"no answer: {[event for event, _ in turn]}"
    if any(s.get("isError") for s in steps):
        return f"an error message: {[s['output'] for s in steps if s.get('isError')]}"
    if message != "hi" and not cards_in(turn):
        return f"no cards for {message!r}: {answers[-1]['output'][:200]!r}"
    return None


async def _crowd(url: str) -> list[str | None]:
    return await asyncio.gather(*[_visit(url, MESSAGES[i % 2]) for i in range(VISITORS)])


def test_a_hundred_first_time_visitors_start_a_hundred_chats(start_server: StartServer) -> None:
    srv = start_server()
    since = srv.log_path.stat().st_size  # the log file is shared with earlier runs
    problems = [p for p in asyncio.run(_crowd(srv.url)) if p is not None]
    assert not problems, f"{len(problems)} of {VISITORS} visitors failed, e.g. {problems[:3]}"
    log = srv.log_path.read_bytes()[since:].decode(errors="replace")
    alarms = [line for line in log.splitlines() if any(a in line for a in LOG_ALARMS)]
    assert not alarms, "the server logged errors:\n" + "\n".join(alarms[:20])
