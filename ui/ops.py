"""What operators and load balancers read: health, readiness, Prometheus metrics, one log line
per turn.

- ``GET /healthz``: the process answers (liveness; no dependency is touched).
- ``GET /readyz``: the built artifacts are loaded and every database answers (readiness: a
  replica that is still loading or lost its database is taken out of rotation, 503).
- ``GET /metrics``: Prometheus text format. Counts and timings only — no message text, no user
  ids — so it can be scraped without exposing conversations (still, keep it on the internal
  network: ``RECBOT_METRICS=false`` turns it off).
- One structured log line per turn (logger ``recbot.turn``, JSON): thread, user, action,
  latency, LLM calls and tokens, fallbacks; the message text only when the logger is at DEBUG.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

turn_log = logging.getLogger("recbot.turn")

STAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
OPS_ROUTES = "recbot_ops"


class Metrics:
    """The app's Prometheus metrics, on a registry of their own (tests make fresh ones)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.turns = Counter("recbot_turns", "Turns answered, by action", ["action"], registry=r)
        self.turn_seconds = Histogram(
            "recbot_turn_seconds",
            "Turn latency by stage (total: the whole turn)",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=r,
        )
        self.llm_calls = Counter("recbot_llm_calls", "LLM calls made", registry=r)
        self.llm_tokens = Counter(
            "recbot_llm_tokens", "LLM tokens, by direction", ["direction"], registry=r
        )
        self.guard_drops = Counter(
            "recbot_guard_drops", "LLM answers dropped by the hallucination guard", registry=r
        )
        self.fallbacks = Counter(
            "recbot_fallbacks",
            "LLM steps that took the offline path, by step",
            ["step"],
            registry=r,
        )
        self.errors = Counter("recbot_errors", "Turns that failed, by kind", ["kind"], registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)


@dataclass
class TurnRecord:
    """What one turn did, for the metrics and the log line (no message text unless asked)."""

    thread_id: str | None
    user_id: int | None
    action: str | None = None  # None: the turn failed
    timings_ms: Mapping[str, float] = field(default_factory=dict)
    llm_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    fallbacks: tuple[str, ...] = ()
    guard_dropped: int = 0
    error: str | None = None
    text: str | None = None


def observe_turn(metrics: Metrics, turn: TurnRecord) -> None:
    """Count the turn and write its log line."""
    if turn.error is not None:
        metrics.errors.labels(turn.error).inc()
    if turn.action is not None:
        metrics.turns.labels(turn.action).inc()
    for stage, ms in turn.timings_ms.items():
        metrics.turn_seconds.labels(stage).observe(ms / 1000)
    metrics.llm_calls.inc(turn.llm_calls)
    metrics.llm_tokens.labels("input").inc(turn.input_tokens)
    metrics.llm_tokens.labels("output").inc(turn.output_tokens)
    metrics.guard_drops.inc(turn.guard_dropped)
    for step in turn.fallbacks:
        metrics.fallbacks.labels(step).inc()
    turn_log.info(turn_line(turn, with_text=turn_log.isEnabledFor(logging.DEBUG)))


def turn_line(turn: TurnRecord, *, with_text: bool = False) -> str:
    """The turn as one JSON log line; the message text only ``with_text`` (debug)."""
    line: dict[str, Any] = {
        "event": "turn",
        "thread": turn.thread_id,
        "user": turn.user_id,
        "action": turn.action,
        "ms": turn.timings_ms.get("total"),
        "queued_ms": turn.timings_ms.get("queue"),  # part of "ms": waiting for a turn slot
        "llm_calls": turn.llm_calls,
        "tokens": turn.input_tokens + turn.output_tokens,
        "fallbacks": list(turn.fallbacks),
        "guard_dropped": turn.guard_dropped,
    }
    if turn.error is not None:
        line["error"] = turn.error
    if with_text and turn.text is not None:
        line["text"] = turn.text
    return json.dumps(line, ensure_ascii=False)


Check = Callable[[], Awaitable[tuple[bool, str]]]


async def readiness(checks: Iterable[tuple[str, Check]]) -> tuple[bool, dict[str, str]]:
    """Every check's verdict; ready only when all pass. A check that raises has failed (the
    reason is logged, never answered: it may name hosts or paths)."""
    verdicts: dict[str, str] = {}
    ready = True
    for name, check in checks:
        try:
            ok, why = await check()
        except Exception:
            logging.getLogger("recbot.ui").exception("readiness check %s failed", name)
            ok, why = False, "unavailable"
        verdicts[name] = "ok" if ok else why
        ready = ready and ok
    return ready, verdicts


def install(app: Any, checks: Callable[[], Iterable[tuple[str, Check]]], metrics: Metrics | None,
            *, root_path: str = "") -> None:  # fmt: skip
    """Add /healthz, /readyz (and /metrics unless ``metrics`` is None) to a FastAPI app, ahead
    of Chainlit's catch-all page route; a second call adds nothing."""
    from fastapi import Response
    from fastapi.responses import JSONResponse

    if any(str(getattr(route, "name", "")).startswith(OPS_ROUTES) for route in app.router.routes):
        return

    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz() -> JSONResponse:
        ready, verdicts = await readiness(checks())
        body = {"status": "ready" if ready else "not ready", "checks": verdicts}
        return JSONResponse(body, status_code=200 if ready else 503)

    routes: list[tuple[str, Callable[..., Any]]] = [("/healthz", healthz), ("/readyz", readyz)]
    if metrics is not None:

        async def metrics_page() -> Response:
            return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

        routes.append(("/metrics", metrics_page))
    for path, endpoint in routes:
        name = f"{OPS_ROUTES}{path.replace('/', '_')}"
        app.router.add_api_route(root_path + path, endpoint, methods=["GET"], name=name)
        app.router.routes.insert(0, app.router.routes.pop())
