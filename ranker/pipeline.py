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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from catalog.build import BuildConfig, Manifest, load_manifest
from catalog.domain import Catalog, Interaction
from catalog.embeddings import cached_vectors
from catalog.index import INDEX_FILE, SIDECAR_FILE, VectorIndex
from catalog.store import InteractionColumns, ItemColumns, Store
from ranker.features import ItemFeatures
from ranker.protocol import Split, TrainSequences, split_columns
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
        return cls.from_columns(
            ItemColumns.from_catalog(catalog),
            InteractionColumns.from_interactions(interactions),
            content.astype(np.float32),
        )

    @classmethod
    def from_columns(
        cls, items: ItemColumns, interactions: InteractionColumns, content: np.ndarray
    ) -> RankerData:
        """:meth:`prepare` on columns: no object per item or interaction is made."""
        split = split_columns(interactions)
        counts = visible_counts(items.ids, interactions, split)
        return cls(split, ItemFeatures.from_columns(items, content, counts))

    def train_sequences(self) -> Mapping[int, Sequence[tuple[int, float]]]:
        """Each user's (item, rating) training pairs, oldest first (views of the split's arrays)."""
        if isinstance(self.split.train, TrainSequences):
            return self.split.train.pairs()
        return {u: [(i.item_id, i.rating) for i in seq] for u, seq in self.split.train.items()}


def visible_counts(ids: np.ndarray, interactions: InteractionColumns, split: Split) -> np.ndarray:
    """Interactions per item of ``ids`` (N,), without any user's held-out validation and test
    items: :func:`visible_interactions` counted on columns."""
    users = np.array(split.users, dtype=np.int64)  # (U,) ascending
    held_out = np.zeros(len(interactions), dtype=bool)
    if len(users):
        k = np.clip(np.searchsorted(users, interactions.user), 0, len(users) - 1)
        evaluated = users[k] == interactions.user
        for targets in (split.valid, split.test):
            target = np.array([targets.get(u, -1) for u in users.tolist()], dtype=np.int64)
            held_out |= evaluated & (target[k] == interactions.item)
    item = interactions.item[~held_out]
    rows = np.clip(np.searchsorted(ids, item), 0, max(len(ids) - 1, 0))
    known = ids[rows] == item if len(ids) else np.zeros(len(item), dtype=bool)
    return np.bincount(rows[known], minlength=len(ids)).astype(np.float32)


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
    """What the ranker jobs read from a finished catalog build, as columns and arrays.

    ``catalog`` (every item as an object) and ``interactions`` (one object each) are made on
    first use only, for the callers that need them; the ranker stage of a build never does.
    """

    items: ItemColumns
    columns: InteractionColumns
    content: np.ndarray  # (N, D) float32 item vectors in id order; may be a read-only memmap
    data_hash: str
    model_name: str
    database_url: str = field(default="", repr=False)

    @cached_property
    def catalog(self) -> Catalog:
        store = Store(self.database_url, create=False)
        try:
            return store.load_catalog()
        finally:
            store.close()

    @cached_property
    def interactions(self) -> list[Interaction]:
        """Oldest first, as :meth:`Store.interactions` returns them."""
        return self.columns.to_interactions()


def read_inputs(config: BuildConfig) -> RankerInputs:
    """Item columns, interaction columns and item vectors of the last ``recbot build`` (errors
    say what to run), read a chunk at a time."""
    manifest = load_manifest(config)
    store = Store(config.database_url, create=False)
    try:
        items = store.item_columns()
        columns = store.interaction_columns()
    finally:
        store.close()
    content = item_vectors(config, manifest, items.ids)
    # the item vectors are features, so enriched text (re-embedded) retrains the ranker too
    data_hash = manifest.data_hash
    if manifest.enrichment_hash:
        data_hash += f"+enriched:{manifest.enrichment_hash}"
    return RankerInputs(
        items, columns, content, data_hash, manifest.model_name, config.database_url
    )


def item_vectors(config: BuildConfig, manifest: Manifest, ids: np.ndarray) -> np.ndarray:
    """The item vectors of ``ids`` (ascending) as the index holds them, (N, D) float32.

    Memory-mapped from the build's embedding cache when it holds the index's vectors by
    construction: a flat or HNSW index (which keep the vectors exactly) of this model and size,
    written after the cache was last written (a build rewrites the cache with the catalog's
    vectors in id order, then indexes them). Otherwise copied out of the index, as before.
    """
    cache, index_file = config.embeddings_path, config.index_dir / INDEX_FILE
    try:
        sidecar = json.loads((config.index_dir / SIDECAR_FILE).read_text())
        fresh = cache.stat().st_mtime_ns <= index_file.stat().st_mtime_ns
    except (OSError, ValueError):
        sidecar, fresh = {}, False
    exact = sidecar.get("kind") in ("flat", "hnsw") and sidecar.get("count") == len(ids)
    same = sidecar.get("model_name") == manifest.model_name and sidecar.get("dim") == manifest.dim
    if fresh and exact and same:
        vectors = cached_vectors(cache, manifest.dim)
        if len(vectors) == len(ids):
            return vectors
    index = VectorIndex.load(config.index_dir, model_name=manifest.model_name, dim=manifest.dim)
    return index.vectors(ids)


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
    data = RankerData.from_columns(inputs.items, inputs.columns, inputs.content)
    manifest = train_and_save(
        paths, data, train_config, fingerprint_=expected, progress=progress, log=log
    )
    return manifest, "built"
