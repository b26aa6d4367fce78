"""Revocable, throttled sign-ins on top of Chainlit's tokens.

Chainlit signs people in with a 15-day token it never looks up again. Here every token carries
how it was issued and its identity's session version (``ui/session_versions.py``), and
:class:`SessionGate` checks both on every HTTP request and socket.io connection, before Chainlit
reads the token:

- signing out (``/logout``) raises the identity's version, so all its tokens stop working, on
  every device and replica; its open chat sockets in this process are closed;
- ``password``: a token names a configured user and a digest of the password it was issued for,
  so removing the user or changing the password ends it;
- ``header``: the proxy is the authority: a token is honoured only on requests where the proxy's
  header names the same person;
- a token issued under another sign-in mode is refused, and so is a widget token unless widget
  sign-in is on (``WebSettings.widget_sign_in``; with passwords, for configured names only).

A refused token is taken off the request rather than answered here: Chainlit then sees a
signed-out request (401 on its API, socket refused) and the sign-in page still loads.
Password sign-ins go through :class:`ui.throttle.SignInThrottle` (:func:`guard_sign_in`).
"""

from __future__ import annotations

import hmac
import inspect
import logging
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from chainlit.user import User
from starlette.types import ASGIApp, Receive, Scope, Send

from catalog.errors import StoreError
from ui.auth import CREDENTIAL, PROVIDER, VERSION, WIDGET, Authenticator
from ui.datalayer import async_database_url
from ui.session_versions import SessionVersions
from ui.settings import WebSettings
from ui.throttle import Attempt, SignInThrottle

log = logging.getLogger("recbot.ui")

PROVIDERS = {"none": "visitor", "password": "password", "header": "header"}
TOO_MANY_TRIES = "Too many sign-in attempts. Please wait a few minutes and try again."
CANT_CHECK = "Sign-in can't be checked right now; please try again in a moment."


def _secret() -> str:
    return os.environ.get("CHAINLIT_AUTH_SECRET", "")


def _cookie_name() -> str:
    return os.environ.get("CHAINLIT_AUTH_COOKIE_NAME", "access_token")  # as Chainlit reads it


@dataclass(frozen=True)
class Claims:
    """What a genuine, unexpired token says about its sign-in."""

    identifier: str
    provider: str
    version: int
    credential: str | None


def read_claims(token: str, secret: str) -> Claims | None:
    """The claims of a token signed with ``secret`` and not expired; None otherwise (Chainlit
    refuses those itself). A token from before versions existed has version 0."""
    try:
        payload = jwt.decode(token, secret, algorithms=["HS256"])
    except jwt.InvalidTokenError:
        return None
    metadata = payload.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    identifier, version = payload.get("identifier"), metadata.get(VERSION, 0)
    if not isinstance(identifier, str) or type(version) is not int:
        return None
    credential = metadata.get(CREDENTIAL)
    return Claims(
        identifier,
        str(metadata.get(PROVIDER, "")),
        version,
        credential if isinstance(credential, str) else None,
    )


class SessionPolicy:
    """Which tokens this server honours, and what a new sign-in's token carries."""

    def __init__(self, settings: WebSettings, authenticator: Authenticator | None = None) -> None:
        self.settings = settings
        self.auth = authenticator or Authenticator(settings)
        self.versions = SessionVersions(async_database_url(settings.resolved_database_url))

    async def user(self, identifier: str, *, new_visitor: bool = False) -> User:
        """The Chainlit user a sign-in returns; its metadata goes into the token. A new
        visitor's identity was just made up, so its version is 0 without asking the database."""
        provider = PROVIDERS[self.settings.auth]
        version = 0 if new_visitor else await self.versions.current(identifier)
        metadata: dict[str, Any] = {PROVIDER: provider, VERSION: version}
        if provider == "password":
            metadata[CREDENTIAL] = self.auth.credential(identifier, _secret())
        return User(identifier=identifier, metadata=metadata)

    def issued_rightly(self, claims: Claims, headers: Mapping[str, str]) -> bool:
        """Whether a token's provider and identity hold under this server's sign-in settings."""
        mode = self.settings.auth
        if claims.provider == WIDGET:
            allowed = self.settings.widget_sign_in
            return allowed and (mode != "password" or claims.identifier in self.auth.users)
        if claims.provider != PROVIDERS[mode]:
            return False
        if mode == "password":
            expected = self.auth.credential(claims.identifier, _secret())
            given = claims.credential
            return bool(expected and given) and hmac.compare_digest(str(expected), str(given))
        if mode == "header":
            return self.auth.from_headers(headers) == claims.identifier
        return True

    async def honours(self, token: str, headers: Mapping[str, str]) -> bool | None:
        """True for a token that is current; False for one that is not any more; None for one
        that is not genuine (left to Chainlit). Raises StoreError when versions can't be read."""
        claims = read_claims(token, _secret())
        if claims is None:
            return None
        if not self.issued_rightly(claims, headers):
            return False
        return claims.version == await self.versions.current(claims.identifier)

    async def sign_out(self, token: str) -> str | None:
        """End every session of a genuine token's identity; that identifier, or None."""
        claims = read_claims(token, _secret())
        if claims is None:
            return None
        await self.versions.revoke(claims.identifier)
        return claims.identifier


