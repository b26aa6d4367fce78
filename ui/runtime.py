"""The web app's long-lived parts: the recommender on an async checkpointer, created once inside
the server's event loop, and the per-browser chat preferences from the settings panel.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from agent.pg_checkpoints import aclose, async_checkpointer
from agent.recommender import Recommender
from agent.settings import Settings
from catalog.embeddings import Embedder
from ui.cards import DETAILS, Detail

log = logging.getLogger("recbot.ui")


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

    async def close(self) -> None:
        await aclose(self.checkpointer)

    async def user_id_for(self, identifier: str) -> int:
        return await asyncio.to_thread(self.recommender.deps.users.user_id_for, identifier)
