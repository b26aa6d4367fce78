"""Issue 14, items 3 and 4, against a real `recbot serve`: one visitor never changes, deletes or
resumes another's conversation, and deleting a conversation deletes the agent's memory of it.

Visitor B knows every id of visitor A's conversation (thread, message, cards, feedback) and
uses the routes and socket events a browser can reach. Writes Chainlit runs in background tasks
are awaited through the server's log, where each refusal is written with the ids.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from typing import Any

import httpx
import pytest
import socketio

from tests.e2e.test_protocol import (
    FIRST,
    TIMEOUT_S,
    Chat,
    cards_in,
    http_call,
    ids,
    of,
    poll,
    sign_in,
)
from tests.security.conftest import Backend, query
from tests.served import ROOT, Server

FORGED = {"item_id": 999999, "title": "A Film Nobody Made (2031)", "reason": "forged"}


async def request(url: str, cookie: str, method: str, path: str, **kw: Any) -> httpx.Response:
    """An HTTP call whose refusal is an answer, not an exception."""
    async with httpx.AsyncClient(timeout=TIMEOUT_S, headers={"Cookie": cookie}) as http:
        return await http.request(method, url + path, **kw)


async def visitor(url: str) -> tuple[str, str, Chat]:
    """A new visitor's cookie, identifier and open chat."""
    cookie = await sign_in(url)
    identifier = (await http_call(url, cookie, "GET", "/user"))["identifier"]
    return cookie, identifier, await Chat(url, cookie).open()


async def logged(server: Server, *needles: str) -> None:
    """Wait until the server's log has a line with every needle (a refusal, with its ids)."""

    async def probe() -> bool:
        lines = server.log_path.read_text(errors="replace").splitlines()
        return any(all(n in line for n in needles) for line in lines)

    await poll(probe, lambda: f"no log line with {needles} in {server.log_path}")


def thread_of(turn: list[Any]) -> str:
    return str(of(turn, "first_interaction")[0]["thread_id"])


def checkpoints(backend: Backend, thread_id: str) -> int:
    sql = "SELECT count(*) FROM checkpoints WHERE thread_id = :t"
    return int(query(backend.memory_database(), sql, t=thread_id))


def owner_rows(backend: Backend, thread_id: str) -> int:
    sql = "SELECT count(*) FROM thread_owners WHERE thread_id = :t"
    return int(query(backend.app_database(), sql, t=thread_id))


def test_visitor_b_cannot_overwrite_a_cards_or_delete_a_feedback(server: Server) -> None:
    async def run() -> None:
        a_cookie, _, a = await visitor(server.url)
        turn = await a.say(FIRST)
        cards, thread = cards_in(turn)[-1], thread_of(turn)
        message_id = cards["forId"]
        rated = {"forId": message_id, "value": 1, "threadId": thread}
        put = {"sessionId": a.session_id, "feedback": rated}
        feedback_id = (await http_call(server.url, a_cookie, "PUT", "/feedback", json=put))[
            "feedbackId"
        ]
        assert feedback_id  # A's own feedback is stored

        b_cookie, b_name, b = await visitor(server.url)
        await b.say("Something like Heat")  # B's own writes now go straight to the layer
        forged = {**cards, "props": {**cards["props"], "items": [FORGED]}}
        for element in (forged, {**forged, "threadId": thread_of(b.events)}):  # in place, moved
            body = {"sessionId": b.session_id, "element": element}
            await request(server.url, b_cookie, "PUT", "/project/element", json=body)
            await logged(server, "Refused to", f"element {cards['id']}", repr(b_name))
        body = {"sessionId": b.session_id, "element": cards}
        await request(server.url, b_cookie, "DELETE", "/project/element", json=body)
        await logged(server, f"Refused to delete element {cards['id']}", repr(b_name))
        gone = await request(
            server.url, b_cookie, "DELETE", "/feedback", json={"feedbackId": feedback_id}
        )
        assert gone.status_code < 500
        changed = {"id": feedback_id, "forId": message_id, "value": 0, "threadId": thread}
        body = {"sessionId": b.session_id, "feedback": changed}
        rewritten = await request(server.url, b_cookie, "PUT", "/feedback", json=body)
        assert rewritten.status_code < 500 and not rewritten.json().get("feedbackId")
        for method, path, payload in (
            ("PUT", "/project/thread", {"threadId": thread, "name": "Mine now"}),
            ("DELETE", "/project/thread", {"threadId": thread}),
        ):
            refused = await request(server.url, b_cookie, method, path, json=payload)
            assert refused.status_code in (401, 404), (path, refused.status_code)
        await a.close()
        await b.close()

        kept = await http_call(server.url, a_cookie, "GET", f"/project/thread/{thread}")
        (stored,) = [e for e in kept["elements"] if e["id"] == cards["id"]]
        assert ids(stored) == ids(cards) and stored["threadId"] == thread
        (message,) = [s for s in kept["steps"] if s["id"] == message_id]
        assert message["feedback"] is not None
        assert message["feedback"]["id"] == feedback_id and message["feedback"]["value"] == 1
        assert kept["name"] != "Mine now"

    asyncio.run(run())


