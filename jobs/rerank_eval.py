"""``recbot eval --llm-rerank MODE``: the LlamaRec-protocol table with an LLM rerank of the top K.

LlamaRec (Yue et al. 2023) gives an LLM each user's top 20 from a retriever, labelled with
letters, and orders them by the next-token probabilities of the letters (the verbalizer). This
does the same on ``recbot eval``'s protocol (:mod:`ranker.protocol`, :mod:`ranker.evaluate`):
for each evaluated user the DNN ranks every protocol item with the visible history excluded
(ties put the target last, the protocol's pessimistic rule), and its top K go to the configured
chat model through the agent's own rerank modes (:func:`agent.wiring.llm_reranker`: listwise,
verbalizer or pointwise, guarded by :mod:`tools.guard`), with the user's newest history titles,
oldest first, as the summary (:func:`agent.prompts.history_summary`, LlamaRec's history).
Only positions within the K can come back; a failed, late or unusable answer keeps the DNN's
order and counts as a fallback.

The rerank only permutes the top K: a target the DNN ranked below K keeps its rank, so every
cutoff >= K is unchanged and Recall@10 of a top-20 rerank can only gain targets the DNN ranked
11-20 (its ceiling is the DNN's Recall@20). Outside a chat turn no turn deadline is armed
(:mod:`agent.budget`): each call has its own timeout, ``call_timeout``, and is not retried.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from agent.llm import UsageCounter
from agent.prompts import history_summary
from agent.settings import Settings
from catalog.domain import Catalog
from catalog.errors import ConfigurationError
from ranker.evaluate import user_context
from ranker.protocol import Split, Stage
from ranker.types import Scorer
from tools.rerank_modes import LABELS
from tools.reranker import Reranker, RerankMode

Log = Callable[[str], None]
DEFAULT_CALL_TIMEOUT_S = 180.0  # a 20-candidate prompt took 77-90 s on the busy local CPU model
ANSWER_CHARS = 200  # enough to see why an answer was unusable


@dataclass(frozen=True)
class RerankEvalConfig:
    """What to measure. ``users``: a sample of this many users drawn with ``seed`` (None:
    every user); ``history_items``: newest history titles in the prompt; ``max_history``: what
    the DNN sees (its training setting); ``call_timeout``: seconds one LLM call may take."""

    mode: RerankMode = "verbalizer"
    top: int = 20
    users: int | None = None
    seed: int = 0
    history_items: int = 10
    max_history: int = 50
    call_timeout: float = DEFAULT_CALL_TIMEOUT_S
    stage: Stage = "test"

    def __post_init__(self) -> None:
        if self.top < 2:
            raise ValueError(f"--rerank-top must be at least 2, not {self.top}")
        if self.mode == "verbalizer" and self.top > len(LABELS):
            raise ValueError(f"the verbalizer labels at most {len(LABELS)} candidates (A-T)")
        if self.users is not None and self.users < 1:
            raise ValueError(f"--users must be at least 1, not {self.users}")
        if self.history_items < 1 or self.max_history < 1:
            raise ValueError("history_items and max_history must be at least 1")
        if self.call_timeout <= 0:
            raise ValueError(f"--call-timeout must be positive, not {self.call_timeout}")


@dataclass(frozen=True)
class UserOutcome:
    """One user: the target's rank by the DNN alone and after the rerank, the DNN's top K and
    their new order (item ids), what the rerank reported, and its calls."""

    user: int
    target: int
    dnn_rank: int
    llm_rank: int
    candidates: tuple[int, ...]
    reranked: tuple[int, ...]
    fell_back: bool
    dropped: tuple[str, ...]
    error: str | None
    answer: str | None  # the LLM's text, cut to ANSWER_CHARS; None when no call answered
    calls: int
    answered: int
    input_tokens: int
    output_tokens: int
    latencies: tuple[float, ...]  # seconds, one per call


class CallLog:
    """Each chat-model call's seconds and whether it answered; pointwise asks several at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[tuple[float, bool]] = []

    def add(self, seconds: float, answered: bool) -> None:
        with self._lock:
            self._calls.append((seconds, answered))

    def since(self, start: int) -> list[tuple[float, bool]]:
        with self._lock:
            return self._calls[start:]

    def __len__(self) -> int:
        with self._lock:
            return len(self._calls)


