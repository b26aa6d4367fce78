"""Retrieval benchmark: exact (flat) vs HNSW vs IVF-PQ on the real catalog and synthetic ones.

For each catalog and index configuration: build time, index bytes (``faiss.serialize_index``)
and the process's resident-memory growth, p50/p95 single-query latency at k=100 (and at the
agent's retrieve_k, 1000), and recall against exact search. Every number is also given as a
ratio against the flat index measured in the same run; nothing here is asserted anywhere.

Catalogs:
- ``real``: the built catalog's item vectors, read through the project's settings and loaders
  (``RECBOT_HOME``; skipped with a note when nothing is built).
- ``synthetic-N``: N unit 384-d vectors from a seeded hierarchical Gaussian mixture on the
  sphere (shared direction + super-cluster + cluster + a 12-d local subspace + isotropic noise),
  tuned so neighbour cosines resemble all-MiniLM-L6-v2 movie vectors (see the `cosines` column).
  Uniform random vectors would be adversarial for graph and IVF indexes; real embeddings are not.

Queries are catalog vectors moved off their item (cosine ≈ 0.85 to it) and renormalised: near
the data, as a text request is, but never an exact copy. Searches run with ONE OpenMP thread,
as the app serves a single query (`configure_threads(1)`), which also keeps latencies fair
across kinds; builds too by default (`--build-threads`), since on shared cores a second thread
mostly waits. A query's time is the median of 3 runs of it.

    python benchmarks/retrieval.py [--million] [--queries 300] [--sizes 100000] [--no-real]
"""

# ruff: noqa: E402  (the path fix below must run before the project imports)
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and benchmarks/ranker.py would
# shadow the `ranker` package; drop that entry.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import gc
import json
import os
import platform
import time
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import faiss
import numpy as np

from agent.settings import Settings
from catalog.build import load_manifest
from catalog.errors import RecbotError
from catalog.index import VectorIndex
from catalog.index_kinds import IndexKind, new_faiss_index

DIM = 384
K = 100
K_WIDE = 1000  # the agent's retrieve_k (Settings.retrieve_k)
REPEATS = 3  # runs per query; its median is the query's time
QUERY_NOISE = 0.6  # query = normalise(item + 0.6 · random unit vector): cosine ≈ 0.86
_faiss: Any = faiss  # the bundled stubs lack the SearchParameters* classes


@dataclass
class Catalog:
    name: str
    vectors: np.ndarray  # (n, d) float32, unit rows
    note: str


@dataclass
class Row:
    catalog: str
    n: int
    kind: str
    config: str
    build_s: float
    build_cpu_s: float  # CPU time of the build: what the wall time would be on idle cores
    index_mb: float
    rss_mb: float
    p50_ms: float
    p95_ms: float
    recall: float  # recall@K against exact search
    p95_wide_ms: float
    recall_wide: float  # recall@K_WIDE


# -- catalogs -----------------------------------------------------------------------------------


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)


def real_catalog() -> Catalog | None:
    """The built catalog's vectors via the project's settings, manifest and index loader."""
    config = Settings().build_config()
    try:
        manifest = load_manifest(config)
        index = VectorIndex.load(config.index_dir, model_name=manifest.model_name, dim=manifest.dim)
    except RecbotError as error:
        print(f"real catalog skipped: {error}")
        return None
    vectors = index.vectors(index.ids)
    note = f"{manifest.model_name} vectors of {manifest.data_dir} ({index.info['kind']} index)"
    return Catalog("real", vectors, note)