def _cli_conversation(server: Server, thread: str) -> None:
    """Someone's terminal conversation on the server's own state (its memory, no chat history)."""
    subprocess.run(
        [sys.executable, "-m", "ui.cli", "chat", "--user", "1", "--thread", thread, "-k", "3"],
        input=f"{FIRST}\n/quit\n".encode(),
        env=server.home.env(**server.extra_env),  # with the server's database
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=TIMEOUT_S * 3,
    )


def test_b_with_the_id_of_a_memory_gets_none_of_it_and_cannot_delete_it(
    server: Server, backend: Backend
) -> None:
    thread = f"cli-{uuid.uuid4().hex[:12]}"  # user 1's, in the terminal: memory, no chat history
    _cli_conversation(server, thread)
    before = checkpoints(backend, thread)
    assert before > 0 and owner_rows(backend, thread) == 1

    async def run() -> None:
        _, _, a = await visitor(server.url)
        web_thread = thread_of(await a.say(FIRST))
        await a.close()
        b_cookie = await sign_in(server.url)
        refused = Chat(server.url, b_cookie)
        with pytest.raises(socketio.exceptions.ConnectionError):  # A's web chat: no socket
            await refused.open(web_thread)
        assert not of(refused.events, "resume_thread")

        chat = Chat(server.url, b_cookie)
        auth = {"sessionId": chat.session_id, "clientType": "webapp", "userEnv": "{}"}
        await chat.sio.connect(
            server.url,
            headers={"Cookie": b_cookie},
            auth={**auth, "chatProfile": None, "threadId": thread},
            transports=["websocket"],
            socketio_path="/ws/socket.io",
        )
        await chat.sio.emit("connection_successful")  # no such chat history: a new chat
        await chat.wait_for("chat_settings")
        turn = await chat.say("What did I say I liked?")
        await chat.close()
        assert not cards_in(turn), "B was answered from A's memory"
        answers = [s for s in of(turn, "new_message") if s["type"] == "assistant_message"]
        assert answers and all(s.get("isError") for s in answers), answers
        assert all("Traceback" not in s["output"] for s in answers)
        # B's chat history of that id is B's; deleting it leaves A's memory alone
        deleted = await request(
            server.url, b_cookie, "DELETE", "/project/thread", json={"threadId": thread}
        )
        assert deleted.status_code == 200
        await logged(server, f"thread {thread} deleted; its agent memory is another user's")

    asyncio.run(run())
    assert checkpoints(backend, thread) == before
    assert owner_rows(backend, thread) == 1


def test_deleting_a_conversation_deletes_its_memory(server: Server, backend: Backend) -> None:
    async def run() -> str:
        cookie, _, a = await visitor(server.url)
        thread = thread_of(await a.say(FIRST))
        await a.close()
        assert checkpoints(backend, thread) > 0
        assert owner_rows(backend, thread) == 1
        await http_call(server.url, cookie, "DELETE", "/project/thread", json={"threadId": thread})

        async def forgotten() -> bool:
            return checkpoints(backend, thread) == 0 and owner_rows(backend, thread) == 0

        await poll(forgotten, lambda: f"thread {thread} still has checkpoints or an owner")
        # resuming that id starts from nothing: the chat history and the memory are gone
        again = Chat(server.url, cookie)
        auth = {"sessionId": again.session_id, "clientType": "webapp", "userEnv": "{}"}
        await again.sio.connect(
            server.url,
            headers={"Cookie": cookie},
            auth={**auth, "chatProfile": None, "threadId": thread},
            transports=["websocket"],
            socketio_path="/ws/socket.io",
        )
        await again.sio.emit("connection_successful")
        await again.wait_for("chat_settings")
        await again.close()
        assert not of(again.events, "resume_thread")
        return thread

    thread = asyncio.run(run())
    assert checkpoints(backend, thread) == 0
