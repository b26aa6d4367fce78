"""Predictor modes beyond listwise: the verbalizer (LlamaRec) and pointwise yes/no (TallRec).

Both read the token log-probabilities an OpenAI-compatible server returns when asked
(``logprobs=True, top_logprobs=20``) and both make do with the answer's text when it sends none.
Like :class:`tools.reranker.LLMReranker` they take an injected prompt and usage counter, pass
what the LLM said through the guard (:mod:`tools.guard`), return a
:class:`tools.reranker.RerankResult` and never raise.

- verbalizer: the first ``len(LABELS)`` candidates are labelled ``A``, ``B``, … (one token each
  in common tokenizers); the LLM answers with one label, in one call, and the labelled
  candidates are ranked by the probability of their label at the answer's first token.
- pointwise: one yes/no call per candidate for the first ``max_candidates``, a few in flight at
  once; each is scored by P(yes) and the judged candidates are ranked by it.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from langchain_core.messages import BaseMessage
from langchain_core.runnables.config import ContextThreadPoolExecutor

from catalog.domain import Item
from tools.guard import guard_indices
from tools.reranker import RerankMode, RerankResult, UsageSink, record_usage, reply_text

log = logging.getLogger(__name__)

LABELS = tuple("ABCDEFGHIJKLMNOPQRST")  # one token each; candidates past T are not reranked
TOP_LOGPROBS = 20  # the most alternatives per token OpenAI's API returns
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # letters read as labels, in range or not
# "B", "(B)", "B." or "B:", alone or followed by what the model says about it ("B. Heat (1995)");
# never a capital opening prose ("A great pick is …"): after the letter, a delimiter or nothing
_ANSWER_LABEL = re.compile(r"\(?([A-Z])(?:[).:](?:\s.*)?)?", re.DOTALL)
# The verbalizer reads the answer's first position only (LlamaRec): a few tokens are enough to
# see the label and its delimiter; more only cost time (a 135M model names a title after it)
VERBALIZER_MAX_TOKENS = 4
_TOKEN_NOISE = " \t\r\n()[].,:;*\"'"  # what may wrap a label or a yes/no in one token
_SNIPPET = 60

# (preferences summary, candidates, their labels) -> what the chat model is invoked with
VerbalizerPrompt = Callable[[str, Sequence[Item], Sequence[str]], Sequence[BaseMessage]]
# (preferences summary, one candidate) -> what the chat model is invoked with
PointwisePrompt = Callable[[str, Item], Sequence[BaseMessage]]


class LogprobChatModel(Protocol):
    """A LangChain chat model that can be bound to ask for logprobs, e.g. ``ChatOpenAI``."""

    def bind(self, **kwargs: Any) -> Any: ...


class _GuardedReranker:
    """What both modes share: empty input, and any failure leaves the ranker's order."""

    mode: RerankMode

    def rerank(self, preferences_summary: str, candidates: Sequence[Item], k: int) -> RerankResult:
        """The best ``min(k, len(candidates))`` candidates as positions, guarded."""
        if not candidates or k <= 0:
            return RerankResult(order=(), mode=self.mode)
        try:
            return self._rerank(preferences_summary, candidates, k)
        except Exception as exc:  # a reranker failure must never fail the turn
            return _ranker_order(len(candidates), k, self.mode, _failed(exc))

    def _rerank(self, summary: str, candidates: Sequence[Item], k: int) -> RerankResult:
        raise NotImplementedError


