"""Issue 14, items 5 and 10 against a real `recbot serve`: what every response says about
framing and sniffing, an action for a session that does not exist, and bad input at the edges,
answered plainly — no stack trace, SQL or file path reaches the person."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from tests.e2e.test_protocol import sign_in

LEAKS = (
    "Traceback",
    "sqlite",
    "psycopg",
    "postgresql",
    "SELECT ",
    "/work/",
    "site-packages",
    '.py"',
)


def _plain(text: str) -> None:
    for leak in LEAKS:
        assert leak not in text, f"{leak!r} leaked: {text[:500]}"


def test_pages_refuse_framing_and_sniffing_while_the_widget_assets_can_be_embedded(
    server: Any,
) -> None:
    with httpx.Client(timeout=30) as http:
        page = http.get(server.url + "/").headers
        widget = http.get(server.url + "/copilot/index.js").headers
    assert page["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page["content-security-policy"]
    assert page["x-content-type-options"] == "nosniff"
    assert page["referrer-policy"] == "strict-origin-when-cross-origin"
    assert widget["x-content-type-options"] == "nosniff"
    assert "x-frame-options" not in widget  # other sites' pages load it


def test_an_action_for_a_session_that_does_not_exist_is_a_plain_404(server: Any) -> None:
    async def run() -> httpx.Response:
        cookie = await sign_in(server.url)
        body = {
            "sessionId": str(uuid.uuid4()),
            "action": {"name": "recbot_feedback", "payload": {"element_id": "x", "item_id": 1}},
        }
        async with httpx.AsyncClient(timeout=30, headers={"Cookie": cookie}) as http:
            return await http.post(server.url + "/project/action", json=body)

    answer = asyncio.run(run())
    assert answer.status_code == 404
    _plain(answer.text)


def test_malformed_requests_get_plain_answers(server: Any) -> None:
    logged = len(server.log_path.read_bytes())

    async def run() -> list[httpx.Response]:
        cookie = await sign_in(server.url)
        async with httpx.AsyncClient(timeout=30, headers={"Cookie": cookie}) as http:
            return [
                await http.post(server.url + "/project/action", content=b"{not json"),
                await http.get(server.url + "/project/thread/" + "x" * 5000),
                await http.put(server.url + "/feedback", json={"feedback": {"forId": 7}}),
                await http.request("DELETE", server.url + "/project/element", json={"nope": True}),
            ]

    for answer in asyncio.run(run()):
        assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
        _plain(answer.text)
    since = server.log_path.read_bytes()[logged:].decode(errors="replace")
    assert "Traceback" not in since, since[-3000:]
