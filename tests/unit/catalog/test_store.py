from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from catalog.domain import Catalog, Interaction, Item
from catalog.errors import StoreError
from catalog.store import Store, redact_url

ITEMS = [
    Item(1, "Toy Story", 1995, ("Animation", "Children"), ("pixar",), "Toys.", 3, 4.0),
    Item(2, "Heat", 1995, ("Crime",), (), "", 1, 3.5),
    Item(3, "Inception", 2010, ("Sci-Fi",), ("dreams",), "Dreams.", 2, 4.5),
]
INTERACTIONS = [
    Interaction(10, 1, 4.0, 100),
    Interaction(10, 3, 5.0, 200),
    Interaction(11, 1, 3.0, 150),
    Interaction(11, 2, 3.5, 160),
]


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)  # SQLite and Postgres: tests/postgres.py
    yield store
    store.close()


def test_round_trip_preserves_items_and_interactions(store: Store) -> None:
    store.write_catalog(Catalog(ITEMS), INTERACTIONS)
    assert list(store.load_catalog()) == sorted(ITEMS, key=lambda i: i.id)
    assert store.interactions(10) == [INTERACTIONS[0], INTERACTIONS[1]]
    assert store.counts() == {"items": 3, "interactions": 4, "users": 2}


def test_writing_the_same_catalog_twice_changes_nothing(store: Store) -> None:
    first = store.write_catalog(Catalog(ITEMS), INTERACTIONS)
    second = store.write_catalog(Catalog(ITEMS), INTERACTIONS)
    assert first.changed and (first.items_added, first.interactions_added) == (3, 4)
    assert not second.changed
    assert (second.items_unchanged, second.interactions_added) == (3, 0)
    assert store.counts() == {"items": 3, "interactions": 4, "users": 2}


def test_changed_items_are_updated_and_vanished_items_removed(store: Store) -> None:
    store.write_catalog(Catalog(ITEMS), INTERACTIONS)
    renamed = Item(1, "Toy Story!", 1995, ("Animation",), (), "", 3, 4.0)
    report = store.write_catalog(Catalog([renamed, ITEMS[2]]), INTERACTIONS)
    assert (report.items_updated, report.items_removed, report.items_unchanged) == (1, 1, 1)
    assert store.load_catalog().get(1).title == "Toy Story!"
    assert 2 not in store.load_catalog()
    assert all(i.item_id != 2 for i in store.interactions())


def test_interactions_with_unknown_items_are_not_written(store: Store) -> None:
    store.write_catalog(Catalog(ITEMS), [*INTERACTIONS, Interaction(12, 99, 5.0, 1)])
    assert all(i.item_id != 99 for i in store.interactions())


def test_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="recbot build"):
        Store(f"sqlite:///{tmp_path / 'nope.db'}", create=False)


def test_locked_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    store = Store(f"sqlite:///{path}", busy_timeout_s=0.1)
    blocker = sqlite3.connect(path)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked"):
            store.write_catalog(Catalog(ITEMS), INTERACTIONS)
    finally:
        blocker.rollback()
        blocker.close()
    store.write_catalog(Catalog(ITEMS), INTERACTIONS)  # nothing was lost: it works once free
    assert store.counts()["items"] == 3


def test_redact_url_hides_passwords() -> None:
    assert "secret" not in redact_url("postgresql://bob:secret@db/recbot")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_databases_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)  # what most systems give: new files 0644
    try:
        fresh = tmp_path / "new" / "recbot.db"
        Store(f"sqlite:///{fresh}")
        assert _mode(fresh) == 0o600
        older = tmp_path / "older.db"
        sqlite3.connect(older).close()
        Path(f"{older}-wal").touch()
        older.chmod(0o644)
        Store(f"sqlite:///{older}")
        assert _mode(older) == 0o600 and _mode(Path(f"{older}-wal")) == 0o600
    finally:
        os.umask(old_umask)


def test_sqlite_files_use_the_write_ahead_log(tmp_path: Path) -> None:
    """Readers never wait for a writer: the web app's turns go on while feedback is saved."""
    path = tmp_path / "app.db"
    Store(f"sqlite:///{path}").close()
    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
