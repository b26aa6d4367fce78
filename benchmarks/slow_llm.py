"""What a slow LLM costs a turn, with the per-turn deadline (RECBOT_TURN_DEADLINE_S).

Needs a finished `recbot build` (the same RECBOT_HOME / RECBOT_DATA_DIR settings). Every row runs
the same turns on the built catalog through ``Recommender.reply``; the LLM is the loopback stub
of the tests (tests/llm_stub.py), answering a plan and a rerank after ``--delay`` seconds, on the
default per-call timeout (20 s) and retry. The baseline is the offline agent in the same run;
the ratio and "over offline" say what the LLM's slowness added, which the deadline bounds:
over offline <= deadline + 1 s. The "fast LLM" row shows the stub's own cost. Nothing is
asserted here (tests/unit/agent/test_turn_deadline.py checks the mechanism).

    python benchmarks/slow_llm.py [--turns 4] [--delay 30] [--deadlines 1,2,4,8]
"""

# ruff: noqa: E402  (the path fix below must run before the project imports)
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and benchmarks/ranker.py would
# shadow the `ranker` package; drop that entry; the repository root holds tests/llm_stub.py.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import statistics
import time

from agent.recommender import Recommender
from agent.settings import Settings
from agent.wiring import assemble_deps, build_deps, llm_parts
from tests.llm_stub import LLMStub

MESSAGES = [
    "Something like Toy Story",
    "a tense heist movie, not too long",
    "I loved Amelie, something romantic and light",
    "dark sci-fi from the 90s, no horror",
]
PLAN = {"action": "recommend", "liked_titles": ["Toy Story"]}


def timed_turns(agent: Recommender, turns: int) -> tuple[list[float], list[list[str]]]:
    """Seconds per turn and each turn's recorded LLM fallbacks."""
    seconds, fallbacks = [], []
    for n in range(turns):
        thread = f"bench-{n}"
        started = time.perf_counter()
        agent.reply(MESSAGES[n % len(MESSAGES)], thread_id=thread, must_recommend=True)
        seconds.append(time.perf_counter() - started)
        state = agent.graph.get_state(agent._config(thread)).values
        fallbacks.append(list(state.get("llm_fallbacks", [])))
    return seconds, fallbacks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=4, help="turns per row")
    parser.add_argument(
        "--delay", type=float, default=30.0, help="the slow LLM's seconds per answer"
    )
    parser.add_argument("--deadlines", default="1,2,4,8", help="RECBOT_TURN_DEADLINE_S values")
    args = parser.parse_args()
    base = Settings(llm="off")
    offline = build_deps(base)
    rows: list[tuple[str, float | None, list[float], list[list[str]]]] = []
    rows.append(("offline", None, *timed_turns(Recommender(offline), args.turns)))
    stub = LLMStub().start()
    try:
        cases = [("fast LLM", 8.0, 0.0)]
        cases += [
            (f"LLM {args.delay:.0f} s slow", float(d), args.delay)
            for d in args.deadlines.split(",")
        ]
        for name, deadline, delay in cases:
            stub.always(json.dumps(PLAN), delay=delay)
            settings = Settings(
                llm="auto", llm_base_url=stub.base_url, llm_model="stub", turn_deadline_s=deadline
            )
            deps = assemble_deps(
                settings,
                tools=offline.tools,
                users=offline.users,
                llm=llm_parts(settings, offline.tools.catalog.genres),
            )
            rows.append((name, deadline, *timed_turns(Recommender(deps), args.turns)))
    finally:
        stub.close()
    report(rows)


def report(rows: list[tuple[str, float | None, list[float], list[list[str]]]]) -> None:
    baseline = statistics.median(rows[0][2])
    print(
        f"{'row':<16} {'deadline':>8} {'p50 s':>7} {'max s':>7} {'x offline':>9} "
        f"{'over offline (max)':>19}  fallbacks"
    )
    for name, deadline, seconds, fallbacks in rows:
        p50, worst = statistics.median(seconds), max(seconds)
        shown = sorted({entry for turn in fallbacks for entry in turn}) or ["none"]
        print(
            f"{name:<16} {deadline if deadline is not None else '-':>8} {p50:7.2f} {worst:7.2f} "
            f"{p50 / baseline:9.1f} {worst - baseline:19.2f}  {', '.join(shown)}"
        )


if __name__ == "__main__":
    main()
