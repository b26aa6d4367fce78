"""A load balancer's and an operator's view of a real `recbot serve`: /healthz, /readyz,
/metrics after a turn, and the per-turn log line (docs/deploy.md)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from tests.e2e.test_protocol import Chat, cards_in, sign_in


def test_health_readiness_and_metrics_answer_without_sign_in(server: Any) -> None:
    async def run() -> tuple[httpx.Response, httpx.Response, str, int]:
        chat = await Chat(server.url, await sign_in(server.url)).open()
        try:
            shown = len(cards_in(await chat.say("a feel-good comedy from the 90s")))
        finally:
            await chat.close()
        async with httpx.AsyncClient(timeout=30) as http:
            health = await http.get(server.url + "/healthz")
            ready = await http.get(server.url + "/readyz")
            metrics = (await http.get(server.url + "/metrics")).text
        return health, ready, metrics, shown

    health, ready, metrics, shown = asyncio.run(run())
    assert shown
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"artifacts": "ok", "databases": "ok"}
    assert 'recbot_turns_total{action="recommend"}' in metrics
    assert 'recbot_turn_seconds_count{stage="total"}' in metrics
    lines = [
        json.loads(line[line.index("{") :])
        for line in server.log_path.read_text(errors="replace").splitlines()
        if '"event": "turn"' in line
    ]
    assert lines and all("text" not in line for line in lines)
    assert "a feel-good comedy" not in server.log_path.read_text(errors="replace")
