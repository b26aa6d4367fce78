"""Which FAISS index a catalog gets, and how each kind is made.

Three kinds, chosen by catalog size unless a setting forces one (``benchmarks/retrieval.py``
measured the switches; docs/retrieval.md has the table):

- ``flat``: exact ``IndexFlatIP``. No build cost, exact scores, and a single query over 10^4
  vectors takes about a millisecond on one thread; its cost grows linearly with the catalog.
- ``hnsw``: ``IndexHNSWFlat`` (M=32). Recall@100 ≈ 0.99 at about a millisecond for 10^5 items,
  but its build costs minutes on two cores and its memory is the raw vectors plus the graph.
- ``ivfpq``: ``IndexIVFPQ`` (inverted lists over product-quantised codes, 48 bytes per 384-d
  vector) whose candidates are re-scored with 8-bit copies of the vectors: about a third of the
  flat index's memory, for catalogs whose raw vectors do not fit; scores are approximations
  (to ~1e-3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, get_args

import faiss
import numpy as np

IndexKind = Literal["flat", "hnsw", "ivfpq"]
KINDS: tuple[str, ...] = get_args(IndexKind)
KIND_SETTINGS: tuple[str, ...] = ("auto", *KINDS)

HNSW_THRESHOLD = 100_000
IVFPQ_THRESHOLD = 5_000_000
# Product quantisation trains 256 centroids per sub-space: fewer items than this cannot train
# the codebooks (FAISS asks for ~39 points per centroid), so a forced ``ivfpq`` falls back.
IVFPQ_MIN_ITEMS = 1_000
IVF_TRAIN_MAX = 256  # training points per inverted list (FAISS clusters at most 256 per centroid)
PQ_SUBVECTOR_DIM = 8  # 384-d → 48 sub-quantisers of 8 dimensions, one byte each
# Above the exact-subset switch a filter thins out what a search meets: widen efSearch / nprobe
# by 1 / allowed-share, capped at this multiple of the configured value.
FILTERED_WIDEN_MAX = 8
# faiss 1.15's bundled stubs lack the SearchParameters* classes and their ``sel=`` keyword; all
# exist at runtime (the SWIG wrappers), so those calls go through this untyped alias.
_faiss: Any = faiss


@dataclass(frozen=True, slots=True)
class IndexChoice:
    """The kind an index gets and why, in words for ``manifest.json`` and ``recbot info``."""

    kind: IndexKind
    reason: str


def choose_index_kind(
    n: int,
    *,
    forced: str = "auto",
    hnsw_threshold: int = HNSW_THRESHOLD,
    ivfpq_threshold: int = IVFPQ_THRESHOLD,
) -> IndexChoice:
    """The index kind for a catalog of ``n`` items.

    ``forced`` is ``auto`` (choose by size) or a kind. ``ivfpq`` needs ``IVFPQ_MIN_ITEMS`` items to
    train its codebooks; below that an exact index is as small and the choice says so.
    """
    if forced not in KIND_SETTINGS:
        raise ValueError(f"index kind must be one of {', '.join(KIND_SETTINGS)}, got {forced!r}")
    if forced == "ivfpq" or (forced == "auto" and n >= ivfpq_threshold):
        why = "forced by the index_kind setting" if forced == "ivfpq" else _at(n, ivfpq_threshold)
        if n < IVFPQ_MIN_ITEMS:
            return IndexChoice("flat", f"ivfpq {why}, but {n} items cannot train it: exact")
        return IndexChoice("ivfpq", why)
    if forced == "hnsw":
        return IndexChoice("hnsw", "forced by the index_kind setting")
    if forced == "flat":
        return IndexChoice("flat", "forced by the index_kind setting")
    if n >= hnsw_threshold:
        return IndexChoice("hnsw", f"{_at(n, hnsw_threshold)}, below {ivfpq_threshold}")
    return IndexChoice("flat", f"{n} items, below the HNSW threshold {hnsw_threshold}")


def _at(n: int, threshold: int) -> str:
    return f"{n} items, at or above {threshold}"


@dataclass(frozen=True, slots=True)
class IvfLayout:
    """An IVF-PQ index's shape for ``n`` vectors of ``dim`` dimensions."""

    nlist: int  # inverted lists (coarse centroids)
    pq_m: int  # sub-quantisers, one code each
    pq_bits: int  # bits per code


