"""One turn's time by stage (plan, retrieve, filter, rank, rerank, respond) on the built catalog.

Each message opens a fresh conversation (plus a follow-up turn in the same one, so the
"after a list" path is timed too). The offline path is the baseline; with ``--llm-base-url`` (any
OpenAI-compatible server, e.g. the local llama.cpp one of ``RECBOT_LLM=local``) or
``--local-llm`` the same turns run with the LLM planner and rerank, and the table prints each
stage's p50 against the offline one, from the same run.

Needs a finished `recbot build` (RECBOT_HOME / RECBOT_DATA_DIR as for `recbot serve`).

    python benchmarks/turn.py [--repeat 3] [--llm-base-url http://127.0.0.1:8080/v1]
"""

# ruff: noqa: E402  (the path fix below must run before the project imports)
from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import os
import statistics
import time
import uuid
from collections import defaultdict

import numpy as np

from agent.recommender import Recommender
from agent.settings import Settings
from agent.trace import Stage

MESSAGES = [
    "Something like Inception, but less depressing",
    "A feel-good comedy from the 90s",
    "My kids loved Toy Story and Finding Nemo",
    "something scary but not gory",
    "I loved Heat and The Departed, no romance please",
    "Surprise me",
]
FOLLOW_UP = "more like the first one, but newer"
STAGES = ("replay", "understand", "retrieve", "filter", "rank", "rerank", "respond", "total")


async def one_turn(recommender: Recommender, text: str, thread: str) -> dict[str, float]:
    """Each node's wall time (from one node's end to the next's, as the UI sees the stages
    arrive), plus the turn's total."""
    spent: dict[str, float] = {}
    started = last = time.perf_counter()
    async for event in recommender.astream(text, thread_id=thread):
        now = time.perf_counter()
        if isinstance(event, Stage):
            spent[event.node] = spent.get(event.node, 0.0) + (now - last) * 1000
        last = now
    spent["total"] = (time.perf_counter() - started) * 1000
    return spent


def time_turns(recommender: Recommender, repeat: int) -> dict[str, list[float]]:
    """Per stage, the milliseconds of every turn that ran it."""
    spent: dict[str, list[float]] = defaultdict(list)

    async def run() -> None:
        await one_turn(recommender, MESSAGES[0], uuid.uuid4().hex)  # warm-up
        for _ in range(repeat):
            for message in MESSAGES:
                thread = uuid.uuid4().hex
                for text in (message, FOLLOW_UP):
                    for stage, ms in (await one_turn(recommender, text, thread)).items():
                        spent[stage].append(ms)

    asyncio.run(run())
    return spent


def summary(spent: dict[str, list[float]]) -> dict[str, tuple[float, float]]:
    return {
        stage: (statistics.median(values), float(np.percentile(values, 95)))
        for stage, values in spent.items()
        if values
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="passes over the messages")
    parser.add_argument("--llm-base-url", help="an OpenAI-compatible server to compare with")
    parser.add_argument("--llm-model", default=None, help="the model name to ask it for")
    args = parser.parse_args()
    base = Settings()
    os.environ.pop("OPENAI_API_KEY", None)  # offline means offline
    runs = {"offline": base.model_copy(update={"llm_base_url": None, "llm_api_key": None})}
    if args.llm_base_url:
        extra: dict[str, object] = {"llm_base_url": args.llm_base_url, "llm_rerank": True}
        if args.llm_model:
            extra["llm_model"] = args.llm_model
        runs["llm"] = base.model_copy(update=extra)
    results = {}
    for name, settings in runs.items():
        results[name] = summary(time_turns(Recommender.from_settings(settings), args.repeat))
    turns = args.repeat * len(MESSAGES) * 2
    print(f"{turns} turns per run ({len(MESSAGES)} openings + a follow-up each, × {args.repeat})")
    names = list(results)
    header = f"{'stage':<12}" + "".join(f"{n + ' p50':>14}{n + ' p95':>14}" for n in names)
    print(header + ("" if len(names) == 1 else f"{'p50 ×offline':>14}"))
    for stage in STAGES:
        row = f"{stage:<12}"
        for name in names:
            p50, p95 = results[name].get(stage, (float("nan"), float("nan")))
            row += f"{p50:>14.1f}{p95:>14.1f}"
        if len(names) > 1:
            off = results["offline"].get(stage, (float("nan"),))[0]
            llm = results["llm"].get(stage, (float("nan"),))[0]
            row += f"{llm / off if off else float('nan'):>14.2f}"
        print(row)
    total = results["offline"].get("total", (float("nan"),))[0]
    for stage in STAGES[:-1]:
        if stage in results["offline"] and total:
            share = results["offline"][stage][0] / total
            print(f"offline: {stage} is {share:.0%} of a turn's p50")


if __name__ == "__main__":
    main()
