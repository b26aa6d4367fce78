"""Card props, the widget example page, `recbot serve` / `widget-demo` wiring and the auth secret."""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import Any

import pytest

from agent.state import Recommendation
from catalog.domain import Catalog, Item
from ui import cli
from ui.auth import ensure_auth_secret, parse_users
from ui.cards import apply_feedback, card, cards_props, reason_line
from ui.server import (
    UI_DIR,
    WEB_ROOT,
    _removing_on_shutdown,
    chainlit_env,
    prepare_app_root,
    remove_app_root,
    widget_page,
)

ITEM = Item(
    id=8,
    title="Inception",
    year=2010,
    genres=("Action", "Sci-Fi"),
    tags=("dreams", "mind-bending"),
    overview="A thief steals secrets by entering people's dreams. He is offered a last job.",
    popularity=120,
    mean_rating=4.1,
)
OTHER = Item(id=11, title="Interstellar", year=2014, genres=("Sci-Fi",))


@pytest.fixture
def catalog() -> Catalog:
    return Catalog([ITEM, OTHER])


def rec(
    item: Item,
    explanation: str = "Sci-Fi as you asked. A thief steals secrets by entering people's dreams.",
) -> Recommendation:
    return Recommendation(
        item_id=item.id, title=item.display_title, score=0.5, explanation=explanation
    )


def test_a_card_shows_catalog_facts_and_the_reason_without_repeating_the_overview(
    catalog: Catalog,
) -> None:
    props = card(rec(ITEM), catalog)
    assert props["title"] == "Inception" and props["year"] == 2010
    assert props["genres"] == ["Action", "Sci-Fi"]
    assert props["reason"] == "Sci-Fi as you asked."
    assert props["overview"].startswith("A thief steals secrets")
    assert props["details"] == [] and props["status"] is None


def test_full_detail_adds_tags_and_rating_but_never_a_score(catalog: Catalog) -> None:
    details = card(rec(ITEM), catalog, "full")["details"]
    assert details == ["Tagged: dreams, mind-bending", "Rated 4.1/5 by 120 people"]


def test_reason_line_keeps_a_reason_that_is_only_the_overview() -> None:
    assert reason_line("A thief steals secrets by entering people's dreams.", ITEM).startswith(
        "A thief"
    )


def test_feedback_marks_likes_and_swaps_rejections(catalog: Catalog) -> None:
    props = cards_props("el-1", [rec(ITEM)], catalog)
    liked = apply_feedback(props, ITEM.id, "liked", None)
    assert liked["items"][0]["status"] == "liked" and props["items"][0]["status"] is None
    swapped = apply_feedback(props, ITEM.id, "rejected", card(rec(OTHER, "Sci-Fi."), catalog))
    assert [i["item_id"] for i in swapped["items"]] == [OTHER.id]
    assert swapped["items"][0]["note"] == "Instead of Inception"
    emptied = apply_feedback(props, ITEM.id, "seen", None)
    assert emptied["items"] == [] and "Nothing else" in emptied["note"]


def test_widget_page_fills_in_the_server_and_token_escaped() -> None:
    page = widget_page("http://localhost:8000", 'tok"<en>')
    assert 'const RECBOT_SERVER = "http://localhost:8000";' in page
    assert "tok&quot;&lt;en&gt;" in page and "{{" not in page
    assert "mountChainlitWidget" in page and "/copilot/index.js" in page
    # it mounts only once the server answered this origin, else says so in plain words
    assert page.index("fetch(RECBOT_SERVER") < page.index("? mount() :")
    assert "Movie suggestions are not available right now" in page
    assert 'customCssUrl: RECBOT_SERVER + "/public/recbot.css"' in page


