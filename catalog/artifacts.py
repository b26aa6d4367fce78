"""Open what ``recbot build`` wrote: the catalog from the database and the FAISS index."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from catalog.build import BuildConfig, Manifest, load_manifest
from catalog.domain import Catalog
from catalog.embeddings import Embedder, cached_vectors
from catalog.index import VectorIndex
from catalog.search import Retriever
from catalog.store import Store


@dataclass
class Artifacts:
    manifest: Manifest
    catalog: Catalog
    index: VectorIndex
    retriever: Retriever


def open_artifacts(config: BuildConfig, embedder: Embedder) -> Artifacts:
    """Load the built catalog and index; ArtifactError or StoreError says what to run when not built."""
    manifest = load_manifest(config)
    store = Store(config.database_url, create=False)
    try:
        catalog = store.load_catalog()
    finally:
        store.close()
    index = VectorIndex.load(config.index_dir, model_name=embedder.model_name, dim=embedder.dim)
    descriptions = _descriptions(config, embedder, len(catalog))
    retriever = Retriever(catalog, index, embedder, descriptions=descriptions)
    return Artifacts(manifest, catalog, index, retriever)


def _descriptions(config: BuildConfig, embedder: Embedder, count: int) -> np.ndarray | None:
    """The description vectors (memory-mapped, in id order), or None when a build before them
    made this home or they do not match the catalog: text search then ranks by the item
    vectors, as it did (``recbot build`` adds them)."""
    path = config.descriptions_path
    if not path.exists():
        return None
    try:
        vectors = cached_vectors(path, embedder.dim)
    except (OSError, ValueError):
        return None
    return vectors if len(vectors) == count else None
