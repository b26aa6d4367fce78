from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from catalog.embeddings import (
    adopt_npz_cache,
    cached_vectors,
    embed_to_cache,
    embed_with_cache,
    text_key,
)
from catalog.vector_cache import read_records
from tests.fakes import BagOfWordsEmbedder


def test_cache_embeds_only_new_texts(tmp_path: Path) -> None:
    embedder = BagOfWordsEmbedder()
    cache = tmp_path / "emb.npz"
    first = embed_with_cache(embedder, ["a b", "c d"], cache)
    second = embed_with_cache(embedder, ["c d", "e f", "a b"], cache)
    assert (first.embedded, first.reused) == (2, 0)
    assert (second.embedded, second.reused) == (1, 2)
    assert embedder.calls[-1] == ["e f"]
    np.testing.assert_allclose(second.vectors[2], first.vectors[0])
    assert second.vectors.dtype == np.float32 and second.vectors.shape == (3, embedder.dim)


def test_cache_can_be_bypassed_and_survives_damage(tmp_path: Path) -> None:
    embedder = BagOfWordsEmbedder()
    cache = tmp_path / "emb.npz"
    embed_with_cache(embedder, ["a"], cache)
    assert embed_with_cache(embedder, ["a"], cache, use_cache=False).embedded == 1
    cache.write_bytes(b"not a numpy file")
    assert embed_with_cache(embedder, ["a"], cache).embedded == 1
    assert embed_with_cache(embedder, ["a"], cache).reused == 1


def test_cache_is_keyed_by_model(tmp_path: Path) -> None:
    cache = tmp_path / "emb.npz"
    embed_with_cache(BagOfWordsEmbedder(), ["a"], cache)
    other = BagOfWordsEmbedder()
    other.model_name = "test/other"
    assert embed_with_cache(other, ["a"], cache).embedded == 1


class _FailingAfter(BagOfWordsEmbedder):
    """Embeds ``calls`` batches, then fails as a killed or crashing build would."""

    def __init__(self, calls: int) -> None:
        super().__init__()
        self.allowed = calls

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if len(self.calls) == self.allowed:
            raise RuntimeError("interrupted")
        return super().embed(texts)


def _pages(texts: list[str], size: int) -> list[list[str]]:
    return [texts[start : start + size] for start in range(0, len(texts), size)]


def test_an_interrupted_embedding_resumes_where_it_stopped(tmp_path: Path) -> None:
    texts = [f"film number {n}" for n in range(10)]
    cache = tmp_path / "emb.cache"
    with pytest.raises(RuntimeError, match="interrupted"):
        embed_to_cache(_FailingAfter(2), _pages(texts, 3), cache)
    embedder = BagOfWordsEmbedder()
    report = embed_to_cache(embedder, _pages(texts, 3), cache)
    assert (report.reused, report.embedded) == (6, 4)
    assert [text for call in embedder.calls for text in call] == texts[6:]
    clean = BagOfWordsEmbedder().embed(texts)
    np.testing.assert_allclose(cached_vectors(cache, embedder.dim), clean, atol=1e-6)


def test_a_record_cut_short_is_dropped_and_appends_stay_aligned(tmp_path: Path) -> None:
    embedder = BagOfWordsEmbedder()
    cache = tmp_path / "emb.cache"
    embed_with_cache(embedder, ["a", "b"], cache)
    with cache.open("ab") as handle:
        handle.write(b"\x01" * 40)  # a kill in the middle of writing a record
    result = embed_with_cache(embedder, ["a", "b", "c"], cache)
    assert (result.reused, result.embedded) == (2, 1)
    assert len(read_records(cache, embedder.dim)) == 3


def test_an_old_npz_cache_is_adopted(tmp_path: Path) -> None:
    embedder = BagOfWordsEmbedder()
    old, cache = tmp_path / "embeddings.npz", tmp_path / "embeddings.cache"
    keys = [text_key(embedder.model_name, t) for t in ("a", "b")]
    np.savez(old, keys=np.array(keys, dtype=str), vectors=embedder.embed(["a", "b"]))
    adopt_npz_cache(old, cache, embedder.dim)
    assert not old.exists()
    assert embed_with_cache(embedder, ["b", "a"], cache).reused == 2