class VerbalizerReranker(_GuardedReranker):
    """One call: the LLM names the best candidate by its label; every label's probability
    ranks the labelled candidates. Guarded; never raises."""

    mode: RerankMode = "verbalizer"

    def __init__(
        self,
        chat_model: LogprobChatModel,
        *,
        prompt: VerbalizerPrompt,
        counter: UsageSink | None = None,
    ) -> None:
        self._model = chat_model.bind(
            logprobs=True,
            top_logprobs=TOP_LOGPROBS,
            # in the body, where llama.cpp's server reads it (see agent.llm.make_chat_model)
            extra_body={"max_tokens": VERBALIZER_MAX_TOKENS},
        )
        self._prompt = prompt
        self._counter = counter

    def _rerank(self, summary: str, candidates: Sequence[Item], k: int) -> RerankResult:
        labelled = candidates[: len(LABELS)]
        n = len(labelled)
        reply = self._model.invoke(self._prompt(summary, labelled, LABELS[:n]))
        record_usage(self._counter, reply)
        text = reply_text(reply)
        values, dropped = label_values(text, first_token_logprobs(reply), n)
        guarded = guard_indices(values, n, k=k)
        beyond = tuple(range(n, len(candidates)))[: max(0, k - len(guarded.kept))]
        return RerankResult(
            order=guarded.kept + beyond,
            dropped=tuple(dropped) + tuple(_as_label(reason) for reason in guarded.dropped),
            fell_back=guarded.fell_back,
            raw=text,
            filled=guarded.filled + len(beyond),
            mode=self.mode,
        )


class PointwiseReranker(_GuardedReranker):
    """One yes/no call per candidate (the first ``max_candidates``), ranked by P(yes); the rest
    follow in ranker order. Failed or unusable answers leave that candidate unscored; nothing
    scored leaves the ranker's order. Never raises."""

    mode: RerankMode = "pointwise"

    def __init__(
        self,
        chat_model: LogprobChatModel,
        *,
        prompt: PointwisePrompt,
        counter: UsageSink | None = None,
        max_candidates: int = 10,
        workers: int = 4,
    ) -> None:
        if max_candidates < 1 or workers < 1:
            raise ValueError(
                f"max_candidates and workers must be >= 1: {max_candidates}, {workers}"
            )
        self._model = chat_model.bind(logprobs=True, top_logprobs=TOP_LOGPROBS)
        self._prompt = prompt
        self._counter = counter
        self._max = max_candidates
        self._workers = workers

    def _rerank(self, summary: str, candidates: Sequence[Item], k: int) -> RerankResult:
        replies = self._ask_all(summary, candidates[: self._max])
        scores: list[tuple[int, float]] = []
        answers: list[str] = []
        dropped: list[str] = []
        errors: list[str] = []
        for position, reply in enumerate(replies):
            if isinstance(reply, Exception):
                errors.append(_failed(reply))
                continue
            record_usage(self._counter, reply)
            text = reply_text(reply)
            answers.append(f"{position + 1}. {text}")
            score = yes_probability(text, first_token_logprobs(reply))
            if score is None:
                dropped.append(f"{_snippet(text)!r} (candidate {position + 1}): not yes or no")
            else:
                scores.append((position, score))
        if errors:
            log.warning("%d of %d pointwise calls failed: %s", len(errors), len(replies), errors[0])
        # sorted() is stable: equal scores keep the ranker's order
        best_first = [position + 1 for position, _ in sorted(scores, key=lambda ps: -ps[1])]
        guarded = guard_indices(best_first, len(candidates), k=k)
        return RerankResult(
            order=guarded.kept,
            dropped=tuple(dropped) + guarded.dropped,
            fell_back=guarded.fell_back,
            raw="\n".join(answers) if answers else None,
            error=f"{len(errors)} of {len(replies)} calls failed: {errors[0]}" if errors else None,
            filled=guarded.filled,
            mode=self.mode,
        )

    def _ask_all(self, summary: str, judged: Sequence[Item]) -> list[object]:
        """Each candidate's answer, or the exception its call raised, in candidate order."""
        workers = min(self._workers, len(judged))
        if workers == 1:
            return [self._ask(summary, item) for item in judged]
        # the context-copying pool keeps callbacks and tracing attached to the caller's run
        with ContextThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(self._ask, summary, item) for item in judged]
            return [future.result() for future in futures]

    def _ask(self, summary: str, item: Item) -> object:
        try:
            return self._model.invoke(self._prompt(summary, item))
        except Exception as exc:  # one failed call leaves one candidate unscored
            return exc


