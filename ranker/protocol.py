"""The offline protocol of LlamaRec (Yue et al. 2023): 5-core filtering and leave-last-out splits.

Every rating counts as an implicit interaction (LlamaRec's ``min_rating=0``). Users and items are
filtered to the 5-core, each user's interactions are ordered by time, the last one is the test
target, the one before it the validation target, and the rest is training data. Models see the
training sequence when predicting the validation item, and training + validation item when
predicting the test item, as in the reference code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, overload

import numpy as np

from catalog.domain import Interaction
from catalog.store import InteractionColumns

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


def five_core_mask(users: np.ndarray, items: np.ndarray, k: int = 5) -> np.ndarray:
    """:func:`five_core` on columns: which rows survive (the same fixed point, as a mask)."""
    keep = np.ones(len(users), dtype=bool)
    if k <= 1 or not len(users):
        return keep
    _, user = np.unique(users, return_inverse=True)  # (n,) dense codes
    _, item = np.unique(items, return_inverse=True)
    while True:
        user_count = np.bincount(user[keep], minlength=user.max() + 1)
        item_count = np.bincount(item[keep], minlength=item.max() + 1)
        survivors = keep & (user_count[user] >= k) & (item_count[item] >= k)
        if survivors.sum() == keep.sum():
            return survivors
        keep = survivors


class PairSequence(Sequence[tuple[int, float]]):
    """One user's (item id, rating) pairs over two array slices, so trainers can take the
    arrays (``items``, ``ratings``) instead of a tuple per pair."""

    def __init__(self, items: np.ndarray, ratings: np.ndarray) -> None:
        self.items, self.ratings = items, ratings

    @overload
    def __getitem__(self, index: int) -> tuple[int, float]: ...
    @overload
    def __getitem__(self, index: slice) -> PairSequence: ...
    def __getitem__(self, index: int | slice) -> tuple[int, float] | PairSequence:
        if isinstance(index, slice):
            return PairSequence(self.items[index], self.ratings[index])
        return int(self.items[index]), float(self.ratings[index])

    def __len__(self) -> int:
        return len(self.items)


class TrainSequences(Mapping[int, list[Interaction]]):
    """Every user's training interactions, oldest first, held as columns (a split's ``train``).

    Reads like ``dict[user, list[Interaction]]`` (the objects are made on access); the
    ``*_column`` arrays and :meth:`pairs` give the arrays themselves.
    """

    def __init__(
        self,
        users: np.ndarray,  # (U,) int64 ascending
        offsets: np.ndarray,  # (U + 1,) int64: user k's rows are offsets[k]:offsets[k + 1]
        items: np.ndarray,  # (n,) int64
        ratings: np.ndarray,  # (n,) float64
        timestamps: np.ndarray,  # (n,) int64
    ) -> None:
        self.users, self.offsets = users, offsets
        self.item_column, self.rating_column, self.timestamp_column = items, ratings, timestamps

    def rows(self, user: int) -> slice | None:
        """The rows of ``user``; None when it has no training sequence."""
        k = int(np.searchsorted(self.users, user))
        if k == len(self.users) or self.users[k] != user:
            return None
        return slice(int(self.offsets[k]), int(self.offsets[k + 1]))

    def __getitem__(self, user: int) -> list[Interaction]:
        rows = self.rows(user)
        if rows is None:
            raise KeyError(user)
        return [
            Interaction(user, i, r, t)
            for i, r, t in zip(
                self.item_column[rows].tolist(),
                self.rating_column[rows].tolist(),
                self.timestamp_column[rows].tolist(),
                strict=True,
            )
        ]

    def __contains__(self, user: object) -> bool:
        return isinstance(user, int | np.integer) and self.rows(int(user)) is not None

    def __iter__(self) -> Iterator[int]:
        return iter(self.users.tolist())

    def __len__(self) -> int:
        return len(self.users)

    def pairs(self) -> Mapping[int, Sequence[tuple[int, float]]]:
        """(item, rating) pairs per user over the same arrays: a trainer's input, no copies."""
        return {
            int(u): PairSequence(self.item_column[lo:hi], self.rating_column[lo:hi])
            for u, lo, hi in zip(self.users, self.offsets[:-1], self.offsets[1:], strict=True)
        }


