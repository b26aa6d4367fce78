"""The FAISS vector index: item vectors keyed by stable external item ids, saved with a sidecar.

Vectors are L2-normalised, so inner product is cosine similarity. The index inside the
``IndexIDMap2`` is exact (``flat``) for small catalogs, HNSW from ``hnsw_threshold`` items on and
IVF-PQ with re-scoring from ``ivfpq_threshold`` on, unless a kind is forced
(:mod:`catalog.index_kinds` chooses and makes them).

Filters are applied inside the FAISS search, as a bitmap selector over internal positions. HNSW
recall collapses under selective filters (the graph walk rarely meets an allowed item), so when a
filter allows few items we search exactly over them instead: HNSW keeps its raw vectors in an
``IndexFlat`` storage, which we search with the same selector — exact, zero-copy, SIMD. IVF-PQ
does the same over its 8-bit re-scoring copies (exact up to their ~1e-3 rounding).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from catalog.errors import ArtifactError, IndexMismatchError, UnknownItemError
from catalog.index_kinds import (
    HNSW_THRESHOLD,
    IVFPQ_THRESHOLD,
    choose_index_kind,
    new_faiss_index,
    search_parameters,
)

INDEX_FILE = "index.faiss"
SIDECAR_FILE = "index.json"
METRIC = "inner_product"
FORMAT_VERSION = 1

# A filtered HNSW search switches to an exact search over the allowed items when they are at most
# this share of the index or at most SELECTIVE_MAX_IDS (exact search over a few thousand
# vectors costs about a millisecond). See DESIGN §6 for the recall numbers behind the 2 %.
SELECTIVE_FRACTION = 0.02
SELECTIVE_MAX_IDS = 2048

_NORM_TOLERANCE = 1e-3
# Rows checked and added at a time, so a memory-mapped matrix (catalog.vector_cache) is never
# copied whole: 16 384 × 384 float32 is 24 MB.
ADD_CHUNK = 16_384
# faiss 1.15's bundled stubs lack SearchParametersHNSW and the ``sel=`` keyword; both exist at
# runtime (the SWIG wrappers), so those calls go through this untyped alias.
_faiss: Any = faiss
_REBUILD_HINT = "run `recbot build` to (re)build it"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A retrieved item and its similarity to the query (cosine, higher is closer)."""

    item_id: int
    score: float


def configure_threads(n: int) -> int:
    """Set FAISS's OpenMP thread count and return the previous one.

    Serving one query at a time wants ``1``: on small machines OpenMP start-up costs more than the
    search itself (DESIGN §6: 0.9 ms with one thread, 7 ms with two). Batch jobs may use all cores.
    """
    if n < 1:
        raise ValueError(f"thread count must be at least 1, got {n}")
    previous = int(faiss.omp_get_max_threads())
    faiss.omp_set_num_threads(n)
    return previous


def use_exact_subset(n_allowed: int, n_total: int) -> bool:
    """Whether a filter allowing ``n_allowed`` of ``n_total`` items is too selective for HNSW."""
    return n_allowed <= max(SELECTIVE_FRACTION * n_total, SELECTIVE_MAX_IDS)