def ivf_layout(n: int, dim: int) -> IvfLayout:
    """About 4·√n lists (a power of two, each list ≥ 39 training points) and 8-d sub-vectors."""
    nlist = 2 ** round(math.log2(max(4 * math.sqrt(max(n, 1)), 1)))
    nlist = max(1, min(nlist, n // 39))
    pq_m = max(m for m in range(1, max(dim // PQ_SUBVECTOR_DIM, 1) + 1) if dim % m == 0)
    pq_bits = min(8, max(1, int(math.log2(max(n, 2)))))
    return IvfLayout(nlist=nlist, pq_m=pq_m, pq_bits=pq_bits)


def new_faiss_index(
    kind: IndexKind,
    vectors: np.ndarray,
    *,
    hnsw_m: int,
    ef_construction: int,
    ef_search: int,
    nprobe: int,
    k_factor: int,
    seed: int = 0,
) -> tuple[Any, dict[str, int]]:
    """An empty (trained, for ``ivfpq``) inner-product FAISS index for ``vectors`` (n, d).

    Returns it with the layout parameters that depend on the data, for the sidecar. The caller
    adds the vectors (wrapped in an ``IndexIDMap2`` in the app; bare in the benchmark).

    ``ivfpq`` is an ``IndexRefine``: IVF-PQ finds ``k_factor × k`` candidates from its 48-byte
    codes, and 8-bit scalar-quantised copies of the vectors (384 bytes each) re-score them, so
    recall and scores come close to exact and the vectors read back are accurate to ~1e-3.
    """
    n, dim = vectors.shape
    if kind == "flat":
        return faiss.IndexFlatIP(dim), {}
    if kind == "hnsw":
        hnsw = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = ef_construction
        hnsw.hnsw.efSearch = ef_search
        return hnsw, {}
    layout = ivf_layout(n, dim)
    rng = np.random.default_rng(seed)
    sample = min(n, max(layout.nlist * IVF_TRAIN_MAX, 256 * 2**layout.pq_bits))
    rows = np.sort(rng.choice(n, size=sample, replace=False)) if sample < n else slice(None)
    training = np.ascontiguousarray(vectors[rows])
    ivf = _owning(
        faiss.IndexIVFPQ,
        faiss.IndexFlatIP(dim),
        dim,
        layout.nlist,
        layout.pq_m,
        layout.pq_bits,
        faiss.METRIC_INNER_PRODUCT,
    )
    ivf.cp.seed = ivf.pq.cp.seed = seed
    ivf.train(training)
    ivf.nprobe = min(nprobe, layout.nlist)
    scalar = faiss.IndexScalarQuantizer(
        dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    scalar.train(training)
    refine = _owning(faiss.IndexRefine, ivf, scalar)
    refine.k_factor = k_factor
    return refine, {"nlist": layout.nlist, "pq_m": layout.pq_m, "pq_bits": layout.pq_bits}


def _owning(factory: Any, *args: Any) -> Any:
    """``factory(*args)`` made the owner of the FAISS indexes among ``args``.

    Without this, the sub-indexes' Python wrappers free them when they go out of scope.
    """
    made = factory(*args)
    for arg in args:
        if isinstance(arg, faiss.Index):
            wrapper: Any = arg  # the SWIG proxy; its `this` is not in the stubs
            wrapper.this.disown()
    made.own_fields = True
    if isinstance(made, faiss.IndexRefine):
        made.own_refine_index = True
    return made


def search_parameters(
    kind: str, params: dict[str, Any], k: int, *, selector: Any = None, widen: float = 1.0
) -> Any:
    """FAISS search parameters for one query of ``k`` results on an index of ``kind``.

    ``widen`` (1 / the share of items a filter allows) scales the graph walk (efSearch) or the
    lists visited (nprobe), capped at ``FILTERED_WIDEN_MAX`` times the configured value, so a
    filtered search still meets enough allowed items.
    """
    if kind == "hnsw":
        base_ef = max(int(params["ef_search"]), k)
        ef = min(math.ceil(base_ef * widen), base_ef * FILTERED_WIDEN_MAX)
        if selector is None:
            return _faiss.SearchParametersHNSW(efSearch=ef)
        return _faiss.SearchParametersHNSW(sel=selector, efSearch=ef)
    if kind == "ivfpq":
        base = int(params["nprobe"])
        nprobe = min(math.ceil(base * widen), base * FILTERED_WIDEN_MAX, int(params["nlist"]))
        ivf = _faiss.SearchParametersIVF(nprobe=nprobe)
        if selector is None:
            return _faiss.IndexRefineSearchParameters(
                k_factor=float(params["k_factor"]), base_index_params=ivf
            )
        ivf.sel = selector
        return _faiss.IndexRefineSearchParameters(
            sel=selector, k_factor=float(params["k_factor"]), base_index_params=ivf
        )
    return None if selector is None else _faiss.SearchParameters(sel=selector)
