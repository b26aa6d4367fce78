from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from catalog.artifacts import open_artifacts
from catalog.build import BuildConfig, Manifest, build, load_manifest
from catalog.errors import ArtifactError
from catalog.text import description_text
from tests.conftest import write_movielens
from tests.fakes import BagOfWordsEmbedder


def _config(home: Path, data_dir: Path, **kwargs: object) -> BuildConfig:
    return BuildConfig(
        home=home, database_url=f"sqlite:///{home / 'app.db'}", data_dir=data_dir, **kwargs
    )  # type: ignore[arg-type]


def _quiet_build(config: BuildConfig, embedder: BagOfWordsEmbedder, **kwargs: bool) -> Manifest:
    return build(config, embedder, progress=False, log=lambda _msg: None, **kwargs)


def test_build_writes_every_artifact_and_a_manifest(tmp_path: Path, movielens_dir: Path) -> None:
    config = _config(tmp_path / "home", movielens_dir)
    manifest = _quiet_build(config, BagOfWordsEmbedder())
    assert manifest.counts["items"] == 16 and manifest.counts["interactions"] > 0
    assert manifest.model_name == "test/bag-of-words" and manifest.dim == 32
    assert manifest.index["kind"] == "flat" and manifest.index["count"] == 16
    assert set(manifest.timings_s) >= {"load", "store", "embed", "index"}
    assert len(manifest.data_hash) == 64
    assert load_manifest(config) == manifest
    artifacts = open_artifacts(config, BagOfWordsEmbedder())
    assert len(artifacts.catalog) == 16 and len(artifacts.index) == 16


def test_rebuild_with_unchanged_inputs_reuses_everything(
    tmp_path: Path, movielens_dir: Path
) -> None:
    config = _config(tmp_path / "home", movielens_dir)
    _quiet_build(config, BagOfWordsEmbedder())
    embedder = BagOfWordsEmbedder()
    again = _quiet_build(config, embedder)
    assert embedder.calls == []  # nothing embedded
    assert set(again.stages.values()) == {"reused"}


def test_force_rebuilds_every_stage(tmp_path: Path, movielens_dir: Path) -> None:
    config = _config(tmp_path / "home", movielens_dir)
    _quiet_build(config, BagOfWordsEmbedder())
    embedder = BagOfWordsEmbedder()
    forced = _quiet_build(config, embedder, force=True)
    assert embedder.embedded_count == 2 * 16  # the item texts and their descriptions
    assert set(forced.stages.values()) == {"built"}


def test_changed_data_embeds_only_changed_items(tmp_path: Path, movielens_dir: Path) -> None:
    config = _config(tmp_path / "home", movielens_dir)
    _quiet_build(config, BagOfWordsEmbedder())
    overviews = movielens_dir / "overviews.csv"
    overviews.write_text(overviews.read_text() + '2,"A board game comes to life."\n')
    embedder = BagOfWordsEmbedder()
    manifest = _quiet_build(config, embedder)
    assert embedder.embedded_count == 2  # its text and its description
    assert embedder.calls == [
        ["Jumanji (1995). Genres: Adventure, Children, Fantasy. A board game comes to life."],
        ["Genres: Adventure, Children, Fantasy. A board game comes to life."],
    ]
    assert manifest.counts["items"] == 16


def test_descriptions_are_the_texts_without_titles_and_text_search_ranks_by_them(
    tmp_path: Path, movielens_dir: Path
) -> None:
    config = _config(tmp_path / "home", movielens_dir)
    manifest = _quiet_build(config, BagOfWordsEmbedder())
    assert manifest.stages["describe"] == "built" and config.descriptions_path.exists()
    artifacts = open_artifacts(config, BagOfWordsEmbedder())
    described = artifacts.retriever.descriptions
    assert described is not None and described.shape == (16, manifest.dim)
    embedder = BagOfWordsEmbedder()
    for item in list(artifacts.catalog)[:3]:
        row = artifacts.catalog.position(item.id)
        expected = embedder.embed([description_text(item)])[0]
        assert np.allclose(described[row], expected, atol=1e-6)
    # a home built before descriptions is rebuilt by the next build, reusing the item vectors
    config.descriptions_path.unlink()
    assert open_artifacts(config, BagOfWordsEmbedder()).retriever.descriptions is None
    again = BagOfWordsEmbedder()
    rebuilt = _quiet_build(config, again)
    assert rebuilt.stages["embed"] == "reused" and rebuilt.stages["describe"] == "built"
    assert again.embedded_count == 16