def _headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    return list(scope.get("headers") or [])


def _tokens(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """``(kind, token)`` for the sign-in cookie (joined when Chainlit chunked it) and a bearer
    Authorization header."""
    cookie = _cookie_name()
    chunks: dict[int, str] = {}
    found: list[tuple[str, str]] = []
    for name, value in headers:
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, val = part.strip().partition("=")
                if key == cookie:
                    found.append(("cookie", val))
                elif key.startswith(cookie + "_") and key[len(cookie) + 1 :].isdigit():
                    chunks[int(key[len(cookie) + 1 :])] = val
        elif name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                found.append(("bearer", token.strip()))
    if chunks and not any(kind == "cookie" for kind, _ in found):
        found.append(("cookie", "".join(chunks[i] for i in range(len(chunks)) if i in chunks)))
    return found


def _without(headers: list[tuple[bytes, bytes]], kinds: set[str]) -> list[tuple[bytes, bytes]]:
    """The headers less the sign-in cookie(s) and/or the bearer token."""
    cookie = _cookie_name()
    kept: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        if name == b"cookie" and "cookie" in kinds:
            parts = [p for p in value.decode("latin-1").split(";") if p.strip()]
            parts = [p for p in parts if not p.strip().partition("=")[0].startswith(cookie)]
            if parts:
                kept.append((name, ";".join(parts).strip().encode("latin-1")))
        elif not (name == b"authorization" and "bearer" in kinds):
            kept.append((name, value))
    return kept


class SessionGate:
    """ASGI middleware: each sign-in token on an HTTP request or websocket is checked with the
    policy; stale ones are taken off the request. When versions can't be read, the request is
    answered 503 (a socket is closed) rather than let through."""

    def __init__(self, app: ASGIApp, policy: SessionPolicy) -> None:
        self.app, self.policy = app, policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        named = {k.decode("latin-1"): v.decode("latin-1") for k, v in headers}
        stale: set[str] = set()
        try:
            for kind, token in _tokens(headers):
                if await self.policy.honours(token, named) is False:
                    stale.add(kind)
        except StoreError:
            await _unavailable(scope, send)
            return
        if stale:
            log.info("a stale sign-in token was refused on %s", scope.get("path"))
            scope = {**scope, "headers": _without(headers, stale)}
        await self.app(scope, receive, send)


async def _unavailable(scope: Scope, send: Send) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1011})
        return
    body = CANT_CHECK.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"retry-after", b"5")]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})


LOGIN_GUARD, LOGOUT_GUARD = "recbot_login_guard", "recbot_logout_guard"


def guard_sign_in(app: Any, policy: SessionPolicy, throttle: SignInThrottle) -> None:
    """Routes ahead of Chainlit's ``/login`` (throttled: refused with 429, unchecked, after too
    many failures) and ``/logout`` (ends every session of the identity first)."""
    from chainlit.config import config
    from chainlit.server import login, logout
    from fastapi import HTTPException

    if any(getattr(route, "name", None) == LOGIN_GUARD for route in app.router.routes):
        return

    async def throttled_login(request: Any, response: Any, form_data: Any) -> Any:
        address = request.client.host if request.client else ""
        attempt = throttle.begin(form_data.username, address)
        if not isinstance(attempt, Attempt):
            log.info("sign-in for %.40r from %s throttled", form_data.username, address)
            wait = {"Retry-After": str(max(1, math.ceil(attempt)))}
            raise HTTPException(status_code=429, detail=TOO_MANY_TRIES, headers=wait)
        result = await login(request, response, form_data)
        throttle.succeeded(attempt)
        return result

    async def revoking_logout(request: Any, response: Any) -> Any:
        for _, token in _tokens(_headers(request.scope)):
            try:
                identifier = await policy.sign_out(token)
            except StoreError as error:
                raise HTTPException(status_code=503, detail=CANT_CHECK) from error
            if identifier is not None:
                await _close_sockets(identifier)
        return await logout(request, response)

    # Chainlit's own parameters (the sign-in form included), with the types resolved
    throttled_login.__signature__ = inspect.signature(login, eval_str=True)  # type: ignore[attr-defined]
    revoking_logout.__signature__ = inspect.signature(logout, eval_str=True)  # type: ignore[attr-defined]
    root = config.run.root_path
    app.router.add_api_route(root + "/login", throttled_login, methods=["POST"], name=LOGIN_GUARD)
    app.router.routes.insert(0, app.router.routes.pop())  # first, ahead of Chainlit's own
    app.router.add_api_route(root + "/logout", revoking_logout, methods=["POST"], name=LOGOUT_GUARD)
    app.router.routes.insert(0, app.router.routes.pop())


async def _close_sockets(identifier: str) -> None:
    """Disconnect this process's chat sockets of a signed-out identity (other replicas' close
    at their next reconnect, which the version check refuses)."""
    from chainlit.server import sio
    from chainlit.session import ws_sessions_id

    for session in list(ws_sessions_id.values()):
        user = getattr(session, "user", None)
        if user is not None and user.identifier == identifier:
            await sio.disconnect(session.socket_id)