class TimedChat:
    """A chat model whose every ``invoke`` goes into a :class:`CallLog`; ``bind`` (how the
    logprob modes ask for logprobs) keeps the timing."""

    def __init__(self, model: Any, calls: CallLog) -> None:
        self._model = model
        self._calls = calls

    def bind(self, **kwargs: Any) -> TimedChat:
        return TimedChat(self._model.bind(**kwargs), self._calls)

    def invoke(self, input: Any) -> Any:
        started = time.perf_counter()
        try:
            reply = self._model.invoke(input)
        except Exception:
            self._calls.add(time.perf_counter() - started, answered=False)
            raise
        self._calls.add(time.perf_counter() - started, answered=True)
        return reply


def pick_users(users: Sequence[int], n: int | None, seed: int) -> list[int]:
    """``n`` of ``users`` drawn with ``seed``, ascending (all of them when ``n`` is None or
    not smaller); the same seed gives the same users, and a larger ``n`` keeps them."""
    ordered = sorted(users)
    if n is None or n >= len(ordered):
        return ordered
    shuffled = ordered[:]
    random.Random(seed).shuffle(shuffled)
    return sorted(shuffled[:n])


def dnn_ranking(
    scores: np.ndarray, item_ids: np.ndarray, history: Sequence[int], target: int
) -> tuple[np.ndarray, int]:
    """The items ``item_ids`` a user may be shown, best first by ``scores``, and the target's
    1-based rank among them: history excluded (the target never is), NaN lowest, and the
    target after every item scoring the same, so the rank is
    :func:`ranker.metrics.rank_of_target`'s."""
    values = np.nan_to_num(np.asarray(scores, dtype=np.float64), nan=-np.inf)
    is_target = item_ids == target
    order = np.lexsort((is_target, -values))  # by score, then the target last among ties
    allowed = ~np.isin(item_ids, np.asarray(list(history), dtype=np.int64)) | is_target
    ranked = item_ids[order[allowed[order]]]
    where = np.flatnonzero(ranked == target)
    return ranked, int(where[0]) + 1 if where.size else len(item_ids) + 1


def rerank_user(
    user: int,
    split: Split,
    scorer: Scorer,
    catalog: Catalog,
    reranker: Reranker,
    config: RerankEvalConfig,
    *,
    usage: UsageCounter,
    calls: CallLog,
) -> UserOutcome:
    """Rank ``user``'s held-out item with the DNN, rerank its top K with the LLM, and say
    where the target landed either way."""
    target = split.targets(config.stage)[user]
    history = split.history(user, config.stage)
    context = user_context(split, user, config.stage, config.max_history)
    scores = scorer.score(context, split.item_ids.tolist())
    ranked, dnn_rank = dnn_ranking(scores, split.item_ids, history, target)
    top = tuple(int(item) for item in ranked[: config.top])
    titles = [catalog.get(i).display_title for i in history[-config.history_items :]]
    spent_before, first_call = usage.snapshot(), len(calls)
    result = reranker.rerank(history_summary(titles), [catalog.get(i) for i in top], len(top))
    spent = usage.snapshot() - spent_before
    made = calls.since(first_call)
    guard_held = sorted(result.order) == list(range(len(top)))  # a permutation of the K
    reranked = tuple(top[p] for p in result.order) if guard_held else top
    return UserOutcome(
        user=user,
        target=target,
        dnn_rank=dnn_rank,
        llm_rank=reranked.index(target) + 1 if target in reranked else dnn_rank,
        candidates=top,
        reranked=reranked,
        fell_back=result.fell_back or not guard_held,
        dropped=result.dropped,
        error=result.error if guard_held else f"not a permutation of the top {len(top)}",
        answer=result.raw[:ANSWER_CHARS] if result.raw is not None else None,
        calls=len(made),
        answered=spent.calls,
        input_tokens=spent.input_tokens,
        output_tokens=spent.output_tokens,
        latencies=tuple(round(seconds, 3) for seconds, _ in made),
    )


