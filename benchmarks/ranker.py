"""Ranker benchmark: scoring latency for 1000 candidates and training time, against popularity.

Needs a finished `recbot build` (the same RECBOT_HOME / RECBOT_DATA_DIR settings). Prints
absolute numbers and ratios against the popularity baseline measured in the same run; nothing
here is asserted anywhere.

    python benchmarks/ranker.py [--calls 200] [--train-epochs 2]
"""

# ruff: noqa: E402  (the path fix below must run before the project imports)
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name would shadow the
# `ranker` package; drop that entry.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from agent.settings import Settings
from ranker.baselines import PopularityScorer
from ranker.evaluate import user_context
from ranker.pipeline import RankerData, RankerPaths, load_scorer, read_inputs
from ranker.train import train_ranker
from ranker.types import Scorer


def latencies(scorer: Scorer, contexts: list, candidates: list[list[int]]) -> list[float]:
    out = []
    for context, items in zip(contexts, candidates, strict=True):
        started = time.perf_counter()
        scorer.score(context, items)
        out.append((time.perf_counter() - started) * 1000)
    return out


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--candidates", type=int, default=1000)
    parser.add_argument("--train-epochs", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)  # serving: one query, one thread (as the agent runs)
    settings = Settings()
    config = settings.build_config()
    inputs = read_inputs(config)
    data = RankerData.prepare(inputs.catalog, inputs.interactions, inputs.content)
    train = data.split.train_interactions()
    rng = np.random.default_rng(0)
    users = rng.choice(data.split.users, size=args.calls)
    contexts = [
        user_context(data.split, int(u), "test", settings.ranker_max_history) for u in users
    ]
    pool = np.asarray(inputs.catalog.ids)
    candidates = [rng.choice(pool, size=args.candidates, replace=False).tolist() for _ in users]

    popularity = PopularityScorer.fit(train, data.features)
    dnn = load_scorer(RankerPaths(config.artifacts), data.features)
    dnn.score(contexts[0], candidates[0])  # warm-up
    rows = []
    for name, scorer in (("popularity", popularity), ("dnn", dnn)):
        values = latencies(scorer, contexts, candidates)
        rows.append((name, statistics.median(values), percentile(values, 95)))
    base_p50, base_p95 = rows[0][1], rows[0][2]
    print(f"scoring {args.candidates} candidates, {args.calls} calls, 1 thread")
    print(f"{'scorer':<12}{'p50 ms':>10}{'p95 ms':>10}{'p50 ×pop':>10}{'p95 ×pop':>10}")
    for name, p50, p95 in rows:
        print(f"{name:<12}{p50:>10.2f}{p95:>10.2f}{p50 / base_p50:>10.1f}{p95 / base_p95:>10.1f}")

    fit_pop = timed(lambda: PopularityScorer.fit(train, data.features))
    train_config = settings.train_config()
    train_config.epochs = args.train_epochs
    train_config.patience = args.train_epochs
    fit_dnn = timed(
        lambda: train_ranker(
            data.train_sequences(), data.split.valid, data.features, train_config,
            progress=False, log=lambda _m: None,
        )
    )  # fmt: skip
    per_epoch = fit_dnn / args.train_epochs
    print(f"\ntraining on {len(train)} interactions")
    print(f"popularity fit      {fit_pop:8.2f} s")
    print(
        f"dnn, per epoch      {per_epoch:8.2f} s   ({per_epoch / max(fit_pop, 1e-9):.0f}× popularity's fit)"
    )
    print(
        f"dnn, full budget    {per_epoch * settings.ranker_epochs:8.0f} s at most ({settings.ranker_epochs} epochs, early stopping)"
    )


if __name__ == "__main__":
    main()
