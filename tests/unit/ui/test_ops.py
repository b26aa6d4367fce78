"""Health, readiness, metrics and the per-turn log line (ui/ops.py), on a bare FastAPI app."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ui.ops import Metrics, TurnRecord, install, observe_turn, turn_line


def _app(state: dict[str, bool], metrics: Metrics | None) -> FastAPI:
    app = FastAPI()

    @app.get("/{full_path:path}")  # Chainlit's catch-all page route, registered first
    async def page(full_path: str) -> dict[str, str]:
        return {"page": full_path}

    async def artifacts() -> tuple[bool, str]:
        return state["loaded"], "still loading"

    async def database() -> tuple[bool, str]:
        if not state["db"]:
            raise OSError("connection refused to db.internal:5432")
        return True, ""

    install(app, lambda: [("artifacts", artifacts), ("database", database)], metrics)
    return app


def test_health_is_alive_and_ready_waits_for_artifacts_and_database() -> None:
    state = {"loaded": False, "db": True}
    client = TestClient(_app(state, Metrics()))
    assert client.get("/healthz").json() == {"status": "ok"}
    loading = client.get("/readyz")
    assert loading.status_code == 503
    assert loading.json()["checks"] == {"artifacts": "still loading", "database": "ok"}
    state["loaded"] = True
    assert client.get("/readyz").status_code == 200
    state["db"] = False
    down = client.get("/readyz")
    assert down.status_code == 503 and down.json()["checks"]["database"] == "unavailable"
    assert "db.internal" not in down.text  # the reason is logged, never answered


def test_metrics_count_turns_stages_tokens_fallbacks_and_errors() -> None:
    metrics = Metrics()
    client = TestClient(_app({"loaded": True, "db": True}, metrics))
    observe_turn(
        metrics,
        TurnRecord(
            "t1", 7, "recommend", {"retrieve": 12.0, "total": 80.0}, llm_calls=2,
            input_tokens=300, output_tokens=40, fallbacks=("rerank",), guard_dropped=1,
        ),
    )  # fmt: skip
    observe_turn(metrics, TurnRecord("t2", None, error="store"))
    text = client.get("/metrics").text
    assert 'recbot_turns_total{action="recommend"} 1.0' in text
    assert 'recbot_turn_seconds_count{stage="total"} 1.0' in text
    assert 'recbot_turn_seconds_bucket{le="0.1",stage="total"} 1.0' in text
    assert 'recbot_llm_tokens_total{direction="input"} 300.0' in text
    assert "recbot_llm_calls_total 2.0" in text
    assert 'recbot_fallbacks_total{step="rerank"} 1.0' in text
    assert "recbot_guard_drops_total 1.0" in text
    assert 'recbot_errors_total{kind="store"} 1.0' in text


def test_metrics_can_be_left_out_and_pages_still_reach_the_catch_all() -> None:
    client = TestClient(_app({"loaded": True, "db": True}, None))
    assert client.get("/metrics").json() == {"page": "metrics"}
    assert client.get("/chat/xyz").json() == {"page": "chat/xyz"}


def test_the_turn_line_is_json_without_the_message_unless_debugging(
    caplog: pytest.LogCaptureFixture,
) -> None:
    turn = TurnRecord("t1", 7, "recommend", {"total": 80.0}, text="my secret wish")
    with caplog.at_level(logging.INFO, logger="recbot.turn"):
        observe_turn(Metrics(), turn)
    line = json.loads(caplog.records[-1].getMessage())
    assert line["thread"] == "t1" and line["user"] == 7 and line["ms"] == 80.0
    assert "text" not in line and "secret" not in caplog.text
    assert json.loads(turn_line(turn, with_text=True))["text"] == "my secret wish"
