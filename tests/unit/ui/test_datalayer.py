"""RecbotDataLayer against a fresh SQLite file per test, through Chainlit's own types."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import warnings
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, cast
from unittest.mock import Mock

import pytest
from sqlalchemy import select, text

from catalog.errors import StoreError

with warnings.catch_warnings():
    # chainlit imports literalai -> traceloop, whose pydantic v1-style config warns once at
    # import; with filterwarnings=error that third-party warning would fail collection.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="traceloop")
    from chainlit.context import ChainlitContext, context_var
    from chainlit.element import CustomElement, Text
    from chainlit.message import Message
    from chainlit.session import HTTPSession, WebsocketSession
    from chainlit.step import StepDict
    from chainlit.types import Feedback, Pagination, ThreadFilter
    from chainlit.user import User

    from ui.datalayer import RecbotDataLayer, ThreadRow, async_database_url

T = TypeVar("T")
Scenario = Callable[[RecbotDataLayer], Awaitable[T]]


def _url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"


@pytest.fixture
def chat_url(database_url: str) -> str:
    """The chat history on SQLite and on Postgres (tests/postgres.py): both pass one suite."""
    return async_database_url(database_url)


def acting_as(identifier: str) -> None:
    """From here on the scenario's calls come from this signed-in user (an HTTP session)."""
    user = User(identifier=identifier)
    context_var.set(ChainlitContext(HTTPSession(id=identifier, client_type="webapp", user=user)))


def run(url: str, scenario: Scenario[T], session: Any = None, **options: Any) -> T:
    """Run a scenario on a fresh layer inside a Chainlit context, as the server does: signed
    in as "ada" unless another ``session`` is given.

    The decorated write methods read the Chainlit context; an HTTP session runs them at once.
    """

    async def main() -> T:
        if session is None:
            acting_as("ada")
        else:
            context_var.set(ChainlitContext(session))
        layer = RecbotDataLayer(url, **options)
        try:
            return await scenario(layer)
        finally:
            await layer.close()

    return asyncio.run(main())


def step(step_id: str, thread_id: str, created_at: str, **fields: Any) -> StepDict:
    """A StepDict shaped like ``Message.to_dict()``; ``fields`` override the defaults."""
    shape = {"name": "Assistant", "type": "assistant_message", "output": "", "metadata": {}}
    shape.update(id=step_id, threadId=thread_id, createdAt=created_at, **fields)
    return cast("StepDict", shape)


async def _user_with_thread(layer: RecbotDataLayer, thread_id: str, name: str) -> str:
    user = await layer.create_user(User(identifier="ada"))
    assert user is not None
    await layer.update_thread(thread_id, name=name, user_id=user.id)
    return user.id


def test_create_user_round_trips_and_is_idempotent(chat_url: str) -> None:
    async def scenario(layer: RecbotDataLayer) -> None:
        assert await layer.get_user("ada") is None
        first = await layer.create_user(User(identifier="ada", metadata={"role": "admin"}))
        again = await layer.create_user(User(identifier="ada", metadata={"role": "user"}))
        stored = await layer.get_user("ada")
        assert first is not None and again is not None and stored is not None
        assert again.id == first.id == stored.id
        assert stored.createdAt == first.createdAt and stored.createdAt.endswith("Z")
        assert stored.identifier == "ada" and stored.metadata == {"role": "user"}

    run(chat_url, scenario)


def test_update_thread_creates_then_merges_without_erasing(chat_url: str) -> None:
    async def scenario(layer: RecbotDataLayer) -> None:
        user_id = await _user_with_thread(layer, "t1", "Sci-fi please")
        await layer.update_thread("t1", metadata={"chat_profile": "default", "env": {"a": 1}})
        await layer.update_thread("t1", metadata={"env": None, "seen": 3}, tags=["movies"])
        thread = await layer.get_thread("t1")
        assert thread is not None
        assert thread["name"] == "Sci-fi please"  # not overwritten by the None name
        assert thread["userId"] == user_id and thread["userIdentifier"] == "ada"
        assert thread["metadata"] == {"chat_profile": "default", "seen": 3}
        assert thread["tags"] == ["movies"]
        assert thread["steps"] == [] and thread["elements"] == []
        assert await layer.get_thread("missing") is None

    run(chat_url, scenario)


