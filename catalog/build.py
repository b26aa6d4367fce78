"""``recbot build``: load → store → text → embed → index, with a manifest.

Every stage records what it consumed; re-running with unchanged inputs reuses everything and
finishes in seconds, ``force=True`` rebuilds every stage (the embedding cache included).

Nothing holds the whole catalog in memory (docs/scale.md): the files are read in passes that
keep per-item numbers (``catalog.stream``), written to the database in chunks
(``catalog.store_stream``), read back a page at a time for their text and embedded page by page
into an append-only cache (``catalog.vector_cache``) that an interrupted build resumes from; the
index is built from that cache, memory-mapped, a chunk at a time.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from catalog.download import ML_LATEST_SMALL_URL, ensure_movielens
from catalog.embeddings import (
    PAGE,
    Embedder,
    EmbedReport,
    adopt_npz_cache,
    cached_vectors,
    embed_to_cache,
)
from catalog.enrichment import enrichment_fingerprint, read_enriched_texts
from catalog.errors import ArtifactError, StoreError
from catalog.index import VectorIndex
from catalog.store import Store, redact_url
from catalog.store_stream import stored_items, write_streamed
from catalog.stream import CatalogSource, scan_catalog
from catalog.text import description_text, item_text

MANIFEST_VERSION = 1
# Bump when loaders, item text or the index layout change in a way that must invalidate artifacts.
PIPELINE_VERSION = "catalog-1"


@dataclass(frozen=True)
class BuildConfig:
    """Everything a build depends on, as plain values (settings are read by the caller)."""

    home: Path
    database_url: str
    data_dir: Path | None = None
    download_url: str | None = None
    strict: bool = False
    hnsw_threshold: int = 100_000
    index_kind: str = "auto"  # or "flat" / "hnsw" / "ivfpq" to force one (catalog.index_kinds)
    use_enriched_text: bool = True  # embed `recbot enrich` descriptions when there are any

    @property
    def artifacts(self) -> Path:
        return self.home / "artifacts"

    @property
    def index_dir(self) -> Path:
        return self.artifacts / "index"

    @property
    def embeddings_path(self) -> Path:
        """The embedding cache (``catalog.vector_cache``); after a build, the vectors in id order."""
        return self.artifacts / "embeddings.cache"

    @property
    def descriptions_path(self) -> Path:
        """The vectors of the items' texts without their titles (``catalog.text``
        ``description_text``), in id order: what text search ranks by."""
        return self.artifacts / "descriptions.cache"

    @property
    def manifest_path(self) -> Path:
        return self.home / "manifest.json"


@dataclass
class Manifest:
    """What was built, from what, with what, and how long each stage took."""

    version: int
    pipeline: str
    built_at: str
    data_dir: str
    data_format: str
    data_hash: str
    database_url: str
    model_name: str
    dim: int
    index: dict[str, Any]
    counts: dict[str, int]
    load_report: str
    timings_s: dict[str, float] = field(default_factory=dict)
    stages: dict[str, str] = field(default_factory=dict)  # stage -> "built" | "reused"
    enrichment_hash: str = ""  # of the enriched descriptions embedded; "" when none

    @classmethod
    def read(cls, path: Path) -> Manifest | None:
        """The manifest at ``path``, or None when there is none or it cannot be read."""
        try:
            data = json.loads(path.read_text())
            return cls(**data) if data.get("version") == MANIFEST_VERSION else None
        except (OSError, ValueError, TypeError):
            return None

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")
        os.replace(tmp, path)


Log = Callable[[str], None]


def resolve_data_dir(config: BuildConfig, *, progress: bool = True) -> Path:
    """The configured catalog directory, or ml-latest-small downloaded into HOME/cache."""
    if config.data_dir is not None:
        return config.data_dir
    url = config.download_url or ML_LATEST_SMALL_URL
    return ensure_movielens(config.home / "cache", url=url, progress=progress)


def hash_files(paths: list[Path]) -> str:
    """Content hash of the input files (names and bytes), independent of their location."""
    digest = hashlib.sha256(PIPELINE_VERSION.encode())
    for path in sorted(paths, key=lambda p: p.name):
        digest.update(path.name.encode() + b"\x00")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


_INPUT_NAMES = (
    "movies.csv", "ratings.csv", "tags.csv", "links.csv", "overviews.csv",
    "items.csv", "items.jsonl", "interactions.csv", "interactions.jsonl",
)  # fmt: skip


def input_files(data_dir: Path) -> list[Path]:
    """The files of a catalog directory that a build reads."""
    return [data_dir / name for name in _INPUT_NAMES if (data_dir / name).is_file()]


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    timings[stage] = round(time.perf_counter() - start, 3)


def is_up_to_date(
    config: BuildConfig, data_hash: str, model_name: str, enrichment_hash: str = ""
) -> Manifest | None:
    """The current manifest when it matches these inputs and every artifact is still there."""
    manifest = Manifest.read(config.manifest_path)
    if manifest is None:
        return None
    same_inputs = (
        manifest.pipeline == PIPELINE_VERSION
        and manifest.data_hash == data_hash
        and manifest.model_name == model_name
        and manifest.database_url == redact_url(config.database_url)
        and manifest.index.get("hnsw_threshold") == config.hnsw_threshold
        and manifest.index.get("index_kind", "auto") == config.index_kind
        and manifest.enrichment_hash == enrichment_hash
    )
    built = (config.index_dir / "index.faiss").exists() and config.descriptions_path.exists()
    if not same_inputs or not built:
        return None
    try:
        store = Store(config.database_url, create=False)
        try:
            counts = store.counts()
        finally:
            store.close()
    except StoreError:
        return None
    expected = {key: manifest.counts.get(key) for key in ("items", "interactions", "users")}
    return manifest if counts == expected else None


def build(
    config: BuildConfig,
    embedder: Embedder,
    *,
    force: bool = False,
    progress: bool = True,
    log: Log = print,
) -> Manifest:
    """Run the build, reusing what is up to date. Returns the manifest it wrote (or found)."""
    timings: dict[str, float] = {}
    with _timed(timings, "resolve"):
        data_dir = resolve_data_dir(config, progress=progress)
        data_hash = hash_files(input_files(data_dir))
        # descriptions written by `recbot enrich` (kept in the database, not the input files)
        enriched = read_enriched_texts(config.database_url) if config.use_enriched_text else {}
        enrichment_hash = enrichment_fingerprint(enriched)
    if not force:
        current = is_up_to_date(config, data_hash, embedder.model_name, enrichment_hash)
        if current is not None:
            log(f"Up to date: {current.counts['items']} items, index at {config.index_dir}")
            current.stages = dict.fromkeys(current.stages, "reused")
            return current
    stages: dict[str, str] = {}
    with _timed(timings, "load"):
        log(f"Loading the catalog from {data_dir} …")
        source = scan_catalog(data_dir, strict=config.strict)
        log(
            f"  {len(source)} items, {source.interaction_count} interactions. "
            f"{source.report.summary()}"
        )
    with _timed(timings, "store"):
        counts = _store(config, source, log)
        stages["store"] = "built"
    with _timed(timings, "embed"):
        adopt_npz_cache(config.artifacts / "embeddings.npz", config.embeddings_path, embedder.dim)
        reused = _embed(config, source, embedder, enriched, force=force, log=log)
        stages["embed"] = "reused" if reused == len(source) else "built"
    with _timed(timings, "describe"):
        reused = _embed(config, source, embedder, enriched, force=force, log=log, titles=False)
        stages["describe"] = "reused" if reused == len(source) else "built"
    with _timed(timings, "index"):
        index = VectorIndex.build(
            source.ids,
            cached_vectors(config.embeddings_path, embedder.dim),
            model_name=embedder.model_name,
            kind=config.index_kind,
            hnsw_threshold=config.hnsw_threshold,
        )
        index.save(config.index_dir)
        stages["index"] = "built"
        info = index.info
        log(f"  index: {info['kind']} ({info['kind_reason']}) over {len(index)} items")
    manifest = Manifest(
        version=MANIFEST_VERSION,
        pipeline=PIPELINE_VERSION,
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        data_dir=str(data_dir),
        data_format=source.files.format,
        data_hash=data_hash,
        database_url=redact_url(config.database_url),
        model_name=embedder.model_name,
        dim=embedder.dim,
        index={
            **index.info,
            "hnsw_threshold": config.hnsw_threshold,
            "index_kind": config.index_kind,
        },
        counts={
            **counts,
            "skipped_rows": source.report.skipped_total,
            "enriched": sum(1 for item_id in enriched if item_id in source.known),
        },
        load_report=source.report.summary(),
        timings_s=timings,
        stages=stages,
        enrichment_hash=enrichment_hash,
    )
    manifest.write(config.manifest_path)
    return manifest


def _store(config: BuildConfig, source: CatalogSource, log: Log) -> dict[str, int]:
    log(f"Writing the database {redact_url(config.database_url)} …")
    store = Store(config.database_url)
    try:
        report = write_streamed(store, source)
        counts = store.counts()
    finally:
        store.close()
    log(
        f"  items +{report.items_added} ~{report.items_updated} -{report.items_removed}, "
        f"interactions +{report.interactions_added}"
    )
    return counts


def _embed(
    config: BuildConfig,
    source: CatalogSource,
    embedder: Embedder,
    enriched: dict[int, str],
    *,
    force: bool,
    log: Log,
    titles: bool = True,
) -> int:
    """Embed every item's text into the cache, in id order; returns how many were reused.
    ``titles=False``: the texts without their titles, into the descriptions cache."""
    with_enrichment = sum(1 for item_id in enriched if item_id in source.known)
    what = "item texts" if titles else "descriptions (the texts without titles)"
    log(f"Embedding {len(source)} {what} ({with_enrichment} enriched) with {embedder.model_name} …")
    cache_path = config.embeddings_path if titles else config.descriptions_path
    text_of = item_text if titles else description_text
    store = Store(config.database_url, create=False)
    page = int(getattr(embedder, "page_size", PAGE))  # a Ray embedder wants bigger pages
    started, shown = time.perf_counter(), [0.0]

    def texts() -> Iterator[list[str]]:
        done = 0
        for items in stored_items(store, page):
            expected = source.ids[done : done + len(items)]
            if len(items) != len(expected) or (expected != [i.id for i in items]).any():
                raise StoreError("the items in the database changed during the build; build again")
            done += len(items)
            yield [text_of(item, enrichment=enriched.get(item.id, "")) for item in items]
        if done != len(source):
            raise StoreError("the items in the database changed during the build; build again")

    def progress(report: EmbedReport) -> None:
        elapsed = time.perf_counter() - started
        if elapsed - shown[0] >= 30 or report.count == len(source):
            shown[0] = elapsed
            rate = report.embedded / elapsed if elapsed else 0.0
            log(
                f"  {report.count}/{len(source)}: reused {report.reused}, embedded {report.embedded} ({rate:.0f}/s)"
            )

    try:
        result = embed_to_cache(embedder, texts(), cache_path, use_cache=not force, log=progress)
    finally:
        store.close()
    log(f"  reused {result.reused}, embedded {result.embedded}")
    return result.reused


def load_manifest(config: BuildConfig) -> Manifest:
    """The manifest of the last build; ArtifactError when nothing was built yet."""
    manifest = Manifest.read(config.manifest_path)
    if manifest is None:
        raise ArtifactError(f"Nothing is built in {config.home} yet. Run `recbot build` first.")
    return manifest
