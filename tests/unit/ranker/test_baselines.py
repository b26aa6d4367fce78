"""Baseline scorers on generated data with planted structure: bands, not exact values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from catalog.domain import Catalog, Interaction, Item
from ranker.baselines import (
    ContentScorer,
    ItemKNNScorer,
    MFScorer,
    PopularityScorer,
    lookup,
    recency_weights,
)
from ranker.evaluate import evaluate
from ranker.features import ItemFeatures
from ranker.protocol import Split, leave_last_out
from ranker.types import Scorer, UserContext

GROUPS, PER_GROUP, USERS_PER_GROUP, SEQUENCE = 4, 15, 20, 8
DIM = 16


@dataclass
class Planted:
    """A generated catalog where each user group consumes its own item cluster in sequence."""

    catalog: Catalog
    interactions: list[Interaction]
    content: np.ndarray  # (N, DIM) unit-norm, rows follow catalog.ids
    split: Split
    features: ItemFeatures  # popularity from training interactions only

    def cluster_of(self, item_id: int) -> int:
        return (item_id - 1) // PER_GROUP


def planted(seed: int = 0) -> Planted:
    """GROUPS clusters of PER_GROUP items (ids from 1); a user reads SEQUENCE random items of
    one cluster in random order (no item is typically last, so none is missing from training). Item content is the cluster centroid plus noise. Cluster popularity
    is equal, so popularity cannot tell a user's cluster from the others."""
    rng = np.random.default_rng(seed)
    n_items = GROUPS * PER_GROUP
    items = [
        Item(i, f"Item {i}", 2000, (f"Genre{(i - 1) // PER_GROUP}",)) for i in range(1, n_items + 1)
    ]
    centroids = rng.standard_normal((GROUPS, DIM))
    content = np.repeat(centroids, PER_GROUP, axis=0) + 0.7 * rng.standard_normal((n_items, DIM))
    content = (content / np.linalg.norm(content, axis=1, keepdims=True)).astype(np.float32)
    interactions = []
    for user in range(GROUPS * USERS_PER_GROUP):
        group = user % GROUPS
        chosen = rng.choice(PER_GROUP, SEQUENCE, replace=False) + group * PER_GROUP + 1
        for step, item in enumerate(chosen):
            rating = float(rng.integers(1, 6))
            interactions.append(Interaction(user + 1, int(item), rating, 1000 * user + step))
    catalog = Catalog(items)
    split = leave_last_out(interactions)
    features = ItemFeatures.build(catalog, content, split.train_interactions())
    return Planted(catalog, interactions, content, split, features)


@pytest.fixture(scope="module")
def data() -> Planted:
    return planted()


FITS: dict[str, Callable[[Planted], Scorer]] = {
    "popularity": lambda d: PopularityScorer.fit(d.split.train_interactions(), d.features),
    "itemknn": lambda d: ItemKNNScorer.fit(d.split.train_interactions(), d.features),
    "als": lambda d: MFScorer.fit(d.split.train_interactions(), d.features, factors=8),
    "content": lambda d: ContentScorer.fit(d.split.train_interactions(), d.features),
}
# NDCG@10 bands on the planted data: personal scorers find the user's cluster (the target is one
# of its ~8 unseen items, among ~52 candidates), popularity cannot.
NDCG10_BANDS = {
    "popularity": (0.0, 0.2),
    "itemknn": (0.3, 0.75),
    "als": (0.3, 0.75),
    "content": (0.3, 0.75),
}


@pytest.mark.parametrize("name", sorted(FITS))
def test_ndcg_bands_on_planted_clusters(data: Planted, name: str) -> None:
    result = evaluate(FITS[name](data), data.split, "test")
    low, high = NDCG10_BANDS[name]
    assert low <= result.overall["NDCG@10"] <= high, result.overall


def test_personal_scorers_clearly_beat_popularity(data: Planted) -> None:
    baseline = evaluate(FITS["popularity"](data), data.split, "valid").overall["NDCG@10"]
    for name in ("itemknn", "als"):
        ndcg = evaluate(FITS[name](data), data.split, "valid").overall["NDCG@10"]
        assert ndcg > baseline + 0.15, (name, ndcg, baseline)