def test_steps_are_upserted_merged_and_ordered_by_time(chat_url: str) -> None:
    async def scenario(layer: RecbotDataLayer) -> None:
        await layer.create_step(step("s2", "t1", "2024-05-01T10:00:02.000000Z", output="Hi"))
        await layer.create_step(
            step("s1", "t1", "2024-05-01T10:00:01.000000Z", type="user_message")
        )
        await layer.update_step(
            StepDict(id="s2", threadId="t1", output="Try Alien (1979).", metadata={"n": 1})
        )
        await layer.update_step(StepDict(id="s2", threadId="t1", metadata={}, end=None))
        thread = await layer.get_thread("t1")  # created by the first step
        assert thread is not None
        assert [s["id"] for s in thread["steps"]] == ["s1", "s2"]
        second = thread["steps"][1]
        assert second["output"] == "Try Alien (1979)." and second["name"] == "Assistant"
        assert second["metadata"] == {"n": 1} and second["feedback"] is None
        assert second["createdAt"] == "2024-05-01T10:00:02.000000Z"

    run(chat_url, scenario)


def test_chainlit_messages_round_trip_to_what_resuming_reads(chat_url: str) -> None:
    async def scenario(layer: RecbotDataLayer) -> None:
        question = Message(content="Something like Heat?", author="User", type="user_message")
        answer = Message(content="Try Collateral (2004).", author="Assistant")
        for message in (question, answer):  # unsent messages carry no createdAt
            await layer.create_step(message.to_dict())
        thread = await layer.get_thread(question.thread_id)
        assert thread is not None
        resumed = [Message.from_dict(s) for s in thread["steps"]]  # what on_chat_resume does
        assert [(m.content, m.type) for m in resumed] == [
            ("Something like Heat?", "user_message"),
            ("Try Collateral (2004).", "assistant_message"),
        ]
        assert all(m.created_at and m.created_at.endswith("Z") for m in resumed)

    run(chat_url, scenario)


async def _updated_at(layer: RecbotDataLayer, thread_id: str) -> datetime:
    async with layer._session("inspect") as session:
        query = select(ThreadRow.updated_at).where(ThreadRow.id == thread_id)
        moment = await session.scalar(query)
    assert moment is not None
    return moment


def test_a_thread_is_as_recent_as_its_latest_step(chat_url: str) -> None:
    async def scenario(layer: RecbotDataLayer) -> None:
        await layer.create_step(step("s1", "t1", "2099-01-01T00:00:05.000000Z"))  # creates t1
        assert await _updated_at(layer, "t1") == datetime(2099, 1, 1, 0, 0, 5)
        await layer.create_step(step("s2", "t1", "2099-01-01T00:00:02Z"))  # earlier: kept
        assert await _updated_at(layer, "t1") == datetime(2099, 1, 1, 0, 0, 5)
        await layer.update_step(StepDict(id="s2", output="Edited"))  # no threadId: its own
        assert await _updated_at(layer, "t1") == datetime(2099, 1, 1, 0, 0, 5)
        await layer.create_step(step("s3", "t1", "2099-01-01T02:00:09+01:00"))  # 01:00:09 UTC
        assert await _updated_at(layer, "t1") == datetime(2099, 1, 1, 1, 0, 9)
        thread = await layer.get_thread("t1")
        assert thread is not None
        assert [(s["id"], s["output"], s["threadId"]) for s in thread["steps"]] == [
            ("s2", "Edited", "t1"),
            ("s1", "", "t1"),
            ("s3", "", "t1"),
        ]
        assert thread["steps"][0]["createdAt"] == "2099-01-01T00:00:02Z"

    run(chat_url, scenario)


def test_cards_saved_again_change_in_place(chat_url: str) -> None:
    async def scenario(layer: RecbotDataLayer) -> None:
        await layer.create_step(step("s1", "t1", "2024-05-01T10:00:00Z"))
        first = CustomElement(name="MovieCards", props={"items": [1]}, thread_id="t1", for_id="s1")
        second = CustomElement(name="MovieCards", props={"items": [2]}, thread_id="t1", for_id="s1")
        await layer.create_element(first)
        await layer.create_element(second)
        first.props = {"items": [3]}  # a 👎 on a card swaps one in, as ui/app.py stores it
        await layer.create_element(first)
        thread = await layer.get_thread("t1")
        assert thread is not None  # still first: saving again keeps its place
        assert [(e["id"], e["props"]) for e in thread["elements"]] == [
            (first.id, {"items": [3]}),
            (second.id, {"items": [2]}),
        ]

    run(chat_url, scenario)


