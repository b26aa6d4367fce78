"""The ranker's part of ``recbot build`` / ``recbot train`` / ``recbot eval``.

The shipped checkpoint is trained on the protocol's training split (each user's last two
interactions held out; the second-to-last drives early stopping), so the same model serves the
chat, ``recbot eval`` and the simulations, and none of them is judged on items it trained on.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from catalog.build import BuildConfig, load_manifest
from catalog.domain import Catalog, Interaction
from catalog.index import VectorIndex
from catalog.store import Store
from ranker.features import ItemFeatures
from ranker.protocol import Split, leave_last_out
from ranker.scorer import DNNScorer
from ranker.train import TrainConfig, save_checkpoint, train_ranker

RANKER_PIPELINE_VERSION = "ranker-2"  # bump when model or training code changes
Log = Callable[[str], None]


@dataclass(frozen=True)
class RankerPaths:
    """Where the ranker's artifacts live under ``$RECBOT_HOME/artifacts``."""

    artifacts: Path

    @property
    def checkpoint(self) -> Path:
        return self.artifacts / "ranker.pt"

    @property
    def manifest(self) -> Path:
        return self.artifacts / "ranker.json"


def visible_interactions(interactions: Sequence[Interaction], split: Split) -> list[Interaction]:
    """Interactions minus every user's held-out validation and test items (leak-free counts)."""
    held_out = {(u, i) for u, i in split.valid.items()} | {(u, i) for u, i in split.test.items()}
    return [i for i in interactions if (i.user_id, i.item_id) not in held_out]


@dataclass(frozen=True)
class RankerData:
    """The split and the item features every ranker job derives from the same inputs."""

    split: Split
    features: ItemFeatures

    @classmethod
    def prepare(
        cls, catalog: Catalog, interactions: Sequence[Interaction], content: np.ndarray
    ) -> RankerData:
        """Split interactions (LlamaRec protocol) and build features from what is visible."""
        split = leave_last_out(interactions)
        features = ItemFeatures.build(catalog, content, visible_interactions(interactions, split))
        return cls(split, features)

    def train_sequences(self) -> dict[int, list[tuple[int, float]]]:
        return {u: [(i.item_id, i.rating) for i in seq] for u, seq in self.split.train.items()}


def fingerprint(data_hash: str, model_name: str, config: TrainConfig) -> str:
    """What the checkpoint depends on: the data, the content model and the training config."""
    payload = json.dumps(
        [RANKER_PIPELINE_VERSION, data_hash, model_name, asdict(config)],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def read_manifest(paths: RankerPaths) -> dict[str, Any] | None:
    try:
        data = json.loads(paths.manifest.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_up_to_date(paths: RankerPaths, expected: str) -> bool:
    manifest = read_manifest(paths)
    return (
        manifest is not None
        and manifest.get("fingerprint") == expected
        and paths.checkpoint.exists()
    )


def train_and_save(
    paths: RankerPaths,
    data: RankerData,
    config: TrainConfig,
    *,
    fingerprint_: str,
    progress: bool = True,
    log: Log = print,
) -> dict[str, Any]:
    """Train the DNN ranker, save checkpoint and manifest atomically, return the manifest."""
    stats = data.split.stats()
    log(
        f"Training the ranker on {stats['train_interactions']} interactions of "
        f"{stats['users']} users over {stats['items']} items …"
    )
    started = time.perf_counter()
    result = train_ranker(
        data.train_sequences(),
        data.split.valid,
        data.features,
        config,
        progress=progress,
        log=log,
    )
    save_checkpoint(paths.checkpoint, result)
    manifest = {
        "fingerprint": fingerprint_,
        "checkpoint": str(paths.checkpoint),
        "pipeline": RANKER_PIPELINE_VERSION,
        "split": stats,
        "valid_metrics": result.best,
        "epochs": result.epochs,
        "train_seconds": round(time.perf_counter() - started, 1),
        "train_config": asdict(config),
    }
    _write_json(paths.manifest, manifest)
    log(f"  ranker: {result.epochs} epochs, validation {_metrics_line(result.best)}")
    return manifest


def load_scorer(paths: RankerPaths, features: ItemFeatures) -> DNNScorer:
    """The trained ranker over these item features (ArtifactError when not trained yet)."""
    return DNNScorer.load(paths.checkpoint, features)


def _metrics_line(metrics: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if k != "epoch")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    os.replace(tmp, path)


@dataclass
class RankerInputs:
    """What the ranker jobs read from a finished catalog build."""

    catalog: Catalog
    interactions: list[Interaction]
    content: np.ndarray  # (N, D) item vectors in catalog id order
    data_hash: str
    model_name: str


def read_inputs(config: BuildConfig) -> RankerInputs:
    """Catalog, interactions and item vectors of the last ``recbot build`` (errors say what to run)."""
    manifest = load_manifest(config)
    store = Store(config.database_url, create=False)
    try:
        catalog = store.load_catalog()
        interactions = store.interactions()
    finally:
        store.close()
    index = VectorIndex.load(config.index_dir, model_name=manifest.model_name, dim=manifest.dim)
    content = index.vectors(catalog.ids)
    # the item vectors are features, so enriched text (re-embedded) retrains the ranker too
    data_hash = manifest.data_hash
    if manifest.enrichment_hash:
        data_hash += f"+enriched:{manifest.enrichment_hash}"
    return RankerInputs(catalog, interactions, content, data_hash, manifest.model_name)


def ensure_ranker(
    config: BuildConfig,
    train_config: TrainConfig,
    *,
    inputs: RankerInputs | None = None,
    force: bool = False,
    progress: bool = True,
    log: Log = print,
) -> tuple[dict[str, Any], str]:
    """Train the ranker unless an up-to-date checkpoint exists; returns (manifest, "built"|"reused")."""
    paths = RankerPaths(config.artifacts)
    inputs = inputs or read_inputs(config)
    expected = fingerprint(inputs.data_hash, inputs.model_name, train_config)
    if not force and is_up_to_date(paths, expected):
        manifest = read_manifest(paths) or {}
        log(f"Ranker up to date: {paths.checkpoint}")
        return manifest, "reused"
    data = RankerData.prepare(inputs.catalog, inputs.interactions, inputs.content)
    manifest = train_and_save(
        paths, data, train_config, fingerprint_=expected, progress=progress, log=log
    )
    return manifest, "built"
