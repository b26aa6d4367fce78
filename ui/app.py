"""The Chainlit app: thin handlers over ``agent.Recommender`` (run it with ``recbot serve``).

One turn answers first: the reply streams with the picks as cards
(``public/elements/Recommendations.jsx``), then one collapsed step, "How I chose these", says in
plain words what was understood, applied and picked (``ui/words.py``). A click on a card's 👍 / 👎 / ✓ reaches
``on_card_feedback``: the dialog state and the user's profile keep it, and 👎 / ✓ replace the card
with the next-best candidate. The Chainlit thread id is the LangGraph thread id, so a conversation
resumes after a reload or a restart from the data layer (what the page shows) and the checkpointer
(what the agent remembers).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime
from typing import Any

import chainlit as cl
from chainlit.config import config as chainlit_config
from chainlit.data import get_data_layer
from chainlit.types import ThreadDict
from chainlit.user import PersistedUser

from agent.recommender import Reply
from agent.trace import Stage
from catalog.errors import NotYourConversation, RecbotError
from ui.auth import Authenticator, ensure_auth_secret
from ui.cards import apply_feedback, card, cards_props
from ui.datalayer import RecbotDataLayer, async_database_url
from ui.ops import Metrics, TurnRecord, install, observe_turn
from ui.requester import identify_http_requests
from ui.runtime import AppRuntime, ChatPrefs
from ui.sessions import SessionPolicy
from ui.settings import WebSettings
from ui.words import (
    CANT_ANSWER,
    CANT_START,
    CARD_GONE,
    HOW_I_CHOSE,
    TRY_AGAIN,
    WENT_WRONG,
    how_i_chose,
    settings_widgets,
    too_long,
    translations,
)

log = logging.getLogger("recbot.ui")
CARDS = "Recommendations"  # public/elements/Recommendations.jsx
SOCKET_PACKET_BYTES = 2 * 1024 * 1024  # a pasted megabyte gets an answer (_accept_long_pastes)
FEEDBACK_KINDS = ("liked", "rejected", "seen")
STARTERS = [
    ("Like Inception, but lighter", "Something like Inception, but less depressing"),
    ("90s feel-good comedy", "A feel-good comedy from the 90s"),
    ("For the kids", "My kids loved Toy Story and Finding Nemo"),
    ("Surprise me", "Surprise me"),
]

settings = WebSettings()
authenticator = Authenticator(settings)
ensure_auth_secret(settings.home)
_runtime: AppRuntime | None = None
_runtime_lock = asyncio.Lock()
_chainlit_translation = chainlit_config.load_translation


def _our_translation(language: str) -> dict[str, Any]:
    return translations(_chainlit_translation(language), llm=settings.llm_configured)


# Chainlit reads its words per request through this method (a pydantic model's, hence
# object.__setattr__); ours wrap its English ones.
object.__setattr__(chainlit_config, "load_translation", _our_translation)


async def runtime() -> AppRuntime:
    """The app's runtime, started on first use when ``on_app_startup`` did not run
    (``mount_chainlit`` into FastAPI skips it)."""
    global _runtime
    async with _runtime_lock:
        if _runtime is None:
            _runtime = await AppRuntime.start(settings)
            _runtime.keep_forgetting(_forget_idle_history)  # RECBOT_RETENTION_DAYS
    return _runtime


METRICS = Metrics()


async def _artifacts_loaded() -> tuple[bool, str]:
    return _runtime is not None, "still loading"


async def _databases_answer() -> tuple[bool, str]:
    if _runtime is None:
        return False, "not open yet"
    await _runtime.ping()
    layer = get_data_layer()
    if isinstance(layer, RecbotDataLayer):
        await layer.ping()
    return True, ""


def _readiness_checks() -> list[tuple[str, Any]]:
    return [("artifacts", _artifacts_loaded), ("databases", _databases_answer)]


def _mount_operations() -> None:
    """/healthz, /readyz and /metrics on Chainlit's app (docs/deploy.md)."""
    from chainlit.server import app as server

    install(server, _readiness_checks, METRICS if settings.metrics else None)


_mount_operations()


def _user_identifier() -> str | None:
    user = cl.user_session.get("user")
    return getattr(user, "identifier", None)