UNKNOWN = 10_000
CONTEXTS = {
    "empty": UserContext(),
    "unknown user": UserContext(user_id=UNKNOWN, history=(1, 2), ratings=(4.0, 5.0)),
    "unknown history items": UserContext(history=(UNKNOWN, UNKNOWN + 1)),
    "mixed history": UserContext(history=(UNKNOWN, 3, 4)),
    "session only": UserContext(liked=(5, UNKNOWN), disliked=(UNKNOWN + 2,)),
}


@pytest.mark.parametrize("name", sorted(FITS))
@pytest.mark.parametrize("context", list(CONTEXTS.values()), ids=list(CONTEXTS))
def test_unknown_users_and_items_never_raise(
    data: Planted, name: str, context: UserContext
) -> None:
    scorer = FITS[name](data)
    candidates = [1, UNKNOWN, 20, 45, UNKNOWN + 5]
    scores = scorer.score(context, candidates)
    assert scores.dtype == np.float32 and scores.shape == (5,)
    assert np.all(np.isfinite(scores))
    known = scores[[0, 2, 3]]
    assert scores[1] <= known.min() and scores[4] <= known.min()
    assert scorer.score(context, []).shape == (0,)


@pytest.mark.parametrize("name", sorted(FITS))
def test_scores_align_with_candidate_order(data: Planted, name: str) -> None:
    scorer = FITS[name](data)
    context = UserContext(history=(3, 2, 1))
    forward = scorer.score(context, [5, 20, 40])
    np.testing.assert_array_equal(scorer.score(context, [40, 5, 20]), forward[[2, 0, 1]])


def test_itemknn_keeps_only_top_neighbours(data: Planted) -> None:
    knn = ItemKNNScorer.fit(data.split.train_interactions(), neighbours=5)
    assert knn.neighbour_rows.shape == (len(knn.item_ids), 5)
    own = [data.cluster_of(int(knn.item_ids[r])) for r in knn.neighbour_rows[0]]
    assert own.count(data.cluster_of(int(knn.item_ids[0]))) == 5  # co-read items only


def test_itemknn_with_one_item_has_no_neighbours() -> None:
    knn = ItemKNNScorer.fit([Interaction(1, 7, 4.0, 0)])
    assert knn.neighbour_rows.shape == (1, 0)
    assert knn.score(UserContext(history=(7,)), [7, 8]).tolist()[0] > -2


def test_als_is_seeded(data: Planted) -> None:
    train = data.split.train_interactions()
    a, b = (MFScorer.fit(train, factors=8, iterations=3, seed=3) for _ in range(2))
    np.testing.assert_array_equal(a.item_factors, b.item_factors)
    c = MFScorer.fit(train, factors=8, iterations=3, seed=4)
    assert not np.array_equal(a.item_factors, c.item_factors)


def test_als_fold_in_finds_the_users_cluster(data: Planted) -> None:
    als = FITS["als"](data)
    scores = als.score(UserContext(history=(16, 17, 18)), list(range(1, 61)))
    best = np.argsort(-scores)[:10] + 1
    assert sum(data.cluster_of(int(i)) == 1 for i in best) >= 8


def test_content_follows_the_session(data: Planted) -> None:
    content = ContentScorer(data.features)
    candidates = list(range(1, 61))
    query = data.content[31]  # an item of cluster 2
    top = np.argsort(-content.score(UserContext(query_vector=query), candidates))[:10] + 1
    assert sum(data.cluster_of(int(i)) == 2 for i in top) >= 7
    liked = content.score(UserContext(liked=(1, 2)), candidates)
    assert np.mean(liked[:15]) > np.mean(liked[15:]) + 0.2
    disliked = content.score(UserContext(disliked=(1, 2)), candidates)
    assert np.mean(disliked[:15]) < np.mean(disliked[15:])


def test_popularity_counts_training_interactions() -> None:
    train = [Interaction(1, 5, 1.0, 0), Interaction(2, 5, 5.0, 0), Interaction(2, 6, 3.0, 0)]
    scores = PopularityScorer.fit(train).score(UserContext(), [6, 5, 7])
    assert scores.tolist() == [1.0, 2.0, 0.0]


def test_lookup_and_recency_helpers() -> None:
    vocabulary = np.array([3, 5, 9], dtype=np.int64)
    assert lookup(vocabulary, [9, 4, 3, 100]).tolist() == [2, -1, 0, -1]
    assert lookup(np.array([], dtype=np.int64), [1]).tolist() == [-1]
    np.testing.assert_allclose(recency_weights(3, 0.5), [1.0, 0.5, 0.25])
