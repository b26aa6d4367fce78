"""Checkpointers that keep what resuming needs, and retention for idle conversations.

LangGraph saves a checkpoint after every step of a turn (input, understand, retrieve, filter,
rank, respond), each with the whole state (messages, the ranked candidates, …), plus every
step's writes: about 0.7 MB per turn on the real catalog. recbot only ever reads a
conversation's newest checkpoint and its pending writes: a new turn and ``aget_state`` start
from the newest, ``aupdate_state`` (a card click) writes on top of it, and a turn cut off
half-way resumes from it and its pending writes. History (``get_state_history``, time travel)
is not used. So each save deletes the conversation's older checkpoints and their writes, inside
the saver, for every saver recbot uses: SQLite sync (the CLI), SQLite async (the web app), in
memory (tests, one-off requests) and Postgres (``agent/pg_checkpoints.py``, through LangGraph's
own ``prune(strategy="keep_latest")``).

"Older" is by checkpoint id, the order LangGraph itself reads "newest" by: its ids are UUIDv6,
whose text sorts by creation time. The same property gives retention its cutoff
(:func:`cutoff_id`): a conversation whose newest checkpoint id sorts below the cutoff has been
idle since then.

Not for states with a ``DeltaChannel``: those rebuild values from ancestor checkpoints.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any
from uuid import UUID

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

log = logging.getLogger("recbot.checkpoints")

# 100-ns intervals between the UUID epoch (1582-10-15) and the Unix epoch, as in LangGraph's uuid6
UUID_EPOCH_OFFSET = 0x01B21DD213814000

PRUNE = (  # a conversation's checkpoints and writes older than the one just saved
    "DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id < ?",
    "DELETE FROM writes WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id < ?",
)
IDLE = "SELECT thread_id FROM checkpoints GROUP BY thread_id HAVING MAX(checkpoint_id) < ?"
PG_IDLE = (  # byte order, as the ids' text sorts by time whatever the database's collation
    'SELECT thread_id FROM checkpoints GROUP BY thread_id HAVING MAX(checkpoint_id COLLATE "C") < %s'
)


def cutoff_id(moment: datetime) -> str:
    """The smallest checkpoint id LangGraph can give a checkpoint saved at ``moment`` or later
    (``moment`` is timezone-aware)."""
    ticks = int(moment.timestamp() * 10_000_000) + UUID_EPOCH_OFFSET
    value = ((ticks >> 12) & 0xFFFF_FFFF_FFFF) << 80 | (ticks & 0x0FFF) << 64
    value |= 6 << 76 | 1 << 63  # version 6, RFC 4122 variant; clock sequence and node 0
    return str(UUID(int=value))


def _saved(config: Any) -> tuple[str, str, str]:
    """(thread id, namespace, checkpoint id) of the config a put returned."""
    conf = config["configurable"]
    return str(conf["thread_id"]), str(conf.get("checkpoint_ns", "")), str(conf["checkpoint_id"])


class PruningSqliteSaver(SqliteSaver):
    """``SqliteSaver`` keeping only each conversation's newest checkpoint and its writes."""

    def put(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        saved = super().put(config, checkpoint, metadata, new_versions)
        with self.cursor() as cur:  # after the new one is committed: a crash loses nothing
            for statement in PRUNE:
                cur.execute(statement, _saved(saved))
        return saved

    def delete_idle(self, cutoff: datetime) -> list[str]:
        """Delete the conversations whose newest checkpoint is older than ``cutoff``."""
        with self.cursor(transaction=False) as cur:
            idle = [str(row[0]) for row in cur.execute(IDLE, (cutoff_id(cutoff),)).fetchall()]
        for thread_id in idle:
            self.delete_thread(thread_id)
        return idle


class PruningAsyncSqliteSaver(AsyncSqliteSaver):
    """``AsyncSqliteSaver`` keeping only each conversation's newest checkpoint and its writes."""

    async def aput(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        saved = await super().aput(config, checkpoint, metadata, new_versions)
        async with self.lock, self.conn.cursor() as cur:  # after the new one is committed
            for statement in PRUNE:
                await cur.execute(statement, _saved(saved))
            await self.conn.commit()
        return saved

    async def adelete_idle(self, cutoff: datetime) -> list[str]:
        """Delete the conversations whose newest checkpoint is older than ``cutoff``."""
        await self.setup()
        async with self.lock, self.conn.execute(IDLE, (cutoff_id(cutoff),)) as cur:
            idle = [str(row[0]) for row in await cur.fetchall()]
        for thread_id in idle:
            await self.adelete_thread(thread_id)
        return idle


class PruningMemorySaver(InMemorySaver):
    """``InMemorySaver`` keeping only each conversation's newest checkpoint, its writes and
    the channel values it points at."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._versions: dict[tuple[str, str], dict[str, Any]] = {}  # newest's channel versions
        # Conversations run in parallel threads (the dialogue benchmark's workers, the web
        # app's turns) and ``writes`` is one dict for all of them: pruning it while another
        # thread adds to it raised "dictionary changed size during iteration".
        self._lock = threading.RLock()

    def put_writes(self, config: Any, writes: Any, task_id: str, task_path: str = "") -> None:
        with self._lock:
            super().put_writes(config, writes, task_id, task_path)

    def put(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        with self._lock:
            return self._put_and_prune(config, checkpoint, metadata, new_versions)

    def _put_and_prune(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        saved = super().put(config, checkpoint, metadata, new_versions)
        thread_id, namespace, newest = _saved(saved)
        kept = self.storage[thread_id][namespace]
        for older in [cid for cid in list(kept) if cid < newest]:
            del kept[older]
        stale = [k for k in list(self.writes) if k[:2] == (thread_id, namespace) and k[2] < newest]
        for key in stale:
            self.writes.pop(key, None)
        if list(kept) == [newest]:  # no newer one that may point at other values
            versions = dict(checkpoint["channel_versions"])
            for channel, version in self._versions.get((thread_id, namespace), {}).items():
                if versions.get(channel) != version:
                    self.blobs.pop((thread_id, namespace, channel, version), None)
            self._versions[(thread_id, namespace)] = versions
        return saved

    def delete_thread(self, thread_id: str) -> None:
        with self._lock:
            super().delete_thread(thread_id)
            for key in [k for k in list(self._versions) if k[0] == thread_id]:
                del self._versions[key]

    def delete_idle(self, cutoff: datetime) -> list[str]:
        """Delete the conversations whose newest checkpoint is older than ``cutoff``."""
        oldest_kept = cutoff_id(cutoff)
        with self._lock:
            spaces_of = list(self.storage.items())
        idle = [
            thread_id
            for thread_id, spaces in spaces_of
            if max((cid for ids in spaces.values() for cid in ids), default="") < oldest_kept
        ]
        for thread_id in idle:
            self.delete_thread(thread_id)
        return idle

    async def adelete_idle(self, cutoff: datetime) -> list[str]:
        return self.delete_idle(cutoff)
