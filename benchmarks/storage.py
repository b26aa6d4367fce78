"""Checkpoint storage benchmark: bytes per turn kept by LangGraph's SQLite saver as shipped
("before": every checkpoint and write of every step) against recbot's pruning saver ("after":
each conversation's newest checkpoint and its pending writes), in the same run, on the same
conversations. Then it checks that the pruned file still resumes: every conversation's whole
dialog comes back and a 👎 on its last list swaps in a replacement.

Needs a finished `recbot build` (the same RECBOT_HOME / RECBOT_DATA_DIR settings); the
checkpoint files go to a temporary directory. Nothing here is asserted by the tests
(tests/unit/agent/test_checkpoints.py checks the behaviour).

    python benchmarks/storage.py [--conversations 4] [--turns 5]
"""

# ruff: noqa: E402  (the path fix below must run before the project imports)
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and benchmarks/ranker.py would
# shadow the `ranker` package; drop that entry.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import sqlite3
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import aiosqlite
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from agent.checkpoints import PruningAsyncSqliteSaver
from agent.persistence import serializer
from agent.recommender import Recommender
from agent.settings import Settings
from agent.wiring import build_deps

TURNS = [
    "Something like Inception, but less depressing",
    "more please",
    "no horror, and something from the 90s",
    "funnier",
    "I loved Toy Story and Finding Nemo",
    "something else",
]


@dataclass
class Measured:
    label: str
    turns: int
    stored_bytes: int  # checkpoint + metadata + write blobs, as rows hold them
    file_bytes: int  # the database file after a WAL checkpoint
    checkpoints: int
    writes: int
    ms_per_turn: float

    @property
    def per_turn(self) -> float:
        return self.stored_bytes / self.turns


async def converse(deps: Any, path: Path, saver_type: type, threads: int, turns: int) -> float:
    """Run the conversations on a fresh file; milliseconds per turn."""
    async with aiosqlite.connect(str(path)) as connection:
        saver = saver_type(connection, serde=serializer())
        await saver.setup()
        recommender = Recommender(deps, saver)
        started = time.perf_counter()
        for turn in range(turns):
            for thread in range(threads):
                async for _ in recommender.astream(
                    TURNS[turn % len(TURNS)], thread_id=f"c{thread}"
                ):
                    pass
        return (time.perf_counter() - started) * 1000 / (threads * turns)


def measure(label: str, path: Path, turns: int, ms: float) -> Measured:
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        checkpoints, stored = db.execute(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(checkpoint) + LENGTH(metadata)), 0) "
            "FROM checkpoints"
        ).fetchone()
        writes, written = db.execute(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(value)), 0) FROM writes"
        ).fetchone()
    return Measured(label, turns, stored + written, path.stat().st_size, checkpoints, writes, ms)


async def resumes(deps: Any, path: Path, threads: int, turns: int) -> bool:
    """A new saver on the pruned file: each dialog is whole and a 👎 gets a replacement."""
    async with aiosqlite.connect(str(path)) as connection:
        saver = PruningAsyncSqliteSaver(connection, serde=serializer())
        recommender = Recommender(deps, saver)
        for thread in range(threads):
            config = {"configurable": {"thread_id": f"c{thread}"}}
            state = (await recommender.graph.aget_state(config)).values
            if len(state.get("messages", [])) != 2 * turns or not state.get("last_shown"):
                return False
            shown = state["last_shown"]
            new = await recommender.afeedback(f"c{thread}", shown[0], "rejected")
            if new is None or new.item_id in shown:
                return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=4)
    parser.add_argument("--turns", type=int, default=5)
    args = parser.parse_args()
    deps = build_deps(Settings())
    total = args.conversations * args.turns
    with tempfile.TemporaryDirectory() as tmp:
        results = []
        for label, saver_type in (("before", AsyncSqliteSaver), ("after", PruningAsyncSqliteSaver)):
            path = Path(tmp) / f"{label}.db"
            ms = asyncio.run(converse(deps, path, saver_type, args.conversations, args.turns))
            results.append(measure(label, path, total, ms))
        resumed = asyncio.run(resumes(deps, Path(tmp) / "after.db", args.conversations, args.turns))
    print(f"{args.conversations} conversations x {args.turns} turns = {total} turns")
    print(
        f"{'':8}{'bytes/turn':>12}{'file bytes':>12}{'checkpoints':>13}{'writes':>8}{'ms/turn':>9}"
    )
    for m in results:
        print(
            f"{m.label:8}{m.per_turn:>12,.0f}{m.file_bytes:>12,}{m.checkpoints:>13}"
            f"{m.writes:>8}{m.ms_per_turn:>9.0f}"
        )
    before, after = results
    print(f"ratio   {before.per_turn / after.per_turn:.1f}x fewer bytes per turn kept")
    print(f"resume  {'ok' if resumed else 'FAILED'}: every dialog whole, a 👎 gets a replacement")


if __name__ == "__main__":
    main()
