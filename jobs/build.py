"""``recbot build``: the catalog, its embeddings and index, then the ranker, each stage idempotent."""

from __future__ import annotations

from collections.abc import Callable

from agent.settings import Settings
from catalog.build import Manifest, build
from catalog.embeddings import Embedder, SentenceTransformerEmbedder
from ranker.pipeline import RankerPaths


def build_all(
    settings: Settings,
    embedder: Embedder | None = None,
    *,
    force: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = print,
    ray_address: str | None = None,
) -> Manifest:
    """``recbot build``: catalog, store, embeddings, index, then the ranker (each idempotent).

    With ``ray_address`` (a cluster's, or ``"local"`` for a Ray instance on this machine) the
    texts are embedded on Ray (``jobs.ray_embed``) instead of by ``embedder``.
    """
    from ranker.pipeline import ensure_ranker

    config = settings.build_config()
    embedder = embedder or SentenceTransformerEmbedder(
        batch_size=settings.embedding_batch_size, progress=progress
    )
    if ray_address is None:
        manifest = build(config, embedder, force=force, progress=progress, log=log)
    else:
        from jobs.ray_embed import RayEmbedder

        on_ray = RayEmbedder(ray_address, batch_size=settings.embedding_batch_size)
        try:
            manifest = build(config, on_ray, force=force, progress=progress, log=log)
        finally:
            on_ray.close()
    _ranker, status = ensure_ranker(
        config, settings.train_config(), force=force, progress=progress, log=log
    )
    manifest.stages["ranker"] = status
    return manifest


def is_built(settings: Settings) -> bool:
    """Whether the catalog and the ranker have been built in ``settings.home``."""
    config = settings.build_config()
    return Manifest.read(config.manifest_path) is not None and (
        RankerPaths(config.artifacts).checkpoint.exists()
    )
