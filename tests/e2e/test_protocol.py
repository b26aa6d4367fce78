"""The web app's protocol, spoken like the browser: sign in over HTTP, chat over socket.io.

One conversation runs through the module: a turn with its stages and cards, a 👎 on a card, a
resume after reconnecting and after a server restart. Assertions hold for both e2e catalogs
(the real MovieLens one and the 16 generated movies, which both have Toy Story).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import httpx
import pytest
import socketio

TIMEOUT_S = 60
CONNECT_TIMEOUT_S = 20  # a browser's socket.io client waits this long (python-socketio: 1 s)
CARDS = "Recommendations"
HOW = "How I chose these"  # the one step under an answer
K = 3  # small, so the generated catalog has picks left for three turns
FIRST = "Something like Toy Story"
Event = tuple[str, Any]
Convo = dict[str, Any]  # what the module's conversation has produced so far


async def poll(probe: Callable[[], Awaitable[Any]], what: Callable[[], str]) -> Any:
    """``probe()``'s first truthy answer within TIMEOUT_S."""
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if found := await probe():
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what()} within {TIMEOUT_S} s")


async def sign_in(url: str) -> str:
    """A new visitor: the Cookie header carrying Chainlit's access token (maybe chunked)."""
    async with httpx.AsyncClient(timeout=TIMEOUT_S) as http:
        response = await http.post(f"{url}/auth/header")
        response.raise_for_status()
        jar = {k: v for k, v in response.cookies.items() if k.startswith("access_token")}
    assert jar, f"no access token cookie in {response.headers}"
    return "; ".join(f"{k}={v}" for k, v in jar.items())


async def http_call(url: str, cookie: str, method: str, path: str, **kw: Any) -> Any:
    async with httpx.AsyncClient(timeout=TIMEOUT_S, headers={"Cookie": cookie}) as http:
        response = await http.request(method, url + path, **kw)
    response.raise_for_status()
    return response.json()


class Chat:
    """One browser tab: a socket.io session that records every event the server emits."""

    def __init__(self, url: str, cookie: str) -> None:
        self.url, self.cookie = url, cookie
        self.session_id = str(uuid.uuid4())
        self.events: list[Event] = []
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("*", self._record)

    async def _record(self, event: str, data: Any = None) -> None:
        self.events.append((event, data))

    async def open(self, thread_id: str | None = None) -> Chat:
        auth = {"sessionId": self.session_id, "clientType": "webapp", "userEnv": "{}"}
        await self.sio.connect(
            self.url,
            headers={"Cookie": self.cookie},
            auth={**auth, "chatProfile": None, "threadId": thread_id},
            transports=["websocket"],
            socketio_path="/ws/socket.io",
            wait_timeout=CONNECT_TIMEOUT_S,
        )
        await self.sio.emit("connection_successful")  # what starts or resumes the chat
        if thread_id:  # on_chat_resume runs before resume_thread is sent
            await self.wait_for("resume_thread")
        else:  # on_chat_start runs in a task: its task_end follows the settings panel
            await self.wait_for("chat_settings")
            await self.wait_for(
                "task_end", since=[e for e, _ in self.events].index("chat_settings")
            )
        return self

    async def close(self) -> None:
        await self.sio.disconnect()

    async def wait_for(
        self, name: str, where: Callable[[Any], bool] = lambda _: True, since: int = 0
    ) -> Any:
        async def probe() -> list[Any]:  # a list: task_end's data, {}, is falsy
            return [d for e, d in self.events[since:] if e == name and where(d)][:1]

        found = await poll(probe, lambda: f"no {name!r} event (got {[e for e, _ in self.events]})")
        return found[0]

    async def say(self, text: str) -> list[Event]:
        """Send a message as the composer does; the events of the turn, up to its task_end."""
        since = len(self.events)
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        message = {"threadId": "", "id": str(uuid.uuid4()), "name": "User", "metadata": {}}
        message |= {"type": "user_message", "output": text, "createdAt": now}
        await self.sio.emit("client_message", {"message": message, "fileReferences": []})
        await self.wait_for("task_end", since=since)
        return self.events[since:]

    async def click(self, cards: dict[str, Any], item_id: int, kind: str) -> Any:
        """A card button, as Recommendations.jsx's callAction sends it."""
        payload = {"element_id": cards["props"]["element_id"], "item_id": item_id, "kind": kind}
        action = {"name": "recbot_feedback", "payload": payload}
        body = {"sessionId": self.session_id, "action": action}
        return await http_call(self.url, self.cookie, "POST", "/project/action", json=body)


