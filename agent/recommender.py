"""``Recommender.reply(...)``: the one Python API behind ``recbot chat``, ``recbot ask`` and the UI."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Sequence
from typing import Any, Literal

from langchain_core.messages import AIMessage, HumanMessage
from pydantic import BaseModel, Field

from agent.context import Deps
from agent.graph import build_graph
from agent.nodes.understand import fold_plan, make_plan, planner_context
from agent.persistence import FeedbackKind, memory_checkpointer
from agent.state import AgentState, Preferences, Recommendation

RECURSION_LIMIT = 25
_TITLE_WITH_YEAR = re.compile(r"([^\n\d—:•*]{1,120}?\(\d{4}\))")


class ChatMessage(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class LLMUsage(BaseModel):
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


class Reply(BaseModel):
    """The JSON of ``recbot ask`` (../shared/DESIGN.md §5)."""

    action: str
    reply: str
    recommendations: list[Recommendation] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    llm: LLMUsage = Field(default_factory=LLMUsage)
    thread_id: str | None = None


def titles_in(text: str, deps: Deps) -> list[int]:
    """Catalog items an assistant message names as "Title (Year)" (sure title matches only)."""
    found: list[int] = []
    for raw in _TITLE_WITH_YEAR.findall(text):
        candidate = re.sub(r"^\W*\d*[.)]?\s*", "", raw).strip()
        matches = deps.tools.catalog.search_titles(candidate, limit=1)
        if matches and matches[0].sure and matches[0].item.id not in found:
            found.append(matches[0].item.id)
    return found


class Recommender:
    """The agent graph over a checkpointer; one instance serves many conversations."""

    def __init__(self, deps: Deps, checkpointer: Any = None) -> None:
        self.deps = deps
        self.graph = build_graph(checkpointer or memory_checkpointer())

    @classmethod
    def from_settings(
        cls, settings: Any = None, *, checkpointer: Any = None, **kwargs: Any
    ) -> Recommender:
        from agent.settings import Settings
        from agent.wiring import build_deps

        return cls(build_deps(settings or Settings(), **kwargs), checkpointer)

    def _config(self, thread_id: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": thread_id}, "recursion_limit": RECURSION_LIMIT}

    def reply(
        self,
        messages: str | Sequence[ChatMessage | dict[str, str]],
        *,
        user_id: int | None = None,
        k: int | None = None,
        must_recommend: bool = False,
        thread_id: str | None = None,
    ) -> Reply:
        """Answer the newest user message.

        A string continues the conversation ``thread_id`` (created when None). A transcript
        starts a fresh conversation in which every earlier user turn counts (later overrides
        earlier) and items named in assistant turns count as already suggested.
        """
        started = time.perf_counter()
        usage_before = self._usage()
        thread = thread_id or uuid.uuid4().hex
        if isinstance(messages, str):
            inputs: dict[str, Any] = {"messages": [HumanMessage(messages)]}
        else:
            inputs = self._fold_transcript([ChatMessage.model_validate(m) for m in messages])
        inputs.update(user_id=user_id, must_recommend=must_recommend, k=k or self.deps.config.k)
        state = self.graph.invoke(inputs, self._config(thread), context=self.deps)
        timings = dict(state.get("timings_ms", {}))
        timings["total"] = round((time.perf_counter() - started) * 1000, 1)
        return Reply(
            action=state.get("action", "clarify"),
            reply=state.get("reply", ""),
            recommendations=state.get("recommendations", [])
            if state.get("action") == "recommend"
            else [],
            timings_ms=timings,
            llm=self._usage_since(usage_before),
            thread_id=thread,
        )

    def _fold_transcript(self, transcript: list[ChatMessage]) -> dict[str, Any]:
        """Initial state from a transcript: earlier user turns planned and folded, in order."""
        if not transcript or transcript[-1].role != "user":
            raise ValueError("the transcript must end with a user message")
        state: AgentState = {"preferences": Preferences(), "shown": [], "last_shown": []}
        history: list[Any] = []
        for message in transcript[:-1]:
            if message.role == "assistant":
                named = titles_in(message.content, self.deps)
                state["shown"] = list(dict.fromkeys([*state.get("shown", []), *named]))
                state["last_shown"] = named or state.get("last_shown", [])
                history.append(AIMessage(message.content))
                continue
            plan = make_plan(message.content, planner_context(state, self.deps), self.deps)
            state.update(fold_plan(state, plan, self.deps))  # type: ignore[typeddict-item]
            history.append(HumanMessage(message.content))
        return {
            "messages": [*history, HumanMessage(transcript[-1].content)],
            "preferences": state["preferences"],
            "rejected": state.get("rejected", []),
            "seen": state.get("seen", []),
            "shown": state.get("shown", []),
            "last_shown": state.get("last_shown", []),
        }

    def record_feedback(
        self, thread_id: str, item_id: int, kind: FeedbackKind, *, user_id: int | None = None
    ) -> None:
        """A 👍 / 👎 / seen click: the conversation adapts, and a known user's profile keeps it."""
        if item_id not in self.deps.tools.catalog:
            raise ValueError(f"item {item_id} is not in the catalog")
        config = self._config(thread_id)
        state = self.graph.get_state(config).values
        update: dict[str, Any] = {}
        if kind == "liked":
            prefs = (state.get("preferences") or Preferences()).model_copy(deep=True)
            prefs.liked = list(dict.fromkeys([*prefs.liked, item_id]))
            update["preferences"] = prefs
        else:
            key = "rejected" if kind == "rejected" else "seen"
            update[key] = list(dict.fromkeys([*state.get(key, []), item_id]))
        self.graph.update_state(config, update, as_node="respond")
        if user_id is not None:
            self.deps.users.record_feedback(user_id, item_id, kind)

    def _usage(self) -> tuple[int, int, int]:
        usage = self.deps.llm_usage
        if usage is None:
            return (0, 0, 0)
        return (usage.calls, usage.input_tokens, usage.output_tokens)  # type: ignore[attr-defined]

    def _usage_since(self, before: tuple[int, int, int]) -> LLMUsage:
        now = self._usage()
        return LLMUsage(
            calls=now[0] - before[0],
            input_tokens=now[1] - before[1],
            output_tokens=now[2] - before[2],
        )