def first_token_logprobs(reply: object) -> list[tuple[str, float]] | None:
    """(token, logprob) alternatives at the answer's first meaningful token, or None when the
    server sent no logprobs. Leading blanks and brackets are skipped (``(``, ``B``, ``)``)."""
    metadata = getattr(reply, "response_metadata", None)
    logprobs = metadata.get("logprobs") if isinstance(metadata, Mapping) else None
    content = logprobs.get("content") if isinstance(logprobs, Mapping) else None
    if not isinstance(content, list):
        return None
    for entry in content:
        if not isinstance(entry, Mapping) or not str(entry.get("token", "")).strip(_TOKEN_NOISE):
            continue
        top = entry.get("top_logprobs") or [entry]
        return [
            (str(alt["token"]), float(alt["logprob"]))
            for alt in top
            if isinstance(alt, Mapping) and _is_number(alt.get("logprob"))
        ]
    return None


def label_values(
    text: str, alternatives: Sequence[tuple[str, float]] | None, n_labels: int
) -> tuple[list[int], list[str]]:
    """1-based candidate numbers for the guard, best first, and what was unusable.

    An answer that is not a label makes the logprobs meaningless too (an ``A`` opening prose is
    an article), so then nothing is ranked. Otherwise the in-range labels are ranked by their
    probability; an out-of-range answer goes first, for the guard to drop and report.
    """
    answered = answer_label(text)
    if answered is None:
        return [], [f"{_snippet(text)!r}: not a label"] if text.strip() else []
    probabilities: dict[int, float] = {}
    for token, logprob in alternatives or ():
        number = _label_number(token.strip(_TOKEN_NOISE))
        if number is not None and number <= n_labels:
            probabilities[number] = probabilities.get(number, 0.0) + math.exp(logprob)
    ranked = sorted(probabilities, key=lambda number: (-probabilities[number], number))
    return (ranked if answered in ranked else [answered, *ranked]), []


def answer_label(text: str) -> int | None:
    """The 1-based number of the letter the answer opens with (``B``, ``(B)``, ``B.``, or
    ``B. Heat (1995)``), any letter A–Z, in range or not; None for anything else (prose)."""
    match = _ANSWER_LABEL.fullmatch(text.strip())
    return _label_number(match.group(1)) if match else None


def yes_probability(text: str, alternatives: Sequence[tuple[str, float]] | None) -> float | None:
    """P(yes) renormalised over yes and no at the first token, else 1 or 0 from the answer's
    first word; None when the answer is neither."""
    p_yes = p_no = 0.0
    for token, logprob in alternatives or ():
        word = token.strip(_TOKEN_NOISE).lower()
        p_yes += math.exp(logprob) if word == "yes" else 0.0
        p_no += math.exp(logprob) if word == "no" else 0.0
    if p_yes + p_no > 0:
        return p_yes / (p_yes + p_no)
    words = text.split(maxsplit=1)
    first = words[0].strip(_TOKEN_NOISE).lower() if words else ""
    return {"yes": 1.0, "no": 0.0}.get(first)


def _label_number(token: str) -> int | None:
    return _ALPHABET.index(token) + 1 if len(token) == 1 and token in _ALPHABET else None


def _as_label(reason: str) -> str:
    """A guard reason about candidate number ``8`` told as about label ``'H'``."""
    head, sep, tail = reason.partition(": ")
    if sep and head.isdigit() and 1 <= int(head) <= len(_ALPHABET):
        return f"{_ALPHABET[int(head) - 1]!r}: {tail}"
    return reason


def _ranker_order(n: int, k: int, mode: RerankMode, error: str) -> RerankResult:
    log.warning("LLM rerank (%s) failed, keeping the ranker's order: %s", mode, error)
    order = tuple(range(min(k, n)))
    return RerankResult(order=order, fell_back=True, error=error, filled=len(order), mode=mode)


def _failed(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _SNIPPET else flat[: _SNIPPET - 1] + "…"
