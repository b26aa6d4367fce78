"""The ranker's columnar path gives exactly what the object path gave, on generated data.

The references below are the object implementations the columnar code replaced (split by
sorting each user's Interaction objects, features by walking Item objects, pairs as tuples).
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from catalog.build import BuildConfig, build
from catalog.domain import Catalog, Interaction, Item
from catalog.index import VectorIndex
from catalog.store import InteractionColumns, ItemColumns
from ranker.data import (
    RankingTask,
    Sequences,
    Vocabulary,
    rating_token,
    rating_tokens,
)
from ranker.features import ItemFeatures
from ranker.pipeline import RankerData, read_inputs, visible_interactions
from ranker.protocol import (
    Split,
    TrainSequences,
    chronological,
    five_core,
    five_core_mask,
    leave_last_out,
    split_columns,
)
from tests.conftest import write_movielens
from tests.fakes import BagOfWordsEmbedder


def generated(seed: int, n: int = 3000) -> list[Interaction]:
    """Skewed users and items, coarse timestamps (many ties), repeated (user, item) pairs."""
    rng = np.random.default_rng(seed)
    users = rng.zipf(1.6, n) % 80 + 1
    items = rng.zipf(1.4, n) % 150 + 1
    ratings = rng.integers(1, 11, n) / 2
    stamps = rng.integers(0, 40, n)
    return [
        Interaction(int(u), int(i), float(r), int(t))
        for u, i, r, t in zip(users, items, ratings, stamps, strict=True)
    ]


def reference_split(interactions: list[Interaction], k: int) -> Split:
    """The object split (ranker.protocol before columns)."""
    train, valid, test, valid_rating = {}, {}, {}, {}
    for user, sequence in sorted(chronological(five_core(interactions, k)).items()):
        if len(sequence) < 3:
            continue
        train[user] = sequence[:-2]
        valid[user], valid_rating[user] = sequence[-2].item_id, sequence[-2].rating
        test[user] = sequence[-1].item_id
    items = {i.item_id for seq in train.values() for i in seq} | set(valid.values())
    items |= set(test.values())
    return Split(train, valid, test, np.array(sorted(items), dtype=np.int64), valid_rating)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [0, 3, 5])
def test_the_columnar_split_equals_the_object_split(seed: int, k: int) -> None:
    interactions = generated(seed)
    want, got = reference_split(interactions, k), leave_last_out(interactions, k)
    assert isinstance(got.train, TrainSequences)
    assert len(got.users) > 5
    assert dict(got.train) == want.train
    assert (got.valid, got.test, got.valid_rating) == (want.valid, want.test, want.valid_rating)
    assert np.array_equal(got.item_ids, want.item_ids) and got.item_ids.dtype == np.int64
    assert got.stats() == want.stats()
    assert got.train_interactions() == want.train_interactions()
    for user in [*got.users, -1]:
        for stage in ("valid", "test"):
            assert got.history(user, stage) == want.history(user, stage)
            assert got.history_ratings(user, stage) == want.history_ratings(user, stage)


def test_ties_follow_the_row_column_not_the_input_order() -> None:
    rows = [Interaction(1, item, 4.0, 7) for item in (10, 11, 12, 13)]
    columns = InteractionColumns.from_interactions(rows)
    reordered = InteractionColumns(
        columns.row[::-1].copy(), columns.user, columns.item, columns.rating, columns.timestamp
    )
    split = split_columns(reordered, k=0)
    assert (split.history(1, "valid"), split.valid[1], split.test[1]) == ([13, 12], 11, 10)


@pytest.mark.parametrize("k", [0, 2, 5, 9])
def test_five_core_mask_equals_five_core(k: int) -> None:
    interactions = generated(3)
    columns = InteractionColumns.from_interactions(interactions)
    mask = five_core_mask(columns.user, columns.item, k)
    assert [i for i, keep in zip(interactions, mask, strict=True) if keep] == five_core(
        interactions, k
    )


def random_catalog(rng: np.random.Generator, ids: list[int]) -> Catalog:
    genres = ("Drama", "Action", "Comedy", "Horror", "Sci-Fi")
    return Catalog(
        [
            Item(
                i,
                f"Item {i}",
                None if rng.random() < 0.2 else int(rng.integers(1920, 2024)),
                tuple(str(g) for g in rng.choice(genres, int(rng.integers(0, 3)), replace=False)),
            )
            for i in ids
        ]
    )


def reference_features(
    catalog: Catalog, content: np.ndarray, interactions: list[Interaction]
) -> ItemFeatures:
    """ItemFeatures.build before columns: one Item object at a time."""
    ids = np.asarray(catalog.ids, dtype=np.int64)
    column = {name: j for j, name in enumerate(catalog.genres)}
    genres = np.zeros((len(ids), len(column)), dtype=np.float32)
    year, has_year = np.zeros(len(ids), np.float32), np.zeros(len(ids), np.float32)
    for row, item in enumerate(catalog):
        genres[row, [column[g] for g in item.genres]] = 1.0
        if item.year is not None:
            year[row], has_year[row] = (item.year - 1990) / 30.0, 1.0
    counts = Counter(i.item_id for i in interactions)
    pop = np.array([counts.get(int(i), 0) for i in ids], dtype=np.float32)
    top = float(np.log1p(pop.max(initial=0.0)))
    log_pop = np.log1p(pop) / (top if top > 0 else 1.0)
    return ItemFeatures(ids, content, genres, catalog.genres, year, has_year, log_pop)


def test_features_from_columns_equal_the_object_features() -> None:
    rng = np.random.default_rng(0)
    interactions = generated(4)
    catalog = random_catalog(rng, sorted({i.item_id for i in interactions} | {500, 501}))
    content = rng.standard_normal((len(catalog), 8)).astype(np.float32)
    split = leave_last_out(interactions)
    want = reference_features(catalog, content, visible_interactions(interactions, split))
    got = RankerData.prepare(catalog, interactions, content).features
    for name in ("ids", "content", "genres", "year", "has_year", "log_popularity"):
        a, b = getattr(got, name), getattr(want, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    assert got.genre_names == want.genre_names
    items = ItemColumns.from_catalog(catalog)
    assert ItemFeatures.from_columns(items, content, np.zeros(len(catalog))).content is content


def test_rating_tokens_equal_rating_token() -> None:
    ratings = np.array([0.0, 0.24, 0.25, 0.5, 1.25, 1.75, 2.5, 3.3, 4.75, 5.0, 7.0, -1.0])
    ratings = np.concatenate([ratings, [np.nan, np.inf, -np.inf], np.arange(0, 6, 0.05)])
    assert rating_tokens(ratings).tolist() == [rating_token(float(r)) for r in ratings]


def test_training_inputs_from_columns_equal_those_from_tuples() -> None:
    interactions = generated(5)
    rng = np.random.default_rng(1)
    catalog = random_catalog(rng, sorted({i.item_id for i in interactions}))
    data = RankerData.prepare(catalog, interactions, rng.random((len(catalog), 4), np.float32))
    columns = data.train_sequences()
    tuples = {u: [(i.item_id, i.rating) for i in seq] for u, seq in data.split.train.items()}
    assert {u: list(pairs) for u, pairs in columns.items()} == tuples
    vocabulary = Vocabulary.from_sequences(columns)
    assert np.array_equal(vocabulary.item_ids, Vocabulary.from_sequences(tuples).item_ids)
    a, b = Sequences.build(columns, vocabulary), Sequences.build(tuples, vocabulary)
    assert all(np.array_equal(x, y) for x, y in zip(a.classes, b.classes, strict=True))
    assert all(np.array_equal(x, y) for x, y in zip(a.tokens, b.tokens, strict=True))
    genres = data.features.genre_names
    tasks = [
        RankingTask.build(seqs, data.split.valid, data.features, vocabulary, genres, 8)
        for seqs in (columns, tuples)
    ]
    for name in ("history", "ratings", "targets"):
        assert np.array_equal(getattr(tasks[0], name), getattr(tasks[1], name)), name
    assert all(np.array_equal(x, y) for x, y in zip(tasks[0].seen, tasks[1].seen, strict=True))


def test_read_inputs_maps_the_cache_only_while_it_matches_the_index(
    tmp_path: Path,
) -> None:
    home, data_dir = tmp_path / "home", write_movielens(tmp_path / "ml")
    config = BuildConfig(home=home, database_url=f"sqlite:///{home / 'app.db'}", data_dir=data_dir)
    manifest = build(config, BagOfWordsEmbedder(), progress=False, log=lambda _m: None)
    index = VectorIndex.load(config.index_dir, model_name=manifest.model_name, dim=manifest.dim)
    mapped = read_inputs(config)
    assert isinstance(mapped.content, np.memmap)
    assert np.array_equal(mapped.content, index.vectors(mapped.items.ids))
    assert mapped.catalog.ids == mapped.items.ids.tolist()  # made on demand
    later = config.index_dir.joinpath("index.faiss").stat().st_mtime_ns + 10**9
    os.utime(config.embeddings_path, ns=(later, later))  # as if a later build appended to it
    copied = read_inputs(config)
    assert not isinstance(copied.content, np.memmap)
    assert np.array_equal(copied.content, mapped.content)
