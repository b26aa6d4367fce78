"""The runtime context every node receives (``Runtime[Deps]``), built once by ``agent.wiring``."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ranker.conversation import ConversationModel
from tools.deps import ToolDeps

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from agent.llm import UsageCounter
    from agent.persistence import UserData
    from agent.planner.base import Planner


@dataclass(frozen=True)
class AgentConfig:
    """The agent's knobs: list sizes, thresholds, the clarification budget. Built from
    ``Settings`` by ``agent.wiring.agent_config``, where every default (and its meaning) lives."""

    k: int
    retrieve_k: int  # candidates per retrieval source (the funnel: docs/ranker.md)
    rank_keep: int
    rerank_top: int
    warm_threshold: int  # known interactions from which a user takes the warm path
    max_clarifications: int
    max_history: int
    llm_rerank: bool
    llm_rerank_warm: bool  # route known users away from the LLM (a cost lever)
    llm_rephrase: bool  # let the LLM reword the grounded reasons (one extra call)
    llm_history_items: int  # newest history titles an LLM prompt shows (a cost lever)
    max_message_chars: int
    turn_deadline_s: float = 8.0  # all LLM work of a turn ends this long after it starts
    turn_slots: int = 2  # offline turns running at once in one process (0: no limit)


@dataclass
class Counters:
    """Process-wide counters: guard outcomes and LLM usage, for rates in reports and the UI."""

    reranks: int = 0
    rerank_fallbacks: int = 0
    dropped_indices: int = 0
    planner_fallbacks: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record_rerank(self, *, dropped: int, fell_back: bool) -> None:
        with self._lock:
            self.reranks += 1
            self.dropped_indices += dropped
            self.rerank_fallbacks += int(fell_back)

    def record_planner_fallback(self) -> None:
        with self._lock:
            self.planner_fallbacks += 1

    def rates(self) -> dict[str, float]:
        runs = max(self.reranks, 1)
        return {
            "reranks": float(self.reranks),
            "rerank_fallback_rate": self.rerank_fallbacks / runs,
            "dropped_per_rerank": self.dropped_indices / runs,
            "planner_fallbacks": float(self.planner_fallbacks),
        }


@dataclass
class Deps:
    tools: ToolDeps
    planner: Planner
    offline_planner: Planner
    users: UserData
    config: AgentConfig
    counters: Counters = field(default_factory=Counters)
    llm_usage: UsageCounter | None = None  # when an LLM is configured
    explainer: BaseChatModel | None = None  # the chat model that may reword reasons (rephrase.py)

    def with_conversation(self, conversation: ConversationModel) -> Deps:
        """The same dependencies with another conversation model (a cross-validation fold)."""
        return replace(self, tools=self.tools.with_conversation(conversation))
