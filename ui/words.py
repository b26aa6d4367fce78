"""What the web chat says to people: the settings panel, the "How I chose these" step, errors,
and the few of Chainlit's own words recbot changes. No setting names, scores or internal counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chainlit.input_widget import InputWidget, Select, Slider, Switch

from agent.recommender import Reply
from agent.trace import SUMMARY_PARTS, Stage

HOW_I_CHOSE = "How I chose these"
DETAIL_CHOICES = {
    "Short: why it fits and a line about it": "short",
    "More: a longer summary, tags and ratings": "full",
}
CANT_ANSWER = "Sorry, I can't search the films right now. Please try again in a moment."
CANT_START = "Sorry, I couldn't open your profile just now; please reload the page to try again."
TRY_AGAIN = "That didn't go through; please try again."
SESSION_GONE = "This chat is no longer connected; reload the page to go on."
CARD_GONE = "That card is no longer shown; ask me for new picks."
WENT_WRONG = "Sorry, something went wrong on my side. Your conversation is kept; please try again."
# Chainlit's footer under the composer: only true when a language model writes or orders.
LLM_FOOTER = "An AI language model helps with these suggestions and can make mistakes."


def too_long(chars: int, limit: int) -> str:
    """The answer to a message longer than the chat reads: what happened and what to do."""
    return (
        f"That message is too long for me to read ({chars:,} characters; I can take up to "
        f"{limit:,}). Could you tell me in a few sentences what you'd like to watch?"
    )


def settings_widgets(k: int, detail: str, llm: bool, llm_on: bool) -> list[InputWidget]:
    """The settings panel; the AI switch only exists when a language model is configured."""
    widgets: list[InputWidget] = [
        Slider(id="k", label="How many films to suggest", initial=k, min=1, max=20, step=1),
        Select(
            id="detail",
            label="How much each card says",
            items=DETAIL_CHOICES,
            initial_value=detail,
        ),
    ]
    if llm:
        widgets.insert(
            1,
            Switch(
                id="llm_rerank",
                label="Let the AI model reorder the picks",
                initial=llm_on,
                description="It reads the top picks and your words; answers take a little longer.",
            ),
        )
    return widgets


def how_i_chose(stages: Iterable[Stage], reply: Reply) -> str:
    """The one collapsed step under an answer: understood, applied, picked, time."""
    parts: dict[str, list[str]] = {}
    for stage in stages:
        for key, text in stage.summary.items():
            parts.setdefault(key, []).append(text)
    lines = [
        f"**{heading}:** " + " ".join(parts[key])
        for key, heading in SUMMARY_PARTS.items()
        if parts.get(key)
    ]
    seconds = reply.timings_ms.get("total", 0.0) / 1000
    took = f"**Time:** {seconds:.1f} seconds"
    if reply.llm.calls:
        took += f", with {reply.llm.calls} call(s) to the AI language model"
    return "\n\n".join([*lines, took + "."])


SIGN_IN_FAILED = (
    "Sign in failed: check the name and password. After several failed tries, sign-in pauses "
    "for a few minutes."
)
SIGN_IN_REFUSED = (
    "Unable to sign in right now. After several failed tries, sign-in pauses for a few "
    "minutes; please wait and try again."
)


def translations(base: dict[str, Any], *, llm: bool) -> dict[str, Any]:
    """Chainlit's English words with recbot's changes: a step is titled by its own name (not
    "Used …"), the footer warns about a language model only when one runs, and a refused
    sign-in says that repeated failures make it wait (the throttle answers 429, which the page
    shows with its default sign-in error)."""
    out = {**base}
    auth = dict(out.get("auth") or {})
    login = dict(auth.get("login") or {})
    errors = dict(login.get("errors") or {})
    errors["default"] = SIGN_IN_REFUSED
    errors["credentialsSignin"] = SIGN_IN_FAILED
    login["errors"], auth["login"] = errors, login
    out["auth"] = auth
    chat = dict(out.get("chat") or {})
    messages = dict(chat.get("messages") or {})
    messages["status"] = {**(messages.get("status") or {}), "using": "Working on", "used": ""}
    chat["messages"] = messages
    chat["watermark"] = LLM_FOOTER if llm else ""
    out["chat"] = chat
    return out
