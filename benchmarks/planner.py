"""Offline planner benchmark: milliseconds per message on the built catalog, against a small one.

Needs a finished `recbot build` (the same RECBOT_HOME / RECBOT_DATA_DIR settings). The baseline
is the same planner over the catalog's 100 most popular items, measured in the same run, so the
ratio says what scanning the whole catalog costs; nothing here is asserted anywhere (the tests
check what the planner reads, tests/unit/agent/test_offline_planner.py).

    python benchmarks/planner.py [--repeat 20] [--small 100]
"""

# ruff: noqa: E402  (the path fix below must run before the project imports)
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and benchmarks/ranker.py would
# shadow the `ranker` package; drop that entry.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import statistics
import time

import numpy as np

from agent.planner import OfflinePlanner, PlannerContext, ShownItem
from agent.settings import Settings
from catalog.domain import Catalog
from catalog.store import Store

MESSAGES = [
    "recommend me a movie",
    "Something like Incepton, but less depressing and not from the 80s",
    "I loved Toy Story, Fnding Nemo and Up but hated Aliens; no horror, something cozy",
    "not the second one, I've seen it; more like the first but funnier",
    "what is the third one about?",
    "a heist in dreams, mind-bending, " * 60,
]


def latencies(planner: OfflinePlanner, context: PlannerContext, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        for message in MESSAGES:
            started = time.perf_counter()
            planner.plan(message, context)
            out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20, help="passes over the messages")
    parser.add_argument("--small", type=int, default=100, help="items in the baseline catalog")
    args = parser.parse_args()
    config = Settings().build_config()
    catalog = Store(config.database_url, create=False).load_catalog()
    popular = sorted(catalog.items, key=lambda item: -item.popularity)
    small = Catalog(popular[: args.small])
    shown = PlannerContext(
        shown=tuple(
            ShownItem(position, item.id, item.display_title)
            for position, item in enumerate(popular[:5], start=1)
        ),
        has_preferences=True,
    )
    rows = []
    for name, items in (("small", small), ("full", catalog)):
        started = time.perf_counter()
        planner = OfflinePlanner(items)
        setup_s = time.perf_counter() - started
        planner.plan(MESSAGES[0], shown)  # warm-up
        values = latencies(planner, shown, args.repeat)
        p50, p95 = statistics.median(values), float(np.percentile(values, 95))
        rows.append((f"{name} ({len(items)})", setup_s, p50, p95))
    base_p50, base_p95 = rows[0][2], rows[0][3]
    print(f"{len(MESSAGES)} messages × {args.repeat} passes, after a list of 5")
    print(f"{'catalog':<16}{'setup s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p50 ×small':>12}", end="")
    print(f"{'p95 ×small':>12}")
    for name, setup_s, p50, p95 in rows:
        print(
            f"{name:<16}{setup_s:>9.2f}{p50:>9.2f}{p95:>9.2f}"
            f"{p50 / base_p50:>12.1f}{p95 / base_p95:>12.1f}"
        )


if __name__ == "__main__":
    main()