def rerank_users(
    users: Sequence[int],
    split: Split,
    scorer: Scorer,
    catalog: Catalog,
    reranker: Reranker,
    config: RerankEvalConfig,
    *,
    usage: UsageCounter,
    calls: CallLog,
    progress: bool = False,
) -> list[UserOutcome]:
    """:func:`rerank_user` for each user, one at a time (a local model answers one call at a
    time anyway), with a progress bar showing the fallbacks so far."""
    outcomes: list[UserOutcome] = []
    bar = tqdm(users, desc=f"LLM rerank ({config.mode})", unit="user", disable=not progress)
    for user in bar:
        outcomes.append(
            rerank_user(user, split, scorer, catalog, reranker, config, usage=usage, calls=calls)
        )
        bar.set_postfix(fallbacks=sum(o.fell_back for o in outcomes))
    return outcomes


def eval_settings(settings: Settings, config: RerankEvalConfig) -> Settings:
    """The settings of the eval's LLM calls: pointwise judges all K, each call has the eval's
    own timeout and no retry (a failed call is a fallback, as in a turn). Raises
    ConfigurationError without an LLM."""
    if not settings.llm_configured:
        raise ConfigurationError(
            "recbot eval --llm-rerank needs an LLM: set RECBOT_LLM=local, or "
            "RECBOT_LLM_BASE_URL / RECBOT_LLM_API_KEY"
        )
    return settings.model_copy(
        update={
            "llm_rerank_mode": config.mode,
            "llm_pointwise_max": config.top,
            "llm_timeout_s": config.call_timeout,
            "llm_max_retries": 0,
        }
    )


def eval_reranker(
    settings: Settings, config: RerankEvalConfig
) -> tuple[Reranker, CallLog, UsageCounter]:
    """The configured chat model (the composition root's) behind the reranker of
    ``config.mode``, with the call log and usage counter it reports to; no prompt cache answers
    for it (see :func:`eval_settings`)."""
    from agent.wiring import chat_model, llm_reranker

    llm_settings = eval_settings(settings, config)
    calls, usage = CallLog(), UsageCounter()
    timed = TimedChat(chat_model(llm_settings, cache=False), calls)
    return llm_reranker(llm_settings, timed, usage), calls, usage


def run_rerank_eval(
    settings: Settings,
    config: RerankEvalConfig,
    out_dir: Path,
    *,
    progress: bool = True,
    log: Log = print,
) -> dict[str, Any]:
    """DNN alone vs DNN + LLM rerank on the same users: print the table, write
    ``<mode>.json`` / ``<mode>.md`` to ``out_dir``, return the JSON."""
    from jobs.rerank_report import build_report, format_report, write_rerank_report
    from ranker.offline_eval import prepare_protocol
    from ranker.pipeline import RankerPaths, load_scorer

    reranker, calls, usage = eval_reranker(settings, config)
    build = settings.build_config()
    inputs, data = prepare_protocol(build, settings.train_config(), progress=progress, log=log)
    scorer = load_scorer(RankerPaths(build.artifacts), data.features)
    users = pick_users(data.split.users, config.users, config.seed)
    log(f"LLM rerank ({config.mode}) of the DNN's top {config.top} for {len(users)} users …")
    outcomes = rerank_users(
        users,
        data.split,
        scorer,
        inputs.catalog,
        reranker,
        config,
        usage=usage,
        calls=calls,
        progress=progress,
    )
    report = build_report(
        outcomes, config, model=settings.llm_model, split_users=len(data.split.users)
    )
    log(format_report(report))
    log(f"Wrote {write_rerank_report(out_dir, report)}")
    return report
