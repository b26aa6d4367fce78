"""Ownership in RecbotDataLayer: a thread, with its steps, cards and feedback, is only ever
read, written or deleted by the signed-in user who created it (issue 14, item 3)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from tests.unit.ui.test_datalayer import _url, acting_as, run, step

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="traceloop")
    from chainlit.auth import get_current_user
    from chainlit.context import ChainlitContext, context_var
    from chainlit.element import CustomElement
    from chainlit.session import HTTPSession
    from chainlit.types import Feedback, Pagination, ThreadFilter
    from chainlit.user import User

    from ui.datalayer import RecbotDataLayer, async_database_url
    from ui.requester import current_requester, identify_http_requests

CARDS = {"items": [{"item_id": 1, "title": "Toy Story (1995)"}]}
FORGED = {"items": [{"item_id": 999, "title": "A Film Nobody Made (2031)"}]}


async def ada_thread(layer: RecbotDataLayer) -> tuple[str, str]:
    """As ada: thread t1 with a step, a cards element on it and a 👍; (element id, feedback id)."""
    acting_as("ada")
    ada = await layer.create_user(User(identifier="ada"))
    assert ada is not None
    await layer.update_thread("t1", name="Ada's films", user_id=ada.id)
    await layer.create_step(step("s1", "t1", "2024-05-01T10:00:00Z", output="Try these"))
    cards = CustomElement(name="Recommendations", props=CARDS, thread_id="t1", for_id="s1")
    await layer.create_element(cards)
    feedback_id = await layer.upsert_feedback(Feedback(forId="s1", value=1, threadId="t1"))
    assert feedback_id
    return cards.id, feedback_id


async def bob_thread(layer: RecbotDataLayer) -> None:
    acting_as("bob")
    bob = await layer.create_user(User(identifier="bob"))
    assert bob is not None
    await layer.update_thread("t2", name="Bob's", user_id=bob.id)
    await layer.create_step(step("b1", "t2", "2024-05-01T11:00:00Z"))


async def unchanged_for_ada(layer: RecbotDataLayer, element_id: str, feedback_id: str) -> None:
    acting_as("ada")
    thread = await layer.get_thread("t1")
    assert thread is not None and thread["name"] == "Ada's films"
    assert [(s["id"], s["output"]) for s in thread["steps"]] == [("s1", "Try these")]
    assert thread["steps"][0]["feedback"] == {
        "forId": "s1",
        "id": feedback_id,
        "value": 1,
        "comment": None,
    }
    stored = await layer.get_element("t1", element_id)
    assert stored is not None and stored["props"] == CARDS and stored["threadId"] == "t1"


def test_another_user_cannot_overwrite_move_or_delete_the_cards(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(layer: RecbotDataLayer) -> None:
        element_id, feedback_id = await ada_thread(layer)
        await bob_thread(layer)
        for thread_id, for_id in (("t1", "s1"), ("t2", "b1"), ("", "s1")):  # in place, moved
            forged = CustomElement(
                id=element_id, name="Recommendations", props=FORGED, thread_id=thread_id
            )
            forged.for_id = for_id
            await layer.create_element(forged)
        await layer.delete_element(element_id, "t1")
        await layer.delete_element(element_id)
        assert await layer.get_element("t1", element_id) is None  # nor can bob read it
        await unchanged_for_ada(layer, element_id, feedback_id)

    run(async_database_url(database_url), scenario)
    assert "Refused to save element" in caplog.text and "'bob'" in caplog.text


def test_another_user_cannot_rewrite_or_delete_the_feedback(tmp_path: Path) -> None:
    async def scenario(layer: RecbotDataLayer) -> None:
        element_id, feedback_id = await ada_thread(layer)
        await bob_thread(layer)
        assert await layer.delete_feedback(feedback_id) is False
        assert await layer.upsert_feedback(Feedback(forId="s1", value=0, id=feedback_id)) == ""
        assert await layer.upsert_feedback(Feedback(forId="s1", value=0, threadId="t2")) == ""
        moved = Feedback(forId="b1", value=0, id=feedback_id, threadId="t2")
        assert await layer.upsert_feedback(moved) == ""  # bob's step, ada's feedback id
        await unchanged_for_ada(layer, element_id, feedback_id)

    run(_url(tmp_path), scenario)


def test_another_user_cannot_write_move_or_delete_steps(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(layer: RecbotDataLayer) -> None:
        element_id, feedback_id = await ada_thread(layer)
        await bob_thread(layer)
        await layer.update_step(step("s1", "t1", "2024-05-01T10:00:00Z", output="Forged"))
        await layer.create_step(step("s9", "t1", "2024-05-01T10:00:01Z", output="Injected"))
        await layer.update_step(step("s1", "t2", "2024-05-01T10:00:00Z"))  # into bob's thread
        await layer.delete_step("s1")
        mine = await layer.get_thread("t2")
        assert mine is not None and [s["id"] for s in mine["steps"]] == ["b1"]
        await unchanged_for_ada(layer, element_id, feedback_id)

    run(async_database_url(database_url), scenario)
    assert "Refused to save step s9" in caplog.text and "Refused to move step s1" in caplog.text


def test_ownership_is_read_from_the_database_each_write(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A thread deleted here, or erased by another process (``recbot forget``), is no longer
    anyone's: the next writer creates it as theirs, and its former owner is refused."""

    async def scenario(layer: RecbotDataLayer) -> None:
        acting_as("ada")
        for thread_id in ("t1", "t2"):
            for n in range(3):  # the first creates the thread, the others write into it
                await layer.create_step(step(f"{thread_id}-{n}", thread_id, "2024-05-01T10:00:00Z"))
        await layer.delete_thread("t1")
        forget = RecbotDataLayer(layer.url)  # another process on the same database
        try:
            assert (await forget.erase_users(["ada"]))["chat threads"] == 1
        finally:
            await forget.close()
        acting_as("bob")
        for thread_id in ("t1", "t2"):
            await layer.create_step(step(f"{thread_id}-bob", thread_id, "2024-05-01T11:00:00Z"))
        acting_as("ada")
        for thread_id in ("t1", "t2"):
            await layer.create_step(step(f"{thread_id}-ada", thread_id, "2024-05-01T12:00:00Z"))
            await layer.update_step(step(f"{thread_id}-bob", thread_id, "", output="Forged"))
            cards = CustomElement(name="C", props=FORGED, thread_id=thread_id, for_id="x")
            await layer.create_element(cards)
            assert await layer.get_thread(thread_id) is None
        acting_as("bob")
        for thread_id in ("t1", "t2"):
            assert await layer.get_thread_author(thread_id) == "bob"
            thread = await layer.get_thread(thread_id)
            assert thread is not None and thread["elements"] == []
            assert [(s["id"], s["output"]) for s in thread["steps"]] == [(f"{thread_id}-bob", "")]

    run(async_database_url(database_url), scenario)
    assert "Refused to save step t2-ada" in caplog.text
    assert "Refused to save step t1-bob" in caplog.text and "'ada'" in caplog.text