def test_feedback_upsert_shows_on_its_step_and_can_be_deleted(chat_url: str) -> None:
    async def scenario(layer: RecbotDataLayer) -> None:
        await layer.create_step(step("s1", "t1", "2024-05-01T10:00:00Z"))
        feedback_id = await layer.upsert_feedback(Feedback(forId="s1", value=1, threadId="t1"))
        same = await layer.upsert_feedback(
            Feedback(forId="s1", value=0, id=feedback_id, comment="meh")
        )
        assert same == feedback_id
        thread = await layer.get_thread("t1")
        assert thread is not None
        assert thread["steps"][0]["feedback"] == {
            "forId": "s1",
            "id": feedback_id,
            "value": 0,
            "comment": "meh",
        }
        assert await layer.delete_feedback(feedback_id) is True
        thread = await layer.get_thread("t1")
        assert thread is not None and thread["steps"][0]["feedback"] is None

    run(chat_url, scenario)


def test_custom_element_props_round_trip_into_the_thread(
    chat_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    props = {"items": [{"id": 1, "title": "Toy Story (1995)", "score": 0.9}]}

    async def scenario(layer: RecbotDataLayer) -> None:
        await layer.create_step(step("s1", "t1", "2024-05-01T10:00:00Z"))
        card = CustomElement(name="MovieCards", props=props, thread_id="t1", for_id="s1")
        await layer.create_element(card)
        stored = await layer.get_element("t1", card.id)
        assert stored is not None
        assert stored["props"] == props and stored["type"] == "custom"
        assert stored["forId"] == "s1" and stored["name"] == "MovieCards"
        assert await layer.get_element("other-thread", card.id) is None
        thread = await layer.get_thread("t1")
        assert thread is not None and thread["elements"] == [stored]
        await layer.delete_element(card.id, "t1")
        assert await layer.get_element("t1", card.id) is None

    run(chat_url, scenario)
    assert "without its file" not in caplog.text  # props are the whole content


def test_element_with_content_is_saved_with_a_warning(
    chat_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(layer: RecbotDataLayer) -> None:
        note = Text(name="notes.txt", content="hello", thread_id="t1", for_id="s1")
        await layer.create_element(note)
        stored = await layer.get_element("t1", note.id)
        assert stored is not None and stored["name"] == "notes.txt"

    run(chat_url, scenario)
    assert "without its file" in caplog.text


def test_list_threads_filters_by_user_search_feedback_and_pages(chat_url: str) -> None:
    async def scenario(layer: RecbotDataLayer) -> None:
        ada = await layer.create_user(User(identifier="ada"))
        bob = await layer.create_user(User(identifier="bob"))
        assert ada is not None and bob is not None
        names = ["Horror night", "Family comedy", "Horror classics"]
        for minute, name in enumerate(names):
            thread_id = f"t{minute}"
            await layer.update_thread(thread_id, name=name, user_id=ada.id)
            await layer.create_step(step(f"s{minute}", thread_id, f"2024-05-01T10:0{minute}:00Z"))
        await layer.update_thread("bob-thread", name="Horror too", user_id=bob.id)
        await layer.upsert_feedback(Feedback(forId="s1", value=0))

        everything = await layer.list_threads(Pagination(first=10), ThreadFilter(userId=ada.id))
        assert [t["id"] for t in everything.data] == ["t2", "t1", "t0"]  # newest activity first

        horror = await layer.list_threads(
            Pagination(first=10), ThreadFilter(userId=ada.id, search="HORROR")
        )
        assert [t["id"] for t in horror.data] == ["t2", "t0"]
        disliked = await layer.list_threads(
            Pagination(first=10), ThreadFilter(userId=ada.id, feedback=0)
        )
        assert [t["id"] for t in disliked.data] == ["t1"]

        first = await layer.list_threads(Pagination(first=2), ThreadFilter(userId=ada.id))
        assert [t["id"] for t in first.data] == ["t2", "t1"]
        assert first.pageInfo.hasNextPage and first.pageInfo.endCursor == "t1"
        rest = await layer.list_threads(
            Pagination(first=2, cursor=first.pageInfo.endCursor), ThreadFilter(userId=ada.id)
        )
        assert [t["id"] for t in rest.data] == ["t0"] and not rest.pageInfo.hasNextPage
        assert rest.to_dict()["data"][0]["userIdentifier"] == "ada"  # the server's JSON shape
        with pytest.raises(ValueError, match="userId"):
            await layer.list_threads(Pagination(first=2), ThreadFilter())

    run(chat_url, scenario)


def test_delete_thread_cascades_and_leaves_other_threads(chat_url: str) -> None:
    async def scenario(layer: RecbotDataLayer) -> None:
        for thread_id in ("t1", "t2"):
            await layer.create_step(step(f"{thread_id}-s", thread_id, "2024-05-01T10:00:00Z"))
            await layer.upsert_feedback(Feedback(forId=f"{thread_id}-s", value=1))
            card = CustomElement(
                name="Cards", props={}, thread_id=thread_id, for_id=f"{thread_id}-s"
            )
            await layer.create_element(card)
        await layer.delete_thread("t1")
        assert await layer.get_thread("t1") is None
        async with layer._session("inspect") as session:
            rows = await session.execute(
                text(
                    "SELECT (SELECT count(*) FROM chat_steps), (SELECT count(*) FROM chat_elements),"
                    " (SELECT count(*) FROM chat_feedback)"
                )
            )
            assert tuple(rows.one()) == (1, 1, 1)
        kept = await layer.get_thread("t2")
        assert kept is not None and kept["steps"][0]["feedback"] is not None

    run(chat_url, scenario)


def test_delete_step_removes_its_feedback_and_elements(chat_url: str) -> None:
    async def scenario(layer: RecbotDataLayer) -> None:
        await layer.create_step(step("s1", "t1", "2024-05-01T10:00:00Z"))
        await layer.create_step(step("s2", "t1", "2024-05-01T10:00:01Z"))
        feedback_id = await layer.upsert_feedback(Feedback(forId="s1", value=1))
        await layer.create_element(CustomElement(name="C", props={}, thread_id="t1", for_id="s1"))
        await layer.delete_step("s1")
        thread = await layer.get_thread("t1")
        assert thread is not None
        assert [s["id"] for s in thread["steps"]] == ["s2"] and thread["elements"] == []
        assert await layer.upsert_feedback(Feedback(forId="s2", value=1)) != feedback_id

    run(chat_url, scenario)


def test_thread_author_is_the_identifier_of_whoever_created_it(chat_url: str) -> None:
    async def scenario(layer: RecbotDataLayer) -> None:
        await _user_with_thread(layer, "t1", "Chat")
        await layer.update_thread("no-user-given")
        assert await layer.get_thread_author("t1") == "ada"
        assert await layer.get_thread_author("no-user-given") == "ada"
        assert await layer.get_thread_author("missing") == ""

    run(chat_url, scenario)


def test_favorite_steps_are_listed_for_their_user(chat_url: str) -> None:
    async def scenario(layer: RecbotDataLayer) -> None:
        user_id = await _user_with_thread(layer, "t1", "Chat")
        await layer.create_step(step("s1", "t1", "2024-05-01T10:00:00Z", output="Heat"))
        await layer.create_step(step("s2", "t1", "2024-05-01T10:00:01Z"))
        thread = await layer.get_thread("t1")
        assert thread is not None
        await layer.set_step_favorite(thread["steps"][0], True)
        favorites = await layer.get_favorite_steps(user_id)
        assert [(s["id"], s["output"]) for s in favorites] == [("s1", "Heat")]
        assert await layer.build_debug_url() == ""

    run(chat_url, scenario)


def test_a_new_layer_on_the_same_file_sees_the_history(chat_url: str) -> None:
    url = chat_url

    async def write(layer: RecbotDataLayer) -> None:
        await _user_with_thread(layer, "t1", "Before restart")
        await layer.create_step(step("s1", "t1", "2024-05-01T10:00:00Z", output="Inception"))

    async def read(layer: RecbotDataLayer) -> None:
        thread = await layer.get_thread("t1")
        assert thread is not None and thread["name"] == "Before restart"
        assert [s["output"] for s in thread["steps"]] == ["Inception"]
        assert await layer.get_user("ada") is not None

    run(url, write)
    run(url, read)


def test_writes_wait_for_the_first_user_message_in_a_websocket_session(chat_url: str) -> None:
    session = Mock(spec=WebsocketSession)
    session.user = User(identifier="ada")
    session.has_first_interaction = False
    session.thread_queues = {}

    async def scenario(layer: RecbotDataLayer) -> None:
        await layer.create_step(step("s1", "t1", "2024-05-01T10:00:00Z"))
        assert await layer.get_thread("t1") is None  # queued, not written
        queue: deque[Any] = session.thread_queues["create_step"]
        method, owner, args, kwargs = queue.popleft()
        await method(owner, *args, **kwargs)  # what Chainlit's flush does
        assert await layer.get_thread("t1") is not None

    run(chat_url, scenario, session=session)


@pytest.mark.parametrize(
    ("sync_url", "expected"),
    [
        ("sqlite:////home/u/.recbot/recbot.db", "sqlite+aiosqlite:////home/u/.recbot/recbot.db"),
        ("sqlite:///relative.db", "sqlite+aiosqlite:///relative.db"),
        ("postgresql://u:p@db/recbot", "postgresql+psycopg://u:p@db/recbot"),
        ("postgresql+psycopg2://u:p@db:5432/recbot", "postgresql+psycopg://u:p@db:5432/recbot"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql+asyncpg://u@db/recbot", "postgresql+asyncpg://u@db/recbot"),
        ("postgresql+psycopg://u@db/recbot", "postgresql+psycopg://u@db/recbot"),
    ],
)
def test_async_database_url(sync_url: str, expected: str) -> None:
    assert async_database_url(sync_url) == expected


def test_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'nope' / 'app.db'}"
    with pytest.raises(StoreError, match=r"chat history database .*nope.*does not exist"):
        RecbotDataLayer(url)


def test_the_chat_history_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    import os
    import stat

    old_umask = os.umask(0o022)  # what most systems give: new files 0644
    try:
        run(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}", lambda layer: layer.get_user("ada"))
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "app.db").stat().st_mode) == 0o600