def synthetic_catalog(n: int, seed: int, dim: int = DIM) -> Catalog:
    """``n`` clustered unit vectors: a hierarchical Gaussian mixture on the sphere.

    Cluster sizes are log-normal (about 100 items on average, 20 clusters per super-cluster);
    each cluster spreads along its own 12-d subspace plus isotropic noise, so the data has a
    low intrinsic dimension as text embeddings do. Weights tuned on ml-latest-small's vectors
    (nearest-neighbour cosine ≈ 0.56 vs 0.59 real, 100th ≈ 0.42 vs 0.40, median ≈ 0.18 vs 0.21).
    """
    rng = np.random.default_rng(seed)
    w_shared, w_super, w_cluster, w_local, w_noise, rank = 0.45, 0.45, 0.30, 0.50, 0.70, 12
    shared = unit(rng.standard_normal(dim))
    n_clusters = max(1, n // 100)
    supers = unit(rng.standard_normal((max(1, n_clusters // 20), dim)))
    parent = rng.integers(len(supers), size=n_clusters)
    centres = unit(rng.standard_normal((n_clusters, dim)))
    bases = unit(rng.standard_normal((n_clusters, rank, dim)).astype(np.float32))  # ≈ orthonormal
    sizes = rng.lognormal(0.0, 1.0, n_clusters)
    label = rng.choice(n_clusters, size=n, p=sizes / sizes.sum())
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 20_000):  # in chunks: the (m, rank, d) gather is the big temporary
        part = label[start : start + 20_000]
        z = rng.standard_normal((len(part), rank)).astype(np.float32) / np.sqrt(rank)
        local = np.einsum("mr,mrd->md", z, bases[part])
        noise = unit(rng.standard_normal((len(part), dim)).astype(np.float32))
        mixed = (
            w_shared * shared
            + w_super * supers[parent[part]]
            + w_cluster * centres[part]
            + w_local * local
            + w_noise * noise
        )
        out[start : start + len(part)] = unit(mixed)
    note = f"hierarchical Gaussian mixture on the sphere, {n_clusters} clusters, seed {seed}"
    return Catalog(f"synthetic-{n}", out, note)


def near_data_queries(vectors: np.ndarray, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(vectors), size=count, replace=False)
    noise = unit(rng.standard_normal((count, vectors.shape[1])).astype(np.float32))
    return unit(vectors[rows] + QUERY_NOISE * noise)


# -- measuring ----------------------------------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def latencies_ms(index: Any, queries: np.ndarray, k: int, params: Any) -> tuple[list[float], Any]:
    """Each query searched alone (one thread), as the app does; returns times and the labels.

    A query's time is the median of REPEATS runs: on shared cores a single run's time often says
    more about the scheduler than the index, while per-query differences (the tail) remain.
    """
    for query in queries[:10]:  # warm-up
        index.search(query[None], k, params=params)
    times, labels = [], []
    for query in queries:
        runs = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            _, found = index.search(query[None], k, params=params)
            runs.append((time.perf_counter() - started) * 1000)
        times.append(float(np.median(runs)))
        labels.append(found[0])
    return times, np.stack(labels)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(
        np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)])
    )


def search_params(kind: str, setting: str, k: int) -> Any:
    """FAISS search parameters for one row: efSearch (hnsw) or nprobe:k_factor (ivfpq)."""
    if kind == "hnsw":
        return _faiss.SearchParametersHNSW(efSearch=max(int(setting), k))  # as VectorIndex does
    if kind == "ivfpq":
        nprobe, k_factor = (int(v) for v in setting.split(":"))
        ivf = _faiss.SearchParametersIVF(nprobe=nprobe)
        return _faiss.IndexRefineSearchParameters(k_factor=k_factor, base_index_params=ivf)
    return None


def describe(kind: str, setting: str, layout: dict[str, int], args: argparse.Namespace) -> str:
    if kind == "hnsw":
        return f"M={args.hnsw_m} efC={args.ef_construction} efSearch={max(int(setting), K)}"
    if kind == "ivfpq":
        nprobe, k_factor = setting.split(":")
        return (
            f"nlist={layout['nlist']} PQ{layout['pq_m']} nprobe={nprobe} re-score×{k_factor} (SQ8)"
        )
    return "exact"


def measure_kind(
    catalog: Catalog,
    kind: IndexKind,
    settings: list[str],
    queries: np.ndarray,
    truth: dict[int, np.ndarray],
    args: argparse.Namespace,
) -> list[Row]:
    """Build one index of ``kind`` and search it at each search-time setting."""
    vectors = catalog.vectors
    gc.collect()
    before = rss_mb()
    faiss.omp_set_num_threads(args.build_threads)
    started, cpu_started = time.perf_counter(), time.process_time()
    index, layout = new_faiss_index(
        kind,
        vectors,
        hnsw_m=args.hnsw_m,
        ef_construction=args.ef_construction,
        ef_search=128,
        nprobe=32,
        k_factor=4,
        seed=args.seed,
    )
    index.add(vectors)
    build_s = time.perf_counter() - started
    build_cpu_s = time.process_time() - cpu_started
    grown = rss_mb() - before
    index_mb = faiss.serialize_index(index).nbytes / 2**20
    faiss.omp_set_num_threads(1)
    rows = []
    for setting in settings:
        times, found = latencies_ms(index, queries, K, search_params(kind, setting, K))
        wide = search_params(kind, setting, K_WIDE)
        wide_times, wide_found = latencies_ms(index, queries, K_WIDE, wide)
        config = describe(kind, setting, layout, args)
        rows.append(
            Row(
                catalog=catalog.name,
                n=len(vectors),
                kind=kind,
                config=config,
                build_s=round(build_s, 2),
                build_cpu_s=round(build_cpu_s, 2),
                index_mb=round(index_mb, 1),
                rss_mb=round(grown, 1),
                p50_ms=round(float(np.percentile(times, 50)), 3),
                p95_ms=round(float(np.percentile(times, 95)), 3),
                recall=round(recall(found, truth[K]), 4),
                p95_wide_ms=round(float(np.percentile(wide_times, 95)), 3),
                recall_wide=round(recall(wide_found, truth[K_WIDE]), 4),
            )
        )
        print(f"  {rows[-1]}", flush=True)
    del index
    gc.collect()
    return rows


def measure_catalog(catalog: Catalog, args: argparse.Namespace) -> tuple[list[Row], dict]:
    n = len(catalog.vectors)
    queries = near_data_queries(catalog.vectors, min(args.queries, n), args.seed + 1)
    exact = faiss.IndexFlatIP(DIM)
    exact.add(catalog.vectors)
    faiss.omp_set_num_threads(args.build_threads)
    scores, labels = exact.search(queries, min(K_WIDE, n))
    del exact
    truth = {K: labels[:, :K], K_WIDE: labels}
    cosines = {f"top{r}": round(float(scores[:, r - 1].mean()), 3) for r in (1, 10, 100)}
    print(f"{catalog.name}: {n} vectors, query neighbour cosines {cosines}", flush=True)
    rows = measure_kind(catalog, "flat", ["exact"], queries, truth, args)
    rows += measure_kind(catalog, "hnsw", args.ef_search, queries, truth, args)
    rows += measure_kind(catalog, "ivfpq", args.ivfpq, queries, truth, args)
    return rows, {"name": catalog.name, "n": n, "note": catalog.note, "query_cosines": cosines}


# -- reporting ----------------------------------------------------------------------------------


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}×" if base > 0 else "–"


