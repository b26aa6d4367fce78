"""The Chainlit handlers of ui/app.py, called directly inside a faked Chainlit context.

A recording emitter stands in for the websocket: it keeps every step, token, element and
settings panel the handlers send, so the tests read what a browser would have received.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import chainlit.data as cl_data
import pytest
from chainlit.action import Action
from chainlit.context import ChainlitContext, context_var
from chainlit.data.base import BaseDataLayer
from chainlit.emitter import BaseChainlitEmitter
from chainlit.message import Message
from chainlit.session import HTTPSession
from chainlit.user import User

from agent.context import Deps
from agent.persistence import ACCOUNT_ID_BASE
from agent.recommender import Recommender
from ui.runtime import AppRuntime, ChatPrefs


class RecordingEmitter(BaseChainlitEmitter):
    """Keeps what the handlers send to the browser."""

    def __init__(self, session: HTTPSession) -> None:
        super().__init__(session)
        self.steps: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []
        self.tokens: dict[str, list[str]] = {}
        self.elements: list[dict[str, Any]] = []
        self.events: list[tuple[str, Any]] = []
        self.chat_settings: dict[str, Any] | None = None

    async def send_step(self, step_dict: Any) -> None:
        self.steps[step_dict["id"]] = dict(step_dict)
        self.order.append(step_dict["id"])

    async def update_step(self, step_dict: Any) -> None:
        self.steps.setdefault(step_dict["id"], {}).update(step_dict)
        if step_dict["id"] not in self.order:
            self.order.append(step_dict["id"])

    async def stream_start(self, step_dict: Any) -> None:
        await self.send_step(step_dict)

    async def send_token(
        self, id: str, token: str, is_sequence: bool = False, is_input: bool = False
    ) -> None:
        self.tokens.setdefault(id, []).append(token)

    async def send_element(self, element_dict: Any) -> None:
        self.elements.append(dict(element_dict))

    async def emit(self, event: str, data: Any) -> None:
        self.events.append((event, data))

    def set_chat_settings(self, settings: dict[str, Any]) -> None:  # type: ignore[override]
        self.chat_settings = settings

    # what the user saw
    def tool_steps(self) -> list[dict[str, Any]]:
        return [self.steps[i] for i in self.order if self.steps[i].get("type") == "tool"]

    def messages(self) -> list[dict[str, Any]]:
        return [
            self.steps[i] for i in self.order if self.steps[i].get("type") == "assistant_message"
        ]

    def cards(self) -> dict[str, Any]:
        """The newest props of each cards element, by element id."""
        out: dict[str, Any] = {}
        for element in self.elements:
            if element.get("name") == "Recommendations":
                out[element["id"]] = element["props"]
        return out


class Harness:
    """ui.app wired to a small in-memory recommender, and one faked browser session."""

    def __init__(self, app: ModuleType, deps: Deps, identifier: str = "visitor-test") -> None:
        self.app = app
        self.deps = deps
        self.session = HTTPSession(
            id="session-1",
            thread_id="thread-1",
            user=User(identifier=identifier),
            client_type="webapp",
            user_env={},
        )
        self.emitter = RecordingEmitter(self.session)

    def run(self, make: Callable[[], Awaitable[Any]]) -> Any:
        async def scenario() -> Any:
            context_var.set(ChainlitContext(self.session, self.emitter))
            result = await make()
            # let background work (Chainlit writes to the data layer in tasks) finish, as the
            # server's long-lived loop would
            pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            await asyncio.gather(*pending)
            return result

        return asyncio.run(scenario())

    def say(self, text: str) -> None:
        self.session.has_first_interaction = True  # as Chainlit marks it on a user message

        async def send() -> None:
            await self.app.on_message(Message(content=text, author="User", type="user_message"))

        self.run(send)

    def click(self, element_id: str, item_id: Any, kind: str) -> dict[str, Any]:
        payload = {"element_id": element_id, "item_id": item_id, "kind": kind}
        result: dict[str, Any] = self.run(
            lambda: self.app.on_card_feedback(Action(name="recbot_feedback", payload=payload))
        )
        return result

    def state(self) -> dict[str, Any]:
        config = {"configurable": {"thread_id": self.session.thread_id}}
        return dict(self.app._runtime.recommender.graph.get_state(config).values)


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ModuleType]:
    monkeypatch.setenv("CHAINLIT_AUTH_SECRET", "test-secret-" + "x" * 40)
    module = importlib.import_module("ui.app")
    monkeypatch.setattr(cl_data, "_data_layer", None)
    monkeypatch.setattr(
        cl_data, "_data_layer_initialized", True
    )  # no data layer unless a test sets one
    yield module
    module._runtime = None


@pytest.fixture
def harness(app: ModuleType, agent_deps: Deps, monkeypatch: pytest.MonkeyPatch) -> Harness:
    recommender = Recommender(agent_deps)
    monkeypatch.setattr(app, "_runtime", AppRuntime(app.settings, recommender, checkpointer=None))
    monkeypatch.setattr(HTTPSession, "persist_file", _no_files)
    return Harness(app, agent_deps)


async def _no_files(self: HTTPSession, **kwargs: Any) -> dict[str, str]:
    return {"id": "file-" + kwargs.get("name", "")}


def _newest_cards(h: Harness) -> tuple[str, dict[str, Any]]:
    cards = h.emitter.cards()
    assert cards, "no recommendation cards were sent"
    element_id = list(cards)[-1]
    return element_id, cards[element_id]


def test_chat_start_shows_the_settings_panel_and_maps_the_visitor_to_a_user(
    harness: Harness,
) -> None:
    harness.run(harness.app.on_chat_start)
    panel = next(data for event, data in harness.emitter.events if event == "chat_settings")
    by_id = {widget["id"]: widget for widget in panel}
    assert set(by_id) == {"k", "detail"}  # no LLM configured: no switch for one
    assert by_id["k"]["label"] == "How many films to suggest"
    assert {item["value"] for item in by_id["detail"]["items"]} == {"short", "full"}
    for widget in panel:  # words for people, not setting names
        assert "RECBOT" not in str(widget) and "rerank" not in str(widget).lower()
    user_id = harness.run(lambda: _session_value("user_id"))
    assert user_id is not None and user_id > ACCOUNT_ID_BASE


async def _session_value(key: str) -> Any:
    import chainlit as cl

    return cl.user_session.get(key)


def test_a_turn_answers_first_then_one_plain_how_i_chose_these_step(harness: Harness) -> None:
    harness.run(harness.app.on_chat_start)
    harness.say("something like Toy Story")
    steps = harness.emitter.tool_steps()
    assert [step["name"] for step in steps] == ["How I chose these"]  # one step, not six
    how = steps[0]
    order = harness.emitter.order
    assert order.index(harness.emitter.messages()[-1]["id"]) < order.index(how["id"])
    assert how["defaultOpen"] is False
    text = how["output"]
    for heading in ("What I understood:", "What I applied:", "How I picked:", "Time:"):
        assert heading in text, text
    assert "Toy Story" in text and "seconds" in text
    for jargon in ("FAISS", "DNN", "Kept ", "score", "rerank", "candidates"):
        assert jargon not in text, text

    message = harness.emitter.messages()[-1]
    assert message["output"].split("\n")[0].endswith(":")  # an opening line, then the list
    assert len(harness.emitter.tokens[message["id"]]) > 1  # streamed in pieces
    _element_id, props = _newest_cards(harness)
    catalog = harness.deps.tools.catalog
    assert len(props["items"]) == harness.app.settings.k  # the panel's default
    for item in props["items"]:
        assert item["item_id"] in catalog
        assert item["title"] == catalog.get(item["item_id"]).name
        assert item["reason"]
    assert 1 not in {item["item_id"] for item in props["items"]}  # the liked title is not offered


def test_thumbs_down_replaces_the_card_and_the_item_never_comes_back(harness: Harness) -> None:
    harness.run(harness.app.on_chat_start)
    harness.say("something like Toy Story")
    element_id, props = _newest_cards(harness)
    shown = [item["item_id"] for item in props["items"]]
    rejected = shown[0]

    result = harness.click(element_id, rejected, "rejected")

    assert result["ok"] is True
    new_props = harness.emitter.cards()[element_id]
    new_ids = [item["item_id"] for item in new_props["items"]]
    assert rejected not in new_ids
    assert result["replacement"] == new_ids[0] and new_ids[0] not in shown
    assert new_props["items"][0]["note"].startswith("Instead of")
    state = harness.state()
    assert rejected in state["rejected"]
    user_id = harness.run(lambda: _session_value("user_id"))
    assert rejected in harness.deps.users.feedback(user_id)["rejected"]  # kept for this user

    for _ in range(2):
        harness.say("more please")
        _eid, later = _newest_cards(harness)
        assert rejected not in {item["item_id"] for item in later["items"]}


def test_like_marks_the_card_and_feeds_the_next_answer(harness: Harness) -> None:
    harness.run(harness.app.on_chat_start)
    harness.say("a sci-fi movie")
    element_id, props = _newest_cards(harness)
    liked = props["items"][0]["item_id"]
    result = harness.click(element_id, liked, "liked")
    assert result == {"ok": True, "replacement": None}
    marked = harness.emitter.cards()[element_id]["items"][0]
    assert marked["item_id"] == liked and marked["status"] == "liked"
    assert liked in harness.state()["preferences"].liked


def test_seen_replaces_the_card_too(harness: Harness) -> None:
    harness.run(harness.app.on_chat_start)
    harness.say("an animated movie for kids")
    element_id, props = _newest_cards(harness)
    seen = props["items"][-1]["item_id"]
    harness.click(element_id, seen, "seen")
    assert seen not in {i["item_id"] for i in harness.emitter.cards()[element_id]["items"]}
    assert seen in harness.state()["seen"]


@pytest.mark.parametrize(
    ("item_id", "kind", "error"),
    [
        ("x", "rejected", "please try again"),
        (1, "loved", "please try again"),
        (999, "rejected", "no longer shown; ask me for new picks"),
    ],
)
def test_bad_clicks_are_refused_with_a_reason(
    harness: Harness, item_id: Any, kind: str, error: str
) -> None:
    harness.run(harness.app.on_chat_start)
    harness.say("something like Toy Story")
    element_id, _props = _newest_cards(harness)
    result = harness.click(element_id, item_id, kind)
    assert result["ok"] is False and error in result["error"]


def test_a_click_no_number_can_hold_is_refused_not_raised(harness: Harness) -> None:
    harness.run(harness.app.on_chat_start)
    harness.say("something like Toy Story")
    element_id, _props = _newest_cards(harness)
    result = harness.click(element_id, float("inf"), "liked")  # JSON's Infinity
    assert result == {"ok": False, "error": harness.app.TRY_AGAIN}


def test_a_click_that_fails_inside_says_so_plainly_and_logs_it(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    harness.run(harness.app.on_chat_start)
    harness.say("something like Toy Story")
    element_id, props = _newest_cards(harness)

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError(424242)  # e.g. an item the catalog no longer has

    monkeypatch.setattr(harness.app._runtime.recommender, "afeedback", broken)
    result = harness.click(element_id, props["items"][0]["item_id"], "rejected")
    assert result == {"ok": False, "error": harness.app.WENT_WRONG}
    assert "card click failed" in caplog.text


def test_a_click_on_cards_from_before_a_restart_reads_them_from_the_data_layer(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ui.datalayer import RecbotDataLayer

    layer = RecbotDataLayer(f"sqlite+aiosqlite:///{tmp_path / 'ui.db'}")
    monkeypatch.setattr(cl_data, "_data_layer", layer)
    harness.run(harness.app.on_chat_start)
    harness.say("something like Toy Story")
    element_id, props = _newest_cards(harness)

    async def stored_then_forget() -> Any:
        import chainlit as cl

        assert await layer.get_element(harness.session.thread_id, element_id)
        cl.user_session.set("cards", {})  # what a server restart loses

    harness.run(stored_then_forget)
    result = harness.click(element_id, props["items"][0]["item_id"], "rejected")
    harness.run(layer.close)
    assert result["ok"] is True


def test_settings_change_the_number_of_cards_and_the_detail(harness: Harness) -> None:
    harness.run(harness.app.on_chat_start)
    harness.run(
        lambda: harness.app.on_settings_update({"k": 2, "detail": "full", "llm_rerank": True})
    )
    prefs = harness.run(lambda: _session_value("prefs"))
    assert prefs == ChatPrefs(k=2, llm_rerank=None, detail="full")  # no LLM: the switch stays off
    harness.say("a sci-fi movie")
    _eid, props = _newest_cards(harness)
    assert len(props["items"]) == 2 and props["detail"] == "full"
    assert not any("score" in d.lower() for d in props["items"][0]["details"])


def test_resume_restores_the_settings_saved_with_the_thread(harness: Harness) -> None:
    thread = {
        "id": "thread-1",
        "metadata": {"chat_settings": {"k": 3, "detail": "full"}},
        "steps": [],
    }
    harness.run(lambda: harness.app.on_chat_resume(thread))
    prefs = harness.run(lambda: _session_value("prefs"))
    assert prefs.k == 3 and prefs.detail == "full"


def test_a_greeting_gets_text_and_no_cards(harness: Harness) -> None:
    harness.run(harness.app.on_chat_start)
    harness.say("hi")
    assert harness.emitter.cards() == {}
    assert harness.emitter.tool_steps() == []  # nothing was chosen, so no "How I chose these"
    assert harness.emitter.messages()[-1]["output"].strip()


def test_a_failing_turn_says_so_and_keeps_the_conversation(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from catalog.errors import ArtifactError

    harness.run(harness.app.on_chat_start)
    harness.say("something like Toy Story")

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise ArtifactError("the index is missing; run `recbot build`")
        yield  # pragma: no cover

    monkeypatch.setattr(harness.app._runtime.recommender, "astream", broken)
    harness.say("more please")
    last = harness.emitter.messages()[-1]
    assert last["output"].startswith("Sorry, I can't search the films right now")
    assert "recbot build" not in last["output"]  # developer words stay in the log
    assert len(harness.state()["messages"]) == 2  # the earlier turn is intact


def test_password_sign_in_checks_the_configured_users(monkeypatch: pytest.MonkeyPatch) -> None:
    from ui.auth import Authenticator
    from ui.settings import WebSettings

    auth = Authenticator(WebSettings(auth="password", auth_users="ann:s3cret, bob:pw"))  # type: ignore[arg-type]
    assert auth.check_password("ann", "s3cret") == "ann"
    assert auth.check_password("ann", "wrong") is None
    assert auth.check_password("zoe", "s3cret") is None
    with pytest.raises(ValueError, match="RECBOT_AUTH_USERS"):
        Authenticator(WebSettings(auth="password"))
    header = Authenticator(WebSettings(auth="header", auth_header="X-User"))
    assert header.from_headers({"x-user": "42"}) == "42"
    assert header.from_headers({}) is None
    visitors = Authenticator(WebSettings())
    first, second = visitors.from_headers({}), visitors.from_headers({})
    assert first and second and first != second and first.startswith("visitor-")


def test_a_new_chat_starts_from_the_settings_the_user_chose_last(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ui.datalayer import RecbotDataLayer

    layer = RecbotDataLayer(f"sqlite+aiosqlite:///{tmp_path / 'ui.db'}")
    monkeypatch.setattr(cl_data, "_data_layer", layer)
    harness.run(lambda: layer.create_user(harness.session.user))  # as sign-in does
    harness.run(harness.app.on_chat_start)
    assert harness.run(lambda: _session_value("prefs")).k == harness.app.settings.k
    harness.run(lambda: harness.app.on_settings_update({"k": 4, "detail": "full"}))
    harness.run(lambda: layer.create_user(harness.session.user))  # a later sign-in keeps them

    harness.session.thread_id = "thread-2"  # a new chat of the same user
    harness.session.id = "session-2"
    harness.run(harness.app.on_chat_start)
    prefs = harness.run(lambda: _session_value("prefs"))
    assert (prefs.k, prefs.detail) == (4, "full")
    panel = [data for event, data in harness.emitter.events if event == "chat_settings"][-1]
    assert {w["id"]: w["initial"] for w in panel}["k"] == 4
    other = harness.run(lambda: layer.get_user_settings("someone-else"))
    harness.run(layer.close)
    assert other is None


def test_chainlit_words_name_the_step_and_warn_about_an_llm_only_when_one_runs(
    app: ModuleType,
) -> None:
    english = app._our_translation("en-US")["chat"]
    assert english["messages"]["status"]["used"] == ""  # "How I chose these", not "Used …"
    assert english["watermark"] == ""  # no LLM configured here
    from ui.words import translations

    with_llm = translations(app._chainlit_translation("en-US"), llm=True)["chat"]["watermark"]
    assert "can make mistakes" in with_llm


def test_a_failing_account_lookup_says_so_in_plain_words(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from catalog.errors import StoreError

    def broken(identifier: str) -> int:
        raise StoreError(
            "Could not write to the database sqlite:////srv/recbot/app.db: (sqlite3.IntegrityError)"
            " UNIQUE constraint failed: accounts.user_id [SQL: INSERT INTO accounts ...]"
        )

    monkeypatch.setattr(harness.deps.users, "user_id_for", broken)
    harness.run(harness.app.on_chat_start)
    shown = " ".join(str(m.get("output")) for m in harness.emitter.steps.values())
    assert "please" in shown.lower()
    for leak in ("SQL", "sqlite", "/srv/", "UNIQUE", "Traceback"):
        assert leak not in shown
    assert any(event == "chat_settings" for event, _ in harness.emitter.events)  # still usable


class RecordingLayer(BaseDataLayer):
    """A data layer that keeps, in order, the cards and thread metadata it was asked to store."""

    def __init__(self) -> None:
        self.stored: list[tuple[str, Any]] = []

    async def create_element(self, element: Any) -> None:
        self.stored.append(("cards", element.to_dict()))

    async def update_thread(self, thread_id: str, **fields: Any) -> None:
        self.stored.append(("thread", {"id": thread_id, **fields}))


async def _does_nothing(self: Any, *args: Any, **kwargs: Any) -> None:
    return None


for _name in BaseDataLayer.__abstractmethods__ - set(vars(RecordingLayer)):
    setattr(RecordingLayer, _name, _does_nothing)
RecordingLayer.__abstractmethods__ = frozenset()


def _held_when_answered(
    h: Harness, layer: RecordingLayer, make: Callable[[], Awaitable[Any]]
) -> Any:
    """The handler's answer, and what the layer held the moment the answer was ready (before a
    background task could run: a server killed then keeps only that)."""

    async def scenario() -> Any:
        context_var.set(ChainlitContext(h.session, h.emitter))
        answer = await make()
        held = list(layer.stored)
        await asyncio.gather(*[t for t in asyncio.all_tasks() if t is not asyncio.current_task()])
        return answer, held

    return asyncio.run(scenario())


@pytest.fixture
def layer(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> RecordingLayer:
    """A recording data layer, and a started chat."""
    recording = RecordingLayer()
    monkeypatch.setattr(cl_data, "_data_layer", recording)
    harness.run(harness.app.on_chat_start)
    return recording


def test_a_replacement_card_is_stored_before_the_click_is_answered(
    harness: Harness, layer: RecordingLayer
) -> None:
    harness.say("something like Toy Story")
    element_id, props = _newest_cards(harness)
    rejected = props["items"][0]["item_id"]
    payload = {"element_id": element_id, "item_id": rejected, "kind": "rejected"}

    answer, held = _held_when_answered(
        harness,
        layer,
        lambda: harness.app.on_card_feedback(Action(name="recbot_feedback", payload=payload)),
    )

    assert answer["ok"] is True
    stored = [doc for what, doc in held if what == "cards" and doc["id"] == element_id]
    shown = [item["item_id"] for item in stored[-1]["props"]["items"]] if stored else []
    assert shown[:1] == [answer["replacement"]] and rejected not in shown, (
        "the click was answered before its new cards were stored"
    )
    assert harness.emitter.cards()[element_id] == stored[-1]["props"]  # the page shows the same
    assert rejected in harness.state()["rejected"]  # the agent's memory, committed before


def test_settings_are_stored_with_the_thread_before_they_are_answered(
    harness: Harness, layer: RecordingLayer
) -> None:
    def change(values: dict[str, Any]) -> list[tuple[str, Any]]:
        harness.session.chat_settings.update(values)  # as Chainlit does before the callback
        _answer, held = _held_when_answered(
            harness, layer, lambda: harness.app.on_settings_update(values)
        )
        return [doc for what, doc in held if what == "thread"]

    assert change({"k": 2, "detail": "full"}) == []  # no message yet: no thread to store it in
    harness.say("a sci-fi movie")
    first = layer.stored[0]  # the thread's settings, before anything of the answer
    assert first == (
        "thread",
        {
            "id": "thread-1",
            "user_id": None,
            "metadata": {"chat_settings": {"k": 2, "detail": "full"}},
        },
    )
    stored = change({"detail": "short"})
    assert stored[-1]["metadata"]["chat_settings"] == {"k": 2, "detail": "short"}
    count = len([w for w, _ in layer.stored if w == "thread"])
    harness.say("more please")  # nothing changed: nothing written again
    assert len([w for w, _ in layer.stored if w == "thread"]) == count


def test_a_message_too_long_to_read_gets_a_plain_answer_and_no_turn(harness: Harness) -> None:
    limit = harness.app.settings.max_request_message_chars
    harness.run(harness.app.on_chat_start)
    harness.say("a film like Toy Story " * (limit // 10))
    answer = harness.emitter.messages()[-1]["output"]
    assert "too long" in answer and f"{limit:,}" in answer, answer
    assert harness.emitter.cards() == {} and harness.emitter.tool_steps() == []
    assert harness.state().get("messages", []) == []  # the agent never read it
    harness.say("something like Toy Story")  # the chat goes on
    assert harness.emitter.cards()


def test_someone_elses_conversation_is_refused_in_plain_words(
    harness: Harness, agent_deps: Deps
) -> None:
    harness.app._runtime.recommender.reply("something like Heat", thread_id="thread-1", user_id=7)
    harness.run(harness.app.on_chat_start)
    harness.say("more please")
    last = harness.emitter.messages()[-1]
    assert last["output"].startswith("This conversation belongs to someone else")
    assert harness.emitter.cards() == {}


def test_each_turn_is_counted_and_logged_in_one_line_without_its_text(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = harness.app.METRICS
    before = metrics.turns.labels("recommend")._value.get()
    harness.run(harness.app.on_chat_start)
    with caplog.at_level(logging.INFO, logger="recbot.turn"):
        harness.say("something like Toy Story")
    assert metrics.turns.labels("recommend")._value.get() == before + 1
    (line,) = [json.loads(r.getMessage()) for r in caplog.records if r.name == "recbot.turn"]
    assert line["action"] == "recommend" and line["thread"] == "thread-1"
    assert line["ms"] > 0 and "text" not in line and "Toy Story" not in caplog.text


def test_a_refused_sign_in_says_that_repeated_failures_pause_it(app: ModuleType) -> None:
    from ui.words import translations

    words = translations(app._chainlit_translation("en-US"), llm=False)["auth"]["login"]
    assert "pauses for a few minutes" in words["errors"]["default"]  # the 429 the throttle sends
    assert "check the name and password" in words["errors"]["credentialsSignin"]
    assert words["form"]["actions"]["signin"] == "Sign In"  # Chainlit's other words are kept
