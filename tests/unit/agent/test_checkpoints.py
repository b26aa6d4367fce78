"""Checkpoints kept to what resuming needs (agent/checkpoints.py), and retention of idle ones.

Every saver recbot uses keeps one checkpoint per conversation however many turns it had, and a
conversation reopened from that one checkpoint goes on: its memory, a new turn, a card click.
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base.id import uuid6

from agent.checkpoints import cutoff_id
from agent.context import Deps
from agent.persistence import async_sqlite_checkpointer, memory_checkpointer, sqlite_checkpointer
from agent.recommender import Recommender, Reply

TURNS = ["something like Toy Story", "more please", "something funnier"]


def _rows(path: Path, table: str) -> dict[str, int]:
    """Rows per thread in a checkpoint table."""
    with closing(sqlite3.connect(path)) as db:
        query = f"SELECT thread_id, COUNT(*) FROM {table} GROUP BY thread_id"
        return dict(db.execute(query).fetchall())


def _config(thread: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}}


def _on_file(deps: Deps, path: Path) -> tuple[Any, Recommender]:
    saver = sqlite_checkpointer(path)
    return saver, Recommender(deps, saver)


def test_turns_leave_one_checkpoint_per_thread_and_a_reopened_file_goes_on(
    agent_deps: Deps, tmp_path: Path
) -> None:
    path = tmp_path / "conversations.db"
    saver, first = _on_file(agent_deps, path)
    shown: set[int] = set()
    for text in TURNS:
        for thread in ("a", "b"):
            reply = first.reply(text, thread_id=thread)
            shown |= {r.item_id for r in reply.recommendations} if thread == "a" else set()
    assert _rows(path, "checkpoints") == {"a": 1, "b": 1}
    assert set(_rows(path, "writes")) <= {"a", "b"}  # none, or the newest one's pending writes
    saver.conn.close()

    reopened = Recommender(agent_deps, sqlite_checkpointer(path))
    state = reopened.graph.get_state(_config("a")).values
    assert len(state["messages"]) == 2 * len(TURNS)  # the whole dialog, from one checkpoint
    assert set(state["shown"]) == shown
    again = reopened.reply("more please", thread_id="a")
    assert again.recommendations and not shown & {r.item_id for r in again.recommendations}
    reopened.record_feedback("a", again.recommendations[0].item_id, "rejected")
    assert reopened.graph.get_state(_config("a")).values["rejected"][-1] == (
        again.recommendations[0].item_id
    )
    assert _rows(path, "checkpoints") == {"a": 1, "b": 1}


def test_the_web_apps_async_saver_keeps_one_and_a_click_after_a_restart_works(
    agent_deps: Deps, tmp_path: Path
) -> None:
    path = tmp_path / "conversations.db"

    async def turns() -> list[int]:
        saver = await async_sqlite_checkpointer(path)
        try:
            rec = Recommender(agent_deps, saver)
            reply: Any = None
            for text in TURNS:
                async for event in rec.astream(text, thread_id="web", k=3):
                    reply = event
            assert isinstance(reply, Reply)
            return [r.item_id for r in reply.recommendations]
        finally:
            await saver.conn.close()

    async def click_after_restart(item_id: int) -> tuple[Any, dict[str, Any]]:
        saver = await async_sqlite_checkpointer(path)
        try:
            rec = Recommender(agent_deps, saver)
            new = await rec.afeedback("web", item_id, "rejected")
            return new, dict((await rec.graph.aget_state(_config("web"))).values)
        finally:
            await saver.conn.close()

    last = asyncio.run(turns())
    assert _rows(path, "checkpoints") == {"web": 1}
    replacement, state = asyncio.run(click_after_restart(last[0]))
    assert replacement is not None and replacement.item_id not in last
    assert last[0] in state["rejected"]
    assert replacement.item_id in state["last_shown"] and last[0] not in state["last_shown"]
    assert len(state["messages"]) == 2 * len(TURNS)
    assert _rows(path, "checkpoints") == {"web": 1}


def test_the_memory_saver_keeps_one_checkpoint_and_only_the_values_it_points_at(
    agent_deps: Deps,
) -> None:
    saver = memory_checkpointer()
    rec = Recommender(agent_deps, saver)
    rec.reply(TURNS[0], thread_id="m")
    blobs_after_one = sum(1 for key in saver.blobs if key[0] == "m")
    for text in TURNS[1:]:
        rec.reply(text, thread_id="m")
    assert [len(ids) for ids in saver.storage["m"].values()] == [1]
    assert sum(1 for key in saver.blobs if key[0] == "m") <= blobs_after_one
    (newest,) = saver.storage["m"][""]
    assert all(key[2] >= newest for key in saver.writes if key[0] == "m")
    assert len(rec.graph.get_state(_config("m")).values["messages"]) == 2 * len(TURNS)


def test_checkpoint_ids_sort_by_time_as_the_retention_cutoff_assumes() -> None:
    now = datetime.now(UTC)
    made = str(uuid6(clock_seq=-1))
    assert cutoff_id(now - timedelta(minutes=1)) < made < cutoff_id(now + timedelta(minutes=1))
    assert cutoff_id(datetime(2020, 1, 1, tzinfo=UTC)) < cutoff_id(datetime(2021, 1, 1, tzinfo=UTC))


def test_retention_deletes_conversations_idle_since_the_cutoff_and_keeps_the_rest(
    agent_deps: Deps, tmp_path: Path
) -> None:
    path = tmp_path / "conversations.db"
    saver, rec = _on_file(agent_deps, path)
    for thread in ("old", "recent"):
        rec.reply("something like Toy Story", thread_id=thread)
    long_ago = cutoff_id(datetime(2020, 1, 1, tzinfo=UTC))
    with closing(sqlite3.connect(path)) as db, db:  # backdate one conversation
        db.execute("UPDATE checkpoints SET checkpoint_id = ? WHERE thread_id = 'old'", (long_ago,))
        db.execute("UPDATE writes SET checkpoint_id = ? WHERE thread_id = 'old'", (long_ago,))

    assert saver.delete_idle(datetime.now(UTC) - timedelta(days=30)) == ["old"]
    assert set(_rows(path, "checkpoints")) == {"recent"}
    assert "old" not in _rows(path, "writes")
    assert rec.graph.get_state(_config("old")).values == {}
    assert rec.reply("more please", thread_id="recent").recommendations  # untouched

    later = datetime.now(UTC) + timedelta(days=31)  # a clock a month ahead: all idle
    assert saver.delete_idle(later) == ["recent"] and _rows(path, "checkpoints") == {}


def test_retention_on_the_async_and_memory_savers(agent_deps: Deps, tmp_path: Path) -> None:
    memory = memory_checkpointer()
    Recommender(agent_deps, memory).reply("hi", thread_id="m")
    assert memory.delete_idle(datetime.now(UTC) - timedelta(days=1)) == []
    assert memory.delete_idle(datetime.now(UTC) + timedelta(days=1)) == ["m"]
    assert not memory.storage and not memory.blobs

    async def run() -> tuple[list[str], list[str]]:
        saver = await async_sqlite_checkpointer(tmp_path / "conversations.db")
        try:
            async for _ in Recommender(agent_deps, saver).astream("hi", thread_id="w"):
                pass
            kept = await saver.adelete_idle(datetime.now(UTC) - timedelta(days=1))
            gone = await saver.adelete_idle(datetime.now(UTC) + timedelta(days=1))
            return kept, gone
        finally:
            await saver.conn.close()

    assert asyncio.run(run()) == ([], ["w"])


def test_postgres_savers_keep_one_checkpoint_and_forget_idle_conversations(
    agent_deps: Deps, postgres_url: str
) -> None:
    from agent.pg_checkpoints import aclose, async_postgres_checkpointer, postgres_checkpointer

    def counts(saver: Any) -> dict[str, int]:
        with saver._cursor() as cur:
            cur.execute("SELECT thread_id, COUNT(*) AS n FROM checkpoints GROUP BY thread_id")
            return {row["thread_id"]: row["n"] for row in cur.fetchall()}

    cli = postgres_checkpointer(postgres_url)
    try:
        for text in TURNS:
            Recommender(agent_deps, cli).reply(text, thread_id="cli")

        async def web() -> tuple[Any, list[str]]:
            saver = await async_postgres_checkpointer(postgres_url)
            try:
                rec = Recommender(agent_deps, saver)
                async for _ in rec.astream("something like Toy Story", thread_id="web", k=3):
                    pass
                state = (await rec.graph.aget_state(_config("web"))).values
                new = await rec.afeedback("web", state["last_shown"][0], "rejected")
                kept = await saver.adelete_idle(datetime.now(UTC) - timedelta(days=1))
                return new, kept
            finally:
                await aclose(saver)

        replacement, kept = asyncio.run(web())
        assert replacement is not None and kept == []
        assert counts(cli) == {"cli": 1, "web": 1}
        state = Recommender(agent_deps, cli).graph.get_state(_config("cli")).values
        assert len(state["messages"]) == 2 * len(TURNS)
        gone = cli.delete_idle(datetime.now(UTC) + timedelta(days=1))
        assert sorted(gone) == ["cli", "web"] and counts(cli) == {}
    finally:
        cli.conn.close()
