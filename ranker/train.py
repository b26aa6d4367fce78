"""Training loop for :class:`ranker.model.Ranker`: full softmax, AdamW, early stopping.

The loop sees batches and a ranking task from :mod:`ranker.data`; it knows nothing of movies.
The checkpoint carries the model config, the item-id vocabulary and the genre names, so the
scorer rebuilds the exact model from the file alone (user histories are not stored).
"""

from __future__ import annotations

import copy
import math
import os
import random
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from catalog.errors import ArtifactError
from ranker.data import (
    N_RATING_TOKENS,
    RankingTask,
    Sequences,
    SessionSimulation,
    Vocabulary,
    WindowSampler,
    item_inputs,
)
from ranker.features import ItemFeatures
from ranker.model import Ranker, RankerConfig

CHECKPOINT_FORMAT = 1


@dataclass
class TrainConfig:
    """Defaults measured on ml-latest-small (docs/ranker.md): about 3 minutes on one core."""

    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 2
    max_history: int = 50
    dropout: float = 0.1
    id_dropout: float = 0.1
    encoder: str = "sasrec"  # or "mean"
    item_cross_layers: int = 0
    max_positions: int = 0  # train on each user's newest positions only; 0 = all
    negatives: int = 0  # 0 = full softmax over the vocabulary; else sampled negatives per batch
    epochs: int = 20
    patience: int = 5  # epochs without a better validation NDCG@k before stopping
    lr: float = 4e-3
    cosine: bool = True  # decay the learning rate to lr / 10 over `epochs` along a half cosine
    weight_decay: float = 0.01
    batch_size: int = 32
    seed: int = 0
    # torch intra-op threads while training. One: these tensors are small, and with two
    # threads a step ran 10x slower whenever another process held the second core.
    threads: int = 1
    k: int = 10  # cutoff of the validation metrics
    simulation: SessionSimulation = field(default_factory=SessionSimulation)


@dataclass
class Checkpoint:
    """What the scorer needs from a trained ranker: the model, its vocabulary and genre order."""

    model: Ranker
    item_ids: np.ndarray
    genre_names: tuple[str, ...]
    metrics: dict[str, float]
    train_config: dict[str, Any]


