"""The offline protocol of LlamaRec (Yue et al. 2023): 5-core filtering and leave-last-out splits.

Every rating counts as an implicit interaction (LlamaRec's ``min_rating=0``). Users and items are
filtered to the 5-core, each user's interactions are ordered by time, the last one is the test
target, the one before it the validation target, and the rest is training data. Models see the
training sequence when predicting the validation item, and training + validation item when
predicting the test item, as in the reference code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from catalog.domain import Interaction

Stage = Literal["valid", "test"]
STAGES: tuple[Stage, ...] = ("valid", "test")
MIN_SEQUENCE = 3  # one training interaction, one validation target, one test target


def five_core(interactions: Iterable[Interaction], k: int = 5) -> list[Interaction]:
    """Drop users and items with fewer than ``k`` interactions, repeatedly, until none is left.

    Removing an item can push a user below ``k`` and the other way round, so one pass is not
    enough; this loops to the fixed point like LlamaRec's ``filter_triplets``. Every rating
    counts, whatever its value. The survivors keep their input order.
    """
    kept = list(interactions)
    if k <= 1:
        return kept
    while True:
        users = Counter(i.user_id for i in kept)
        items = Counter(i.item_id for i in kept)
        survivors = [i for i in kept if users[i.user_id] >= k and items[i.item_id] >= k]
        if len(survivors) == len(kept):
            return survivors
        kept = survivors


@dataclass(frozen=True)
class Split:
    """A leave-last-out split: per-user training sequences and the two held-out items.

    ``train[u]`` is user ``u``'s interactions oldest first, without the last two; ``valid[u]``
    and ``test[u]`` are the second-to-last and last items. ``item_ids`` are the items that
    survived filtering (ascending): the full ranking universe of the protocol.
    """

    train: dict[int, list[Interaction]]
    valid: dict[int, int]
    test: dict[int, int]
    item_ids: np.ndarray  # (N,) int64, ascending
    valid_rating: dict[int, float] = field(default_factory=dict)

    @property
    def users(self) -> list[int]:
        """Evaluated users, ascending."""
        return sorted(self.test)

    def targets(self, stage: Stage) -> dict[int, int]:
        """The held-out item of each user at ``stage``."""
        return self.valid if _check_stage(stage) == "valid" else self.test

    def history(self, user: int, stage: Stage) -> list[int]:
        """Item ids the model may see when predicting ``stage``, oldest to newest.

        At ``"valid"`` that is the training sequence; at ``"test"`` the validation item is
        appended, since it happened before the test item.
        """
        items = [i.item_id for i in self.train.get(user, [])]
        if _check_stage(stage) == "test" and user in self.valid:
            items.append(self.valid[user])
        return items

    def history_ratings(self, user: int, stage: Stage) -> list[float] | None:
        """Ratings aligned with :meth:`history`; None when the validation rating is unknown."""
        ratings = [i.rating for i in self.train.get(user, [])]
        if _check_stage(stage) == "test" and user in self.valid:
            if user not in self.valid_rating:
                return None
            ratings.append(self.valid_rating[user])
        return ratings

    def train_interactions(self) -> list[Interaction]:
        """All training interactions, user by user, oldest first: what models are fitted on."""
        return [i for user in sorted(self.train) for i in self.train[user]]

    def stats(self) -> dict[str, int]:
        """Sizes after filtering: users, items, and interactions (training + 2 per user)."""
        n_train = sum(len(seq) for seq in self.train.values())
        return {
            "users": len(self.test),
            "items": len(self.item_ids),
            "interactions": n_train + len(self.valid) + len(self.test),
            "train_interactions": n_train,
        }


def chronological(interactions: Sequence[Interaction]) -> dict[int, list[Interaction]]:
    """Each user's interactions sorted by (timestamp, input position).

    The input position breaks timestamp ties so the split is deterministic. MovieLens files are
    sorted by (user, item), which makes this the (timestamp, item id) order LlamaRec uses.
    """
    by_user: dict[int, list[tuple[int, int, Interaction]]] = {}
    for position, interaction in enumerate(interactions):
        by_user.setdefault(interaction.user_id, []).append(
            (interaction.timestamp, position, interaction)
        )
    return {user: [i for *_, i in sorted(rows)] for user, rows in by_user.items()}


def leave_last_out(interactions: Sequence[Interaction], k: int = 5) -> Split:
    """Filter to the ``k``-core, then hold out each user's last two interactions.

    Users left with fewer than 3 interactions after filtering are dropped: they could not have
    a training item, a validation item and a test item. With ``k >= 3`` (the default 5) there
    are none. ``k <= 1`` disables filtering.
    """
    kept = five_core(interactions, k)
    train: dict[int, list[Interaction]] = {}
    valid: dict[int, int] = {}
    test: dict[int, int] = {}
    valid_rating: dict[int, float] = {}
    for user, sequence in sorted(chronological(kept).items()):
        if len(sequence) < MIN_SEQUENCE:
            continue
        train[user] = sequence[:-2]
        valid[user], valid_rating[user] = sequence[-2].item_id, sequence[-2].rating
        test[user] = sequence[-1].item_id
    items = {i.item_id for seq in train.values() for i in seq} | set(valid.values())
    items |= set(test.values())
    item_ids = np.array(sorted(items), dtype=np.int64)
    return Split(train, valid, test, item_ids, valid_rating)


def _check_stage(stage: str) -> Stage:
    if stage == "valid":
        return "valid"
    if stage == "test":
        return "test"
    raise ValueError(f"stage must be one of {STAGES}, not {stage!r}")
