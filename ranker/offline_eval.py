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
from ranker.pipeline import RankerData, RankerPaths, ensure_ranker, load_scorer, read_inputs
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
    inputs = read_inputs(config)
    ensure_ranker(config, train_config, inputs=inputs, progress=progress, log=log)
    data = RankerData.prepare(inputs.catalog, inputs.interactions, inputs.content)
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
    _write_report(out_dir, report)
    log(f"Wrote {out_dir / 'eval.json'}")
    return report


def _write_report(out_dir: Path, report: dict[str, Any]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2, sort_keys=True, default=str) + "\n"
    stamp = str(report["evaluated_at"]).replace(":", "").replace("-", "")
    (out_dir / f"eval-{stamp}.json").write_text(text)
    tmp = out_dir / "eval.json.tmp"
    tmp.write_text(text)
    os.replace(tmp, out_dir / "eval.json")
