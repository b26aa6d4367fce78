"""`recbot chat --thread` keeps conversations to their owner, and `recbot forget --user` deletes
a person's conversations, feedback, account and chat history (issue 14, items 4 and 9)."""

from __future__ import annotations

import asyncio
import io
import warnings
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from agent.ownership import ThreadOwnerRow
from agent.persistence import AccountRow, FeedbackRow, UserData, sqlite_checkpointer
from agent.settings import Settings
from catalog.store import Store
from tests.fakes import BagOfWordsEmbedder
from tests.unit.ui.test_cli_agent import built as built  # the fixture, re-used by name
from ui.cli import main

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="traceloop")
    from chainlit.user import User

    from tests.unit.ui.test_datalayer import acting_as, step
    from ui.datalayer import RecbotDataLayer, async_database_url


def chat(built: BagOfWordsEmbedder, monkeypatch: pytest.MonkeyPatch, lines: str, *args: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    return main(["chat", "-k", "3", *args], embedder=built)


def test_chat_refuses_a_thread_of_someone_else_plainly(
    built: BagOfWordsEmbedder, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert chat(built, monkeypatch, "I loved Toy Story\n", "--user", "5", "--thread", "t5") == 0
    assert chat(built, monkeypatch, "I loved Heat\n", "--thread", "anon") == 0
    capsys.readouterr()
    for who in (["--user", "6"], []):  # another user, or nobody, on user 5's thread
        assert chat(built, monkeypatch, "What did I like?\n", *who, "--thread", "t5") == 1
        out, err = capsys.readouterr()
        assert "belongs to someone else" in err and "Traceback" not in out + err
        assert "recbot>" not in out  # nothing of the conversation was shown
    assert chat(built, monkeypatch, "more\n", "--user", "5", "--thread", "anon") == 1
    assert "belongs to someone else" in capsys.readouterr().err  # nobody's is not anybody's
    assert chat(built, monkeypatch, "something newer\n", "--user", "5", "--thread", "t5") == 0
    out, err = capsys.readouterr()  # the owner carries on
    assert "recbot> " in out and "someone else" not in out + err


def _chat_history(settings: Settings, identifier: str, thread_id: str) -> None:
    """A web conversation in the chat history: a thread with one message, as ``identifier``."""

    async def write() -> None:
        acting_as(identifier)
        layer = RecbotDataLayer(async_database_url(settings.resolved_database_url))
        try:
            user = await layer.create_user(User(identifier=identifier))
            assert user is not None
            await layer.update_thread(thread_id, name="Films", user_id=user.id)
            await layer.create_step(step(f"{thread_id}-s", thread_id, "2024-05-01T10:00:00Z"))
        finally:
            await layer.close()

    asyncio.run(write())


def _count(store: Store, column: Any, value: object) -> int:
    with Session(store.engine) as session:
        return int(session.scalar(select(func.count()).where(column == value)) or 0)


def test_forget_deletes_a_persons_conversations_feedback_account_and_history(
    built: BagOfWordsEmbedder, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings()
    store = Store(settings.resolved_database_url)
    ada = UserData(store).user_id_for("ada@example.org")  # a web sign-in's account
    bob = UserData(store).user_id_for("bob@example.org")
    for user_id, thread in ((ada, "ada-1"), (ada, "ada-2"), (bob, "bob-1")):
        lines = "I loved Toy Story\n/like 1\n"
        assert chat(built, monkeypatch, lines, "--user", str(user_id), "--thread", thread) == 0
    _chat_history(settings, "ada@example.org", "ada-1")
    _chat_history(settings, "bob@example.org", "bob-1")
    liked = {user_id: _count(store, FeedbackRow.user_id, user_id) for user_id in (ada, bob)}
    assert liked[ada] and liked[bob]
    capsys.readouterr()

    assert main(["forget", "--user", "ada@example.org"], embedder=built) == 0
    out = capsys.readouterr().out
    assert f"user id {ada}" in out
    for line in ("conversations    2", f"feedback         {liked[ada]}", "accounts         1"):
        assert line in out, out
    for line in ("chat threads     1", "chat messages    1", "chat users       1"):
        assert line in out, out

    assert _count(store, FeedbackRow.user_id, ada) == 0
    assert _count(store, AccountRow.identifier, "ada@example.org") == 0
    assert _count(store, ThreadOwnerRow.user_id, ada) == 0
    saver = sqlite_checkpointer(settings.checkpoint_path)
    try:
        for thread, kept in (("ada-1", False), ("ada-2", False), ("bob-1", True)):
            found = saver.get_tuple({"configurable": {"thread_id": thread}})
            assert (found is not None) is kept, thread
    finally:
        saver.conn.close()
    assert _count(store, FeedbackRow.user_id, bob) == liked[bob]  # the others keep theirs
    assert _count(store, AccountRow.identifier, "bob@example.org") == 1
    with store.engine.connect() as connection:
        left = connection.execute(text("SELECT id FROM chat_threads")).scalars().all()
    assert left == ["bob-1"]
    store.close()


def test_forget_takes_a_numeric_user_id_and_says_when_nobody_is_known(
    built: BagOfWordsEmbedder, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert chat(built, monkeypatch, "I loved Toy Story\n/no 1\n", "--user", "5") == 0
    capsys.readouterr()
    assert main(["forget", "--user", "5"], embedder=built) == 0
    out = capsys.readouterr().out
    assert "conversations    1" in out and "feedback         1" in out
    for unknown in ("5", "nobody@example.org"):  # nothing is left of user 5
        assert main(["forget", "--user", unknown], embedder=built) == 1
        out, err = capsys.readouterr()
        assert f"Nobody is known as '{unknown}'" in err and "Traceback" not in out + err