@dataclass
class TrainResult:
    model: Ranker
    config: TrainConfig
    item_ids: np.ndarray  # the vocabulary: items with a learned ID embedding
    genre_names: tuple[str, ...]
    best: dict[str, float]  # validation metrics of the kept weights, plus "epoch"
    epochs: int  # epochs run
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)  # per epoch

    def checkpoint(self) -> Checkpoint:
        """The in-memory equivalent of saving and loading: scorers take either."""
        return Checkpoint(
            self.model.eval(), self.item_ids, self.genre_names, dict(self.best), asdict(self.config)
        )


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Use ``n`` torch intra-op threads inside the block (0 = leave as is), then restore."""
    before = torch.get_num_threads()
    if n > 0:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def model_config(
    config: TrainConfig, n_items: int, n_genres: int, content_dim: int
) -> RankerConfig:
    return RankerConfig(
        n_items=n_items,
        n_genres=n_genres,
        n_rating_tokens=N_RATING_TOKENS,
        content_dim=content_dim,
        d_model=config.d_model,
        n_layers=config.n_layers,
        n_heads=config.n_heads,
        max_history=config.max_history,
        dropout=config.dropout,
        encoder=config.encoder,
        item_cross_layers=config.item_cross_layers,
        id_dropout=config.id_dropout,
    )


def train_ranker(
    train_sequences: Mapping[int, Sequence[tuple[int, float]]],
    valid_targets: Mapping[int, int],
    features: ItemFeatures,
    config: TrainConfig | None = None,
    *,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> TrainResult:
    """Train on per-user (item, rating) sequences, oldest first; stop early on validation NDCG@k.

    ``valid_targets`` holds each user's next item after its training sequence; it is ranked
    against the vocabulary plus all targets, excluding the user's history.
    """
    config = config or TrainConfig()
    started = time.perf_counter()
    with torch_threads(config.threads):
        seed_everything(config.seed)
        vocabulary = Vocabulary.from_sequences(train_sequences)
        genre_names = tuple(features.genre_names)
        items = item_inputs(vocabulary.item_ids, features, vocabulary, genre_names)
        model = Ranker(
            model_config(config, len(vocabulary), len(genre_names), items.content.shape[1])
        )
        sampler = WindowSampler(
            Sequences.build(train_sequences, vocabulary),
            items,
            config.max_history,
            config.simulation,
            config.seed,
            config.max_positions,
        )
        task = RankingTask.build(
            train_sequences, valid_targets, features, vocabulary, genre_names, config.max_history
        )
        best, history = _fit(model, sampler, task, config, progress, log)
    return TrainResult(
        model=model.eval(),
        config=config,
        item_ids=vocabulary.item_ids,
        genre_names=genre_names,
        best=best,
        epochs=len(history),
        seconds=time.perf_counter() - started,
        history=history,
    )


def _fit(
    model: Ranker,
    sampler: WindowSampler,
    task: RankingTask,
    config: TrainConfig,
    progress: bool,
    log: Callable[[str], None],
) -> tuple[dict[str, float], list[dict[str, float]]]:
    """Epoch loop with early stopping; leaves the best weights in ``model``."""
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    n_classes = len(sampler.items.index)
    best: dict[str, float] = {"ndcg": -1.0}
    best_state = copy.deepcopy(model.state_dict())
    history: list[dict[str, float]] = []
    for epoch in range(1, config.epochs + 1):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(config, epoch)
        model.train()
        n_batches, epoch_batches = sampler.epoch(config.batch_size)
        batches = tqdm(
            epoch_batches,
            total=n_batches,
            desc=f"epoch {epoch}",
            disable=not progress,
            leave=False,
        )
        total = 0.0
        for batch in batches:
            table = model.item_vectors(*sampler.items.as_args())  # (V, d)
            negatives = torch.randint(n_classes, (config.negatives,)) if config.negatives else None
            loss = model(
                table,
                batch.history,
                batch.ratings,
                batch.wanted,
                batch.unwanted,
                batch.query,
                batch.targets,
                n_classes,
                negatives,
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            total += loss.item()
            batches.set_postfix(loss=f"{loss.item():.3f}")
        metrics = {"epoch": float(epoch), "loss": total / max(n_batches, 1)}
        metrics.update(validate(model, task, config.k))
        history.append(metrics)
        log(
            f"epoch {epoch}: loss {metrics['loss']:.4f}  "
            f"valid R@{config.k} {metrics['recall']:.4f}  N@{config.k} {metrics['ndcg']:.4f}"
        )
        if metrics["ndcg"] > best["ndcg"]:
            best, best_state = metrics, copy.deepcopy(model.state_dict())
        elif epoch - int(best["epoch"]) >= config.patience:
            break
    model.load_state_dict(best_state)
    return best, history


def learning_rate(config: TrainConfig, epoch: int) -> float:
    """The learning rate of a 1-based epoch."""
    if not config.cosine or config.epochs <= 1:
        return config.lr
    progress = (epoch - 1) / (config.epochs - 1)
    return config.lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress)))


def validate(model: Ranker, task: RankingTask, k: int = 10, batch: int = 256) -> dict[str, float]:
    """Recall@k and NDCG@k of the held-out items, ranked over the task's universe."""
    model.eval()
    hits, gains = [], []
    with torch.inference_mode():
        table = model.item_vectors(*task.items.as_args())  # (M, d)
        G, C = task.items.genres.shape[1], task.items.content.shape[1]
        for lo in range(0, len(task), batch):
            hist, rat = task.history[lo : lo + batch], task.ratings[lo : lo + batch]
            B = len(hist)
            users = model.user_vectors(
                table, hist, rat, torch.zeros(B, G), torch.zeros(B, G), torch.zeros(B, C)
            )  # (B, d)
            scores = users @ table.T  # (B, M)
            for b in range(B):
                scores[b, torch.from_numpy(task.seen[lo + b])] = -torch.inf
            targets = task.targets[lo : lo + batch]
            target_score = scores.gather(1, targets[:, None])  # (B, 1)
            rank = (scores > target_score).sum(1)  # (B,)
            hits.append(rank < k)
            gains.append(torch.where(rank < k, 1.0 / torch.log2(rank + 2.0), 0.0))
    if not hits:
        return {"recall": 0.0, "ndcg": 0.0}
    return {
        "recall": float(torch.cat(hits).float().mean()),
        "ndcg": float(torch.cat(gains).mean()),
    }


def save_checkpoint(path: str | Path, result: TrainResult) -> None:
    """Write the model, its config and vocabulary atomically (temp file + ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    config = asdict(result.config)
    payload: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "model_config": asdict(result.model.config),
        "train_config": config,
        "item_ids": [int(i) for i in result.item_ids],
        "genre_names": list(result.genre_names),
        "metrics": {key: float(value) for key, value in result.best.items()},
        "state_dict": result.model.state_dict(),
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a checkpoint is an ordinary artifact
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Rebuild the model saved by :func:`save_checkpoint`, in eval mode."""
    try:
        payload = torch.load(Path(path), map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError) as error:
        raise ArtifactError(f"cannot read the ranker checkpoint {path}: {error}") from error
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ArtifactError(f"{path} is not a ranker checkpoint this version can read")
    model = Ranker(RankerConfig(**payload["model_config"]))
    model.load_state_dict(payload["state_dict"])
    return Checkpoint(
        model=model.eval(),
        item_ids=np.asarray(payload["item_ids"], dtype=np.int64),
        genre_names=tuple(payload["genre_names"]),
        metrics=dict(payload["metrics"]),
        train_config=dict(payload["train_config"]),
    )
