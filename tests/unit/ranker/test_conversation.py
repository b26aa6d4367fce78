"""The conversation model: counts of what people recommend, and what follows which mention."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ranker.conversation import ConversationExample, ConversationModel

EXAMPLES = [
    ConversationExample(mentioned=(1,), targets=(2,)),
    ConversationExample(mentioned=(1, 3), targets=(2, 4)),
    ConversationExample(mentioned=(5,), targets=(4,)),
    ConversationExample(mentioned=(), targets=(4,)),
]


def test_recommended_counts_and_follows() -> None:
    model = ConversationModel.fit(EXAMPLES, shrink=0.0)
    assert model.top_recommended(2) == [4, 2]
    np.testing.assert_allclose(model.popularity([4, 2, 9]), np.log1p([3, 2, 0]))
    # 2 followed 1 in both of 1's samples; 4 in one of them
    np.testing.assert_allclose(model.follow_scores([1], [2, 4, 9]), [1.0, 0.5, 0.0])
    assert model.top_following([1], 5) == [2, 4]
    assert model.top_following([], 5) == []
    assert model.follow_scores([], [2]).tolist() == [0.0]


def test_shrink_discounts_rare_mentions() -> None:
    model = ConversationModel.fit(EXAMPLES, shrink=2.0)
    # 5 was mentioned once: 1 / (1 + 2); 1 was mentioned twice: 2 / (2 + 2)
    np.testing.assert_allclose(model.follow_scores([5], [4]), [1 / 3])
    np.testing.assert_allclose(model.follow_scores([1], [2]), [0.5])


def test_items_named_in_one_conversation_go_together() -> None:
    # conversation a: 1 named, then 2 and 3 recommended together, then 4 after 1, 2, 3
    examples = [
        ConversationExample((1,), (2, 3), "a"),
        ConversationExample((1, 2, 3), (4,), "a"),
        ConversationExample((1,), (5,), "b"),
        ConversationExample((6,), (3,)),  # no conversation id: a conversation of its own
    ]
    model = ConversationModel.fit(examples, shrink=0.0)
    assert model.talks[1] == 2 and model.talks[3] == 2  # once per conversation, not per sample
    # 2 and 3 were both recommended, never one after the other: only co-mention links them
    assert model.follow_scores([2], [3]).tolist() == [0.0]
    np.testing.assert_allclose(model.together_scores([2], [3, 9]), [1 / np.sqrt(2), 0.0])
    # each named item adds its evidence: 3 goes with both 1 and 2
    np.testing.assert_allclose(
        model.together_scores([1, 2], [3, 5]), [1 / 2 + 1 / np.sqrt(2), 1 / np.sqrt(2)]
    )
    assert model.together_scores([], [3]).tolist() == [0.0]


def test_round_trip_and_missing_file(tmp_path: Path) -> None:
    model = ConversationModel.fit(EXAMPLES)
    path = tmp_path / "conversation.json"
    model.save(path)
    loaded = ConversationModel.load(path)
    assert loaded.recommended == model.recommended
    assert loaded.follows == model.follows
    assert loaded.together == model.together and loaded.talks == model.talks
    assert loaded.examples == 4 and bool(loaded)
    empty = ConversationModel.load(tmp_path / "absent.json")
    assert not empty and empty.top_recommended(3) == []


def test_fit_weights_finds_the_signal_that_marks_the_choice() -> None:
    from ranker.conversation import Pool, fit_weights

    rng = np.random.default_rng(0)
    pools = []
    for _ in range(60):
        signals = rng.normal(size=(40, 3))  # (n, S): informative, noise, anti-informative
        chosen = np.zeros(40, dtype=bool)
        chosen[int(np.argmax(signals[:, 0] - signals[:, 2] + rng.normal(scale=0.5, size=40)))] = (
            True
        )
        pools.append(Pool(signals, chosen))
    pools.append(Pool(rng.normal(size=(5, 3)), np.zeros(5, dtype=bool)))  # nothing chosen: skipped
    weights = fit_weights(pools, ["good", "noise", "bad"], l2=0.01)
    assert weights["good"] > 1.0
    assert weights["bad"] < -1.0
    assert abs(weights["noise"]) < 0.5 * weights["good"]


def test_fit_weights_without_usable_pools_keeps_the_prior() -> None:
    from ranker.conversation import Pool, fit_weights

    empty = [Pool(np.zeros((3, 2)), np.zeros(3, dtype=bool))]
    assert fit_weights(empty, ["a", "b"], prior={"a": 0.7}) == {"a": 0.7, "b": 0.0}


def test_a_file_without_co_mentions_loads_with_no_evidence(tmp_path: Path) -> None:
    import json

    path = tmp_path / "c.json"
    ConversationModel.fit(EXAMPLES).save(path)
    payload = json.loads(path.read_text())
    del payload["talks"], payload["together"]  # written before co-mentions were kept
    path.write_text(json.dumps(payload))
    loaded = ConversationModel.load(path)
    assert loaded and loaded.together_scores([1], [2, 3]).tolist() == [0.0, 0.0]


def test_weights_round_trip(tmp_path: Path) -> None:
    model = ConversationModel.fit(EXAMPLES).with_weights({"text": 1.5, "follows": 0.25})
    model.save(tmp_path / "c.json")
    assert ConversationModel.load(tmp_path / "c.json").weights == {"text": 1.5, "follows": 0.25}


def test_neighbours_are_cached_and_skipped_when_too_large(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from catalog.domain import Interaction
    from ranker import neighbours

    interactions = [Interaction(u, i, 4.0, u * 10 + i) for u in range(6) for i in range(1, 5)]
    first = neighbours.load_or_fit(tmp_path, interactions)
    assert first is not None and (tmp_path / neighbours.FILE).exists()
    again = neighbours.load_or_fit(tmp_path, interactions)
    assert again is not None
    np.testing.assert_array_equal(first.neighbour_rows, again.neighbour_rows)
    assert neighbours.evidence(first, [1], [2, 3, 99]).tolist()[2] == 0.0  # unknown: no evidence
    monkeypatch.setattr(neighbours, "MAX_MATRIX_CELLS", 10)
    assert neighbours.load_or_fit(tmp_path / "big", interactions) is None
