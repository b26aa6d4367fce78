"""CPU per web turn: what one replica's throughput is made of, old tree against new.

A web turn as `recbot serve` runs it (``Recommender.astream`` on the async SQLite checkpointer,
conversations of the load benchmark's five messages, the offline planner, the built catalog of
RECBOT_HOME), timed by the process's CPU clock: on a machine shared with other work, wall time says mostly how busy the
machine was, CPU time says what a turn costs. One turns/s per core is about 1000 / CPU ms.

Each ``--tree`` is a checkout of recbot (e.g. ``git worktree add /tmp/old <commit>``); the trees
are run alternately, ``--rounds`` times each, in fresh processes, and the table prints each
round and every tree's median against the first tree's, from the same run.

    python benchmarks/turn_cpu.py --tree /tmp/old --tree . [--conversations 20] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


async def _turns(conversations: int, messages: list[str]) -> dict[str, float]:
    """Run in the tree's own process (its packages first on sys.path)."""
    from agent.persistence import async_sqlite_checkpointer
    from agent.recommender import Recommender
    from agent.settings import Settings
    from agent.wiring import build_deps

    deps = build_deps(Settings())
    with tempfile.TemporaryDirectory() as folder:
        saver = await async_sqlite_checkpointer(Path(folder) / "conversations.db")
        try:
            recommender = Recommender(deps, saver)

            async def conversation(n: int) -> None:
                for message in messages:
                    async for _event in recommender.astream(message, thread_id=f"c{n}"):
                        pass

            await conversation(-1)  # warm-up: caches, lazy imports
            cpu, wall = time.process_time(), time.perf_counter()
            for n in range(conversations):
                await conversation(n)
            turns = conversations * len(messages)
            return {
                "cpu_ms": 1000 * (time.process_time() - cpu) / turns,
                "wall_ms": 1000 * (time.perf_counter() - wall) / turns,
                "turns": turns,
            }
        finally:
            await saver.conn.close()


def _run_tree(tree: Path, conversations: int) -> dict[str, float]:
    # the load benchmark's conversation, read here: importing benchmarks/load.py in the child
    # would put this checkout first on its sys.path
    from load import MESSAGES

    code = (
        f"import sys, asyncio, json; sys.path.insert(0, {str(tree)!r}); "
        f"sys.path.insert(1, {str(Path(__file__).parent)!r}); import turn_cpu; "
        f"print(json.dumps(asyncio.run(turn_cpu._turns({conversations}, {MESSAGES!r}))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tree, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tree", action="append", type=Path, required=True, help="a checkout")
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    trees = [tree.resolve() for tree in args.tree]
    cpu: dict[Path, list[float]] = {tree: [] for tree in trees}
    for round_ in range(args.rounds):
        for tree in trees:
            result = _run_tree(tree, args.conversations)
            cpu[tree].append(result["cpu_ms"])
            print(
                f"round {round_ + 1} {tree}: {result['cpu_ms']:.1f} CPU ms/turn, "
                f"{result['wall_ms']:.1f} wall ms/turn ({int(result['turns'])} turns)",
                flush=True,
            )
    base = statistics.median(cpu[trees[0]])
    print(f"\n{'tree':<40}{'CPU ms/turn (median)':>22}{'× first':>9}")
    for tree in trees:
        median = statistics.median(cpu[tree])
        print(f"{tree!s:<40}{median:>22.1f}{median / base:>9.2f}")


if __name__ == "__main__":
    main()
