"""Starting the web app (``recbot serve``) and the widget example page (``recbot widget-demo``).

Chainlit reads its app root (``.chainlit/config.toml``, ``chainlit.md``, ``public/``) from
``CHAINLIT_APP_ROOT`` when ``chainlit`` is first imported, so these functions set the
environment before importing it.
"""

from __future__ import annotations

import html
import http.server
import os
from functools import partial
from pathlib import Path

from agent.settings import Settings
from ui.settings import WebSettings

UI_DIR = Path(__file__).resolve().parent
APP = UI_DIR / "app.py"
WEB_ROOT = UI_DIR / "web"
WIDGET_PAGE = UI_DIR / "widget" / "example.html"


def chainlit_env(settings: Settings, host: str, port: int) -> dict[str, str]:
    """The environment the Chainlit process needs: its app root, address and our settings."""
    env = {
        "CHAINLIT_APP_ROOT": os.environ.get("CHAINLIT_APP_ROOT", str(WEB_ROOT)),
        "CHAINLIT_HOST": host,
        "CHAINLIT_PORT": str(port),
        "RECBOT_HOME": str(settings.home),
    }
    if settings.data_dir is not None:
        env["RECBOT_DATA_DIR"] = str(settings.data_dir)
    return env


def serve(settings: WebSettings, *, host: str, port: int, open_browser: bool = False) -> int:
    """Run the Chainlit app in this process until interrupted."""
    os.environ.update(chainlit_env(settings, host, port))
    from chainlit.config import config

    # before chainlit.server reads the list into its CORS and socket.io settings
    for origin in settings.allow_origins:
        if origin not in config.project.allow_origins:
            config.project.allow_origins.append(origin)
    from chainlit.cli import run_chainlit

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


def serve_widget_demo(
    settings: Settings, *, server: str, host: str, port: int, identifier: str
) -> int:
    """Serve ui/widget/example.html on ``host:port``, signed in as ``identifier``."""
    from ui.auth import widget_token

    page = widget_page(server, widget_token(identifier, settings.home)).encode()
    httpd = http.server.ThreadingHTTPServer((host, port), partial(_PageHandler, page))
    print(
        f"recbot: widget example on http://{host}:{port} talking to {server} (Ctrl+C stops)",
        flush=True,
    )
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0
