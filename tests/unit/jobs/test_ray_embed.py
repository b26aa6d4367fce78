"""`recbot build --ray`: a local Ray instance embeds a catalog as the single process does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from catalog.build import BuildConfig, build
from catalog.embeddings import SentenceTransformerEmbedder, cached_vectors
from jobs.ray_embed import RayEmbedder

pytest.importorskip("ray.data", reason="the ray extra is not installed")
# Ray Data's own deprecations (e.g. reading `use_push_based_shuffle` internally), not ours
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*")


def _build(home: Path, data_dir: Path, embedder: object) -> np.ndarray:
    config = BuildConfig(home=home, database_url=f"sqlite:///{home / 'app.db'}", data_dir=data_dir)
    manifest = build(config, embedder, progress=False, log=lambda _msg: None)  # type: ignore[arg-type]
    assert manifest.counts["items"] == 16 and manifest.stages["embed"] == "built"
    return np.array(cached_vectors(config.embeddings_path, manifest.dim))


def test_a_local_ray_instance_embeds_like_one_process(tmp_path: Path, movielens_dir: Path) -> None:
    single = _build(tmp_path / "single", movielens_dir, SentenceTransformerEmbedder())
    on_ray = RayEmbedder(num_cpus=1, batch_size=4)  # several batches, so order is restored
    try:
        vectors = _build(tmp_path / "ray", movielens_dir, on_ray)
        assert on_ray.actors() == 1
    finally:
        on_ray.close()
    np.testing.assert_allclose(vectors, single, atol=1e-5)
