"""One turn's LLM time budget: every LLM call of a turn shares one deadline.

A turn (``Recommender.reply`` / ``astream``, through :func:`agent.llm.usage_scope`) opens a
:func:`turn_clock`; its first node arms the budget with ``RECBOT_TURN_DEADLINE_S``
(:func:`arm`), counted from the turn's start. From then on:

- the nodes ask :func:`current` before an LLM step and take the offline path (rules planner,
  ranker order, grounded reasons) when no time is left, recording "LLM deadline";
- every HTTP request of the chat model goes through :class:`DeadlineTransport`, which makes the
  time left that request's timeout, refuses to start one when none is left, ends a response
  body that is still arriving at the deadline, and stops the OpenAI client's retries when its
  back-off would outlast the budget (``x-should-retry: false``; a timeout becomes
  :class:`LLMDeadlineError`, an ``OpenAIError`` the client re-raises without retrying).

So a slow or silent server costs a turn at most the deadline plus the offline work after it,
whatever the per-call timeout and retry settings say. Outside a turn (``recbot enrich``, the
simulated user) nothing is armed and the per-call timeout and retries apply as configured.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache

import httpx2
import openai

DEADLINE_REASON = "LLM deadline"  # what a turn's trace says when the budget ran out
_FIRST_BACKOFF_S = 0.5  # the OpenAI client's first retry back-off; it doubles per retry
_MAX_BACKOFF_S = 8.0
_RETRY_COUNT = "x-stainless-retry-count"  # the OpenAI client numbers its attempts here


class LLMDeadlineError(openai.APITimeoutError):
    """The turn's LLM budget is spent: no request is started, none is retried."""

    def __init__(self, request: httpx2.Request, why: str) -> None:
        super().__init__(request=request)
        self.message = f"{DEADLINE_REASON}: {why}"
        self.args = (self.message,)


@dataclass
class TurnBudget:
    """The monotonic instant a turn's LLM work must be done by; ``last_answer``: when the
    turn's latest LLM answer finished arriving (None before any), what the deadline bounds."""

    deadline: float
    last_answer: float | None = None

    def answered(self) -> None:
        now = time.monotonic()
        self.last_answer = now if self.last_answer is None else max(self.last_answer, now)

    def remaining(self) -> float:
        """Seconds left (negative once past)."""
        return self.deadline - time.monotonic()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0


@dataclass
class _Clock:
    started: float = field(default_factory=time.monotonic)
    budget: TurnBudget | None = None


_TURN: ContextVar[_Clock | None] = ContextVar("recbot_turn_clock", default=None)


@contextmanager
def turn_clock() -> Iterator[None]:
    """Mark the start of one turn for the code run inside (LangGraph copies the context into
    its worker threads, so every node of the turn sees the same clock)."""
    token = _TURN.set(_Clock())
    try:
        yield
    finally:
        _TURN.reset(token)


def arm(seconds: float) -> TurnBudget | None:
    """Give the current turn ``seconds`` of LLM time from its start; the first arming counts.
    None outside a turn."""
    clock = _TURN.get()
    if clock is None:
        return None
    if clock.budget is None:
        clock.budget = TurnBudget(clock.started + seconds)
    return clock.budget


def current() -> TurnBudget | None:
    """The running turn's budget, None when no turn armed one."""
    clock = _TURN.get()
    return clock.budget if clock is not None else None


def expired() -> bool:
    """True when the running turn has an LLM budget and it is spent."""
    budget = current()
    return budget is not None and budget.expired


def _within(request: httpx2.Request, budget: TurnBudget) -> float:
    """Refuse a request the budget has no time for; else cap its timeouts to the time left."""
    left = budget.remaining()
    if left <= 0:
        raise LLMDeadlineError(request, "no time left for this call")
    timeouts = dict(request.extensions.get("timeout") or {})
    for phase in ("connect", "read", "write", "pool"):
        given = timeouts.get(phase)
        timeouts[phase] = left if given is None else min(float(given), left)
    request.extensions = {**request.extensions, "timeout": timeouts}
    return left


