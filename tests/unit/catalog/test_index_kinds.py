"""Index kinds: the choice by catalog size, IVF-PQ's layout, recall bands on clustered vectors,
and every kind searching the same after a save and load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from catalog.index import VectorIndex, use_exact_subset
from catalog.index_kinds import IVFPQ_MIN_ITEMS, choose_index_kind, ivf_layout

DIM = 32
MODEL = "test-model"
SMALL = {"hnsw_m": 16, "ef_construction": 64}  # small graphs build fast; bands hold for these


def clustered(rng: np.random.Generator, n: int, dim: int = DIM, clusters: int = 40) -> np.ndarray:
    """Unit vectors around random centres, as embeddings cluster (uniform ones would not)."""
    centres = rng.standard_normal((clusters, dim))
    rows = centres[rng.integers(clusters, size=n)] + 0.6 * rng.standard_normal((n, dim))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def recall_at(index: VectorIndex, vectors: np.ndarray, queries: np.ndarray, k: int) -> float:
    ids = np.arange(len(vectors))
    hits = []
    for query in queries:
        truth = set(ids[np.argsort(-(vectors @ query))[:k]].tolist())
        hits.append(len({c.item_id for c in index.search(query, k)} & truth) / k)
    return float(np.mean(hits))


@pytest.mark.parametrize(
    ("n", "forced", "kind"),
    [
        (0, "auto", "flat"), (9_742, "auto", "flat"), (99_999, "auto", "flat"),
        (100_000, "auto", "hnsw"), (4_999_999, "auto", "hnsw"), (5_000_000, "auto", "ivfpq"),
        (50, "hnsw", "hnsw"), (10**7, "flat", "flat"), (10**6, "hnsw", "hnsw"),
        (IVFPQ_MIN_ITEMS, "ivfpq", "ivfpq"), (IVFPQ_MIN_ITEMS - 1, "ivfpq", "flat"),
    ],
)  # fmt: skip
def test_choice_by_size_and_setting(n: int, forced: str, kind: str) -> None:
    choice = choose_index_kind(n, forced=forced)
    assert choice.kind == kind
    assert ("forced" in choice.reason) == (forced != "auto")


def test_choice_follows_given_thresholds_and_refuses_unknown_kinds() -> None:
    assert choose_index_kind(10, hnsw_threshold=10).kind == "hnsw"
    assert choose_index_kind(9, hnsw_threshold=10).kind == "flat"
    assert choose_index_kind(2000, hnsw_threshold=10, ivfpq_threshold=2000).kind == "ivfpq"
    assert "cannot train" in choose_index_kind(10, ivfpq_threshold=5).reason
    with pytest.raises(ValueError, match="auto, flat, hnsw, ivfpq"):
        choose_index_kind(10, forced="annoy")


@pytest.mark.parametrize(
    ("n", "dim", "nlist", "pq_m", "pq_bits"),
    [(100_000, 384, 1024, 48, 8), (1_000_000, 384, 4096, 48, 8), (2_000, 32, 51, 4, 8),
     (1_000, 12, 25, 1, 8), (300, 16, 7, 2, 8)],
)  # fmt: skip
def test_ivf_layout(n: int, dim: int, nlist: int, pq_m: int, pq_bits: int) -> None:
    layout = ivf_layout(n, dim)
    assert (layout.nlist, layout.pq_m, layout.pq_bits) == (nlist, pq_m, pq_bits)


@pytest.mark.parametrize(("kind", "band"), [("hnsw", 0.95), ("ivfpq", 0.85)])
def test_recall_at_100_on_clustered_vectors(kind: str, band: float) -> None:
    rng = np.random.default_rng(1)
    vectors = clustered(rng, 3000)
    index = VectorIndex.build(np.arange(3000), vectors, model_name=MODEL, kind=kind, **SMALL)
    assert index.info["kind"] == kind
    queries = clustered(rng, 20)
    assert band <= recall_at(index, vectors, queries, 100) <= 1.0


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivfpq"])
def test_saved_and_loaded_index_searches_the_same(kind: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    ids = rng.choice(50_000, size=5000, replace=False).astype(np.int64)
    vectors = clustered(rng, 5000)
    index = VectorIndex.build(ids, vectors, model_name=MODEL, kind=kind, **SMALL)
    index.save(tmp_path)
    loaded = VectorIndex.load(tmp_path, model_name=MODEL, dim=DIM)
    assert loaded.info == index.info and loaded.info["kind"] == kind
    assert loaded.info["kind_reason"] == "forced by the index_kind setting"
    broad, selective = ids[:3000], ids[:20]  # searched in the index / exactly over the subset
    assert not use_exact_subset(len(broad), 5000) and use_exact_subset(len(selective), 5000)
    for query in clustered(rng, 5):
        assert loaded.search(query, 50) == index.search(query, 50)
        for allowed in (broad, selective):
            found = loaded.search(query, 10, allowed=allowed)
            assert found == index.search(query, 10, allowed=allowed)
            assert len(found) == 10 and {c.item_id for c in found} <= set(allowed.tolist())


def test_ivfpq_selective_filter_and_vectors_are_nearly_exact() -> None:
    rng = np.random.default_rng(3)
    vectors = clustered(rng, 2000)
    index = VectorIndex.build(np.arange(2000), vectors, model_name=MODEL, kind="ivfpq")
    assert index.info["params"]["nlist"] == 51 and index.info["params"]["k_factor"] == 4
    read = index.vectors(np.arange(0, 2000, 7))
    np.testing.assert_allclose(np.linalg.norm(read, axis=1), 1.0, atol=1e-5)
    assert np.min(np.sum(read * vectors[::7], axis=1)) > 0.999  # 8-bit copies: cosine ≈ 1
    allowed = np.arange(0, 2000, 100)  # 20 of 2000: searched exactly over the 8-bit copies
    for query in clustered(rng, 5):
        found = [c.item_id for c in index.search(query, 10, allowed=allowed)]
        truth = allowed[np.argsort(-(vectors[allowed] @ query))[:10]].tolist()
        assert len(set(found) & set(truth)) >= 9
