"""The chat model factory and a token-usage counter, used only by ``agent.wiring`` and tests.

The factory takes plain arguments (settings are read in the composition root, not here) and
pins what reproducible, countable calls need: a low temperature, a seed, a timeout, few retries,
the Chat Completions API (what OpenAI-compatible servers implement) and ``stream_usage=True``,
without which streamed calls to a custom ``base_url`` carry no token usage (DESIGN §6).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import astuple, dataclass
from typing import Any

from langchain_core.messages import BaseMessage
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from agent.budget import http_clients, turn_clock
from agent.llm_cache import CACHE_HIT, SAVED_TOKENS
from catalog.errors import ConfigurationError

MAX_TEMPERATURE = 0.3  # above this, reranks and plans stop being repeatable enough to test
NO_KEY = "not-needed"  # local OpenAI-compatible servers ignore the key; the client wants one


def make_chat_model(
    base_url: str | None,
    model: str,
    api_key: str | None,
    *,
    temperature: float = 0.2,
    seed: int | None = 0,
    timeout: float = 20,
    max_retries: int = 1,
    cache: Any = None,
    max_tokens: int | None = None,
) -> ChatOpenAI:
    """A ``ChatOpenAI`` for an OpenAI-compatible endpoint.

    ``base_url`` empty or None means OpenAI itself. ``api_key`` None sends a placeholder, so the
    client never falls back to reading ``OPENAI_API_KEY`` on its own (settings do that).
    ``cache`` (e.g. :class:`agent.llm_cache.PromptCache`) answers identical prompts.
    Its HTTP clients keep every call inside the running turn's LLM budget (:mod:`agent.budget`):
    ``timeout`` and ``max_retries`` apply as given only outside a turn, or while time is left.
    ``max_tokens`` caps each answer; it is sent as ``max_tokens`` in the body, which llama.cpp's
    server reads (LangChain would send ``max_completion_tokens``, which it ignores).
    """
    if not 0.0 <= temperature <= MAX_TEMPERATURE:
        raise ConfigurationError(
            f"LLM temperature must be between 0 and {MAX_TEMPERATURE}, got {temperature}"
        )
    if timeout <= 0:
        raise ConfigurationError(f"LLM timeout must be positive, got {timeout}")
    if max_retries < 0:
        raise ConfigurationError(f"LLM max_retries must be >= 0, got {max_retries}")
    if not model.strip():
        raise ConfigurationError("LLM model name is empty")
    sync_client, async_client = http_clients(timeout)
    return ChatOpenAI(
        model=model,
        base_url=base_url or None,
        api_key=SecretStr(api_key or NO_KEY),
        temperature=temperature,
        seed=seed,
        timeout=timeout,
        max_retries=max_retries,
        stream_usage=True,
        use_responses_api=False,
        cache=cache,
        http_client=sync_client,
        http_async_client=async_client,
        extra_body={"max_tokens": max_tokens} if max_tokens else None,
    )


@dataclass(frozen=True, slots=True)
class Usage:
    """A snapshot of a :class:`UsageCounter`."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_hits: int = 0  # answers served by the prompt cache (no call, no tokens)
    tokens_saved: int = 0  # tokens those answers cost when first asked

    def __add__(self, other: Usage) -> Usage:
        return Usage(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    def __sub__(self, other: Usage) -> Usage:
        return Usage(*(a - b for a, b in zip(astuple(self), astuple(other), strict=True)))

    def as_dict(self) -> dict[str, int]:
        """The ``"llm"`` object of ``recbot ask``'s output."""
        return {
            "calls": self.calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
        }


def usage_of(message: BaseMessage) -> Usage:
    """What one answer cost: a call and its tokens, or a cache hit and the tokens it saved."""
    metadata = getattr(message, "response_metadata", None) or {}
    if metadata.get(CACHE_HIT):
        saved = sum(int(t) for t in metadata.get(SAVED_TOKENS) or ())
        return Usage(cache_hits=1, tokens_saved=saved)
    usage = getattr(message, "usage_metadata", None) or {}
    return Usage(
        calls=1,
        input_tokens=int(usage.get("input_tokens") or 0),
        output_tokens=int(usage.get("output_tokens") or 0),
    )


class _Tally:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.usage = Usage()

    def add(self, spent: Usage) -> None:
        with self._lock:
            self.usage = self.usage + spent

    def snapshot(self) -> Usage:
        with self._lock:
            return self.usage


_SCOPE: ContextVar[_Tally | None] = ContextVar("recbot_llm_usage_scope", default=None)


@contextmanager
def usage_scope() -> Iterator[Callable[[], Usage]]:
    """One turn: count, apart from everything else in the process, the LLM use of the code run
    inside, and start the turn's clock (its LLM budget, :mod:`agent.budget`, counts from here).

    Every :class:`UsageCounter` also adds to the innermost scope of the calling context;
    LangGraph and LangChain copy the context into their worker threads, so one turn's calls
    land in that turn's scope even while other turns run in parallel.
    """
    tally = _Tally()
    token = _SCOPE.set(tally)
    try:
        with turn_clock():
            yield tally.snapshot
    finally:
        _SCOPE.reset(token)


class UsageCounter:
    """LLM calls and tokens, summed over a process; safe to feed from several threads.

    Fed with each answer's ``AIMessage.usage_metadata``; an answer without usage still counts
    as a call. Failed calls (timeouts, HTTP errors) return no message and are not counted.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._usage = Usage()

    def record(self, message: BaseMessage) -> None:
        spent = usage_of(message)
        with self._lock:
            self._usage = self._usage + spent
        scope = _SCOPE.get()
        if scope is not None:
            scope.add(spent)

    def snapshot(self) -> Usage:
        with self._lock:
            return self._usage

    @property
    def calls(self) -> int:
        return self.snapshot().calls

    @property
    def input_tokens(self) -> int:
        return self.snapshot().input_tokens

    @property
    def output_tokens(self) -> int:
        return self.snapshot().output_tokens

    def as_dict(self) -> dict[str, int]:
        return self.snapshot().as_dict()
