"""Who is chatting: sign-in for the web app and the widget, from settings.

The web app always has a signed-in identity, because Chainlit resumes a conversation (after a
reload or a server restart) only for a signed-in user:

- ``none`` (default): every browser gets an anonymous identity ``visitor-<random>`` on its first
  visit, kept in Chainlit's sign-in cookie (15 days, ``user_session_timeout``), and stored only
  once it saves a conversation or settings (``ui/datalayer.py``), never per request;
- ``password``: people sign in with a name and password from ``RECBOT_AUTH_USERS``;
- ``header``: a trusted reverse proxy names the user in ``RECBOT_AUTH_HEADER``.

The widget signs in with a token the host page's backend mints (:func:`widget_token`).
Sessions are signed with ``CHAINLIT_AUTH_SECRET``; when unset, one is generated once and kept in
``RECBOT_HOME/auth_secret`` so sign-ins survive a restart. Every token names how it was issued
(``provider``) and carries its identity's session version (``ui/session_versions.py``), so
signing out, removing a user or switching the sign-in mode ends it (``ui/sessions.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agent.settings import Settings
from catalog.store import keep_private
from ui.session_versions import read_version
from ui.settings import WebSettings

SECRET_ENV = "CHAINLIT_AUTH_SECRET"
VISITOR_PREFIX = "visitor-"
# what a token's metadata carries: how it was issued, its session version, and (password
# sign-in) a keyed digest of the password it was issued for
PROVIDER, VERSION, CREDENTIAL = "provider", "sv", "cred"
WIDGET = "widget"


def ensure_auth_secret(home: Path) -> str:
    """``CHAINLIT_AUTH_SECRET``, from the environment or ``home/auth_secret`` (made once)."""
    if secret := os.environ.get(SECRET_ENV):
        return secret
    path = home / "auth_secret"
    keep_private(path)  # one made by an older recbot may be world-readable
    secret = path.read_text(encoding="utf-8").strip()
    if not secret:
        secret = secrets.token_urlsafe(48)
        path.write_text(secret, encoding="utf-8")
    os.environ[SECRET_ENV] = secret
    return secret


def parse_users(spec: str) -> dict[str, str]:
    """``"alice:pw1,bob:pw2"`` → ``{"alice": "pw1", "bob": "pw2"}``; a malformed pair is an error."""
    users: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, password = pair.partition(":")
        if not sep or not name.strip() or not password:
            raise ValueError(
                f"RECBOT_AUTH_USERS: expected 'name:password' pairs separated by commas, got {pair!r}"
            )
        users[name.strip()] = password
    return users


class Authenticator:
    """The sign-in checks behind Chainlit's auth callbacks (plain functions, easy to test)."""

    def __init__(self, settings: WebSettings) -> None:
        self.mode = settings.auth
        self.header = settings.auth_header.lower()
        self.users = parse_users(
            settings.auth_users.get_secret_value() if settings.auth_users else ""
        )
        if self.mode == "password" and not self.users:
            raise ValueError("RECBOT_AUTH=password needs RECBOT_AUTH_USERS ('name:password,...')")

    def check_password(self, name: str, password: str) -> str | None:
        """The identifier when the password matches (compared in constant time), else None."""
        expected = self.users.get(name.strip())
        if expected is None:
            hmac.compare_digest(password.encode(), password.encode())  # same work either way
            return None
        return name.strip() if hmac.compare_digest(expected.encode(), password.encode()) else None

    def credential(self, name: str, secret: str) -> str | None:
        """A digest of ``name``'s configured password, keyed with the auth secret: password
        tokens carry it, so changing or removing the password ends their sessions."""
        password = self.users.get(name)
        if password is None:
            return None
        message = f"{name}\0{password}".encode()
        return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]

    def from_headers(self, headers: Mapping[str, str]) -> str | None:
        """``header`` mode: the proxy's header; ``none`` mode: a new anonymous visitor."""
        if self.mode == "header":
            lowered = {k.lower(): v for k, v in headers.items()}
            value = lowered.get(self.header, "").strip()
            return value or None
        if self.mode == "none":
            return VISITOR_PREFIX + uuid.uuid4().hex
        return None


def widget_token(identifier: str, settings: Settings) -> str:
    """A sign-in token for the widget (``mountChainlitWidget({accessToken})``).

    The host page's backend mints it for its own signed-in user with the shared secret; it
    reads the identity's session version from the app database, so the token stops working
    once that identity signs out. Whether the server accepts it is the server's choice
    (``RECBOT_WIDGET_TOKENS``; with password sign-in, configured names only).
    """
    ensure_auth_secret(settings.home)
    from chainlit.auth import create_jwt
    from chainlit.user import User

    version = read_version(settings.resolved_database_url, identifier)
    metadata: dict[str, Any] = {PROVIDER: WIDGET, VERSION: version}
    return create_jwt(User(identifier=identifier, metadata=metadata))