async def socket_opens(
    url: str, cookie: str, *, origin: str | None = None, client_type: str = "webapp"
) -> bool:
    """Whether the chat socket accepts a connection with this cookie (and Origin header)."""
    headers = {"Cookie": cookie} | ({"Origin": origin} if origin else {})
    http = aiohttp.ClientSession()
    sio = socketio.AsyncClient(reconnection=False, http_session=http)
    try:
        await sio.connect(
            url,
            headers=headers,
            auth={"sessionId": str(uuid.uuid4()), "clientType": client_type, "userEnv": "{}"},
            transports=["websocket"],
            socketio_path="/ws/socket.io",
            wait_timeout=TIMEOUT_S,
        )
    except socketio.exceptions.ConnectionError:
        return False
    finally:
        if sio.connected:
            await sio.disconnect()
        await http.close()
    return True


def of(events: list[Event], name: str) -> list[Any]:
    return [data for event, data in events if event == name]


def cards_in(events: list[Event]) -> list[dict[str, Any]]:
    return [e for e in of(events, "element") if e.get("name") == CARDS]


def ids(cards: dict[str, Any]) -> list[int]:
    return [item["item_id"] for item in cards["props"]["items"]]


def assert_cards(cards: dict[str, Any], never: set[int]) -> None:
    items = cards["props"]["items"]
    assert 0 < len(items) <= K, items
    for item in items:
        assert isinstance(item["item_id"], int) and item["title"] and item["reason"], item
    assert not never & set(ids(cards)), f"{never} came back in {ids(cards)}"


async def resume(url: str, convo: Convo) -> Chat:
    """Reopen the thread as a reload does, and check what comes back."""
    chat = await Chat(url, convo["cookie"]).open(convo["thread_id"])
    (thread,) = of(chat.events, "resume_thread")
    assert thread["id"] == convo["thread_id"]
    resumed = {"interaction": "resume", "thread_id": convo["thread_id"]}
    assert of(chat.events, "first_interaction") == [resumed]
    steps = thread["steps"]
    assert any(s["type"] == "user_message" and s["output"] == FIRST for s in steps)
    assert any(s["type"] == "assistant_message" and s["output"].strip() for s in steps)
    assert any(s["type"] == "tool" and s["name"] == HOW for s in steps)
    stored = [e for e in thread["elements"] if e["id"] == convo["cards"]["id"]]
    assert stored and ids(stored[0]) == ids(convo["updated"]), "the cards resume as last shown"
    panel = of(chat.events, "chat_settings")[-1]  # with the K picked before
    assert next(w["initial"] for w in panel if w["id"] == "k") == K
    return chat


@pytest.fixture(scope="module")
def convo(server: Any) -> Convo:
    """Sign in, connect, pick K per answer, ask, click 👎 on the second card, disconnect."""

    async def run() -> Convo:
        c: Convo = {"cookie": await sign_in(server.url)}
        c["user"] = await http_call(server.url, c["cookie"], "GET", "/user")
        chat = await Chat(server.url, c["cookie"]).open()
        try:
            c["panel"] = of(chat.events, "chat_settings")[0]
            await chat.sio.call("chat_settings_change", {"k": K}, timeout=TIMEOUT_S)
            c["turn"] = await chat.say(FIRST)
            c["cards"] = cards = cards_in(c["turn"])[-1]
            c["rejected"] = rejected = ids(cards)[min(1, len(ids(cards)) - 1)]
            since = len(chat.events)
            c["clicked"] = await chat.click(cards, rejected, "rejected")
            c["updated"] = await chat.wait_for(
                "element", lambda e: e["id"] == cards["id"] and rejected not in ids(e), since
            )
        finally:
            await chat.close()
        c["thread_id"] = of(c["turn"], "first_interaction")[0]["thread_id"]
        c["shown"] = set(ids(cards)) | set(ids(c["updated"]))
        return c

    return asyncio.run(run())


def test_visitor_signs_in_and_gets_the_settings_panel(convo: Convo) -> None:
    assert convo["user"]["identifier"].startswith("visitor-")
    assert {w["id"] for w in convo["panel"]} == {"k", "detail"}  # no LLM: no switch for it
    assert convo["thread_id"]


