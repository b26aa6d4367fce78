"""``recbot eval``: the DNN and every baseline on the same LlamaRec split, plus the funnel.

Baselines are fitted here on the split's training interactions; the DNN is the shipped
checkpoint, which was trained on that same split (see :mod:`ranker.pipeline`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from catalog.build import BuildConfig
from catalog.embeddings import Embedder
from catalog.search import Retriever
from ranker.baselines import ContentScorer, ItemKNNScorer, MFScorer, PopularityScorer
from ranker.evaluate import evaluate_many, format_table, results_to_json
from ranker.funnel import format_funnel, retrieval_recall
from ranker.pipeline import (
    RankerData,
    RankerInputs,
    RankerPaths,
    ensure_ranker,
    load_scorer,
    read_inputs,
)
from ranker.train import TrainConfig
from ranker.types import Scorer

Log = Callable[[str], None]


def fit_baselines(data: RankerData, log: Log = print) -> list[Scorer]:
    """Every baseline, fitted on the training interactions only."""
    train = data.split.train_interactions()
    scorers: list[Scorer] = []
    for name, fit in (
        ("popularity", lambda: PopularityScorer.fit(train, data.features)),
        ("itemknn", lambda: ItemKNNScorer.fit(train, data.features)),
        ("content", lambda: ContentScorer.fit(train, data.features)),
        ("als", lambda: MFScorer.fit(train, data.features)),
    ):
        started = time.perf_counter()
        scorers.append(fit())
        log(f"  fitted {name} in {time.perf_counter() - started:.1f}s")
    return scorers


def run_eval(
    config: BuildConfig,
    train_config: TrainConfig,
    embedder: Embedder,
    out_dir: Path,
    *,
    funnel: bool = True,
    progress: bool = True,
    log: Log = print,
) -> dict[str, Any]:
    """Evaluate, print one table, write ``eval.json`` (and a timestamped copy) to ``out_dir``."""
    inputs, data = prepare_protocol(config, train_config, progress=progress, log=log)
    log("Fitting baselines on the training split …")
    scorers = [*fit_baselines(data, log), load_scorer(RankerPaths(config.artifacts), data.features)]
    log("Ranking every test item among all items …")
    results = evaluate_many(scorers, data.split, "test", max_history=train_config.max_history)
    report: dict[str, Any] = {
        **results_to_json(results),
        "split": data.split.stats(),
        "train_config": asdict(train_config),
        "evaluated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    log(format_table(results))
    if funnel:
        from catalog.index import VectorIndex

        index = VectorIndex.load(
            config.index_dir, model_name=inputs.model_name, dim=inputs.content.shape[1]
        )
        retriever = Retriever(inputs.catalog, index, embedder)
        log("Retrieval recall of the test items (the funnel's first cut) …")
        funnel_results = retrieval_recall(retriever, inputs.catalog, data.split)
        log(format_funnel(funnel_results))
        report["funnel"] = [asdict(r) for r in funnel_results]
    write_report(out_dir, report)
    log(f"Wrote {out_dir / 'eval.json'}")
    return report


def prepare_protocol(
    config: BuildConfig, train_config: TrainConfig, *, progress: bool = True, log: Log = print
) -> tuple[RankerInputs, RankerData]:
    """The built catalog and the protocol's split and features, with the DNN checkpoint
    trained on that split (trained now only when missing or out of date)."""
    inputs = read_inputs(config)
    ensure_ranker(config, train_config, inputs=inputs, progress=progress, log=log)
    return inputs, RankerData.prepare(inputs.catalog, inputs.interactions, inputs.content)


def write_report(out_dir: Path, report: dict[str, Any], name: str = "eval") -> Path:
    """``name.json`` in ``out_dir`` (replaced atomically) and a copy stamped with the report's
    ``evaluated_at``, so earlier runs stay; returns the path of ``name.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2, sort_keys=True, default=str) + "\n"
    stamp = str(report["evaluated_at"]).replace(":", "").replace("-", "")
    (out_dir / f"{name}-{stamp}.json").write_text(text)
    tmp = out_dir / f"{name}.json.tmp"
    tmp.write_text(text)
    os.replace(tmp, out_dir / f"{name}.json")
    return out_dir / f"{name}.json"
