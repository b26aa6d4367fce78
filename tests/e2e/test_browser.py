"""The chat and the widget in a real browser: Playwright driving Debian's Chromium.

Never downloads a browser: it uses /usr/bin/chromium (installed by .ci/run through apt) or
RECBOT_CHROMIUM. Screenshots land in test-artifacts/ (the README shows them).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ARTIFACTS, ROOT, Server

CHROMIUM = Path(os.environ.get("RECBOT_CHROMIUM", "/usr/bin/chromium"))
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
REQUEST = "Something like Inception, but less depressing"
TIMEOUT_MS = 60_000

playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("RECBOT_REQUIRE_INTEGRATION") == "1":
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (see .ci/run)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 960})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        yield page
    finally:
        context.close()


def card_ids(scope: object) -> list[int]:
    cards = scope.locator("[data-testid=rec-card]")  # type: ignore[attr-defined]
    return [int(cards.nth(i).get_attribute("data-item-id")) for i in range(cards.count())]


def wait_until(check: object, what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def send(composer: object, text: str) -> None:
    """Type and send a message once the chat is connected (the composer clears on send)."""
    composer.fill(text)  # type: ignore[attr-defined]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        composer.press("Enter")  # type: ignore[attr-defined]
        try:
            wait_until(lambda: not composer.input_value().strip(), "the message to go", 3)  # type: ignore[attr-defined]
            return
        except AssertionError:
            continue  # not connected yet: Enter did nothing
    raise AssertionError(f"could not send {text!r}")


def test_chat_recommends_then_replaces_a_rejected_card_and_survives_a_reload(
    server: Server, page: object
) -> None:
    page.goto(server.url)  # type: ignore[attr-defined]
    composer = page.locator("#chat-input")  # type: ignore[attr-defined]
    composer.wait_for()
    send(composer, REQUEST)
    page.locator("[data-testid=rec-card]").first.wait_for()  # type: ignore[attr-defined]
    wait_until(lambda: len(card_ids(page)) >= 3, "the cards")
    assert page.get_by_text("Used catalog search").count() >= 1  # type: ignore[attr-defined]
    before = card_ids(page)
    first = page.locator("[data-testid=rec-card]").first  # type: ignore[attr-defined]
    assert first.locator("[data-testid=rec-title]").inner_text().strip()
    assert first.locator("[data-testid=rec-reason]").inner_text().strip()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat.png"))  # type: ignore[attr-defined]

    rejected = before[0]
    first.locator("[data-testid=rec-rejected]").click()
    wait_until(lambda: rejected not in card_ids(page), "the rejected card to be replaced")
    after = card_ids(page)
    assert len(after) == len(before)  # replaced in place, not just removed
    assert after[0] not in before
    page.screenshot(path=str(ARTIFACTS / "chat-after-thumbs-down.png"))  # type: ignore[attr-defined]

    wait_until(lambda: "/thread/" in page.url, "the thread's own URL")  # type: ignore[attr-defined]
    page.reload()  # type: ignore[attr-defined]
    page.locator("[data-testid=rec-card]").first.wait_for()  # type: ignore[attr-defined]
    wait_until(lambda: len(card_ids(page)) == len(after), "the cards after a reload")
    assert rejected not in card_ids(page)
    assert page.get_by_text(REQUEST).count() >= 1  # type: ignore[attr-defined]


@pytest.fixture
def widget_page_url(server: Server, widget_port: int) -> Iterator[str]:
    env = server.home.env()
    command = [
        sys.executable, "-m", "ui.cli", "widget-demo",
        "--server", server.url, "--port", str(widget_port), "--user", "widget-e2e",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    url = f"http://localhost:{widget_port}"
    try:
        wait_until(lambda: _answers(url), "the widget example page", timeout_s=30)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def test_the_widget_answers_inside_another_page(widget_page_url: str, page: object) -> None:
    page.goto(widget_page_url)  # type: ignore[attr-defined]
    page.locator("#chainlit-copilot-button").click()  # type: ignore[attr-defined]
    composer = page.locator("#chainlit-copilot-chat #chat-input")  # type: ignore[attr-defined]
    composer.wait_for()
    send(composer, "A feel-good comedy")
    widget = page.locator("#chainlit-copilot-chat")  # type: ignore[attr-defined]
    try:
        widget.locator("[data-testid=rec-card]").first.wait_for()
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "widget.png"))  # type: ignore[attr-defined]
    assert len(card_ids(widget)) >= 3
    assert page.locator("h1").inner_text() == "Movie night"  # type: ignore[attr-defined]
