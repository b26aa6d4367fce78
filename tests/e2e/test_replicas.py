"""Two stateless replicas on one Postgres: a conversation started on one continues on the other
after the first is killed with SIGKILL — messages, cards, the 👎 swap, the settings panel and the
agent's memory, nothing lost (issue 15, item 3).

Both `recbot serve` processes share one home (the read-only artifacts: FAISS index, ranker),
one ``CHAINLIT_AUTH_SECRET`` and one ``RECBOT_DATABASE_URL``; `recbot build` ran once, into
Postgres. The Postgres server is the test suite's own (tests/postgres.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy

from tests.e2e.test_protocol import (
    FIRST,
    HOW,
    TIMEOUT_S,
    Chat,
    K,
    assert_cards,
    cards_in,
    http_call,
    ids,
    of,
    poll,
    sign_in,
)
from tests.served import ARTIFACTS, PostgresHome, Server, free_port


@pytest.fixture(scope="module")
def replicas(postgres_home: PostgresHome) -> Iterator[tuple[Server, Server]]:
    servers = [
        Server(
            postgres_home.home,
            free_port(),
            ARTIFACTS / f"e2e-replica-{n}.log",
            extra_env=postgres_home.env(),
        )
        for n in (1, 2)
    ]
    try:
        for server in servers:
            server.start()
        yield servers[0], servers[1]
    finally:
        for server in servers:
            server.stop()


def test_a_conversation_survives_its_replica_being_killed(
    replicas: tuple[Server, Server], postgres_home: PostgresHome
) -> None:
    first, second = replicas

    async def run() -> dict[str, Any]:
        cookie = await sign_in(first.url)
        chat = await Chat(first.url, cookie).open()
        try:
            await chat.sio.call("chat_settings_change", {"k": K}, timeout=TIMEOUT_S)
            turn = await chat.say(FIRST)
            cards = cards_in(turn)[-1]
            rejected = ids(cards)[1]
            since = len(chat.events)
            clicked = await chat.click(cards, rejected, "rejected")
            updated = await chat.wait_for(
                "element", lambda e: e["id"] == cards["id"] and rejected not in ids(e), since
            )
        finally:
            await chat.close()
        thread_id = of(turn, "first_interaction")[0]["thread_id"]

        async def settings_saved() -> bool:
            stored = await http_call(first.url, cookie, "GET", f"/project/thread/{thread_id}")
            return (stored.get("metadata") or {}).get("chat_settings", {}).get("k") == K

        await poll(settings_saved, lambda: "the settings panel was not saved with the thread")
        assert first.process is not None
        first.process.kill()  # SIGKILL: no shutdown handler runs
        first.process.wait()

        # the same sign-in cookie, on the other replica
        again = await Chat(second.url, cookie).open(thread_id)
        try:
            (thread,) = of(again.events, "resume_thread")
            panel = of(again.events, "chat_settings")[-1]
            more = await again.say("more please")
        finally:
            await again.close()
        return {
            "thread_id": thread_id,
            "clicked": clicked,
            "updated": updated,
            "cards": cards,
            "rejected": rejected,
            "thread": thread,
            "panel": panel,
            "more": more,
        }

    got = asyncio.run(run())
    assert got["clicked"]["response"]["ok"] is True
    steps = got["thread"]["steps"]
    assert any(s["type"] == "user_message" and s["output"] == FIRST for s in steps)
    assert any(s["type"] == "tool" and s["name"] == HOW for s in steps)
    stored = [e for e in got["thread"]["elements"] if e["id"] == got["cards"]["id"]]
    assert stored and ids(stored[0]) == ids(got["updated"]), "the 👎 swap was kept"
    assert next(w["initial"] for w in got["panel"] if w["id"] == "k") == K
    latest = cards_in(got["more"])
    assert latest, f"no cards on the second replica: {[e for e, _ in got['more']]}"
    shown = set(ids(got["cards"])) | set(ids(got["updated"]))
    assert_cards(latest[-1], never=shown)  # the agent's memory came along

    # all of it lives in Postgres: no SQLite file next to the shared artifacts holds any of it
    assert not list(first.home.home.glob("*.db")), list(first.home.home.glob("*.db"))
    engine = sqlalchemy.create_engine(postgres_home.url)
    try:
        with engine.connect() as connection:
            saved = connection.execute(
                sqlalchemy.text("SELECT count(*) FROM checkpoints WHERE thread_id = :t"),
                {"t": got["thread_id"]},
            ).scalar()
    finally:
        engine.dispose()
    assert saved
