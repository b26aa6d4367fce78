"""The conversation model: counts of what people recommend, and what follows which mention."""

from __future__ import annotations

from pathlib import Path

import numpy as np

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


def test_round_trip_and_missing_file(tmp_path: Path) -> None:
    model = ConversationModel.fit(EXAMPLES)
    path = tmp_path / "conversation.json"
    model.save(path)
    loaded = ConversationModel.load(path)
    assert loaded.recommended == model.recommended
    assert loaded.follows == model.follows
    assert loaded.examples == 4 and bool(loaded)
    empty = ConversationModel.load(tmp_path / "absent.json")
    assert not empty and empty.top_recommended(3) == []
