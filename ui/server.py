"""Starting the web app (``recbot serve``) and the widget example page (``recbot widget-demo``).

Chainlit reads its app root (``.chainlit/config.toml``, ``chainlit.md``, ``public/``) from
``CHAINLIT_APP_ROOT`` when ``chainlit`` is first imported, so these functions set the
environment before importing it.
"""

from __future__ import annotations

import html
import http.server
import inspect
import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, MutableMapping
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agent.settings import Settings
from ui.settings import WebSettings

log = logging.getLogger("recbot.ui")

UI_DIR = Path(__file__).resolve().parent
APP = UI_DIR / "app.py"
WEB_ROOT = UI_DIR / "web"
WIDGET_PAGE = UI_DIR / "widget" / "example.html"
# a server on any of these answers browsers under each local name
LOCAL_HOSTS = ("localhost", "127.0.0.1", "0.0.0.0", "::", "")


def chainlit_env(
    settings: Settings, host: str, port: int, *, app_root: Path | None = None
) -> dict[str, str]:
    """The environment the Chainlit process needs: its app root, address and our settings."""
    env = {
        "CHAINLIT_APP_ROOT": str(app_root or os.environ.get("CHAINLIT_APP_ROOT", str(WEB_ROOT))),
        "CHAINLIT_HOST": host,
        "CHAINLIT_PORT": str(port),
        "RECBOT_HOME": str(settings.home),
    }
    if settings.data_dir is not None:
        env["RECBOT_DATA_DIR"] = str(settings.data_dir)
    return env


def prepare_app_root(home: Path, port: int, source: Path = WEB_ROOT) -> Path:
    """A fresh, writable app root for one server, ``<home>/run/<port>-<pid>-<random>``: a copy
    of ``source``'s ``.chainlit/config.toml`` and ``chainlit.md`` and a link to its ``public/``.

    Chainlit writes into its app root (``.files``, translations) and deletes ``.files`` when
    the server stops, so servers sharing one root (the install's ``ui/web``) broke each other.
    """
    run = home / "run"
    run.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix=f"{port}-{os.getpid()}-", dir=run))
    (root / ".chainlit").mkdir()
    for name in (".chainlit/config.toml", "chainlit.md"):
        if (source / name).is_file():
            shutil.copyfile(source / name, root / name)
    if (source / "public").is_dir():
        try:
            (root / "public").symlink_to((source / "public").resolve(), target_is_directory=True)
        except OSError:  # no symlinks here (some Windows setups)
            shutil.copytree(source / "public", root / "public")
    return root


def remove_app_root(root: Path) -> None:
    """Delete a root made by ``prepare_app_root`` (its ``public`` link, not what it points at)."""
    shutil.rmtree(root, ignore_errors=True)


def _removing_on_shutdown(lifespan: Callable[[Any], Any], root: Path) -> Callable[[Any], Any]:
    """Chainlit's lifespan ends the process (``os._exit``) once it has shut down, so the app
    root goes when the server stops, before Chainlit's own shutdown runs."""

    @asynccontextmanager
    async def wrapped(app: Any) -> AsyncIterator[Any]:
        async with lifespan(app) as state:
            try:
                yield state
            finally:
                remove_app_root(root)

    return wrapped


def _origins(host: str, port: int) -> list[str]:
    names = ["localhost", "127.0.0.1"] if host in LOCAL_HOSTS else [host]
    return [f"http://{name}:{port}" for name in names]


def allowed_origins(settings: WebSettings, host: str, port: int) -> list[str]:
    """Who may call the server from a browser: the app's own origin, the widget demo page's
    (``RECBOT_WIDGET_PORT``, on the same host) and ``RECBOT_ALLOW_ORIGINS``."""
    found = [*_origins(host, port), *_origins(host, settings.widget_port)]
    found += settings.allow_origins
    return list(dict.fromkeys(found))


