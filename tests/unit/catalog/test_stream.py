"""The streamed load and chunked store write end where the in-memory loader and write_catalog do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog import store_stream
from catalog.errors import MalformedRowError
from catalog.loaders import load_directory
from catalog.store import Store
from catalog.store_stream import stored_items, write_streamed
from catalog.stream import scan_catalog
from tests.conftest import MOVIES, OVERVIEWS, write_movielens


def _generic_dir(directory: Path) -> Path:
    directory.mkdir(parents=True)
    items = [
        {"id": 3, "title": "Heat", "year": 1995, "genres": ["Crime"], "tags": ["heist"]},
        {"id": 1, "title": "Toy Story (1995)", "genres": "Animation|Comedy", "overview": "Toys."},
        {"id": 2, "title": "Jumanji", "tags": "board game|jungle"},
        {"id": 1, "title": "Duplicate"},
        {"id": "x", "title": "Bad id"},
    ]
    (directory / "items.jsonl").write_text("\n".join(json.dumps(i) for i in items) + "\n")
    (directory / "interactions.csv").write_text(
        "user_id,item_id,rating,timestamp\n7,1,4.5,10\n7,3,,11\n8,3,2,\n8,99,1,1\n8,2,3.5,12\n"
    )
    return directory


def _stored(url: str) -> tuple[list[object], set[object]]:
    store = Store(url, create=False)
    try:
        items = [item for page in stored_items(store, page=4) for item in page]
        return items, set(store.interactions())
    finally:
        store.close()


def _write(url: str, directory: Path) -> store_stream.WriteReport:
    store = Store(url)
    try:
        return write_streamed(store, scan_catalog(directory), chunk=3)
    finally:
        store.close()


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_stream, "WRITE_CHUNK", 2)


@pytest.mark.parametrize("kind", ["movielens", "generic"])
def test_the_streamed_write_stores_what_the_loader_loads(tmp_path: Path, kind: str) -> None:
    directory = (
        write_movielens(tmp_path / "ml") if kind == "movielens" else _generic_dir(tmp_path / "g")
    )
    url = f"sqlite:///{tmp_path / 'app.db'}"
    report = _write(url, directory)
    loaded = load_directory(directory)
    items, interactions = _stored(url)
    assert items == list(loaded.catalog)  # tags ranked, overviews joined, popularity and means
    assert interactions == set(loaded.interactions)
    assert report.items_added == len(loaded.catalog) and report.items_updated == 0
    assert scan_catalog(directory).report.summary() == loaded.report.summary()


def test_a_rewrite_mirrors_the_changed_files(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    _write(url, write_movielens(tmp_path / "v1"))
    movies = [m for m in MOVIES if m[0] != 13] + [(17, "Alien (1979)", "Horror|Sci-Fi")]
    movies = [(2, "Jumanji (1996)", m[2]) if m[0] == 2 else m for m in movies]
    overviews = {k: v for k, v in OVERVIEWS.items() if k != 8}  # Inception loses its overview
    v2 = write_movielens(tmp_path / "v2", movies=movies, overviews=overviews)
    report = _write(url, v2)
    items, interactions = _stored(url)
    loaded = load_directory(v2)
    assert items == list(loaded.catalog)
    assert interactions >= set(loaded.interactions)
    assert (report.items_added, report.items_updated, report.items_removed) == (1, 2, 1)
    again = _write(url, v2)
    assert (again.items_added, again.items_updated, again.items_removed) == (0, 0, 0)
    assert again.interactions_added == 0


def test_a_malformed_row_is_reported_once_or_raised_when_strict(tmp_path: Path) -> None:
    directory = write_movielens(tmp_path / "ml")
    with (directory / "ratings.csv").open("a") as handle:
        handle.write("1,1,not-a-number,5\n")
    source = scan_catalog(directory)
    assert source.report.skipped_total == 1
    with pytest.raises(MalformedRowError):
        scan_catalog(directory, strict=True)
