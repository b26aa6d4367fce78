"""Hidden targets from data the recommender never trained on, and the profiles that go with them.

A target is a real MovieLens user's held-out last item (the protocol's *test* item); the profile
is their history before it. The ranker trains on the protocol's training split only (each user's
last two items held out) and the FAISS index holds item text only, so neither has seen the
(user, target) pair; :func:`verify_unseen` checks that for every target of a run.

The same targets are replayed with 0, 1–5, 6–20 or >20 history items (the newest ones), so the
buckets differ only in how much the recommender knows about the person.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from catalog.domain import Catalog, Interaction
from ranker.protocol import Split
from simulations.types import BUCKETS, Bucket, Target

BUCKET_SIZES: dict[Bucket, tuple[int, int]] = {"0": (0, 0), "1-5": (1, 5), "6-20": (6, 20)}
MIN_FULL_HISTORY = 21  # a target needs this much history to be replayed in the ">20" bucket


def history_needed(buckets: Sequence[str]) -> int:
    """The history a target's user needs to be replayed in every one of ``buckets``."""
    if ">20" in buckets:
        return MIN_FULL_HISTORY
    return 6 if "6-20" in buckets else 1


class LeakError(AssertionError):
    """A target the recommender's training data contains: the evaluation would be unfair."""


def held_out_targets(
    split: Split, catalog: Catalog, *, count: int, seed: int, min_history: int = MIN_FULL_HISTORY
) -> list[Target]:
    """``count`` targets, one per sampled user with at least ``min_history`` earlier items."""
    eligible = [u for u in split.users if len(split.history(u, "test")) >= min_history]
    eligible = [u for u in eligible if split.test[u] in catalog]
    if not eligible:
        raise ValueError("no user has enough history to be a simulated user")
    rng = random.Random(seed)
    users = rng.sample(eligible, min(count, len(eligible)))
    targets = []
    for user in users:
        history = split.history(user, "test")[::-1]  # newest first
        ratings = (split.history_ratings(user, "test") or [])[::-1]
        item = split.test[user]
        targets.append(
            Target(
                user_id=user,
                item_id=item,
                title=catalog.get(item).display_title,
                history=history,
                ratings=ratings if len(ratings) == len(history) else [],
            )
        )
    return targets


def with_bucket(target: Target, bucket: Bucket, rng: random.Random) -> Target:
    """The same target with its history cut to a size in ``bucket`` (newest items kept)."""
    if bucket == ">20":
        if len(target.history) < MIN_FULL_HISTORY:
            raise ValueError(f"user {target.user_id} has too little history for '>20'")
        return target
    low, high = BUCKET_SIZES[bucket]
    size = rng.randint(low, min(high, len(target.history)))
    return target.model_copy(
        update={"history": target.history[:size], "ratings": target.ratings[:size]}
    )


def replay(targets: Sequence[Target], buckets: Sequence[str], seed: int) -> list[Target]:
    """Every target in every bucket, in a stable order (target-major)."""
    rng = random.Random(seed)
    known = [b for b in BUCKETS if b in buckets]
    unknown = set(buckets) - set(BUCKETS)
    if unknown or not known:
        raise ValueError(f"unknown history buckets {sorted(unknown)}; use some of {BUCKETS}")
    order = [b for b in BUCKETS if b in set(buckets)]
    return [with_bucket(t, b, rng) for t in targets for b in order]


def verify_unseen(targets: Sequence[Target], training: Mapping[int, Sequence[Interaction]]) -> None:
    """Raise ``LeakError`` when any target appears in its own user's training interactions."""
    for target in targets:
        seen = {i.item_id for i in training.get(target.user_id, [])}
        if target.item_id in seen:
            raise LeakError(
                f"user {target.user_id}'s target {target.title} is in the ranker's training data"
            )