def markdown_table(rows: list[Row]) -> str:
    head = (
        "| catalog | kind | config | build s (CPU s) | index MB | RSS Δ MB | p50 ms | p95 ms | "
        f"recall@{K} | p95 ms @{K_WIDE} | recall@{K_WIDE} | build × | size × | p95 × | "
        f"p95@{K_WIDE} × |"
    )
    lines = [head, "|" + "---|" * 15]
    for row in rows:
        flat = next(r for r in rows if r.catalog == row.catalog and r.kind == "flat")
        lines.append(
            f"| {row.catalog} | {row.kind} | {row.config} | {row.build_s:.1f} ({row.build_cpu_s:.1f}) | "
            f"{row.index_mb:.1f} | {row.rss_mb:.0f} | {row.p50_ms:.2f} | {row.p95_ms:.2f} | "
            f"{row.recall:.3f} | {row.p95_wide_ms:.2f} | {row.recall_wide:.3f} | "
            f"{ratio(row.build_s, flat.build_s)} | {ratio(row.index_mb, flat.index_mb)} | "
            f"{ratio(row.p95_ms, flat.p95_ms)} | {ratio(row.p95_wide_ms, flat.p95_wide_ms)} |"
        )
    return "\n".join(lines)


def write_results(rows: list[Row], catalogs: list[dict], args: argparse.Namespace) -> Path:
    out = Path(args.results_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"retrieval-{date.today().isoformat()}"
    machine = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "faiss": faiss.__version__,
        "build_threads": args.build_threads,
        "search_threads": 1,
        "load_average_at_end": os.getloadavg()[0],
    }
    payload = {"machine": machine, "catalogs": catalogs, "rows": [asdict(r) for r in rows]}
    stem.with_suffix(".json").write_text(json.dumps(payload, indent=2) + "\n")
    notes = "\n".join(
        f"- `{c['name']}`: {c['note']}; query cosines {c['query_cosines']}" for c in catalogs
    )
    text = (
        f"# Retrieval benchmark, {date.today().isoformat()}\n\n"
        f"{machine}\n\n{notes}\n\n{markdown_table(rows)}\n"
    )
    stem.with_suffix(".md").write_text(text)
    return stem


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--million", action="store_true", help="add a 10^6-vector catalog")
    parser.add_argument("--sizes", default="100000", help="synthetic sizes, comma-separated")
    parser.add_argument("--no-real", action="store_true", help="skip the built catalog")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hnsw-m", type=int, default=32)
    parser.add_argument("--ef-construction", type=int, default=200)
    parser.add_argument("--ef-search", default="128,256", help="HNSW efSearch values")
    parser.add_argument(
        "--ivfpq", default="16:1,16:4,64:4", help="IVF-PQ nprobe:re-score factor pairs"
    )
    # One thread by default: with other work on the cores, OpenMP's second thread spins at
    # every barrier (IVF training ran 3.7x slower with 2 threads than with 1 here).
    parser.add_argument("--build-threads", type=int, default=1)
    parser.add_argument("--results-dir", default=str(Settings().results_dir))
    args = parser.parse_args()
    args.ef_search = args.ef_search.split(",")
    args.ivfpq = args.ivfpq.split(",")
    sizes = [int(s) for s in args.sizes.split(",") if s] + ([1_000_000] if args.million else [])
    rows: list[Row] = []
    catalogs: list[dict] = []
    real = None if args.no_real else real_catalog()
    started = time.perf_counter()
    for n in [0, *sizes] if real else sizes:  # synthetic catalogs made one at a time
        catalog = real if n == 0 and real else synthetic_catalog(n, args.seed)
        measured, described = measure_catalog(catalog, args)
        rows += measured
        catalogs.append(described)
    del real
    print(f"\n{markdown_table(rows)}\n")
    stem = write_results(rows, catalogs, args)
    print(f"{time.perf_counter() - started:.0f} s; wrote {stem}.json and {stem}.md")


if __name__ == "__main__":
    main()