class VectorIndex:
    """Item vectors in FAISS, searched by cosine similarity, with optional id filters.

    Build with :meth:`build` or :meth:`load`; the constructor takes an already checked index.
    """

    def __init__(self, index: Any, info: dict[str, Any]) -> None:
        self._index = index  # faiss.IndexIDMap2
        self._info = info
        self._base: Any = _faiss.downcast_index(index.index)
        self._kind = str(info["kind"])
        # What an exact search over a filter's few items scans: HNSW's raw vectors live in an
        # IndexFlat, IVF-PQ's re-scoring copies in an IndexScalarQuantizer; flat is its own.
        self._storage: Any = {
            "hnsw": lambda: faiss.downcast_index(self._base.storage),
            "ivfpq": lambda: faiss.downcast_index(self._base.refine_index),
        }.get(self._kind, lambda: self._base)()
        self._ids = faiss.vector_to_array(index.id_map).astype(np.int64)  # (n,) by position
        self._order = np.argsort(self._ids, kind="stable")  # (n,) positions in id order
        self._sorted_ids = self._ids[self._order]  # (n,)

    # -- building and persistence -------------------------------------------------------------

    @classmethod
    def build(
        cls,
        ids: np.ndarray,
        vectors: np.ndarray,
        *,
        model_name: str,
        kind: str = "auto",
        hnsw_threshold: int = HNSW_THRESHOLD,
        ivfpq_threshold: int = IVFPQ_THRESHOLD,
        hnsw_m: int = 32,
        ef_construction: int = 200,
        ef_search: int = 128,
        nprobe: int = 64,
        k_factor: int = 4,
    ) -> VectorIndex:
        """Index ``vectors`` (n, d) float32 rows of unit length under the external ``ids`` (n,).

        ``kind`` is ``auto`` (by catalog size and the thresholds) or a kind to force; the sidecar
        records the kind and why. Rows that are not unit length are rejected, not normalised:
        embedders promise unit vectors, so another length means a bug upstream.
        """
        ids, vectors = _checked_input(ids, vectors)  # read a chunk at a time: may be a memmap
        if not model_name:
            raise ValueError("model_name must name the embedding model")
        params: dict[str, Any] = {
            "hnsw_threshold": hnsw_threshold,
            "ivfpq_threshold": ivfpq_threshold,
            "hnsw_m": hnsw_m,
            "ef_construction": ef_construction,
            "ef_search": ef_search,
            "nprobe": nprobe,
            "k_factor": k_factor,
        }
        for name, value in params.items():
            if value < (0 if name.endswith("threshold") else 1):
                raise ValueError(f"{name} must be positive, got {value}")
        n, dim = vectors.shape
        choice = choose_index_kind(
            n, forced=kind, hnsw_threshold=hnsw_threshold, ivfpq_threshold=ivfpq_threshold
        )
        base, layout = new_faiss_index(
            choice.kind,
            vectors,
            hnsw_m=hnsw_m,
            ef_construction=ef_construction,
            ef_search=ef_search,
            nprobe=nprobe,
            k_factor=k_factor,
        )
        index = faiss.IndexIDMap2(base)
        base.this.disown()  # the id map owns its index from here on
        index.own_fields = True
        _reserve(base, choice.kind, n)
        for start in range(0, n, ADD_CHUNK):  # one chunk in memory; HNSW links each as it comes
            block = np.ascontiguousarray(vectors[start : start + ADD_CHUNK], dtype=np.float32)
            index.add_with_ids(block, ids[start : start + ADD_CHUNK])
        info = {
            "format_version": FORMAT_VERSION,
            "model_name": model_name,
            "dim": dim,
            "metric": METRIC,
            "kind": choice.kind,
            "kind_reason": choice.reason,
            "count": n,
            "params": {**params, **layout},
            "faiss_version": faiss.__version__,
        }
        return cls(index, info)

    def save(self, directory: Path) -> None:
        """Write ``index.faiss`` and ``index.json`` into ``directory``, each swapped in atomically.

        Both files are written to temporary names first. The sidecar records the index file's
        SHA-256, so a reader that catches the moment between the two swaps gets a clear
        :class:`IndexMismatchError` rather than a silently mismatched pair.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        index_tmp = _temp_path(directory, INDEX_FILE)
        sidecar_tmp = _temp_path(directory, SIDECAR_FILE)
        try:
            faiss.write_index(self._index, str(index_tmp))
            _fsync_file(index_tmp)
            info = {**self._info, "faiss_sha256": _sha256(index_tmp)}
            sidecar_tmp.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
            _fsync_file(sidecar_tmp)
            os.replace(index_tmp, directory / INDEX_FILE)
            os.replace(sidecar_tmp, directory / SIDECAR_FILE)
        finally:
            index_tmp.unlink(missing_ok=True)
            sidecar_tmp.unlink(missing_ok=True)
        _fsync_dir(directory)
        self._info = info

    @classmethod
    def load(cls, directory: Path, *, model_name: str, dim: int) -> VectorIndex:
        """Load a saved index, refusing one built for another model, dimension or metric.

        Raises :class:`ArtifactError` when the files are missing or unreadable and
        :class:`IndexMismatchError` when they do not match what is asked or each other.
        """
        directory = Path(directory)
        info = _read_sidecar(directory / SIDECAR_FILE)
        asked = {"model_name": model_name, "dim": dim, "metric": METRIC}
        for key, want in asked.items():
            if info[key] != want:
                raise IndexMismatchError(
                    f"the vector index in {directory} was built with {key} {info[key]!r}, "
                    f"not {want!r}; {_REBUILD_HINT}"
                )
        index_path = directory / INDEX_FILE
        if not index_path.is_file():
            raise ArtifactError(f"no vector index at {index_path}; {_REBUILD_HINT}")
        if "faiss_sha256" in info and _sha256(index_path) != info["faiss_sha256"]:
            raise IndexMismatchError(
                f"{index_path} does not match {SIDECAR_FILE} (an interrupted save or mixed "
                f"files); {_REBUILD_HINT}"
            )
        try:
            index = faiss.read_index(str(index_path))
        except RuntimeError as error:
            raise ArtifactError(f"cannot read {index_path}: {error}; {_REBUILD_HINT}") from None
        _check_against_sidecar(index, info, index_path)
        return cls(index, info)

    # -- lookups --------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, item_id: object) -> bool:
        if not isinstance(item_id, int | np.integer):
            return False
        return len(self._positions(np.array([item_id], dtype=np.int64))) == 1

    @property
    def ids(self) -> np.ndarray:
        """The indexed item ids, ascending (a copy)."""
        return self._sorted_ids.copy()

    @property
    def dim(self) -> int:
        return int(self._info["dim"])

    @property
    def info(self) -> dict[str, Any]:
        """The sidecar data: model name, dim, metric, kind, count, build params, faiss version."""
        return copy.deepcopy(self._info)

    def vector(self, item_id: int) -> np.ndarray:
        """The stored (d,) vector of an item; :class:`UnknownItemError` when it is not indexed."""
        return self.vectors([item_id])[0]

    def vectors(self, item_ids: list[int] | np.ndarray) -> np.ndarray:
        """The stored (m, d) vectors of items, in the given order."""
        keys = np.asarray(item_ids, dtype=np.int64).reshape(-1)
        positions = self._positions(keys)
        if len(positions) != len(keys):
            missing = next(int(key) for key in keys if int(key) not in self)
            raise UnknownItemError(missing)
        vectors = np.asarray(self._index.reconstruct_batch(keys), dtype=np.float32)
        if self._kind == "ivfpq":  # 8-bit copies: unit length again, to within float error
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors

    # -- search ---------------------------------------------------------------------------------

    def search(
        self, query: np.ndarray, k: int, *, allowed: np.ndarray | None = None
    ) -> list[Candidate]:
        """The ``k`` items most similar to ``query`` (d,), best first.

        ``allowed`` lists the only ids that may be returned (``None``: any). A filter leaving
        fewer than ``k`` items returns those; ``k <= 0`` or an empty ``allowed`` returns ``[]``.
        """
        query = self._checked_query(query)
        if k <= 0 or len(self) == 0:
            return []
        if allowed is None:
            k = min(k, len(self))
            params = search_parameters(self._kind, self._info["params"], k)
            distances, labels = self._base.search(query, k, params=params)
            return self._candidates(distances[0], labels[0])
        mask = np.zeros(len(self), dtype=bool)  # (n,) over internal positions
        mask[self._positions(np.asarray(allowed, dtype=np.int64).reshape(-1))] = True
        n_allowed = int(np.count_nonzero(mask))
        if n_allowed == 0:
            return []
        k = min(k, n_allowed)
        # A bitmap over positions builds ~30x faster than IDSelectorBatch's hash set for broad
        # filters and tests membership in O(1); searching the base index, not the IDMap2, lets
        # it apply to positions directly.
        selector = _faiss.IDSelectorBitmap(np.packbits(mask, bitorder="little"))
        if self._kind != "flat" and not use_exact_subset(n_allowed, len(self)):
            target, widen = self._base, len(self) / n_allowed
        else:
            target, widen = self._storage, 1.0
        kind = self._kind if target is self._base else "flat"
        params = search_parameters(kind, self._info["params"], k, selector=selector, widen=widen)
        distances, labels = target.search(query, k, params=params)
        return self._candidates(distances[0], labels[0])

    def _candidates(self, distances: np.ndarray, positions: np.ndarray) -> list[Candidate]:
        """Pair scores with external ids, dropping FAISS's -1 padding."""
        found = positions >= 0
        ids = self._ids[positions[found]]
        # tolist(): Python ints and floats in one C call, not a numpy scalar boxed per hit
        return [
            Candidate(item_id=item_id, score=score)
            for item_id, score in zip(ids.tolist(), distances[found].tolist(), strict=True)
        ]

    def _positions(self, keys: np.ndarray) -> np.ndarray:
        """Internal positions of the ``keys`` that are indexed; others are dropped."""
        if len(self._sorted_ids) == 0 or len(keys) == 0:
            return np.empty(0, dtype=np.int64)
        slots = np.searchsorted(self._sorted_ids, keys)
        slots = np.minimum(slots, len(self._sorted_ids) - 1)
        hit = self._sorted_ids[slots] == keys
        return self._order[slots[hit]]

    def _checked_query(self, query: np.ndarray) -> np.ndarray:
        query = np.asarray(query, dtype=np.float32)
        if query.shape != (self.dim,):
            raise ValueError(f"query must have shape ({self.dim},), got {query.shape}")
        if not np.all(np.isfinite(query)):
            raise ValueError("query contains NaN or infinite values")
        return np.ascontiguousarray(query.reshape(1, -1))  # (1, d)