def test_an_unusable_url_is_a_clear_error_that_hides_the_password() -> None:
    with pytest.raises(StoreError, match=r"Could not open .*nosuch://ada:\*\*\*@db/chat") as caught:
        RecbotDataLayer("nosuch://ada:secret@db/chat")
    assert "secret" not in str(caught.value)


def test_an_unopenable_path_is_a_clear_error_naming_the_url(tmp_path: Path) -> None:
    (tmp_path / "app.db").mkdir()  # a directory where the database file should be

    async def scenario(layer: RecbotDataLayer) -> None:
        with pytest.raises(StoreError, match=r"Could not .*app\.db"):
            await layer.get_user("ada")
        # aiosqlite stops the worker thread of a failed connect without awaiting it; let it
        # finish while the loop is open, or it reports "Event loop is closed" in a later test.
        for thread in threading.enumerate():
            if "_connection_worker_thread" in thread.name:
                thread.join(timeout=5)

    run(_url(tmp_path), scenario)


def test_a_locked_database_is_a_clear_error_and_nothing_is_lost(tmp_path: Path) -> None:
    async def scenario(layer: RecbotDataLayer) -> None:
        await layer.get_user("ada")  # the tables exist
        blocker = sqlite3.connect(tmp_path / "app.db")
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(StoreError, match=r"app\.db is locked"):
                await layer.create_user(User(identifier="ada"))
        finally:
            blocker.rollback()
            blocker.close()
        assert await layer.create_user(User(identifier="ada")) is not None
        assert await layer.get_user("ada") is not None

    run(_url(tmp_path), scenario, busy_timeout_s=0.1)


