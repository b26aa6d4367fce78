"""VectorIndex: exact and HNSW search against numpy brute force, filters, persistence."""

from __future__ import annotations

import json
from pathlib import Path

import faiss
import numpy as np
import pytest

from catalog import index as index_module
from catalog.errors import ArtifactError, IndexMismatchError, UnknownItemError
from catalog.index import Candidate, VectorIndex, configure_threads, use_exact_subset

DIM = 16
MODEL = "test-model"
# Small graphs build fast; recall bands below hold for these settings.
HNSW = {"hnsw_threshold": 100, "hnsw_m": 16, "ef_construction": 64, "ef_search": 64}


def unit_vectors(rng: np.random.Generator, n: int, dim: int = DIM) -> np.ndarray:
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def sparse_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Non-contiguous, shuffled external ids, so id/position mix-ups show."""
    return rng.choice(10 * n, size=n, replace=False).astype(np.int64) + 1


def brute_force(ids: np.ndarray, vectors: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    scores = vectors @ query
    return [int(ids[i]) for i in np.argsort(-scores, kind="stable")[:k]]


def build(
    rng: np.random.Generator, n: int, kind: str, dim: int = DIM, **overrides: int
) -> tuple[VectorIndex, np.ndarray, np.ndarray]:
    ids, vectors = sparse_ids(rng, n), unit_vectors(rng, n, dim)
    params = {**HNSW, **overrides} if kind == "hnsw" else {}
    index = VectorIndex.build(ids, vectors, model_name=MODEL, **params)
    assert index.info["kind"] == kind
    return index, ids, vectors


def recall(found: list[Candidate], truth: list[int]) -> float:
    return len({c.item_id for c in found} & set(truth)) / len(truth)


def test_exact_search_equals_brute_force() -> None:
    rng = np.random.default_rng(1)
    index, ids, vectors = build(rng, 300, "flat")
    for query in unit_vectors(rng, 10):
        found = index.search(query, 10)
        assert [c.item_id for c in found] == brute_force(ids, vectors, query, 10)
        scores = [c.score for c in found]
        assert scores == sorted(scores, reverse=True)
        np.testing.assert_allclose(scores, np.sort(vectors @ query)[::-1][:10], rtol=1e-5)


def test_kind_follows_threshold() -> None:
    rng = np.random.default_rng(2)
    ids, vectors = sparse_ids(rng, 50), unit_vectors(rng, 50)
    assert VectorIndex.build(ids, vectors, model_name=MODEL).info["kind"] == "flat"
    below = VectorIndex.build(ids, vectors, model_name=MODEL, hnsw_threshold=51)
    at = VectorIndex.build(ids, vectors, model_name=MODEL, hnsw_threshold=50)
    assert (below.info["kind"], at.info["kind"]) == ("flat", "hnsw")
    assert at.info["params"]["ef_search"] == 128


def test_hnsw_recall_against_brute_force() -> None:
    rng = np.random.default_rng(3)
    index, ids, vectors = build(rng, 500, "hnsw")
    queries = unit_vectors(rng, 30)
    recalls = [recall(index.search(q, 10), brute_force(ids, vectors, q, 10)) for q in queries]
    assert 0.9 <= np.mean(recalls) <= 1.0


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_broad_filter_holds_for_every_result(kind: str) -> None:
    # 3000 of 5000 allowed: above the exact-subset switch, so HNSW filters inside the graph walk.
    rng = np.random.default_rng(4)
    index, ids, vectors = build(rng, 5000, kind)
    chosen = rng.choice(len(ids), size=3000, replace=False)
    assert not use_exact_subset(len(chosen), len(ids))
    recalls = []
    for query in unit_vectors(rng, 10):
        found = index.search(query, 10, allowed=ids[chosen])
        assert len(found) == 10
        assert {c.item_id for c in found} <= set(ids[chosen].tolist())
        recalls.append(recall(found, brute_force(ids[chosen], vectors[chosen], query, 10)))
    assert np.mean(recalls) >= (1.0 if kind == "flat" else 0.9)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_selective_filter_equals_brute_force_over_subset(kind: str) -> None:
    # A graph where a filtered walk over 0.5 % of the items finds only ~70 % of the true top 10,
    # so only the exact-subset path passes for HNSW.
    rng = np.random.default_rng(5)
    index, ids, vectors = build(rng, 4000, kind, dim=32, ef_search=16)
    chosen = rng.choice(len(ids), size=20, replace=False)
    assert use_exact_subset(len(chosen), len(ids))
    for query in unit_vectors(rng, 10, dim=32):
        found = index.search(query, 10, allowed=ids[chosen])
        assert [c.item_id for c in found] == brute_force(ids[chosen], vectors[chosen], query, 10)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_filter_leaving_fewer_than_k_returns_exactly_those(kind: str) -> None:
    rng = np.random.default_rng(6)
    index, ids, vectors = build(rng, 400, kind)
    query = unit_vectors(rng, 1)[0]
    allowed = ids[[3, 30, 300]]
    found = index.search(query, 10, allowed=allowed)
    assert [c.item_id for c in found] == brute_force(
        ids[[3, 30, 300]], vectors[[3, 30, 300]], query, 3
    )


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_degenerate_requests(kind: str) -> None:
    rng = np.random.default_rng(7)
    index, ids, _ = build(rng, 200, kind)
    query = unit_vectors(rng, 1)[0]
    assert index.search(query, 0) == []
    assert index.search(query, -3) == []
    assert index.search(query, 5, allowed=np.array([], dtype=np.int64)) == []
    assert index.search(query, 5, allowed=np.array([-7, 0], dtype=np.int64)) == []  # unknown ids
    assert len(index.search(query, 1000)) == 200  # k above the count: no -1 padding
    mixed = np.array([ids[0], ids[0], 10**9], dtype=np.int64)  # duplicates and an unknown id
    assert [c.item_id for c in index.search(query, 5, allowed=mixed)] == [ids[0]]
    with pytest.raises(ValueError, match="shape"):
        index.search(np.ones(DIM + 1, dtype=np.float32), 5)


def test_lookups() -> None:
    rng = np.random.default_rng(8)
    index, ids, vectors = build(rng, 50, "flat")
    assert len(index) == 50
    assert int(ids[7]) in index and -1 not in index and "x" not in index
    np.testing.assert_array_equal(index.ids, np.sort(ids))
    np.testing.assert_array_equal(index.vector(int(ids[7])), vectors[7])
    np.testing.assert_array_equal(index.vectors(ids[[4, 2]]), vectors[[4, 2]])
    with pytest.raises(UnknownItemError):
        index.vector(-5)


@pytest.mark.parametrize(
    ("ids", "vectors", "message"),
    [
        (np.arange(3), np.eye(3, dtype=np.float64), "float32"),
        (np.arange(3), 2 * np.eye(3, dtype=np.float32), "L2-normalised"),
        (np.array([1, 1, 2]), np.eye(3, dtype=np.float32), "unique"),
        (np.arange(2), np.eye(3, dtype=np.float32), "shape"),
        (np.array([-1, 0, 1]), np.eye(3, dtype=np.float32), "non-negative"),
        (np.array([0.0, 1.0, 2.0]), np.eye(3, dtype=np.float32), "integer"),
    ],
)
def test_build_rejects_bad_input(ids: np.ndarray, vectors: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        VectorIndex.build(ids, vectors, model_name=MODEL)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_save_load_round_trip(kind: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    index, ids, _ = build(rng, 300, kind)
    index.save(tmp_path)
    loaded = VectorIndex.load(tmp_path, model_name=MODEL, dim=DIM)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.faiss", "index.json"]
    sidecar = json.loads((tmp_path / "index.json").read_text())
    assert sidecar["kind"] == kind and sidecar["count"] == 300 and sidecar["dim"] == DIM
    assert sidecar["metric"] == "inner_product" and sidecar["faiss_version"] == faiss.__version__
    assert loaded.info == sidecar
    allowed = ids[:40]
    for query in unit_vectors(rng, 5):
        assert loaded.search(query, 10) == index.search(query, 10)
        assert loaded.search(query, 10, allowed=allowed) == index.search(query, 10, allowed=allowed)


@pytest.mark.parametrize(("model_name", "dim"), [("other-model", DIM), (MODEL, DIM * 2)])
def test_load_refuses_other_model_or_dim(model_name: str, dim: int, tmp_path: Path) -> None:
    build(np.random.default_rng(10), 20, "flat")[0].save(tmp_path)
    with pytest.raises(IndexMismatchError, match="recbot build"):
        VectorIndex.load(tmp_path, model_name=model_name, dim=dim)


def test_load_refuses_index_file_that_disagrees_with_sidecar(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    build(rng, 20, "flat")[0].save(tmp_path / "a")
    build(rng, 30, "flat")[0].save(tmp_path / "b")
    (tmp_path / "b" / "index.faiss").replace(tmp_path / "a" / "index.faiss")
    with pytest.raises(IndexMismatchError, match="does not match"):
        VectorIndex.load(tmp_path / "a", model_name=MODEL, dim=DIM)
    # Without the checksum, the count and dimension checks still catch it.
    sidecar = json.loads((tmp_path / "a" / "index.json").read_text())
    del sidecar["faiss_sha256"]
    (tmp_path / "a" / "index.json").write_text(json.dumps(sidecar))
    with pytest.raises(IndexMismatchError, match="count"):
        VectorIndex.load(tmp_path / "a", model_name=MODEL, dim=DIM)


@pytest.mark.parametrize("damage", ["no_dir", "no_sidecar", "no_index", "bad_json", "bad_index"])
def test_missing_or_unreadable_files_raise_artifact_error(damage: str, tmp_path: Path) -> None:
    build(np.random.default_rng(12), 20, "flat")[0].save(tmp_path)
    target = tmp_path / ("index.json" if damage in {"no_sidecar", "bad_json"} else "index.faiss")
    if damage.startswith("no_"):
        target.unlink()
    else:
        target.write_bytes(b"not what you think")
    directory = tmp_path / "elsewhere" if damage == "no_dir" else tmp_path
    with pytest.raises(ArtifactError, match="recbot build"):
        VectorIndex.load(directory, model_name=MODEL, dim=DIM)


def test_failed_save_keeps_previous_files_and_leaves_no_temp_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(13)
    first, _, _ = build(rng, 20, "flat")
    first.save(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def write_half_then_fail(index: object, path: str) -> None:
        Path(path).write_bytes(b"half an index")
        raise OSError("disk full")

    monkeypatch.setattr(index_module.faiss, "write_index", write_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        build(rng, 30, "flat")[0].save(tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    monkeypatch.undo()
    build(rng, 30, "flat")[0].save(tmp_path)  # a later save replaces the pair
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.faiss", "index.json"]
    assert len(VectorIndex.load(tmp_path, model_name=MODEL, dim=DIM)) == 30


@pytest.mark.parametrize(
    ("n_allowed", "n_total", "exact"),
    [(20, 1000, True), (2048, 10_000, True), (2049, 10_000, False), (2000, 100_000, True),
     (2001, 100_000, True), (20_000, 1_000_000, True), (20_001, 1_000_000, False)],
)  # fmt: skip
def test_use_exact_subset(n_allowed: int, n_total: int, exact: bool) -> None:
    assert use_exact_subset(n_allowed, n_total) is exact


def test_configure_threads_returns_previous_setting() -> None:
    previous = configure_threads(1)
    try:
        assert faiss.omp_get_max_threads() == 1
        assert configure_threads(1) == 1
    finally:
        configure_threads(previous)
    with pytest.raises(ValueError):
        configure_threads(0)


def test_unreadable_index_file_without_checksum_raises_artifact_error(tmp_path: Path) -> None:
    build(np.random.default_rng(14), 20, "flat")[0].save(tmp_path)
    sidecar = json.loads((tmp_path / "index.json").read_text())
    del sidecar["faiss_sha256"]
    (tmp_path / "index.json").write_text(json.dumps(sidecar))
    (tmp_path / "index.faiss").write_bytes(b"garbage")
    with pytest.raises(ArtifactError, match="cannot read") as raised:
        VectorIndex.load(tmp_path, model_name=MODEL, dim=DIM)
    assert not isinstance(raised.value, IndexMismatchError)