def _checked_input(ids: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"ids must be a 1-d integer array, got {ids.dtype} of shape {ids.shape}")
    ids = ids.astype(np.int64)
    if len(np.unique(ids)) != len(ids):
        raise ValueError("ids must be unique")
    if np.any(ids < 0):
        raise ValueError("ids must be non-negative (FAISS uses -1 for 'no result')")
    if not isinstance(vectors, np.ndarray) or vectors.dtype != np.float32:
        raise ValueError("vectors must be a float32 numpy array")
    if vectors.ndim != 2 or vectors.shape[0] != len(ids) or vectors.shape[1] < 1:
        raise ValueError(f"vectors must have shape ({len(ids)}, d), got {vectors.shape}")
    for start in range(0, len(vectors), ADD_CHUNK):
        block = vectors[start : start + ADD_CHUNK]
        if not np.all(np.isfinite(block)):
            raise ValueError("vectors contain NaN or infinite values")
        norms = np.linalg.norm(block, axis=1)
        if np.any(np.abs(norms - 1.0) > _NORM_TOLERANCE):
            raise ValueError("vectors must be L2-normalised (unit length rows)")
    return ids, vectors


def _reserve(base: Any, kind: str, n: int) -> None:
    """Allocate the raw-vector storage of a flat or HNSW index for ``n`` vectors up front.

    Added a chunk at a time, its std::vector would otherwise grow by doubling, and each growth
    holds the old and the new copy at once: twice the index's memory at the peak. Resizing to
    the final size and back to zero keeps the capacity, so every chunk lands in place.
    """
    if kind not in ("flat", "hnsw") or n == 0:
        return  # IVF-PQ's lists and codes are a fraction of the vectors' size
    flat: Any = base if kind == "flat" else faiss.downcast_index(base.storage)
    flat.codes.resize(n * flat.code_size)
    flat.codes.resize(0)


