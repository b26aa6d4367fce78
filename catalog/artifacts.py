"""Open what ``recbot build`` wrote: the catalog from the database and the FAISS index."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.build import BuildConfig, Manifest, load_manifest
from catalog.domain import Catalog
from catalog.embeddings import Embedder
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
    return Artifacts(manifest, catalog, index, Retriever(catalog, index, embedder))