def test_the_app_root_ships_config_welcome_page_and_card_element() -> None:
    config = tomllib.loads((WEB_ROOT / ".chainlit" / "config.toml").read_text())
    assert config["UI"]["name"] == "recbot"
    assert config["project"]["allow_origins"] == []  # `recbot serve` adds them from settings
    readme = (WEB_ROOT / "chainlit.md").read_text()
    assert readme.startswith("# recbot")
    assert all(ord(ch) < 0x2000 for ch in readme), "no emoji: a font may be missing"
    assert (WEB_ROOT / "public" / "elements" / "Recommendations.jsx").exists()


def test_serve_builds_then_starts_chainlit_with_our_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: dict[str, Any] = {}
    monkeypatch.setattr(
        "jobs.build.build_all",
        lambda settings, embedder=None: calls.setdefault("built", settings.home),
    )
    monkeypatch.setattr(
        "ui.server.serve", lambda settings, **kw: calls.setdefault("serve", kw) and 0
    )
    assert cli.main(["--home", str(tmp_path), "serve", "--port", "8123"], embedder=object()) == 0  # type: ignore[arg-type]
    assert calls["built"] == tmp_path.resolve()
    assert calls["serve"] == {"host": "localhost", "port": 8123, "open_browser": False}


def test_chainlit_env_points_at_our_app_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent.settings import Settings

    monkeypatch.delenv("CHAINLIT_APP_ROOT", raising=False)
    env = chainlit_env(Settings(home=tmp_path, data_dir=tmp_path), "0.0.0.0", 9000)
    assert env["CHAINLIT_APP_ROOT"] == str(WEB_ROOT)
    assert env["CHAINLIT_PORT"] == "9000" and env["RECBOT_HOME"] == str(tmp_path.resolve())


def test_each_server_gets_its_own_app_root_and_removes_only_its_own(tmp_path: Path) -> None:
    from agent.settings import Settings

    shipped = sorted(p.name for p in (WEB_ROOT / "public").rglob("*"))
    first, second = prepare_app_root(tmp_path, 8000), prepare_app_root(tmp_path, 8000)
    assert first != second
    for root in (first, second):
        assert root.parent == tmp_path / "run"
        assert not root.resolve().is_relative_to(UI_DIR)
        config = tomllib.loads((root / ".chainlit" / "config.toml").read_text())
        assert config["UI"]["name"] == "recbot"
        assert (root / "chainlit.md").read_text().startswith("# recbot")
        assert (root / "public" / "elements" / "Recommendations.jsx").exists()
    assert chainlit_env(Settings(home=tmp_path), "localhost", 8000, app_root=first)[
        "CHAINLIT_APP_ROOT"
    ] == str(first)
    # what Chainlit writes at run time, and deletes from its app root when a server stops
    for root in (first, second):
        (root / ".files").mkdir()
        (root / ".files" / "card.json").write_text("{}")
    remove_app_root(first)
    assert not first.exists()
    assert (second / ".files" / "card.json").exists()
    assert (second / "public" / "elements" / "Recommendations.jsx").exists()
    assert sorted(p.name for p in (WEB_ROOT / "public").rglob("*")) == shipped


def test_a_stopping_server_removes_its_app_root_before_chainlit_exits(tmp_path: Path) -> None:
    import asyncio
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager

    root = prepare_app_root(tmp_path, 8000)
    seen: list[bool] = []

    @asynccontextmanager
    async def chainlit_lifespan(app: object) -> AsyncIterator[None]:
        yield
        seen.append(root.exists())  # Chainlit ends the process here (os._exit)

    async def run() -> None:
        async with _removing_on_shutdown(chainlit_lifespan, root)(object()):
            assert root.exists()

    asyncio.run(run())
    assert seen == [False]


def test_auth_secret_is_made_once_and_kept_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHAINLIT_AUTH_SECRET", raising=False)
    first = ensure_auth_secret(tmp_path)
    monkeypatch.delenv("CHAINLIT_AUTH_SECRET")
    assert ensure_auth_secret(tmp_path) == first and len(first) >= 32
    assert stat.S_IMODE(os.stat(tmp_path / "auth_secret").st_mode) == 0o600
    monkeypatch.setenv("CHAINLIT_AUTH_SECRET", "from-env")
    assert ensure_auth_secret(tmp_path) == "from-env"


