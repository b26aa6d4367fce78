"""Accounts: identities map to user ids atomically, even when many arrive at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent import persistence
from agent.persistence import ACCOUNT_ID_BASE, UserData, catalog_user_id
from catalog.store import Store


def _users(tmp_path: Path) -> UserData:
    return UserData(Store(f"sqlite:///{tmp_path / 'app.db'}"))


@pytest.fixture
def users(database_url: str) -> Iterator[UserData]:
    """Accounts on SQLite and on Postgres (tests/postgres.py)."""
    users = UserData(Store(database_url))
    yield users
    users.store.close()


def test_concurrent_first_visits_all_get_distinct_accounts(
    users: UserData, monkeypatch: pytest.MonkeyPatch
) -> None:
    # New ids are drawn one at a time (SQLite's writer lock, Postgres's advisory lock), so no
    # visitor should need a second attempt; one attempt each makes a race fail every time.
    monkeypatch.setattr(persistence, "ACCOUNT_RETRIES", 1)
    count = 50
    ids: dict[str, int] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def visit(name: str) -> None:
        try:
            start.wait()
            ids[name] = users.user_id_for(name)
        except BaseException as error:  # the test counts every failure
            errors.append(error)

    threads = [threading.Thread(target=visit, args=(f"visitor-{i}",)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(ids.values())) == count
    assert all(user_id > ACCOUNT_ID_BASE for user_id in ids.values())
    assert all(users.user_id_for(name) == user_id for name, user_id in ids.items())


def test_the_same_identity_arriving_twice_at_once_gets_one_id(users: UserData) -> None:
    count = 20
    ids: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def visit() -> None:
        try:
            start.wait()
            ids.append(users.user_id_for("alice"))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=visit) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(ids)) == 1


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ("42", 42),
        ("0042", 42),
        ("²", None),
        ("٤٢", None),
        ("4²", None),
        ("1" * 20, None),
        ("-3", None),
    ],
)
def test_only_plain_ascii_digits_in_range_name_a_catalog_user(
    identifier: str, expected: int | None
) -> None:
    assert catalog_user_id(identifier) == expected


@pytest.mark.parametrize("identifier", ["²", "٤٢", "1" * 20])
def test_unusual_digit_names_get_accounts_of_their_own(tmp_path: Path, identifier: str) -> None:
    users = _users(tmp_path)
    user_id = users.user_id_for(identifier)
    assert user_id > ACCOUNT_ID_BASE
    assert users.user_id_for(identifier) == user_id


def test_conversation_databases_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    import asyncio
    import os
    import stat

    from agent.persistence import async_sqlite_checkpointer, sqlite_checkpointer

    old_umask = os.umask(0o022)  # what most systems give: new files 0644
    try:
        saver = sqlite_checkpointer(tmp_path / "cli" / "conversations.db")
        saver.conn.close()

        async def web() -> None:
            saver = await async_sqlite_checkpointer(tmp_path / "web" / "conversations.db")
            await saver.conn.close()

        asyncio.run(web())
    finally:
        os.umask(old_umask)
    for name in ("cli", "web"):
        assert stat.S_IMODE((tmp_path / name / "conversations.db").stat().st_mode) == 0o600