def _observe(message: cl.Message, reply: Reply | None, error: str | None = None) -> None:
    """The turn's metrics and its log line (ui/ops.py)."""
    turn = TurnRecord(
        thread_id=cl.context.session.thread_id,
        user_id=cl.user_session.get("user_id"),
        error=error,
        text=message.content,
    )
    if reply is not None:
        turn.action, turn.timings_ms = reply.action, reply.timings_ms
        turn.llm_calls, turn.fallbacks = reply.llm.calls, tuple(reply.fallbacks)
        turn.input_tokens, turn.output_tokens = reply.llm.input_tokens, reply.llm.output_tokens
        turn.guard_dropped = reply.guard_dropped
    observe_turn(METRICS, turn)


async def _forget_idle_history(cutoff: datetime) -> None:
    """Retention's part in the chat history: the threads with no message since ``cutoff``."""
    layer = get_data_layer()
    if isinstance(layer, RecbotDataLayer):
        await layer.erase_idle_threads(cutoff)


@cl.on_app_startup
async def startup() -> None:
    await runtime()


@cl.on_app_shutdown
async def shutdown() -> None:
    global _runtime
    if _runtime is not None:
        await _runtime.close()
        _runtime = None


@cl.data_layer
def data_layer() -> RecbotDataLayer:
    """The chat history, each thread its owner's only (``ui/requester.py`` tells who asks over
    HTTP); deleting a thread also deletes the agent's memory of it, as its owner."""
    from chainlit.server import app as chainlit_server

    async def forget_memory(thread_id: str, owner: str) -> None:
        app = await runtime()
        try:
            await app.recommender.aforget(thread_id, user_id=await app.user_id_for(owner))
        except NotYourConversation:  # the same id names someone else's memory: it stays
            log.warning("thread %s deleted; its agent memory is another user's, kept", thread_id)

    identify_http_requests(chainlit_server)
    url = async_database_url(settings.resolved_database_url)
    return RecbotDataLayer(url, on_delete_thread=forget_memory)


# the token a sign-in returns carries the identity's session version (see ui/sessions.py)
sessions = SessionPolicy(settings, authenticator)

if settings.auth == "password":

    @cl.password_auth_callback
    async def password_sign_in(username: str, password: str) -> cl.User | None:
        identifier = authenticator.check_password(username, password)
        return await sessions.user(identifier) if identifier else None

else:

    @cl.header_auth_callback
    async def header_sign_in(headers: Any) -> cl.User | None:
        identifier = authenticator.from_headers(dict(headers))
        if not identifier:
            return None
        return await sessions.user(identifier, new_visitor=settings.auth == "none")


@cl.set_starters
async def starters(user: cl.User | None = None, language: str | None = None) -> list[cl.Starter]:
    return [cl.Starter(label=label, message=message) for label, message in STARTERS]


def _panel(prefs: ChatPrefs) -> cl.ChatSettings:
    llm = settings.llm_configured
    on = prefs.llm_rerank if prefs.llm_rerank is not None else settings.llm_rerank
    return cl.ChatSettings(settings_widgets(prefs.k, prefs.detail, llm, bool(llm and on)))


async def _start_session(saved: dict[str, Any] | None = None) -> None:
    prefs = ChatPrefs.from_panel(saved or {}, settings)
    cl.user_session.set("prefs", prefs)
    user = cl.user_session.get("user")
    if user is not None:
        app = await runtime()
        try:
            cl.user_session.set("user_id", await app.user_id_for(user.identifier))
        except Exception:  # the details (SQL, paths) go to the log, never to the page
            log.exception("could not map %r to a user", user.identifier)
            await cl.ErrorMessage(content=CANT_START).send()
    await _panel(prefs).send()


@cl.on_chat_start
async def on_chat_start() -> None:
    """A new chat starts from the settings this user chose last (stored per user)."""
    await _start_session(await _user_defaults())


async def _user_defaults() -> dict[str, Any] | None:
    user = cl.user_session.get("user")
    layer = get_data_layer()
    if user is None or not isinstance(layer, RecbotDataLayer):
        return None
    return await layer.get_user_settings(user.identifier)


