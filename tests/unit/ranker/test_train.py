"""Training on generated sequences with planted order: bands, seeding, early stopping, checkpoints."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
import torch

from catalog.domain import Catalog, Interaction, Item
from ranker.baselines import PopularityScorer
from ranker.data import SessionSimulation
from ranker.evaluate import evaluate
from ranker.features import ItemFeatures
from ranker.protocol import Split, leave_last_out
from ranker.scorer import DNNScorer
from ranker.train import (
    TrainConfig,
    TrainResult,
    load_checkpoint,
    save_checkpoint,
    train_ranker,
)

GROUPS, PER_GROUP, USERS_PER_GROUP, LENGTH, DIM = 4, 16, 25, 10, 16

# small enough to train in seconds, big enough to learn the planted order
TINY = TrainConfig(
    d_model=16,
    n_layers=1,
    n_heads=1,
    max_history=8,
    dropout=0.1,
    epochs=25,
    patience=5,
    lr=5e-3,
    batch_size=32,
    seed=0,
    threads=1,
    simulation=SessionSimulation(liked=0.3, unrated=0.05, signals=0.2),
)


@dataclass
class Sequential:
    """A generated catalog where every user walks one genre's items in a fixed cyclic order."""

    catalog: Catalog
    interactions: list[Interaction]
    features: ItemFeatures  # popularity from training interactions only
    split: Split

    def train_sequences(self) -> dict[int, list[tuple[int, float]]]:
        return {u: [(i.item_id, i.rating) for i in s] for u, s in self.split.train.items()}


def sequential(seed: int = 0) -> Sequential:
    """GROUPS genres of PER_GROUP items (ids from 1). A user of genre g starts anywhere in the
    cycle and watches the next LENGTH items in order, so the next item follows from the last
    one; content is the genre centroid plus noise and popularity is flat, so neither content
    nor popularity alone can tell which item of the genre comes next."""
    rng = np.random.default_rng(seed)
    n = GROUPS * PER_GROUP
    items = [
        Item(i, f"Item {i}", 1990 + i % 20, (f"G{(i - 1) // PER_GROUP}",)) for i in range(1, n + 1)
    ]
    catalog = Catalog(items)
    centroids = rng.standard_normal((GROUPS, DIM))
    content = np.repeat(centroids, PER_GROUP, axis=0) + 0.5 * rng.standard_normal((n, DIM))
    content = (content / np.linalg.norm(content, axis=1, keepdims=True)).astype(np.float32)
    interactions = []
    for user in range(1, GROUPS * USERS_PER_GROUP + 1):
        group, start = user % GROUPS, int(rng.integers(PER_GROUP))
        for step in range(LENGTH):
            item = group * PER_GROUP + (start + step) % PER_GROUP + 1
            rating = float(rng.integers(6, 11)) / 2
            interactions.append(Interaction(user, item, rating, 1_000 * user + step))
    split = leave_last_out(interactions)
    features = ItemFeatures.build(catalog, content, split.train_interactions())
    return Sequential(catalog, interactions, features, split)


@pytest.fixture(scope="module")
def data() -> Sequential:
    return sequential()


@pytest.fixture(scope="module")
def trained(data: Sequential) -> TrainResult:
    return train_ranker(
        data.train_sequences(),
        data.split.valid,
        data.features,
        TINY,
        progress=False,
        log=lambda _: None,
    )


def test_training_learns_the_planted_order_far_above_popularity(
    data: Sequential, trained: TrainResult
) -> None:
    assert 0.6 <= trained.best["ndcg"] <= 1.0
    dnn = DNNScorer(trained.checkpoint(), data.features)
    popularity = PopularityScorer.fit(data.split.train_interactions())
    ours = evaluate(dnn, data.split, "test").overall["NDCG@10"]
    baseline = evaluate(popularity, data.split, "test").overall["NDCG@10"]
    assert baseline < 0.3
    assert ours >= 0.6
    assert ours >= baseline + 0.3


def test_training_is_seeded(data: Sequential) -> None:
    short = replace(TINY, epochs=2)
    first, second = (
        train_ranker(
            data.train_sequences(),
            data.split.valid,
            data.features,
            short,
            progress=False,
            log=lambda _: None,
        )
        for _ in range(2)
    )
    assert first.history == second.history
    for a, b in zip(
        first.model.state_dict().values(), second.model.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(a, b)


def test_early_stopping_waits_patience_epochs_then_keeps_the_best(data: Sequential) -> None:
    frozen = replace(TINY, lr=0.0, epochs=10, patience=2)
    lines: list[str] = []
    result = train_ranker(
        data.train_sequences(),
        data.split.valid,
        data.features,
        frozen,
        progress=False,
        log=lines.append,
    )
    assert result.epochs == 3  # nothing improves after the first epoch
    assert result.best["epoch"] == 1
    assert len(lines) == 3
    assert "valid R@10" in lines[0]
    assert result.seconds > 0


def test_checkpoint_carries_config_vocabulary_and_genres(
    tmp_path: Path, data: Sequential, trained: TrainResult
) -> None:
    path = tmp_path / "ranker" / "model.pt"
    save_checkpoint(path, trained)
    assert [p.name for p in path.parent.iterdir()] == ["model.pt"]  # no temp file left behind
    loaded = load_checkpoint(path)
    assert loaded.model.config == trained.model.config
    np.testing.assert_array_equal(loaded.item_ids, trained.item_ids)
    assert loaded.genre_names == data.features.genre_names
    assert loaded.train_config["max_history"] == TINY.max_history
    assert loaded.metrics["ndcg"] == pytest.approx(trained.best["ndcg"])
    for name, tensor in trained.model.state_dict().items():
        torch.testing.assert_close(loaded.model.state_dict()[name], tensor)