def test_a_turn_streams_the_answer_and_cards_then_how_i_chose_these(convo: Convo) -> None:
    turn = convo["turn"]
    steps = of(turn, "new_message") + of(turn, "update_message")
    tools = {s["name"] for s in steps if s["type"] == "tool"}
    assert tools == {HOW}, tools
    assert all(s["threadId"] == convo["thread_id"] for s in steps)
    (start,) = of(turn, "stream_start")  # it carries the first token
    streamed = start["output"] + "".join(t["token"] for t in of(turn, "stream_token"))
    assert of(turn, "stream_token") and streamed.strip()
    reply = [s for s in steps if s["type"] == "assistant_message" and s["output"] == streamed]
    assert reply, f"no assistant message with the streamed text {streamed!r}"
    cards = convo["cards"]
    assert cards["forId"] == reply[-1]["id"] and len(ids(cards)) == K
    assert_cards(cards, never=set())
    events = [event for event, _ in turn]
    assert events.index("stream_token") < events.index("element") < len(events) - 1
    first_tool = next(
        i for i, (e, d) in enumerate(turn) if e == "new_message" and d["type"] == "tool"
    )
    assert events.index("element") < first_tool  # the answer first
    assert events[-1] == "task_end"


def test_thumbs_down_replaces_the_card_in_place(convo: Convo) -> None:
    clicked, rejected, cards = convo["clicked"], convo["rejected"], convo["cards"]
    assert clicked["success"] is True and clicked["response"]["ok"] is True, clicked
    replacement = clicked["response"]["replacement"]
    assert isinstance(replacement, int) and replacement not in ids(cards)
    after = ids(convo["updated"])
    position = ids(cards).index(rejected)
    assert after == [*ids(cards)[:position], replacement, *ids(cards)[position + 1 :]]
    assert convo["updated"]["props"]["items"][position]["note"].startswith("Instead of")


def test_a_reconnect_resumes_the_thread_and_the_memory(convo: Convo, server: Any) -> None:
    url, cookie, thread_id = server.url, convo["cookie"], convo["thread_id"]

    async def run() -> None:
        async def saved_k() -> bool:
            stored = await http_call(url, cookie, "GET", f"/project/thread/{thread_id}")
            return (stored.get("metadata") or {}).get("chat_settings", {}).get("k") == K

        # The disconnect saves the session (the settings panel) in the thread's metadata.
        await poll(saved_k, lambda: "the thread's metadata did not get the settings panel")
        chat = await resume(url, convo)
        try:
            turn = await chat.say("more please")
        finally:
            await chat.close()
        assert cards_in(turn), f"no cards after 'more please': {[e for e, _ in turn]}"
        latest = cards_in(turn)[-1]
        assert_cards(latest, never={convo["rejected"]} | convo["shown"])
        convo["shown"] |= set(ids(latest))

    asyncio.run(run())


def test_a_restart_keeps_the_thread_sign_in_and_memory(convo: Convo, server: Any) -> None:
    server.restart()

    async def run() -> None:
        chat = await resume(server.url, convo)
        try:
            turn = await chat.say("Show me more like Toy Story")
        finally:
            await chat.close()
        assert cards_in(turn), f"no cards after the restart: {[e for e, _ in turn]}"
        assert_cards(cards_in(turn)[-1], never={convo["rejected"]} | convo["shown"])

    asyncio.run(run())


def test_a_card_shown_before_a_resume_takes_clicks(convo: Convo, server: Any) -> None:
    async def run() -> None:
        chat = await resume(server.url, convo)
        try:
            liked = convo["clicked"]["response"]["replacement"]
            since = len(chat.events)
            clicked = await chat.click(convo["updated"], liked, "liked")
            assert clicked == {"success": True, "response": {"ok": True, "replacement": None}}
            marked = await chat.wait_for(
                "element", lambda e: e["id"] == convo["cards"]["id"], since
            )
        finally:
            await chat.close()
        statuses = {i["item_id"]: i["status"] for i in marked["props"]["items"]}
        assert statuses[liked] == "liked" and convo["rejected"] not in statuses

    asyncio.run(run())


@pytest.mark.parametrize(
    ("origin", "opens"), [("widget", True), ("https://elsewhere.example.com", False)]
)
def test_the_socket_opens_only_for_listed_origins(
    server: Any, widget_port: int, origin: str, opens: bool
) -> None:
    page = f"http://localhost:{widget_port}" if origin == "widget" else origin

    async def run() -> bool:
        cookie = await sign_in(server.url)
        return await socket_opens(server.url, cookie, origin=page, client_type="copilot")

    assert asyncio.run(run()) is opens
