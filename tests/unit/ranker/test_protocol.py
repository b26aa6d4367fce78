"""5-core filtering and the leave-last-out split on hand-made interactions."""

from __future__ import annotations

import random

import numpy as np
import pytest

from catalog.domain import Interaction
from ranker.protocol import Split, chronological, five_core, leave_last_out


def pairs(rows: list[tuple[int, int]], start: int = 0) -> list[Interaction]:
    """(user, item) pairs as interactions with increasing timestamps."""
    return [Interaction(u, i, 4.0, start + n) for n, (u, i) in enumerate(rows)]


def block(users: range, items: range) -> list[tuple[int, int]]:
    return [(u, i) for u in users for i in items]


def test_five_core_removal_cascades() -> None:
    # k=3. Users 1-3 x items 10-12 is a dense block. Every user and item outside it starts
    # with >= 3 interactions except items 14 and 15, and removing them starts a cascade:
    # items 14, 15 go -> user 5 drops to 1 and goes -> item 13 drops to 2 and goes ->
    # user 4 drops to 2 and goes. User 6 keeps 3 and stays. One pass would keep users 4, 5.
    rows = [
        *block(range(1, 4), range(10, 13)),
        *[(4, 10), (4, 11), (4, 13)],
        *[(5, 13), (5, 14), (5, 15)],
        *[(6, 10), (6, 11), (6, 12), (6, 13)],
    ]
    kept = five_core(pairs(rows), k=3)
    assert {i.user_id for i in kept} == {1, 2, 3, 6}
    assert {i.item_id for i in kept} == {10, 11, 12}
    assert five_core(kept, k=3) == kept  # a fixed point


def test_five_core_can_empty_everything() -> None:
    # A chain: each removal starves the next, down to nothing.
    rows = [(1, 10), (1, 11), (2, 11), (2, 12), (3, 12)]
    assert five_core(pairs(rows), k=2) == []


@pytest.mark.parametrize("k", [0, 1])
def test_five_core_small_k_keeps_everything(k: int) -> None:
    data = pairs([(1, 10), (2, 11)])
    assert five_core(data, k=k) == data


def test_five_core_keeps_input_order_and_all_ratings() -> None:
    rows = block(range(1, 6), range(10, 15))
    data = [Interaction(u, i, 0.5, 0) for u, i in rows]  # low ratings still count
    random.Random(0).shuffle(data)
    assert five_core(data) == data


def test_chronological_breaks_timestamp_ties_by_input_order() -> None:
    data = [Interaction(1, 30, 4.0, 5), Interaction(1, 10, 4.0, 5), Interaction(1, 20, 4.0, 1)]
    assert [i.item_id for i in chronological(data)[1]] == [20, 30, 10]


def test_leave_last_out_holds_out_the_last_two() -> None:
    data = [
        Interaction(1, 13, 3.0, 40),
        Interaction(1, 11, 5.0, 10),
        Interaction(1, 12, 4.0, 30),  # same time as 14 but earlier in the input
        Interaction(1, 14, 2.0, 30),
        Interaction(2, 11, 1.0, 1),
        Interaction(2, 12, 2.0, 2),
        Interaction(2, 13, 3.0, 3),
    ]
    split = leave_last_out(data, k=0)
    assert [i.item_id for i in split.train[1]] == [11, 12]
    assert (split.valid[1], split.test[1]) == (14, 13)
    assert ([i.item_id for i in split.train[2]], split.valid[2], split.test[2]) == ([11], 12, 13)
    assert split.users == [1, 2]
    assert split.item_ids.tolist() == [11, 12, 13, 14]
    assert split.item_ids.dtype == np.int64


def test_history_depends_on_the_stage() -> None:
    split = leave_last_out(pairs([(1, 10), (1, 11), (1, 12), (1, 13)]), k=0)
    assert split.history(1, "valid") == [10, 11]
    assert split.history(1, "test") == [10, 11, 12]
    assert split.targets("valid") == {1: 12} and split.targets("test") == {1: 13}
    assert split.history_ratings(1, "test") == [4.0, 4.0, 4.0]
    assert split.history(99, "test") == []
    with pytest.raises(ValueError, match="stage"):
        split.history(1, "train")  # type: ignore[arg-type]


def test_users_too_short_for_a_split_are_dropped() -> None:
    data = pairs([(1, 10), (1, 11), (1, 12), (2, 10), (2, 11)])
    split = leave_last_out(data, k=0)
    assert split.users == [1]
    assert 2 not in split.train


def test_train_interactions_and_stats() -> None:
    rows = block(range(1, 6), range(10, 15))  # 5x5: survives the 5-core
    split = leave_last_out(pairs(rows))
    flat = split.train_interactions()
    assert len(flat) == 5 * 3
    assert all(i.item_id not in (split.valid[i.user_id], split.test[i.user_id]) for i in flat)
    assert split.stats() == {
        "users": 5,
        "items": 5,
        "interactions": 25,
        "train_interactions": 15,
    }


def test_split_ignores_how_users_are_interleaved() -> None:
    rows = block(range(1, 7), range(10, 17))
    data = [Interaction(u, i, 4.0, 100) for u, i in rows]  # all tied: input order decides
    by_item = sorted(data, key=lambda i: i.item_id)  # interleaved, each user's order kept
    a, b = leave_last_out(data), leave_last_out(by_item)
    assert (a.train, a.valid, a.test) == (b.train, b.valid, b.test)
    assert a.valid == dict.fromkeys(range(1, 7), 15)
    assert a.test == dict.fromkeys(range(1, 7), 16)


def test_split_without_valid_rating_has_unknown_test_ratings() -> None:
    split = Split(
        train={1: pairs([(1, 10)])}, valid={1: 11}, test={1: 12}, item_ids=np.array([10, 11, 12])
    )
    assert split.history_ratings(1, "valid") == [4.0]
    assert split.history_ratings(1, "test") is None
