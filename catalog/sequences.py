"""``dedupe``, the one way recbot drops repeats from a sequence (ids shown, words, systems)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import TypeVar

H = TypeVar("H", bound=Hashable)


def dedupe(values: Iterable[H]) -> list[H]:
    """Each value once, in first-seen order: ``[3, 1, 3, 2]`` -> ``[3, 1, 2]``."""
    return list(dict.fromkeys(values))
