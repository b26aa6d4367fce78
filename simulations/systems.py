"""The systems a simulated user talks to: the agent (LLM rerank off or on), the agent given only
the opening message (one-shot, no dialog), and a popularity list that ignores what is said.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from agent.llm import Usage
from agent.recommender import Recommender

ONE_SHOT = "one-shot"
POPULARITY = "popularity"


@dataclass
class Answer:
    """What a system said in one turn, with the facts the metrics need."""

    action: str
    reply: str
    recommended: list[int]
    outside_catalog: list[int] = field(default_factory=list)
    outside_candidates: list[int] = field(default_factory=list)
    latency_ms: float = 0.0
    llm: Usage = field(default_factory=Usage)


class AgentSystem:
    """The recbot agent; ``one_shot`` forces a recommendation from the opening message."""

    def __init__(
        self,
        name: str,
        recommender: Recommender,
        *,
        llm_rerank: bool | None,
        one_shot: bool = False,
    ) -> None:
        self.name = name
        self.recommender = recommender
        self.llm_rerank = llm_rerank
        self.one_shot = one_shot

    def answer(self, message: str, *, session_id: str, user_id: int | None, k: int) -> Answer:
        reply = self.recommender.reply(
            message,
            thread_id=session_id,
            user_id=user_id,
            k=k,
            must_recommend=self.one_shot,
            llm_rerank=self.llm_rerank,
        )
        shown = [r.item_id for r in reply.recommendations]
        catalog = self.recommender.deps.tools.catalog
        state = self.recommender.graph.get_state({"configurable": {"thread_id": session_id}}).values
        funnel = {c.item_id for c in [*state.get("candidates", []), *state.get("ranked", [])]}
        return Answer(
            action=reply.action,
            reply=reply.reply,
            recommended=shown,
            outside_catalog=[i for i in shown if i not in catalog],
            outside_candidates=[i for i in shown if i not in funnel],
            latency_ms=reply.timings_ms.get("total", 0.0),
            llm=reply.llm,
        )


class PopularitySystem:
    """The most popular items the person has not rated or been shown, whatever they say."""

    name = POPULARITY

    def __init__(self, ranking: Sequence[int], histories: dict[str, set[int]]) -> None:
        self.ranking = list(ranking)
        self.histories = histories  # session id -> items to skip (history, then shown)

    def answer(self, message: str, *, session_id: str, user_id: int | None, k: int) -> Answer:
        started = time.perf_counter()
        skip = self.histories.setdefault(session_id, set())
        shown = [i for i in self.ranking if i not in skip][:k]
        skip.update(shown)
        return Answer(
            action="recommend",
            reply="The most popular titles you haven't seen.",
            recommended=shown,
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
        )