@dataclass(frozen=True)
class Split:
    """A leave-last-out split: per-user training sequences and the two held-out items.

    ``train[u]`` is user ``u``'s interactions oldest first, without the last two; ``valid[u]``
    and ``test[u]`` are the second-to-last and last items. ``item_ids`` are the items that
    survived filtering (ascending): the full ranking universe of the protocol.
    """

    train: Mapping[int, list[Interaction]]  # a dict, or TrainSequences (columns)
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
        items = self._train_column(user, "items")
        if _check_stage(stage) == "test" and user in self.valid:
            items.append(self.valid[user])
        return items

    def history_ratings(self, user: int, stage: Stage) -> list[float] | None:
        """Ratings aligned with :meth:`history`; None when the validation rating is unknown."""
        ratings = self._train_column(user, "ratings")
        if _check_stage(stage) == "test" and user in self.valid:
            if user not in self.valid_rating:
                return None
            ratings.append(self.valid_rating[user])
        return ratings

    def _train_column(self, user: int, column: Literal["items", "ratings"]) -> list:
        """Item ids or ratings of ``user``'s training sequence, without making objects."""
        if isinstance(self.train, TrainSequences):
            rows = self.train.rows(user)
            columns = self.train.item_column, self.train.rating_column
            return [] if rows is None else columns[column == "ratings"][rows].tolist()
        sequence = self.train.get(user, [])
        return [i.item_id for i in sequence] if column == "items" else [i.rating for i in sequence]

    def train_interactions(self) -> list[Interaction]:
        """All training interactions, user by user, oldest first: what models are fitted on."""
        return [i for user in sorted(self.train) for i in self.train[user]]

    def stats(self) -> dict[str, int]:
        """Sizes after filtering: users, items, and interactions (training + 2 per user)."""
        if isinstance(self.train, TrainSequences):
            n_train = len(self.train.item_column)
        else:
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
    are none. ``k <= 1`` disables filtering. Timestamp ties keep the input order.
    """
    return split_columns(InteractionColumns.from_interactions(interactions), k)


def split_columns(interactions: InteractionColumns, k: int = 5) -> Split:
    """:func:`leave_last_out` on columns (ties broken by ``interactions.row``): the split's
    training sequences stay arrays (:class:`TrainSequences`), about 24 bytes per row."""
    kept = np.flatnonzero(five_core_mask(interactions.user, interactions.item, k))
    user, stamp = interactions.user[kept], interactions.timestamp[kept]
    order = kept[np.lexsort((interactions.row[kept], stamp, user))]  # by user, then time
    del user, stamp, kept
    user = interactions.user[order]
    starts = np.flatnonzero(np.r_[True, user[1:] != user[:-1]])  # of each user's rows
    ends = np.r_[starts[1:], len(user)].astype(np.int64)
    enough = ends - starts >= MIN_SEQUENCE
    starts, ends = starts[enough], ends[enough]
    users = user[starts]
    lengths = ends - 2 - starts  # training rows per user
    offsets = np.zeros(len(users) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    train_rows = order[np.arange(offsets[-1]) + np.repeat(starts - offsets[:-1], lengths)]
    valid_rows, test_rows = order[ends - 2], order[ends - 1]
    train = TrainSequences(
        users,
        offsets,
        interactions.item[train_rows],
        interactions.rating[train_rows],
        interactions.timestamp[train_rows],
    )
    names = users.tolist()
    valid = dict(zip(names, interactions.item[valid_rows].tolist(), strict=True))
    test = dict(zip(names, interactions.item[test_rows].tolist(), strict=True))
    valid_rating = dict(zip(names, interactions.rating[valid_rows].tolist(), strict=True))
    item_ids = np.unique(
        np.concatenate(
            [train.item_column, interactions.item[valid_rows], interactions.item[test_rows]]
        )
    ).astype(np.int64)
    return Split(train, valid, test, item_ids, valid_rating)


def _check_stage(stage: str) -> Stage:
    if stage == "valid":
        return "valid"
    if stage == "test":
        return "test"
    raise ValueError(f"stage must be one of {STAGES}, not {stage!r}")
