"""Who is asking: the signed-in Chainlit user behind a call into the chat-history data layer.

Chainlit calls the data layer from two kinds of places. Websocket events, actions and the
background tasks they start run inside a Chainlit context whose session carries the user.
Some HTTP routes (``/feedback``, ``/project/thread``…) run with no context at all; for those,
:func:`identify_http_requests` wraps Chainlit's sign-in dependency so the user it authenticated
is remembered for the rest of that request. When both are known and disagree, nobody is.
"""

from __future__ import annotations

import inspect
import logging
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from chainlit.auth import get_current_user
from chainlit.context import ChainlitContextException, get_context
from chainlit.user import PersistedUser, User

logger = logging.getLogger(__name__)

_http_user: ContextVar[User | PersistedUser | None] = ContextVar("recbot_http_user", default=None)


@dataclass(frozen=True)
class Requester:
    """A signed-in user: the identifier threads are owned by, and the chat-user id if known."""

    identifier: str
    chat_user_id: str | None = None


def _as_requester(user: User | PersistedUser | None) -> Requester | None:
    if user is None or not getattr(user, "identifier", None):
        return None
    return Requester(user.identifier, user.id if isinstance(user, PersistedUser) else None)


def current_requester() -> Requester | None:
    """The user this call acts for, or None when it cannot be told (then nothing is theirs)."""
    try:
        in_session = _as_requester(get_context().session.user)
    except ChainlitContextException:
        in_session = None
    over_http = _as_requester(_http_user.get())
    if in_session and over_http and in_session.identifier != over_http.identifier:
        logger.warning(
            "Request signed in as %r acts in a session of %r: refused",
            over_http.identifier,
            in_session.identifier,
        )
        return None
    return in_session or over_http


def identify_http_requests(app: Any) -> None:
    """Remember, per HTTP request, the user Chainlit's sign-in dependency authenticated.

    A FastAPI dependency override (read per request, so it may be installed after the server
    started); it wraps an override already in place instead of replacing it.
    """
    overrides = app.dependency_overrides
    inner = overrides.get(get_current_user, get_current_user)
    if getattr(inner, "_recbot_remembers_user", False):
        return

    async def remembering_current_user(**kwargs: Any) -> Any:
        user = await inner(**kwargs)
        _http_user.set(user if isinstance(user, User | PersistedUser) else None)
        return user

    # the wrapped dependency's own parameters (the token from the cookie or header)
    remembering_current_user.__signature__ = inspect.signature(inner, eval_str=True)  # type: ignore[attr-defined]
    remembering_current_user._recbot_remembers_user = True  # type: ignore[attr-defined]
    overrides[get_current_user] = remembering_current_user
