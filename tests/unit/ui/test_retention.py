"""RECBOT_RETENTION_DAYS in the web app (ui/runtime.py): idle conversations are deleted at
start and then periodically, the agent's memory and what else is handed to the sweep."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from agent.context import Deps
from agent.recommender import Recommender
from agent.settings import Settings
from ui.runtime import AppRuntime


def _runtime(deps: Deps, days: float) -> AppRuntime:
    recommender = Recommender(deps)  # the pruning in-memory saver
    recommender.reply("something like Toy Story", thread_id="t")
    return AppRuntime(Settings(retention_days=days), recommender, checkpointer=None)


def test_conversations_idle_past_the_retention_are_forgotten(agent_deps: Deps) -> None:
    app = _runtime(agent_deps, days=30)
    cutoffs: list[datetime] = []

    async def history(cutoff: datetime) -> None:
        cutoffs.append(cutoff)

    soon = datetime.now(UTC) + timedelta(days=29)  # a clock 29 days ahead: not idle long enough
    assert asyncio.run(app.forget_idle(history, now=soon)) == []
    later = datetime.now(UTC) + timedelta(days=31)
    assert asyncio.run(app.forget_idle(history, now=later)) == ["t"]
    assert cutoffs == [soon - timedelta(days=30), later - timedelta(days=30)]
    assert app.recommender.graph.get_state({"configurable": {"thread_id": "t"}}).values == {}
    assert app.recommender.owners.owner("t") is None  # its owner row goes too


def test_zero_days_keeps_everything(agent_deps: Deps) -> None:
    app = _runtime(agent_deps, days=0)
    far = datetime.now(UTC) + timedelta(days=10_000)
    assert asyncio.run(app.forget_idle(now=far)) == []
    assert app.recommender.graph.get_state({"configurable": {"thread_id": "t"}}).values


def test_the_server_sweeps_at_start_and_stops_with_it(agent_deps: Deps) -> None:
    swept = asyncio.Event()

    async def scenario(app: AppRuntime) -> bool:
        async def history(cutoff: datetime) -> None:
            swept.set()

        app.keep_forgetting(history, every_s=3600)
        await asyncio.wait_for(swept.wait(), timeout=30)
        sweeper = app._sweeper
        assert sweeper is not None
        sweeper.cancel()  # as close() does
        await asyncio.gather(sweeper, return_exceptions=True)
        return sweeper.cancelled()

    assert asyncio.run(scenario(_runtime(agent_deps, days=1)))
    off = _runtime(agent_deps, days=0)
    off.keep_forgetting()  # returns before it would need a running loop
    assert off._sweeper is None  # retention off: no task at all


def test_the_chat_history_of_idle_threads_is_erased(tmp_path: Path) -> None:
    from ui.datalayer import ElementRow, RecbotDataLayer, StepRow, ThreadRow

    layer = RecbotDataLayer(f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}")
    now = datetime.now(UTC).replace(tzinfo=None)

    async def scenario() -> tuple[int, list[str], list[str]]:
        async with layer._session("seed", write=True) as session:
            for thread, age in (("old", timedelta(days=40)), ("recent", timedelta(days=2))):
                at = now - age  # backdated rows
                session.add(ThreadRow(id=thread, created_at=at, updated_at=at, doc={}))
                session.add(StepRow(id=f"{thread}-step", thread_id=thread, created_at=at, doc={}))
                session.add(
                    ElementRow(id=f"{thread}-cards", thread_id=thread, created_at=at, doc={})
                )
        erased = await layer.erase_idle_threads(datetime.now(UTC) - timedelta(days=30))
        async with layer._session("read") as session:
            threads = list(await session.scalars(select(ThreadRow.id)))
            left = list(await session.scalars(select(StepRow.id)))
            left += list(await session.scalars(select(ElementRow.id)))
        await layer.close()
        return erased, threads, left

    erased, threads, left = asyncio.run(scenario())
    assert (erased, threads) == (1, ["recent"])
    assert sorted(left) == ["recent-cards", "recent-step"]
