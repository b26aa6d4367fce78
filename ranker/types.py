"""The ranker's data contract: who is asking (:class:`UserContext`) and who answers (:class:`Scorer`).

Every scorer — the DNN and each baseline — has the same interface, so the offline protocol, the
agent and the benchmarks treat them alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class UserContext:
    """Everything known about the person the candidates are scored for.

    ``history`` and ``ratings`` are the user's interactions, NEWEST FIRST (callers truncate).
    The session fields come from the conversation and may be empty for a known user.
    """

    user_id: int | None = None
    history: tuple[int, ...] = ()
    ratings: tuple[float, ...] = ()
    liked: tuple[int, ...] = ()
    disliked: tuple[int, ...] = ()
    wanted_genres: frozenset[str] = frozenset()
    unwanted_genres: frozenset[str] = frozenset()
    query_vector: np.ndarray | None = field(default=None, compare=False)  # (384,) unit-norm

    def __post_init__(self) -> None:
        if self.ratings and len(self.ratings) != len(self.history):
            raise ValueError("ratings must align with history")


class Scorer(Protocol):
    """Scores candidate items for one user context; higher is better.

    Unknown users and unknown items never raise: they get finite scores from whatever the
    scorer can still use (content features, popularity).
    """

    name: str

    def score(self, context: UserContext, candidates: Sequence[int]) -> np.ndarray:
        """Return float32 scores of shape (len(candidates),), aligned with ``candidates``."""
        ...
