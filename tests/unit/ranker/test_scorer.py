"""DNNScorer: loads once, scores known users and anonymous sessions, never raises on unknowns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ranker.features import ItemFeatures
from ranker.scorer import UNKNOWN_SCORE, DNNScorer
from ranker.train import TrainResult, save_checkpoint, train_ranker
from ranker.types import UserContext
from tests.unit.ranker.test_train import PER_GROUP, TINY, Sequential, sequential

ALL = list(range(1, 4 * PER_GROUP + 1))


@pytest.fixture(scope="module")
def data() -> Sequential:
    return sequential(seed=1)


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


@pytest.fixture(scope="module")
def scorer(
    tmp_path_factory: pytest.TempPathFactory, data: Sequential, trained: TrainResult
) -> DNNScorer:
    path = tmp_path_factory.mktemp("ranker") / "model.pt"
    save_checkpoint(path, trained)
    return DNNScorer.load(path, data.features)


def contexts() -> list[UserContext]:
    rng = np.random.default_rng(0)
    return [
        UserContext(user_id=5, history=(20, 19, 18), ratings=(4.0, 5.0, 3.5)),
        UserContext(history=(3, 2)),  # no ratings
        UserContext(),  # anonymous, nothing said yet
        UserContext(liked=(40, 41), disliked=(2,)),
        UserContext(wanted_genres=frozenset({"G1"}), unwanted_genres=frozenset({"G0"})),
        UserContext(query_vector=rng.standard_normal(16).astype(np.float32)),
    ]


def test_scores_are_float32_aligned_and_finite(scorer: DNNScorer) -> None:
    assert scorer.name == "dnn"
    for context in contexts():
        scores = scorer.score(context, ALL)
        assert scores.dtype == np.float32
        assert scores.shape == (len(ALL),)
        assert np.isfinite(scores).all()
    assert scorer.score(contexts()[0], []).shape == (0,)


def test_save_then_load_gives_the_same_scores(
    tmp_path: Path, data: Sequential, trained: TrainResult, scorer: DNNScorer
) -> None:
    path = tmp_path / "again.pt"
    save_checkpoint(path, trained)
    reloaded = DNNScorer.load(path, data.features)
    for context in contexts():
        np.testing.assert_allclose(
            reloaded.score(context, ALL), scorer.score(context, ALL), rtol=1e-5, atol=1e-5
        )


def test_batched_and_single_scoring_agree(scorer: DNNScorer) -> None:
    batch = contexts()
    candidates = [ALL[: 10 + 7 * i] for i in range(len(batch))]  # ragged lists
    together = scorer.score_batch(batch, candidates)
    for context, items, scores in zip(batch, candidates, together, strict=True):
        np.testing.assert_allclose(scores, scorer.score(context, items), rtol=1e-5, atol=1e-5)
    assert scorer.score_batch([], []) == []


def test_the_next_item_of_a_known_walk_ranks_first(scorer: DNNScorer) -> None:
    history = (20, 19, 18, 17)  # newest first: the walk is 17, 18, 19, 20 -> 21
    scores = scorer.score(UserContext(user_id=3, history=history, ratings=(4.0,) * 4), ALL)
    assert top(scores, 1, exclude=history) == [21]


def top(scores: np.ndarray, n: int, exclude: tuple[int, ...] = ()) -> list[int]:
    scores = np.where(np.isin(ALL, exclude), -np.inf, scores)
    return [ALL[i] for i in np.argsort(-scores)[:n]]


def genre(item: int) -> int:
    return (item - 1) // PER_GROUP


def test_anonymous_likes_continue_their_walk(scorer: DNNScorer) -> None:
    liked = (2 * PER_GROUP + 3, 2 * PER_GROUP + 4)  # 35, 36 of genre G2
    best = top(scorer.score(UserContext(liked=liked), ALL), 3, exclude=liked)
    assert best[0] == 2 * PER_GROUP + 5
    assert all(genre(item) == 2 for item in best)


def test_a_wanted_genre_fills_the_top_of_an_empty_session(scorer: DNNScorer) -> None:
    plain = scorer.score(UserContext(), ALL)
    scores = scorer.score(UserContext(wanted_genres=frozenset({"G3"})), ALL)
    in_genre = np.array([genre(item) == 3 for item in ALL])
    lift = scores - plain
    assert lift[in_genre].mean() > lift[~in_genre].mean()
    assert sum(genre(item) == 3 for item in top(scores, 5)) >= 3


def test_unknown_items_use_content_or_score_very_low(
    data: Sequential, trained: TrainResult, tmp_path: Path
) -> None:
    # a new item, in the features but never trained on: a copy of item 21's features
    f = data.features
    new_id = 1000
    grown = ItemFeatures(
        ids=np.append(f.ids, new_id),
        content=np.vstack([f.content, f.content[20]]),
        genres=np.vstack([f.genres, f.genres[20]]),
        genre_names=f.genre_names,
        year=np.append(f.year, f.year[20]),
        has_year=np.append(f.has_year, f.has_year[20]),
        log_popularity=np.append(f.log_popularity, 0.0).astype(np.float32),
    )
    path = tmp_path / "model.pt"
    save_checkpoint(path, trained)
    scorer = DNNScorer.load(path, grown)
    context = UserContext(history=(20, 19, 18, 999_999), ratings=(4.0, 4.0, 4.0, 4.0))
    scores = scorer.score(context, [21, new_id, 999_999, 5])
    assert np.isfinite(scores).all()
    assert scores[2] == UNKNOWN_SCORE  # known to neither the checkpoint nor the features
    assert scores[1] > UNKNOWN_SCORE / 2
    # content alone places the new copy of item 21 among its genre, above the other genres
    others = [i for i in ALL if genre(i) != 1]
    assert scores[1] > np.median(scorer.score(context, others))