def origin_check(allowed: Iterable[str]) -> Callable[[str | None, dict[str, str]], bool]:
    """socket.io's Origin check: a listed origin, or the page the server itself serves (the
    Origin names the Host the request was sent to, whatever name the server is reached by)."""
    listed = set(allowed)

    def check(origin: str | None, environ: dict[str, str]) -> bool:
        if not origin or origin in listed:
            return True
        return urlsplit(origin).netloc == environ.get("HTTP_HOST", "")

    return check


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class WebsocketOrigins:
    """ASGI middleware: a websocket from a page whose origin ``check`` refuses is closed
    before it opens (HTTP is left to the CORS middleware)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], check: Any) -> None:
        self.app, self.check = app, check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            if not self.check(headers.get("origin"), {"HTTP_HOST": headers.get("host", "")}):
                await send({"type": "websocket.close", "code": 1008})
                return
        await self.app(scope, receive, send)


# Chainlit's pages run inline scripts and styles, so a script-src policy would break them; the
# policy keeps framing, plugins and <base> out. The widget's assets (/copilot/...) are loaded by
# other sites' pages and are not framed, so they go without the framing headers.
SECURITY_HEADERS = (
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
)
PAGE_HEADERS = (
    ("x-frame-options", "DENY"),
    ("content-security-policy", "frame-ancestors 'none'; object-src 'none'; base-uri 'self'"),
)
WIDGET_PATH = "/copilot/"


class SecurityHeaders:
    """ASGI middleware: every HTTP response says nosniff and a Referrer-Policy; all but the
    widget's assets also refuse to be framed (X-Frame-Options, CSP frame-ancestors)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        widget = WIDGET_PATH in scope.get("path", "")
        added = SECURITY_HEADERS if widget else SECURITY_HEADERS + PAGE_HEADERS

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.decode("latin-1").lower() for name, _ in headers}
                headers += [
                    (name.encode(), value.encode()) for name, value in added if name not in present
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


ACTION_PATH = "/project/action"
ACTION_GUARD = "recbot_action_guard"


def guard_actions(app: Any) -> None:
    """Chainlit answers an action for a session it does not know (one that ended, or a made-up
    id) with a 500 and a traceback in the log; this route answers 404 with a plain reason."""
    from chainlit.config import config
    from chainlit.server import call_action
    from chainlit.session import WebsocketSession
    from chainlit.types import CallActionRequest
    from fastapi import HTTPException

    from ui.words import SESSION_GONE

    if any(getattr(route, "name", None) == ACTION_GUARD for route in app.router.routes):
        return

    async def guarded(payload: CallActionRequest, current_user: Any) -> Any:
        if WebsocketSession.get_by_id(payload.sessionId) is None:
            log.info("action for an unknown session %.40r refused", payload.sessionId)
            raise HTTPException(status_code=404, detail=SESSION_GONE)
        return await call_action(payload, current_user)

    # Chainlit's own parameters (its sign-in dependency included), with the types resolved
    guarded.__signature__ = inspect.signature(call_action, eval_str=True)  # type: ignore[attr-defined]
    path = config.run.root_path + ACTION_PATH
    app.router.add_api_route(path, guarded, methods=["POST"], name=ACTION_GUARD)
    # first, so it answers before Chainlit's own route for the same path
    app.router.routes.insert(0, app.router.routes.pop())


def serve(settings: WebSettings, *, host: str, port: int, open_browser: bool = False) -> int:
    """Run the Chainlit app in this process until interrupted, from an app root of its own
    (removed when it stops; another server's is never touched)."""
    source = Path(os.environ.get("CHAINLIT_APP_ROOT", str(WEB_ROOT)))
    root = prepare_app_root(settings.home, port, source)
    try:
        return _serve(settings, host=host, port=port, open_browser=open_browser, root=root)
    finally:
        remove_app_root(root)


def _serve(settings: WebSettings, *, host: str, port: int, open_browser: bool, root: Path) -> int:
    os.environ.update(chainlit_env(settings, host, port, app_root=root))
    from chainlit.config import config

    # before chainlit.server reads the list into its CORS middleware
    for origin in allowed_origins(settings, host, port):
        if origin not in config.project.allow_origins:
            config.project.allow_origins.append(origin)
    from chainlit.cli import run_chainlit
    from chainlit.server import app

    from ui.sessions import SessionGate, SessionPolicy, guard_sign_in
    from ui.throttle import SignInThrottle

    # every request's and socket's sign-in token is checked (revoked, removed user, other mode)
    policy = SessionPolicy(settings)
    app.add_middleware(SessionGate, policy=policy)
    # browsers apply no CORS to websockets, and Chainlit's socket.io checks no Origin
    app.add_middleware(WebsocketOrigins, check=origin_check(config.project.allow_origins))
    app.add_middleware(SecurityHeaders)
    guard_actions(app)
    throttle = SignInThrottle(settings.signin_max_failures, settings.signin_window_s)
    guard_sign_in(app, policy, throttle)
    app.router.lifespan_context = _removing_on_shutdown(app.router.lifespan_context, root)

    config.run.headless = not open_browser
    print(f"recbot: serving on http://{host}:{port} (Ctrl+C stops)", flush=True)
    run_chainlit(str(APP))
    return 0


def widget_page(server: str, token: str, template: Path = WIDGET_PAGE) -> str:
    """The example host page with the recbot server's address and a sign-in token filled in."""
    text = template.read_text(encoding="utf-8")
    return text.replace("{{RECBOT_SERVER}}", html.escape(server, quote=True)).replace(
        "{{ACCESS_TOKEN}}", html.escape(token, quote=True)
    )


class _PageHandler(http.server.BaseHTTPRequestHandler):
    def __init__(self, page: bytes, *args: object, **kwargs: object) -> None:
        self.page = page
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def do_GET(self) -> None:
        if self.path.split("?")[0] not in ("/", "/index.html", "/example.html"):
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, format: str, *args: object) -> None:
        pass


def origin_allowed(server: str, origin: str) -> bool | None:
    """Whether the recbot ``server`` lets pages from ``origin`` call it; None when it does not
    answer at all."""
    request = urllib.request.Request(
        server.rstrip("/") + "/project/translations?language=en-US", headers={"Origin": origin}
    )
    try:
        with urllib.request.urlopen(request, timeout=3) as response:
            headers = response.headers
    except urllib.error.HTTPError as error:
        headers = error.headers
    except OSError:
        return None
    return headers.get("access-control-allow-origin") in (origin, "*")


def serve_widget_demo(
    settings: Settings, *, server: str, host: str, port: int, identifier: str
) -> int:
    """Serve ui/widget/example.html on ``host:port``, signed in as ``identifier``."""
    from ui.auth import widget_token

    page = widget_page(server, widget_token(identifier, settings)).encode()
    httpd = http.server.ThreadingHTTPServer((host, port), partial(_PageHandler, page))
    print(
        f"recbot: widget example on http://{host}:{port} talking to {server} (Ctrl+C stops)",
        flush=True,
    )
    origin = f"http://{'localhost' if host in LOCAL_HOSTS else host}:{port}"
    allowed = origin_allowed(server, origin)
    if allowed is None:
        print(f"recbot: {server} does not answer yet; start `recbot serve`.", flush=True)
    elif not allowed:
        print(
            f"recbot: {server} does not accept pages from {origin}: start it with "
            f"RECBOT_WIDGET_PORT={port} or RECBOT_ALLOW_ORIGINS={origin}.",
            flush=True,
        )
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0