def test_only_the_owner_reads_renames_lists_and_deletes_a_thread(tmp_path: Path) -> None:
    deleted: list[tuple[str, str]] = []

    async def on_delete(thread_id: str, owner: str) -> None:
        deleted.append((thread_id, owner))

    async def scenario(layer: RecbotDataLayer) -> None:
        element_id, feedback_id = await ada_thread(layer)
        ada = await layer.get_user("ada")
        await bob_thread(layer)
        bob = await layer.get_user("bob")
        assert ada is not None and bob is not None
        assert await layer.get_thread("t1") is None
        await layer.update_thread("t1", name="Mine now", metadata={"x": 1})
        await layer.update_thread("t1", user_id=bob.id)
        await layer.update_thread("t3", user_id=ada.id)  # a thread for someone else
        listed = await layer.list_threads(Pagination(first=5), ThreadFilter(userId=ada.id))
        assert listed.data == []
        assert await layer.get_favorite_steps(ada.id) == []
        await layer.delete_thread("t1")
        assert deleted == []
        await unchanged_for_ada(layer, element_id, feedback_id)
        assert await layer.get_thread_author("t3") == ""
        listed = await layer.list_threads(Pagination(first=5), ThreadFilter(userId=ada.id))
        assert [t["id"] for t in listed.data] == ["t1"]
        await layer.delete_thread("t1")
        assert deleted == [("t1", "ada")] and await layer.get_thread("t1") is None

    run(_url(tmp_path), scenario, on_delete_thread=on_delete)


def test_a_failing_delete_callback_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(thread_id: str, owner: str) -> None:
        raise RuntimeError("checkpointer closed")

    async def scenario(layer: RecbotDataLayer) -> None:
        await ada_thread(layer)
        await layer.delete_thread("t1")
        assert await layer.get_thread("t1") is None

    run(_url(tmp_path), scenario, on_delete_thread=broken)
    assert "Thread t1: deleting what else it kept failed" in caplog.text


def test_a_caller_nobody_signed_in_writes_nothing_and_learns_only_the_author(
    database_url: str,
) -> None:
    async def scenario(layer: RecbotDataLayer) -> None:
        element_id, _ = await ada_thread(layer)
        context_var.set(ChainlitContext(HTTPSession(id="anon", client_type="webapp")))
        await layer.create_step(step("x1", "t1", "2024-05-01T12:00:00Z"))
        await layer.create_step(step("x2", "new-thread", "2024-05-01T12:00:00Z"))
        assert await layer.get_element("t1", element_id) is None
        told = await layer.get_thread("t1")  # what Chainlit's socket check reads
        assert told is not None and told["userIdentifier"] == "ada"
        assert told["steps"] == [] and told["elements"] == [] and told["name"] is None
        assert await layer.get_thread("new-thread") is None

    run(async_database_url(database_url), scenario)


def _app_asking_who(signed_in: str | None) -> FastAPI:
    """A route behind Chainlit's sign-in dependency (faked) that asks the layer's question."""
    app = FastAPI()

    async def fake_sign_in() -> User | None:
        return User(identifier=signed_in) if signed_in else None

    app.dependency_overrides[get_current_user] = fake_sign_in

    @app.get("/who")
    async def who(user: Annotated[Any, Depends(get_current_user)]) -> dict[str, str | None]:
        requester = current_requester()
        return {"who": requester.identifier if requester else None}

    return app


def test_http_requests_without_a_chainlit_context_are_told_apart_by_their_sign_in() -> None:
    app = _app_asking_who("ada")
    with TestClient(app) as client:
        assert client.get("/who").json() == {"who": None}  # not identified yet
        identify_http_requests(app)
        identify_http_requests(app)  # idempotent: one wrapper
        assert client.get("/who").json() == {"who": "ada"}
    anonymous = _app_asking_who(None)
    identify_http_requests(anonymous)
    with TestClient(anonymous) as client:
        assert client.get("/who").json() == {"who": None}
