"""The catalog layer on the real ml-latest-small (built once per session; see conftest).

What reads the catalog back from the store (counts, titles, a rebuild's reuse, the CLI) runs on
both backends (``real_stored``: the home's SQLite file, and the suite's Postgres server); the
retrieval tests read only the FAISS files, the same on both."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.build import build
from catalog.embeddings import SentenceTransformerEmbedder
from catalog.search import ItemFilter
from tests.real_catalog import RealCatalog
from ui.cli import main

FAMILY = {"Animation", "Children"}


def test_the_whole_catalog_is_built(real_stored: RealCatalog) -> None:
    manifest = real_stored.artifacts.manifest
    assert len(real_stored.artifacts.catalog) == 9742  # as read back from the store
    assert manifest.counts["items"] == 9742
    assert manifest.counts["interactions"] == 100836
    assert manifest.counts["users"] == 610
    assert manifest.counts["skipped_rows"] == 0
    assert manifest.model_name == "sentence-transformers/all-MiniLM-L6-v2" and manifest.dim == 384
    assert manifest.index["kind"] == "flat" and manifest.index["count"] == 9742


@pytest.mark.parametrize(
    ("query", "movie_id"),
    [
        ("Toy Story", 1),
        ("toy story", 1),
        ("Toy Story (1995)", 1),
        ("inception", 79132),
        ("the matrix", 2571),
        ("Matrix, The (1999)", 2571),
        ("Amélie", 4973),
        ("amelie", 4973),
        ("Incepton", 79132),
    ],
)
def test_titles_resolve_to_the_right_movie(
    real_stored: RealCatalog, query: str, movie_id: int
) -> None:
    best = real_stored.artifacts.catalog.search_titles(query)[0]
    assert best.item.id == movie_id
    assert best.sure


def test_more_like_toy_story_is_mostly_family_animation(real: RealCatalog) -> None:
    results = real.artifacts.retriever.by_item(1, 10)
    catalog = real.artifacts.catalog
    family = [c for c in results if FAMILY & set(catalog.get(c.item_id).genres)]
    assert 1 not in {c.item_id for c in results}
    assert len(family) >= 7, [catalog.get(c.item_id).display_title for c in results]


def test_recent_and_no_horror_holds_for_every_result(real: RealCatalog) -> None:
    item_filter = ItemFilter(min_year=2010, exclude_genres=frozenset({"Horror"}))
    results = real.artifacts.retriever.by_text(
        "a haunted house with ghosts at night", 50, item_filter
    )
    assert len(results) == 50
    for candidate in results:
        item = real.artifacts.catalog.get(candidate.item_id)
        assert item.year is not None and item.year >= 2010
        assert "Horror" not in item.genres


def test_text_search_finds_what_it_describes(real: RealCatalog) -> None:
    results = real.artifacts.retriever.by_text("toys come to life when the kids are away", 20)
    assert 1 in {c.item_id for c in results}  # Toy Story


def test_rebuild_with_unchanged_inputs_reuses_everything(real_stored: RealCatalog) -> None:
    embedder = SentenceTransformerEmbedder()
    manifest = build(real_stored.config, embedder, progress=False, log=lambda _msg: None)
    assert set(manifest.stages.values()) == {"reused"}
    assert embedder._model is None  # the model was never even loaded


def test_cli_search_on_the_real_catalog(
    real_stored: RealCatalog, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RECBOT_HOME", str(real_stored.config.home))
    monkeypatch.setenv("RECBOT_DATA_DIR", str(real_stored.config.data_dir))
    if real_stored.settings.database_url:
        monkeypatch.setenv("RECBOT_DATABASE_URL", real_stored.settings.database_url)
    args = ["search", "--like", "Toy Story (1995)", "--min-year", "2000", "-k", "5", "--json"]
    assert main(args) == 0
    results = json.loads(capsys.readouterr().out)
    assert len(results) == 5
    assert all(int(r["title"][-5:-1]) >= 2000 for r in results)
    assert main(["info"]) == 0
    assert "9742" in capsys.readouterr().out


def test_no_data_files_are_tracked() -> None:
    root = Path(__file__).resolve().parents[2]
    tracked = {p.name for p in root.rglob("*.csv") if ".venv" not in p.parts}
    assert not tracked & {"ratings.csv", "movies.csv", "tags.csv", "links.csv", "overviews.csv"}
