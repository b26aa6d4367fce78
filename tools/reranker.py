"""The listwise LLM reranker and what every predictor mode shares: the result, the seams.

The LLM sees the ranker's top candidates numbered ``1..n`` and answers with numbers only; the
guard (:mod:`tools.guard`) keeps valid, unique, in-range numbers and fills the rest in ranker
order. Any failure — timeout, HTTP error, refusal, garbage — leaves the ranker's order standing:
:meth:`LLMReranker.rerank` never raises.

The prompt is injected (it lives in ``agent.prompts``, a layer above this one), and so is the
usage counter, so this module knows neither prompt wording nor the agent. The other predictor
modes (verbalizer, pointwise) live in :mod:`tools.rerank_modes` and return the same
:class:`RerankResult`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from langchain_core.messages import BaseMessage

from catalog.domain import Item
from tools.guard import guard_indices

log = logging.getLogger(__name__)

# (preferences summary, candidates, k) -> what the chat model is invoked with
RerankPrompt = Callable[[str, Sequence[Item], int], Sequence[BaseMessage]]
RerankMode = Literal["listwise", "verbalizer", "pointwise"]


class ChatModel(Protocol):
    """What the reranker needs of a chat model: LangChain's ``invoke``. Any ``BaseChatModel``
    fits, including langchain_core's ``GenericFakeChatModel`` in tests."""

    def invoke(self, input: Any) -> Any: ...


class UsageSink(Protocol):
    """Receives every answer, e.g. ``agent.llm.UsageCounter``."""

    def record(self, message: BaseMessage) -> None: ...


@dataclass(frozen=True, slots=True)
class RerankResult:
    """``order``: 0-based candidate positions, best first, ``min(k, n)`` long.
    ``dropped``: what the LLM answered that was not used, with reasons (see the guard).
    ``fell_back``: the ranker's order stands because nothing usable came back.
    ``raw``: the LLM's text, None when the call failed; ``error``: why it failed.
    ``filled``: positions in ``order`` the LLM did not place (ranker order).
    ``mode``: the predictor mode that produced it."""

    order: tuple[int, ...]
    dropped: tuple[str, ...] = ()
    fell_back: bool = False
    raw: str | None = None
    error: str | None = None
    filled: int = 0
    mode: RerankMode = "listwise"

    def items(self, candidates: Sequence[Item]) -> list[Item]:
        """The candidates in this order."""
        return [candidates[position] for position in self.order]


class Reranker(Protocol):
    """What the agent's ``rerank_with_llm`` tool calls, whichever the predictor mode."""

    def rerank(
        self, preferences_summary: str, candidates: Sequence[Item], k: int
    ) -> RerankResult: ...


class LLMReranker:
    """Reorders candidates with one chat-model call, guarded; never raises."""

    def __init__(
        self, chat_model: ChatModel, *, prompt: RerankPrompt, counter: UsageSink | None = None
    ) -> None:
        self._model = chat_model
        self._prompt = prompt
        self._counter = counter

    def rerank(self, preferences_summary: str, candidates: Sequence[Item], k: int) -> RerankResult:
        """The best ``min(k, len(candidates))`` candidates as positions, per the LLM, guarded."""
        n = len(candidates)
        if n == 0 or k <= 0:
            return RerankResult(order=())
        raw: object
        text: str | None = None
        error: str | None = None
        try:
            reply = self._model.invoke(self._prompt(preferences_summary, candidates, k))
            record_usage(self._counter, reply)
            raw = text = reply_text(reply)
        except Exception as exc:  # a reranker failure must never fail the turn
            error = f"{type(exc).__name__}: {exc}"
            log.warning("LLM rerank failed, keeping the ranker's order: %s", error)
            raw = exc
        guarded = guard_indices(raw, n, k=k)
        return RerankResult(
            order=guarded.kept,
            dropped=guarded.dropped,
            fell_back=guarded.fell_back,
            raw=text,
            error=error,
            filled=guarded.filled,
        )


def record_usage(counter: UsageSink | None, reply: object) -> None:
    """Hand an answer to the usage counter; a failing counter never changes the answer."""
    if counter is not None and isinstance(reply, BaseMessage):
        try:
            counter.record(reply)
        except Exception:  # counting is bookkeeping; it must not change the answer
            log.exception("usage counter failed")


def reply_text(reply: object) -> str:
    """The text of a chat answer: a message's text blocks, or the object itself as a string."""
    if isinstance(reply, BaseMessage):
        return str(reply.text)
    return reply if isinstance(reply, str) else str(reply)
