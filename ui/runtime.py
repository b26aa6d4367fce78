"""The web app's long-lived parts: the recommender on an async checkpointer, created once inside
the server's event loop, and the per-browser chat preferences from the settings panel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from agent.pg_checkpoints import aclose, aping, async_checkpointer
from agent.recommender import Recommender
from agent.settings import Settings
from catalog.embeddings import Embedder
from ui.cards import DETAILS, Detail

log = logging.getLogger("recbot.ui")
RETENTION_SWEEP_S = 3600.0  # how often a server looks for conversations idle past the retention
IdleSweep = Callable[[datetime], Awaitable[object]]  # deletes what else was idle since then


@dataclass
class ChatPrefs:
    """The settings panel of one chat: list size, LLM rerank switch, explanation detail."""

    k: int
    llm_rerank: bool | None
    detail: Detail = "short"

    @classmethod
    def from_panel(cls, values: dict[str, Any], settings: Settings) -> ChatPrefs:
        """Values from Chainlit's settings panel; anything missing or odd takes the default."""
        try:
            k = int(values.get("k", settings.k))
        except (TypeError, ValueError):
            k = settings.k
        detail = values.get("detail", "short")
        rerank = values.get("llm_rerank")
        return cls(
            k=min(max(k, 1), 20),
            llm_rerank=bool(rerank) if rerank is not None and settings.llm_configured else None,
            detail=detail if detail in DETAILS else "short",
        )


class AppRuntime:
    """One per server process: the recommender, its checkpointer and the settings."""

    def __init__(self, settings: Settings, recommender: Recommender, checkpointer: Any) -> None:
        self.settings = settings
        self.recommender = recommender
        self.checkpointer = checkpointer
        self._sweeper: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, settings: Settings, *, embedder: Embedder | None = None) -> AppRuntime:
        """Build what is missing (with progress on the console), then open everything."""
        from agent.wiring import build_deps
        from jobs.build import build_all, is_built

        if not await asyncio.to_thread(is_built, settings):
            log.warning("recbot: nothing built in %s yet; building it now", settings.home)
            await asyncio.to_thread(build_all, settings, embedder)
        deps = await asyncio.to_thread(build_deps, settings, embedder=embedder)
        checkpointer = await async_checkpointer(settings)  # SQLite file, or Postgres by URL
        return cls(settings, Recommender(deps, checkpointer), checkpointer)

    async def ping(self) -> None:
        """A round trip to the app database and to the conversations' store (readiness)."""
        from sqlalchemy import text

        def app_database() -> None:
            with self.recommender.deps.users.store.engine.connect() as connection:
                connection.execute(text("SELECT 1"))

        await asyncio.to_thread(app_database)
        await aping(self.checkpointer)

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        await aclose(self.checkpointer)

    async def forget_idle(self, *others: IdleSweep, now: datetime | None = None) -> list[str]:
        """Delete the conversations idle longer than ``RECBOT_RETENTION_DAYS`` (nothing when it
        is 0): the agent's memory here, and what each of ``others`` keeps (the chat history)."""
        days = self.settings.retention_days
        if days <= 0:
            return []
        cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
        gone: list[str] = await self.recommender.graph.checkpointer.adelete_idle(cutoff)
        for thread in gone:  # a forgotten conversation has no owner left either
            await asyncio.to_thread(self.recommender.owners.release, thread)
        for other in others:
            await other(cutoff)
        if gone:
            log.info("retention: deleted %d conversations idle for %s days", len(gone), days)
        return gone

    def keep_forgetting(self, *others: IdleSweep, every_s: float = RETENTION_SWEEP_S) -> None:
        """:meth:`forget_idle` now and every ``every_s`` seconds, in the background, until
        :meth:`close`; a failed sweep is logged and tried again next time."""
        if self.settings.retention_days > 0 and self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_forever(others, every_s))

    async def _sweep_forever(self, others: tuple[IdleSweep, ...], every_s: float) -> None:
        while True:
            try:
                await self.forget_idle(*others)
            except Exception:
                log.exception("retention sweep failed")
            await asyncio.sleep(every_s)

    async def user_id_for(self, identifier: str) -> int:
        return await asyncio.to_thread(self.recommender.deps.users.user_id_for, identifier)
