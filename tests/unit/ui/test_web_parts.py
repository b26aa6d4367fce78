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
from ui.server import WEB_ROOT, chainlit_env, widget_page

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


def test_full_detail_adds_tags_rating_and_score(catalog: Catalog) -> None:
    details = card(rec(ITEM), catalog, "full")["details"]
    assert details == [
        "Tagged: dreams, mind-bending",
        "Rated 4.1/5 by 120 people",
        "Ranker score 0.500",
    ]


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


def test_the_app_root_ships_config_welcome_page_and_card_element() -> None:
    config = tomllib.loads((WEB_ROOT / ".chainlit" / "config.toml").read_text())
    assert config["UI"]["name"] == "recbot"
    assert "*" not in config["project"]["allow_origins"]  # explicit origins only
    assert (WEB_ROOT / "chainlit.md").read_text().startswith("# recbot")
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