@cl.on_chat_resume
async def on_chat_resume(thread: ThreadDict) -> None:
    """The page re-renders the thread from the data layer; the agent's memory is the checkpoint."""
    metadata = thread.get("metadata") or {}
    saved = metadata.get("chat_settings") if isinstance(metadata, dict) else None
    await _start_session(saved if isinstance(saved, dict) else None)


@cl.on_settings_update
async def on_settings_update(values: dict[str, Any]) -> None:
    """This chat uses the new settings, and the user's next chats start from them; both are
    stored before the panel is answered."""
    cl.user_session.set("prefs", ChatPrefs.from_panel(values, settings))
    user = cl.user_session.get("user")
    layer = get_data_layer()
    if user is not None and isinstance(layer, RecbotDataLayer):
        await layer.set_user_settings(user.identifier, dict(values))
    await _store_thread_settings()


async def _store_thread_settings() -> None:
    """Store this chat's settings with its thread now. Chainlit stores them only when the
    browser disconnects, so a server killed before that forgot them (issue 14, item 6). A chat
    without a message has no thread yet: its first message stores them."""
    session = cl.context.session
    layer = get_data_layer()
    chosen = dict(session.chat_settings)
    if layer is None or not session.has_first_interaction:
        return
    if cl.user_session.get("stored_settings") == chosen:
        return
    user = session.user
    try:
        await layer.update_thread(
            session.thread_id,
            user_id=user.id if isinstance(user, PersistedUser) else None,
            metadata={"chat_settings": chosen},
        )
    except Exception:  # kept in the session, stored on disconnect as before; never on the page
        log.exception("could not store the settings of thread %s", session.thread_id)
        return
    cl.user_session.set("stored_settings", chosen)


def _prefs() -> ChatPrefs:
    prefs = cl.user_session.get("prefs")
    return prefs if isinstance(prefs, ChatPrefs) else ChatPrefs.from_panel({}, settings)


def _accept_long_pastes() -> None:
    """Let socket.io packets up to SOCKET_PACKET_BYTES reach the chat. At engine.io's default
    (1 MB) a longer paste closed the socket and vanished without a word; now ``on_message``
    answers it with a "too long" note (the message length limit is far below either)."""
    from chainlit.server import sio

    sio.eio.max_http_buffer_size = SOCKET_PACKET_BYTES


_accept_long_pastes()


@cl.on_message
async def on_message(message: cl.Message) -> None:
    if len(message.content) > settings.max_request_message_chars:
        log.info("message of %d characters not answered: over the limit", len(message.content))
        limit = settings.max_request_message_chars
        await cl.Message(content=too_long(len(message.content), limit)).send()
        return
    await _store_thread_settings()
    app = await runtime()
    prefs = _prefs()
    reply: Reply | None = None
    stages: list[Stage] = []
    try:
        async for event in app.recommender.astream(
            message.content,
            thread_id=cl.context.session.thread_id,
            user_id=cl.user_session.get("user_id"),
            k=prefs.k,
            llm_rerank=prefs.llm_rerank,
        ):
            if isinstance(event, Stage):
                stages.append(event)
            else:
                reply = event
    except NotYourConversation as error:  # someone else's thread id: say so, plainly
        log.warning("turn refused: thread %s is not %r's", error.thread_id, _user_identifier())
        _observe(message, None, error=type(error).__name__)
        await cl.ErrorMessage(content=str(error)).send()
        return
    except RecbotError as error:
        log.exception("turn failed")
        _observe(message, None, error=type(error).__name__)
        await cl.ErrorMessage(content=CANT_ANSWER).send()
        return
    except Exception:
        log.exception("turn failed")
        _observe(message, None, error="internal")
        await cl.ErrorMessage(content=WENT_WRONG).send()
        return
    if reply is not None:
        _observe(message, reply)
        await _send_reply(reply, prefs)
        if reply.action == "recommend" and reply.recommendations:
            await _show_how_i_chose(stages, reply)


async def _show_how_i_chose(stages: list[Stage], reply: Reply) -> None:
    """Under the answer, collapsed: how it was made, in plain words."""
    for stage in stages:
        log.debug("%s (%s ms): %s", stage.title, stage.ms, "; ".join(stage.lines))
    async with cl.Step(name=HOW_I_CHOSE, type="tool", default_open=False) as step:
        step.output = how_i_chose(stages, reply)


