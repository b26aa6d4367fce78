"""Pruning Postgres savers (``agent/pg_checkpoints.py`` builds them): kept apart from
:mod:`agent.checkpoints` so that a plain install, without the ``postgres`` extra, never imports
LangGraph's Postgres saver or psycopg."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

from agent.checkpoints import PG_IDLE, _saved, cutoff_id, log


def _lost_race(error: Exception) -> bool:
    """A prune that another save or prune of the same conversation got in the way of."""
    from psycopg import errors

    return isinstance(error, errors.SerializationFailure | errors.DeadlockDetected)


class PruningPostgresSaver(PostgresSaver):
    """``PostgresSaver`` keeping only each conversation's newest checkpoint (LangGraph's
    ``keep_latest`` prune after each save); a prune that loses a race is left to the next save."""

    def put(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        saved = super().put(config, checkpoint, metadata, new_versions)
        try:
            self.prune([_saved(saved)[0]])
        except Exception as error:
            if not _lost_race(error):
                raise
            log.debug("checkpoint prune of %s skipped: %s", _saved(saved)[0], error)
        return saved

    def delete_idle(self, cutoff: datetime) -> list[str]:
        """Delete the conversations whose newest checkpoint is older than ``cutoff``."""
        with self._cursor() as cur:
            cur.execute(PG_IDLE, (cutoff_id(cutoff),))
            idle = [str(row["thread_id"]) for row in cur.fetchall()]
        self.prune(idle, strategy="delete")
        return idle


class PruningAsyncPostgresSaver(AsyncPostgresSaver):
    """``AsyncPostgresSaver`` keeping only each conversation's newest checkpoint (LangGraph's
    ``keep_latest`` prune after each save); a prune that loses a race is left to the next save."""

    async def aput(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        saved = await super().aput(config, checkpoint, metadata, new_versions)
        try:
            await self.aprune([_saved(saved)[0]])
        except Exception as error:
            if not _lost_race(error):
                raise
            log.debug("checkpoint prune of %s skipped: %s", _saved(saved)[0], error)
        return saved

    async def adelete_idle(self, cutoff: datetime) -> list[str]:
        """Delete the conversations whose newest checkpoint is older than ``cutoff``."""
        async with self._cursor() as cur:
            await cur.execute(PG_IDLE, (cutoff_id(cutoff),))
            idle = [str(row["thread_id"]) for row in await cur.fetchall()]
        await self.aprune(idle, strategy="delete")
        return idle
