"""The runtime context every node receives (``Runtime[Deps]``), built once by ``agent.wiring``."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ranker.conversation import ConversationModel
from tools.deps import ToolDeps

if TYPE_CHECKING:
    from agent.persistence import UserData
    from agent.planner.base import Planner


@dataclass(frozen=True)
class AgentConfig:
    """The agent's knobs (from settings): list sizes, thresholds, the clarification budget."""

    k: int = 10
    retrieve_k: int = 1000  # candidates per retrieval source (the funnel: docs/ranker.md)
    rank_keep: int = 50
    rerank_top: int = 20
    warm_threshold: int = 20  # known interactions from which a user takes the warm path
    max_clarifications: int = 2
    max_history: int = 50
    llm_rerank: bool = True
    llm_rerank_warm: bool = False  # route known users away from the LLM (a cost lever)
    llm_rephrase: bool = False  # let the LLM reword the grounded reasons (one extra call)
    llm_history_items: int = 10  # newest history titles an LLM prompt shows (a cost lever)
    max_message_chars: int = 4000


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
    config: AgentConfig = field(default_factory=AgentConfig)
    counters: Counters = field(default_factory=Counters)
    llm_usage: object | None = None  # agent.llm.UsageCounter when an LLM is configured
    explainer: object | None = None  # the chat model that may reword reasons (agent/rephrase.py)

    def with_conversation(self, conversation: ConversationModel) -> Deps:
        """The same dependencies with another conversation model (a cross-validation fold)."""
        return replace(self, tools=self.tools.with_conversation(conversation))
