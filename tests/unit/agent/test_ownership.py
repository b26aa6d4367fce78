"""A conversation's memory belongs to the identity of its first turn (issue 14, item 4): the
owner book (both kinds, one contract) and the Recommender's reads and writes through it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.context import Deps
from agent.ownership import MemoryOwners, OwnerBook, ThreadOwners
from agent.persistence import async_sqlite_checkpointer, sqlite_checkpointer
from agent.recommender import Recommender
from catalog.errors import NotYourConversation, RecbotError
from catalog.store import Store


@pytest.fixture(params=["memory", "database"])
def book(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OwnerBook]:
    if request.param == "memory":
        yield MemoryOwners()
        return
    store = Store(f"sqlite:///{tmp_path / 'app.db'}")
    yield ThreadOwners(store)
    store.close()


def test_the_first_claim_owns_the_thread_and_nobody_else_gets_it(book: OwnerBook) -> None:
    book.claim("t1", 7)
    book.claim("t1", 7)  # the owner continues
    book.check("t1", 7)
    for other in (8, None):
        with pytest.raises(NotYourConversation):
            book.claim("t1", other)
        with pytest.raises(NotYourConversation):
            book.check("t1", other)
    assert book.owner("t1") is not None and book.owner("t1").user_id == 7  # type: ignore[union-attr]


def test_a_claim_that_loses_the_race_is_refused(
    book: OwnerBook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two first turns of one thread at once: the book is read (empty) by both, the other
    claimant records first; this one's record changes nothing and its turn is refused."""
    record = book._record

    def other_first(thread_id: str, user_id: int | None) -> None:
        record(thread_id, 8)  # the racing claimant
        record(thread_id, user_id)  # ours: never overwrites

    monkeypatch.setattr(book, "_record", other_first)
    with pytest.raises(NotYourConversation):
        book.claim("t1", 7)
    assert book.owner("t1").user_id == 8  # type: ignore[union-attr]


def test_an_anonymous_conversation_is_owned_too(book: OwnerBook) -> None:
    book.claim("cli", None)
    book.check("cli", None)
    with pytest.raises(NotYourConversation):
        book.claim("cli", 42)
    book.check("unknown", 42)  # nobody owns it yet: reading it reads nothing


def test_released_threads_are_free_and_each_user_has_their_list(book: OwnerBook) -> None:
    book.claim("a1", 1)
    book.claim("a2", 1)
    book.claim("b1", 2)
    assert sorted(book.threads_of(1)) == ["a1", "a2"] and book.threads_of(2) == ["b1"]
    assert book.release("a1") is True and book.release("a1") is False
    book.claim("a1", 2)
    assert sorted(book.threads_of(2)) == ["a1", "b1"]


def test_the_refusal_is_a_friendly_recbot_error() -> None:
    error = NotYourConversation("t1")
    assert isinstance(error, RecbotError) and error.thread_id == "t1"
    assert "belongs to someone else" in str(error) and "t1" not in str(error)


def test_reply_refuses_another_users_thread(recommender: Recommender) -> None:
    first = recommender.reply("something like Toy Story", thread_id="t1", user_id=1)
    with pytest.raises(NotYourConversation):
        recommender.reply("more like that", thread_id="t1", user_id=2)
    with pytest.raises(NotYourConversation):
        recommender.reply("more like that", thread_id="t1")  # anonymous is someone else too
    with pytest.raises(NotYourConversation):
        recommender.record_feedback("t1", first.recommendations[0].item_id, "liked", user_id=2)
    with pytest.raises(NotYourConversation):
        recommender.ensure_access("t1", 2)
    again = recommender.reply("more like that", thread_id="t1", user_id=1)
    assert again.thread_id == "t1"


def _stream(recommender: Recommender, text: str, thread: str, user_id: int | None) -> None:
    async def run() -> None:
        async for _event in recommender.astream(text, thread_id=thread, user_id=user_id, k=3):
            pass

    asyncio.run(run())


def test_the_async_api_refuses_another_users_thread(recommender: Recommender) -> None:
    _stream(recommender, "something like Toy Story", "web", 1)
    with pytest.raises(NotYourConversation):
        _stream(recommender, "what else?", "web", 2)
    with pytest.raises(NotYourConversation):
        asyncio.run(recommender.ahistory("web", user_id=2))
    with pytest.raises(NotYourConversation):
        asyncio.run(recommender.afeedback("web", 1, "liked", user_id=2))
    assert [m.role for m in asyncio.run(recommender.ahistory("web", user_id=1))] == [
        "user",
        "assistant",
    ]


def test_owners_outlive_the_process_with_a_persistent_checkpointer(
    agent_deps: Deps, tmp_path: Path
) -> None:
    path = tmp_path / "conversations.db"
    saver = sqlite_checkpointer(path)
    Recommender(agent_deps, saver).reply("something like Toy Story", thread_id="p", user_id=1)
    saver.conn.close()
    restarted = sqlite_checkpointer(path)  # a new process: owners come from the app database
    try:
        later = Recommender(agent_deps, restarted)
        assert isinstance(later.owners, ThreadOwners)
        with pytest.raises(NotYourConversation):
            later.reply("more", thread_id="p", user_id=2)
        later.ensure_access("p", 1)
    finally:
        restarted.conn.close()


def test_aforget_deletes_the_memory_for_its_owner_only(agent_deps: Deps, tmp_path: Path) -> None:
    async def scenario() -> None:
        saver = await async_sqlite_checkpointer(tmp_path / "conversations.db")
        try:
            rec = Recommender(agent_deps, saver)
            async for _event in rec.astream("something like Toy Story", thread_id="f", user_id=1):
                pass
            with pytest.raises(NotYourConversation):
                await rec.aforget("f", user_id=2)
            assert await rec.ahistory("f", user_id=1)  # still there
            await rec.aforget("f", user_id=1)
            assert await rec.ahistory("f", user_id=2) == []  # gone, and nobody's any more
            assert rec.owners.owner("f") is None
            assert await saver.aget_tuple({"configurable": {"thread_id": "f"}}) is None
        finally:
            await saver.conn.close()

    asyncio.run(scenario())
