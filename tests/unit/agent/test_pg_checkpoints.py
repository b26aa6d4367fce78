"""The agent's memory on Postgres: two recommenders on one database share conversations, as two
replicas behind a load balancer do (tests/postgres.py starts the server)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from agent.context import Deps
from agent.pg_checkpoints import (
    aclose,
    async_postgres_checkpointer,
    close,
    is_postgres,
    libpq_url,
    postgres_checkpointer,
)
from agent.recommender import Recommender

ROOT = Path(__file__).resolve().parents[3]


def test_urls_are_told_apart_and_given_to_libpq_without_the_driver() -> None:
    assert is_postgres("postgresql+psycopg://u:p@h:5/db")
    assert not is_postgres("sqlite:////tmp/x.db")
    assert libpq_url("postgresql+psycopg://u:p@h:5/db") == "postgresql://u:p@h:5/db"


async def _turn(recommender: Recommender, text: str, thread: str) -> Any:
    reply = None
    async for event in recommender.astream(text, thread_id=thread):
        reply = event
    return reply


def test_a_conversation_continues_on_another_replica(agent_deps: Deps, postgres_url: str) -> None:
    async def scenario() -> tuple[Any, list[Any], Any]:
        first = await async_postgres_checkpointer(postgres_url)
        second = await async_postgres_checkpointer(postgres_url)
        try:
            one, two = Recommender(agent_deps, first), Recommender(agent_deps, second)
            reply = await _turn(one, "Something like Toy Story", "t-1")
            history = await two.ahistory("t-1")  # the other replica sees the memory
            follow = await _turn(two, "more like that, but older", "t-1")
            return reply, history, follow
        finally:
            await aclose(first)
            await aclose(second)

    reply, history, follow = asyncio.run(scenario())
    assert reply.recommendations
    assert [m.role for m in history][:2] == ["user", "assistant"]
    assert history[0].content == "Something like Toy Story"
    shown = {r.item_id for r in reply.recommendations}
    assert follow.recommendations and not shown & {r.item_id for r in follow.recommendations}


def test_the_cli_saver_keeps_memory_across_processes(agent_deps: Deps, postgres_url: str) -> None:
    saver = postgres_checkpointer(postgres_url)
    try:
        first = Recommender(agent_deps, saver).reply("Something like Toy Story", thread_id="c-1")
    finally:
        close(saver)
    again = postgres_checkpointer(postgres_url)
    try:
        stored = again.get_tuple({"configurable": {"thread_id": "c-1"}})
        more = Recommender(agent_deps, again).reply("more like that", thread_id="c-1")
    finally:
        close(again)
    assert first.recommendations and more.recommendations
    assert stored is not None and stored.checkpoint["channel_values"]["messages"]
    shown = {r.item_id for r in first.recommendations}
    assert not shown & {r.item_id for r in more.recommendations}  # it remembered what it showed


def test_a_plain_install_never_imports_the_postgres_saver(tmp_path: Path) -> None:
    """Without the postgres extra, psycopg is absent: the SQLite and in-memory savers, and the
    module choosing between them, must not import it (the README's first command)."""
    probe = (
        "import sys, pathlib, asyncio\n"
        "from agent import persistence, pg_checkpoints, checkpoints\n"
        "from agent.settings import Settings\n"
        f"home = pathlib.Path({str(tmp_path)!r})\n"
        "pg_checkpoints.close(pg_checkpoints.checkpointer(Settings(home=home)))\n"
        "persistence.memory_checkpointer()\n"
        "async def web():\n"
        "    await pg_checkpoints.aclose(await pg_checkpoints.async_checkpointer("
        "Settings(home=home)))\n"
        "asyncio.run(web())\n"
        "print(sorted(m for m in sys.modules if m.startswith(('psycopg', "
        "'langgraph.checkpoint.postgres'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_the_memory_saver_prunes_safely_while_other_threads_write() -> None:
    """Parallel conversations share one in-memory saver (the dialogue benchmark's workers):
    pruning one conversation's writes while another adds its own must not break either."""
    from langgraph.checkpoint.base import empty_checkpoint

    from agent.persistence import memory_checkpointer

    saver = memory_checkpointer()
    errors: list[BaseException] = []

    def conversation(name: str) -> None:
        try:
            config: dict[str, Any] = {"configurable": {"thread_id": name, "checkpoint_ns": ""}}
            for turn in range(300):
                config = saver.put(config, empty_checkpoint(), {"step": turn}, {})
                for task in range(5):
                    saver.put_writes(config, [("messages", f"{name}-{turn}")], f"t{turn}-{task}")
        except BaseException as error:  # the test counts every failure
            errors.append(error)

    threads = [threading.Thread(target=conversation, args=(f"c{n}",)) for n in range(8)]
    switching = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads constantly: the unguarded prune failed 3/3 here
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switching)
    assert errors == []
    for n in range(8):  # each conversation kept only its newest checkpoint
        assert len(saver.storage[f"c{n}"][""]) == 1