def test_deleted_artifacts_are_rebuilt(tmp_path: Path, movielens_dir: Path) -> None:
    config = _config(tmp_path / "home", movielens_dir)
    _quiet_build(config, BagOfWordsEmbedder())
    (config.index_dir / "index.faiss").unlink()
    (tmp_path / "home" / "app.db").unlink()
    manifest = _quiet_build(config, BagOfWordsEmbedder())
    assert manifest.stages["index"] == "built" and manifest.stages["store"] == "built"
    assert len(open_artifacts(config, BagOfWordsEmbedder()).catalog) == 16


def test_hnsw_above_the_threshold(tmp_path: Path, movielens_dir: Path) -> None:
    config = _config(tmp_path / "home", movielens_dir, hnsw_threshold=10)
    assert _quiet_build(config, BagOfWordsEmbedder()).index["kind"] == "hnsw"


def test_a_forced_index_kind_is_built_recorded_and_a_change_rebuilds(
    tmp_path: Path, movielens_dir: Path
) -> None:
    home = tmp_path / "home"
    manifest = _quiet_build(_config(home, movielens_dir, index_kind="hnsw"), BagOfWordsEmbedder())
    assert manifest.index["kind"] == "hnsw" and manifest.index["index_kind"] == "hnsw"
    assert manifest.index["kind_reason"] == "forced by the index_kind setting"
    again = _quiet_build(_config(home, movielens_dir, index_kind="hnsw"), BagOfWordsEmbedder())
    assert again.stages["index"] == "reused"
    auto = _quiet_build(_config(home, movielens_dir), BagOfWordsEmbedder())
    assert auto.stages["index"] == "built" and auto.index["kind"] == "flat"
    assert "below the HNSW threshold" in auto.index["kind_reason"]
    assert load_manifest(_config(home, movielens_dir)).index["index_kind"] == "auto"


def test_nothing_built_is_a_clear_error(tmp_path: Path) -> None:
    config = _config(tmp_path / "home", tmp_path)
    with pytest.raises(ArtifactError, match="recbot build"):
        open_artifacts(config, BagOfWordsEmbedder())


def test_data_hash_does_not_depend_on_location(tmp_path: Path) -> None:
    a = _quiet_build(
        _config(tmp_path / "h1", write_movielens(tmp_path / "a")), BagOfWordsEmbedder()
    )
    b = _quiet_build(
        _config(tmp_path / "h2", write_movielens(tmp_path / "b")), BagOfWordsEmbedder()
    )
    assert a.data_hash == b.data_hash


class _StopsAfter(BagOfWordsEmbedder):
    """Embeds pages of 4 texts and fails on the third, as a killed build would stop."""

    page_size = 4

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if len(self.calls) == 2:
            raise KeyboardInterrupt
        return super().embed(texts)


def test_an_interrupted_build_embeds_only_the_rest(tmp_path: Path, movielens_dir: Path) -> None:
    config = _config(tmp_path / "home", movielens_dir)
    with pytest.raises(KeyboardInterrupt):
        _quiet_build(config, _StopsAfter())
    assert Manifest.read(config.manifest_path) is None
    embedder = BagOfWordsEmbedder()
    manifest = _quiet_build(config, embedder)
    # the two finished pages were kept; the descriptions had not started
    assert embedder.embedded_count == 16 - 8 + 16
    assert manifest.stages["embed"] == "built" and manifest.counts["items"] == 16
    fresh = _quiet_build(_config(tmp_path / "other", movielens_dir), BagOfWordsEmbedder())
    assert fresh.index["faiss_sha256"] == manifest.index["faiss_sha256"]