async def _send_reply(reply: Reply, prefs: ChatPrefs) -> None:
    catalog = (await runtime()).recommender.deps.tools.catalog
    if reply.action == "recommend" and reply.recommendations:
        text = reply.reply.split("\n", 1)[0]  # the intro; the picks are on the cards
        element_id = str(uuid.uuid4())
        props = cards_props(element_id, reply.recommendations, catalog, prefs.detail)
        element = cl.CustomElement(id=element_id, name=CARDS, props=props, display="inline")
        msg = cl.Message(content="", elements=[element])
    else:
        text = reply.reply
        msg = cl.Message(content="")
    for token in _tokens(text):
        await msg.stream_token(token)
    await msg.send()
    for sent in msg.elements:
        if isinstance(sent, cl.CustomElement):
            _remember(sent)


def _tokens(text: str) -> list[str]:
    """The reply in word-sized pieces, so it streams like any chat answer."""
    words = text.split(" ")
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]


@cl.action_callback("recbot_feedback")
async def on_card_feedback(action: cl.Action) -> dict[str, Any]:
    """👍 / 👎 / ✓ on a card: the agent keeps it; 👎 and ✓ swap in the next-best pick.

    Whatever a click carries, the page gets a plain answer: a failure is logged, never raised
    (Chainlit would answer the browser with a 500)."""
    try:
        return await _card_feedback(action)
    except Exception:
        log.exception("card click failed: %r", action.payload)
        return {"ok": False, "error": WENT_WRONG}


async def _card_feedback(action: cl.Action) -> dict[str, Any]:
    payload = action.payload if isinstance(action.payload, dict) else {}
    kind = payload.get("kind")
    element_id = str(payload.get("element_id", ""))
    try:
        item_id = int(payload.get("item_id"))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        log.info("card click refused: item id %r", payload.get("item_id"))
        return {"ok": False, "error": TRY_AGAIN}
    if kind not in FEEDBACK_KINDS:
        log.info("card click refused: kind %r", kind)
        return {"ok": False, "error": TRY_AGAIN}
    element = await _find_cards(element_id)
    shown = element.props.get("items", []) if element is not None else []
    if element is None or item_id not in {i.get("item_id") for i in shown if isinstance(i, dict)}:
        log.info("card click refused: item %s not on cards %r", item_id, element_id)
        return {"ok": False, "error": CARD_GONE}
    app = await runtime()
    prefs = _prefs()
    new = await app.recommender.afeedback(
        cl.context.session.thread_id, item_id, kind, user_id=cl.user_session.get("user_id")
    )
    replacement = card(new, app.recommender.deps.tools.catalog, prefs.detail) if new else None
    element.props = apply_feedback(element.props, item_id, kind, replacement)
    await _store_cards(element)
    await element.send(element.for_id or "", persist=False)
    _remember(element)
    return {"ok": True, "replacement": replacement["item_id"] if replacement else None}


async def _store_cards(element: cl.CustomElement) -> None:
    """Store the changed cards before the click is answered. Chainlit's ``element.update()``
    stores them in a background task, which a server killed right after the answer never ran
    (issue 14, item 6); the agent's memory of the click is already committed by ``afeedback``."""
    layer = get_data_layer()
    if layer is not None:
        await layer.create_element(element)


def _remember(element: cl.CustomElement) -> None:
    shown = cl.user_session.get("cards") or {}
    shown[element.id] = element
    cl.user_session.set("cards", shown)


async def _find_cards(element_id: str) -> cl.CustomElement | None:
    """The cards element, from this session or, after a restart, from the data layer."""
    shown = cl.user_session.get("cards") or {}
    found = shown.get(element_id)
    if isinstance(found, cl.CustomElement):  # a resumed session holds None here
        return found
    layer = get_data_layer()
    if layer is None:
        return None
    stored = await layer.get_element(cl.context.session.thread_id, element_id)
    if not stored or stored.get("name") != CARDS or not isinstance(stored.get("props"), dict):
        return None
    element = cl.CustomElement(
        id=element_id,
        name=CARDS,
        props=stored["props"],
        display="inline",
        for_id=stored.get("forId"),
        thread_id=stored.get("threadId"),
    )
    return element
