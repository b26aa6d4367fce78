from __future__ import annotations

from pathlib import Path

import numpy as np

from catalog.embeddings import embed_with_cache
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