def _retry_fits(request: httpx2.Request, budget: TurnBudget) -> bool:
    """Whether the client's next back-off (0.5 s, doubling per retry) leaves time to retry."""
    try:
        taken = int(request.headers.get(_RETRY_COUNT, "0"))
    except ValueError:
        taken = 0
    backoff = min(_FIRST_BACKOFF_S * 2 ** min(taken, 10), _MAX_BACKOFF_S)
    return budget.remaining() > backoff


def _answered(request: httpx2.Request, response: httpx2.Response, budget: TurnBudget) -> None:
    """An error answer is retried only when the back-off fits (and never after Retry-After,
    which may ask for a minute)."""
    if response.status_code < 400:
        return
    response.headers.pop("retry-after", None)
    response.headers.pop("retry-after-ms", None)
    if not _retry_fits(request, budget):
        response.headers["x-should-retry"] = "false"


class _DeadlineStream(httpx2.SyncByteStream):
    def __init__(self, inner: httpx2.SyncByteStream, request: httpx2.Request, budget: TurnBudget):
        self._inner, self._request, self._budget = inner, request, budget

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            if self._budget.expired:
                raise LLMDeadlineError(self._request, "the answer was still arriving")
            yield chunk

    def close(self) -> None:
        self._budget.answered()
        self._inner.close()


class _AsyncDeadlineStream(httpx2.AsyncByteStream):
    def __init__(self, inner: httpx2.AsyncByteStream, request: httpx2.Request, budget: TurnBudget):
        self._inner, self._request, self._budget = inner, request, budget

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            if self._budget.expired:
                raise LLMDeadlineError(self._request, "the answer was still arriving")
            yield chunk

    async def aclose(self) -> None:
        self._budget.answered()
        await self._inner.aclose()


def _timed_out(request: httpx2.Request, budget: TurnBudget, error: Exception) -> Exception:
    """What a timed-out call raises: the deadline error (not retried) when no retry fits."""
    if _retry_fits(request, budget):
        return error
    deadline_error = LLMDeadlineError(request, "the call ran out of time")
    deadline_error.__cause__ = error
    return deadline_error


class DeadlineTransport(httpx2.BaseTransport):
    """Wraps the chat model's HTTP transport; a pass-through outside an armed turn."""

    def __init__(self, inner: httpx2.BaseTransport | None = None) -> None:
        self._inner = inner or httpx2.HTTPTransport()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        budget = current()
        if budget is None:
            return self._inner.handle_request(request)
        _within(request, budget)
        try:
            response = self._inner.handle_request(request)
        except httpx2.TimeoutException as exc:
            raise _timed_out(request, budget, exc) from exc
        _answered(request, response, budget)
        assert isinstance(response.stream, httpx2.SyncByteStream)
        response.stream = _DeadlineStream(response.stream, request, budget)
        return response

    def close(self) -> None:
        self._inner.close()


class AsyncDeadlineTransport(httpx2.AsyncBaseTransport):
    """The async twin of :class:`DeadlineTransport` (the same helpers, awaited)."""

    def __init__(self, inner: httpx2.AsyncBaseTransport | None = None) -> None:
        self._inner = inner or httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        budget = current()
        if budget is None:
            return await self._inner.handle_async_request(request)
        _within(request, budget)
        try:
            response = await self._inner.handle_async_request(request)
        except httpx2.TimeoutException as exc:
            raise _timed_out(request, budget, exc) from exc
        _answered(request, response, budget)
        assert isinstance(response.stream, httpx2.AsyncByteStream)
        response.stream = _AsyncDeadlineStream(response.stream, request, budget)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


@cache
def http_clients(timeout: float) -> tuple[httpx2.Client, httpx2.AsyncClient]:
    """Sync and async HTTP clients for a chat model whose calls keep to the turn's budget.

    Shared by every chat model with this timeout, for the life of the process (as LangChain's
    own default clients are): the transports keep no state of their own, and a client per
    model would leave its pooled connections to the garbage collector. Never evicted (a process
    uses a few timeouts): an evicted pair would leave its open connections to the collector too
    (a ResourceWarning in the unit suite once `recbot eval --llm-rerank` added timeouts)."""
    return (
        httpx2.Client(transport=DeadlineTransport(), timeout=timeout),
        httpx2.AsyncClient(transport=AsyncDeadlineTransport(), timeout=timeout),
    )