def _visitor(n: int) -> User:
    return User(identifier=f"visitor-{n:032x}", metadata={"provider": "visitor"})


def test_signing_in_anonymous_visitors_stores_no_user_rows(chat_url: str) -> None:
    async def scenario(layer: RecbotDataLayer) -> None:
        for n in range(30):  # /auth/header in `none` mode, once per request
            user = await layer.create_user(_visitor(n))
            assert user is not None and user.identifier == _visitor(n).identifier
        async with layer._session("count") as session:
            rows = await session.scalar(text("SELECT count(*) FROM chat_users"))
        assert rows == 0

    run(chat_url, scenario)


def test_a_visitor_is_stored_once_they_chat_or_choose_settings(chat_url: str) -> None:
    async def scenario(layer: RecbotDataLayer) -> None:
        acting_as(_visitor(1).identifier)
        chatting = await layer.create_user(_visitor(1))
        assert chatting is not None and await layer.get_user(chatting.identifier) is None
        await layer.update_thread("t1", name="Scary films", user_id=chatting.id)
        stored = await layer.get_user(chatting.identifier)
        assert stored is not None and stored.id == chatting.id
        assert stored.metadata == {"provider": "visitor"}
        thread = await layer.get_thread("t1")
        assert thread is not None and thread["userIdentifier"] == chatting.identifier
        again = await layer.create_user(_visitor(1))  # a later sign-in finds the same user
        assert again is not None and again.id == chatting.id
        mine = await layer.list_threads(Pagination(first=5), ThreadFilter(userId=again.id))
        assert [t["id"] for t in mine.data] == ["t1"]

        choosing = _visitor(2).identifier
        await layer.set_user_settings(choosing, {"k": 4})
        assert await layer.get_user_settings(choosing) == {"k": 4}

    run(chat_url, scenario)
