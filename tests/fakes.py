"""Fakes at our own seams, shared by the tests. Each records what it was asked."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np


class BagOfWordsEmbedder:
    """A deterministic stand-in for the sentence model: each word maps to a fixed random vector.

    Texts sharing words get similar vectors, which is all the retrieval tests need; it records
    every batch it embeds so tests can tell what was (re)computed.
    """

    model_name = "test/bag-of-words"

    def __init__(self, dim: int = 32) -> None:
        self.dim = dim
        self.calls: list[list[str]] = []

    def _word(self, word: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
        return np.random.default_rng(seed).standard_normal(self.dim)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = re.findall(r"[a-z0-9]+", text.lower()) or ["<empty>"]
            vector = sum(self._word(word) for word in words)
            out[row] = vector / np.linalg.norm(vector)
        return out

    @property
    def embedded_count(self) -> int:
        return sum(len(batch) for batch in self.calls)