def _read_sidecar(path: Path) -> dict[str, Any]:
    try:
        info = json.loads(path.read_text())
    except FileNotFoundError:
        raise ArtifactError(f"no vector index sidecar at {path}; {_REBUILD_HINT}") from None
    except (OSError, ValueError) as error:
        raise ArtifactError(f"cannot read {path}: {error}; {_REBUILD_HINT}") from None
    required = {"model_name", "dim", "metric", "kind", "count", "params"}
    if (
        not isinstance(info, dict)
        or not required <= info.keys()
        or not isinstance(info["params"], dict)
        or not isinstance(info["params"].get("ef_search"), int)
    ):
        raise ArtifactError(f"{path} is not a vector index sidecar; {_REBUILD_HINT}")
    return info


def _check_against_sidecar(index: Any, info: dict[str, Any], path: Path) -> None:
    if not isinstance(index, faiss.IndexIDMap2):
        raise IndexMismatchError(f"{path} is not an id-mapped index; {_REBUILD_HINT}")
    base = faiss.downcast_index(index.index)
    kinds = {faiss.IndexHNSWFlat: "hnsw", faiss.IndexRefine: "ivfpq", faiss.IndexFlatIP: "flat"}
    kind = next((name for type_, name in kinds.items() if isinstance(base, type_)), "other")
    found = {
        "dim": index.d,
        "count": index.ntotal,
        "kind": kind,
        "metric": METRIC if index.metric_type == faiss.METRIC_INNER_PRODUCT else "other",
    }
    for key, value in found.items():
        if value != info[key]:
            raise IndexMismatchError(
                f"{path} has {key} {value!r} but its sidecar says {info[key]!r}; {_REBUILD_HINT}"
            )


def _temp_path(directory: Path, name: str) -> Path:
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    os.close(fd)
    return Path(tmp)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_file(path: Path) -> None:
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(directory: Path) -> None:
    """Make the renames durable; not every platform lets a directory be opened, so best effort."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