def test_password_users_are_parsed_strictly() -> None:
    assert parse_users("ann:a:b, bob:pw") == {"ann": "a:b", "bob": "pw"}
    with pytest.raises(ValueError, match="name:password"):
        parse_users("ann")


def test_the_allow_list_follows_the_serve_and_widget_ports_and_the_setting() -> None:
    from ui.server import allowed_origins
    from ui.settings import WebSettings

    web = WebSettings(widget_port=28601, allow_origins="https://shop.example.com")  # type: ignore[arg-type]
    assert allowed_origins(web, "localhost", 28600) == [
        "http://localhost:28600",
        "http://127.0.0.1:28600",
        "http://localhost:28601",
        "http://127.0.0.1:28601",
        "https://shop.example.com",
    ]
    named = allowed_origins(WebSettings(), "recbot.lan", 8000)
    assert named == ["http://recbot.lan:8000", "http://recbot.lan:8001"]


def test_the_socket_origin_check_takes_listed_origins_and_the_server_own_page() -> None:
    from ui.server import origin_check

    check = origin_check(["http://localhost:28601"])
    assert check("http://localhost:28601", {"HTTP_HOST": "localhost:28600"})
    assert check("http://192.168.1.9:8000", {"HTTP_HOST": "192.168.1.9:8000"})  # same origin
    assert not check("https://evil.example.com", {"HTTP_HOST": "localhost:28600"})
    assert check(None, {})  # not a browser


def test_widget_demo_defaults_to_the_widget_port_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: dict[str, Any] = {}
    monkeypatch.setattr("ui.server.serve_widget_demo", lambda settings, **kw: calls.update(kw) or 0)
    monkeypatch.setenv("RECBOT_WIDGET_PORT", "28601")
    monkeypatch.setenv("RECBOT_PORT", "28600")
    assert cli.main(["--home", str(tmp_path), "widget-demo"]) == 0
    assert calls["port"] == 28601 and calls["server"] == "http://localhost:28600"


def test_responses_carry_security_headers_and_only_the_widget_may_be_framed() -> None:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from ui.server import SecurityHeaders

    async def page(request: Any) -> PlainTextResponse:
        return PlainTextResponse("hi", headers={"Referrer-Policy": "no-referrer"})

    inner = Starlette(routes=[Route("/", page), Route("/copilot/index.js", page)])
    client = TestClient(SecurityHeaders(inner))
    headers = client.get("/").headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"  # a route's own choice is kept
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    widget = client.get("/copilot/index.js").headers
    assert widget["x-content-type-options"] == "nosniff"
    assert "x-frame-options" not in widget and "content-security-policy" not in widget


def test_an_action_for_an_unknown_session_is_a_plain_404_not_a_500(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHAINLIT_AUTH_SECRET", "test-secret-" + "x" * 40)
    from chainlit.auth import get_current_user
    from chainlit.server import app
    from starlette.testclient import TestClient

    from ui.server import guard_actions
    from ui.words import SESSION_GONE

    monkeypatch.setattr(app.router, "routes", list(app.router.routes))
    monkeypatch.setitem(app.dependency_overrides, get_current_user, lambda: None)
    guard_actions(app)
    body = {"sessionId": "no-such-session", "action": {"name": "recbot_feedback", "payload": {}}}
    response = TestClient(app).post("/project/action", json=body)
    assert response.status_code == 404 and response.json() == {"detail": SESSION_GONE}


def test_an_existing_world_readable_auth_secret_is_made_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHAINLIT_AUTH_SECRET", raising=False)
    (tmp_path / "auth_secret").write_text("kept-secret-" + "y" * 40)
    (tmp_path / "auth_secret").chmod(0o644)
    assert ensure_auth_secret(tmp_path) == "kept-secret-" + "y" * 40
    assert stat.S_IMODE(os.stat(tmp_path / "auth_secret").st_mode) == 0o600
