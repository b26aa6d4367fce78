"""``recbot eval --dialogues DIR``: how often recbot finds the movie a human recommender chose.

The protocol (KBRD / KGSF / UniCRS on ReDial): each sample is a recommender turn naming movies new
to the conversation (:mod:`catalog.redial`); a system sees every earlier turn and returns a ranked
list, from which items already mentioned in the conversation are removed (for every system
alike). Recall@1/10/50 and NDCG@10 are over (sample, target) pairs; *success* is the share of
samples whose first item is a target; *empty* the share of samples answered with no list.

Floors in the same run:

- ``popularity``: the catalog's most-rated items (MovieLens);
- ``ml-cooccurrence``: item-kNN on MovieLens ratings from the movies named in the context;
- ``content``: embedding retrieval from the named movies and the seeker's words;
- ``dialogue-popularity`` and ``dialogue-follows``: how often each movie is recommended in
  conversations, and which movies follow which mentions — learned from the dialogues
  themselves, so measured by 5-fold cross-validation by conversation, like every part of recbot
  that learns from them (each sample is scored by a model fitted on the other folds).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from catalog.redial import DialogueSample, fold_of
from ranker.conversation import ConversationExample, ConversationModel

LIST_LENGTH = 50
CUTOFFS = (1, 10, 50)
FOLDS = 5

# A system answers one sample, given the conversation model fitted without the sample's fold.
System = Callable[[DialogueSample, ConversationModel], Sequence[int]]


def example_of(sample: DialogueSample) -> ConversationExample:
    return ConversationExample(sample.mentioned, sample.targets)


def fold_models(samples: Sequence[DialogueSample], folds: int = FOLDS) -> list[ConversationModel]:
    """One conversation model per fold, each fitted on the samples of the other folds."""
    return [
        ConversationModel.fit(
            example_of(s) for s in samples if fold_of(s.dialogue_id, folds) != fold
        )
        for fold in range(folds)
    ]


@dataclass
class SystemResult:
    name: str
    ranks: list[int] = field(default_factory=list)  # per (sample, target) pair; 0 = not listed
    first_hits: int = 0
    empty: int = 0
    samples: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    extra: dict[str, float] = field(default_factory=dict)
    # per (sample, target) pair: how many movies the seeker had named before it
    named: list[int] = field(default_factory=list)

    def add(self, sample: DialogueSample, ranked: Sequence[int], elapsed_ms: float) -> None:
        mentioned = set(sample.mentioned)
        listed = [i for i in dict.fromkeys(ranked) if i not in mentioned][:LIST_LENGTH]
        position = {item: n for n, item in enumerate(listed, start=1)}
        self.ranks.extend(position.get(t, 0) for t in sample.targets)
        self.named.extend(len(sample.seeker_mentioned) for _ in sample.targets)
        self.first_hits += int(bool(listed) and listed[0] in sample.targets)
        self.empty += int(not listed)
        self.samples += 1
        self.latencies_ms.append(elapsed_ms)

    def metrics(self) -> dict[str, float]:
        ranks = np.array(self.ranks, dtype=np.int64)
        hit = ranks > 0
        out: dict[str, float] = {
            f"recall@{k}": float(np.mean(hit & (ranks <= k))) if len(ranks) else 0.0
            for k in CUTOFFS
        }
        gains = np.where(hit & (ranks <= 10), 1.0 / np.log2(np.maximum(ranks, 1) + 1.0), 0.0)
        out["ndcg@10"] = float(gains.mean()) if len(ranks) else 0.0
        out["success"] = self.first_hits / max(self.samples, 1)
        out["empty"] = self.empty / max(self.samples, 1)
        latencies = np.array(self.latencies_ms or [0.0])
        out["p50_ms"] = float(np.percentile(latencies, 50))
        out["p95_ms"] = float(np.percentile(latencies, 95))
        return {**out, **self.extra}

    def by_named(self) -> dict[str, dict[str, float]]:
        """Recall@10/50 by how many movies the seeker had named: does naming them help?"""
        ranks = np.array(self.ranks, dtype=np.int64)
        named = np.array(self.named, dtype=np.int64)
        out: dict[str, dict[str, float]] = {}
        for label, mask in (("0", named == 0), ("1", named == 1), ("2+", named >= 2)):
            picked = ranks[mask]
            hit = picked > 0
            out[label] = {
                "pairs": float(len(picked)),
                "recall@10": float(np.mean(hit & (picked <= 10))) if len(picked) else 0.0,
                "recall@50": float(np.mean(hit & (picked <= 50))) if len(picked) else 0.0,
            }
        return out


def run_systems(
    samples: Sequence[DialogueSample],
    systems: dict[str, System],
    *,
    folds: int = FOLDS,
    models: Sequence[ConversationModel] | None = None,
    progress: bool = True,
) -> list[SystemResult]:
    """Every system on every sample, each with its fold's conversation model (``models``, or
    counts fitted here)."""
    from tqdm import tqdm

    models = models or fold_models(samples, folds)
    results = {name: SystemResult(name) for name in systems}
    for sample in tqdm(samples, desc="dialogue samples", disable=not progress, unit="sample"):
        model = models[fold_of(sample.dialogue_id, folds)]
        for name, system in systems.items():
            started = time.perf_counter()
            ranked = system(sample, model)
            results[name].add(sample, ranked, (time.perf_counter() - started) * 1000)
    return list(results.values())


def format_table(results: Sequence[SystemResult], title: str = "") -> str:
    header = (
        "| system | R@1 | R@10 | R@50 | NDCG@10 | success | empty | p50 ms | p95 ms "
        "| LLM tokens/turn |"
    )
    lines = [f"### {title}" if title else "", header, "|" + " --- |" * 10]
    for result in results:
        m = result.metrics()
        lines.append(
            f"| {result.name} | {m['recall@1']:.3f} | {m['recall@10']:.3f} | "
            f"{m['recall@50']:.3f} | {m['ndcg@10']:.3f} | {m['success']:.3f} | "
            f"{m['empty']:.1%} | {m['p50_ms']:.0f} | {m['p95_ms']:.0f} | "
            + (f"{m['llm_tokens_per_turn']:.0f}" if "llm_tokens_per_turn" in m else "—")
            + " |"
        )
    lines += ["", "Recall@10 / Recall@50 by how many movies the seeker had named:", ""]
    lines += ["| system | none | one | two or more |", "| --- | --- | --- | --- |"]
    for result in results:
        cells = [f"{b['recall@10']:.3f} / {b['recall@50']:.3f}" for b in result.by_named().values()]
        lines.append(f"| {result.name} | " + " | ".join(cells) + " |")
    return "\n".join(lines).strip("\n")


def report(
    results: Sequence[SystemResult],
    samples: Sequence[DialogueSample],
    out_dir: Path,
    meta: dict[str, Any],
) -> dict[str, Any]:
    """Write ``dialogues.json`` and ``dialogues.md`` to ``out_dir``; return the JSON."""
    pairs = sum(len(s.targets) for s in samples)
    payload = {
        "protocol": {
            "samples": len(samples),
            "pairs": pairs,
            "dialogues": len({s.dialogue_id for s in samples}),
            "folds": meta.get("folds", FOLDS),
            "list_length": LIST_LENGTH,
        },
        "systems": {r.name: r.metrics() for r in results},
        "by_named": {r.name: r.by_named() for r in results},
        "evaluated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **meta,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "dialogues.json").write_text(json.dumps(payload, indent=2, sort_keys=True))
    summary = (
        f"{len(samples)} samples, {pairs} (sample, target) pairs, "
        f"{payload['protocol']['dialogues']} conversations"
    )
    (out_dir / "dialogues.md").write_text(
        f"# Dialogue benchmark\n\n{summary}\n\n{format_table(results)}\n"
    )
    return payload
