"""``Recommender.reply(...)``: the one Python API behind ``recbot chat``, ``recbot ask`` and the UI."""

from __future__ import annotations

import asyncio
import inspect
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal

from langchain_core.messages import AIMessage, HumanMessage
from pydantic import BaseModel, Field

from agent.context import Deps
from agent.graph import build_graph
from agent.llm import Usage, usage_scope
from agent.ownership import MemoryOwners, OwnerBook, ThreadOwners
from agent.persistence import FeedbackKind, memory_checkpointer
from agent.state import Candidate, Preferences, Recommendation
from agent.trace import Stage, describe
from agent.turn import excluded_ids, preferences, recommendation, shown_history, user_facts
from catalog.sequences import dedupe

RECURSION_LIMIT = 25


class ChatMessage(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class Reply(BaseModel):
    """The JSON of ``recbot ask`` (../shared/DESIGN.md §5)."""

    action: str
    reply: str
    recommendations: list[Recommendation] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    llm: Usage = Field(default_factory=Usage)
    thread_id: str | None = None
    # for the operators' metrics and logs, not part of the JSON (DESIGN §5)
    fallbacks: list[str] = Field(default_factory=list, exclude=True)  # "stage: why"
    guard_dropped: int = Field(default=0, exclude=True)  # LLM answers the guard refused
    # the candidates the rank node scored, only when asked for (``reply(keep_pool=True)``, for
    # learning from conversations): the stored conversation does not keep them
    pool: list[Candidate] = Field(default_factory=list, exclude=True)


# A turn's state is saved once, when the turn ends, not after each of its six nodes: the state
# carries the turn's ~1,000 candidates (emptied before that save), and serialising it at every
# step was a quarter of a busy server's time. A turn cut off half-way leaves the conversation as
# it was before it.
DURABILITY: Literal["exit"] = "exit"


class Recommender:
    """The agent graph over a checkpointer; one instance serves many conversations.

    Each conversation belongs to the user id of its first turn (None: anonymous); reading or
    continuing it as anyone else raises ``NotYourConversation``. ``owners`` keeps that book; by
    default it is kept where the memory is: in the app database (``ThreadOwners`` on the users'
    store) when a checkpointer is given, in memory beside the default in-memory checkpointer.
    """

    def __init__(
        self, deps: Deps, checkpointer: Any = None, *, owners: OwnerBook | None = None
    ) -> None:
        self.deps = deps
        if owners is None:
            owners = MemoryOwners() if checkpointer is None else ThreadOwners(deps.users.store)
        self.owners = owners
        self.checkpointer = checkpointer or memory_checkpointer()
        self.graph = build_graph(self.checkpointer)
        # offline turns admitted at once, per event loop (see ``_turn_slot``)
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    @classmethod
    def from_settings(
        cls, settings: Any = None, *, checkpointer: Any = None, **kwargs: Any
    ) -> Recommender:
        from agent.settings import Settings
        from agent.wiring import build_deps

        return cls(build_deps(settings or Settings(), **kwargs), checkpointer)

    def close(self) -> None:
        """Let go of the connections a synchronous checkpointer and the app database hold (a
        terminal command ending); the web app closes its async checkpointer itself."""
        close = getattr(getattr(self.checkpointer, "conn", None), "close", None)
        if close is not None and not inspect.iscoroutinefunction(close):
            close()
        self.deps.users.store.close()

    def _config(self, thread_id: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": thread_id}, "recursion_limit": RECURSION_LIMIT}

    def _inputs(
        self,
        messages: str | Sequence[ChatMessage | dict[str, str]],
        *,
        user_id: int | None,
        k: int | None,
        must_recommend: bool,
        llm_rerank: bool | None,
    ) -> dict[str, Any]:
        if isinstance(messages, str):
            inputs: dict[str, Any] = {"messages": [HumanMessage(messages)]}
        else:
            inputs = self._transcript([ChatMessage.model_validate(m) for m in messages])
        inputs.update(
            user_id=user_id,
            must_recommend=must_recommend,
            k=k or self.deps.config.k,
            llm_rerank=llm_rerank,
        )
        return inputs

    def _reply(self, state: dict[str, Any], thread: str, started: float, llm: Usage) -> Reply:
        timings = dict(state.get("timings_ms", {}))
        timings["total"] = round((time.perf_counter() - started) * 1000, 1)
        return Reply(
            action=state.get("action", "clarify"),
            reply=state.get("reply", ""),
            recommendations=state.get("recommendations", [])
            if state.get("action") == "recommend"
            else [],
            timings_ms=timings,
            llm=llm,
            thread_id=thread,
            fallbacks=list(state.get("llm_fallbacks") or []),
            guard_dropped=len(getattr(state.get("guard"), "dropped", ())),
        )

    def reply(
        self,
        messages: str | Sequence[ChatMessage | dict[str, str]],
        *,
        user_id: int | None = None,
        k: int | None = None,
        must_recommend: bool = False,
        thread_id: str | None = None,
        llm_rerank: bool | None = None,
        keep_pool: bool = False,
    ) -> Reply:
        """Answer the newest user message.

        A string continues the conversation ``thread_id`` (created when None). A transcript
        starts a fresh conversation in which every earlier user turn counts (later overrides
        earlier) and items named in assistant turns count as already suggested.
        ``llm_rerank`` switches the LLM rerank for this conversation (None: the setting).
        ``keep_pool`` returns the candidates the rank node scored in ``Reply.pool``.
        """
        started = time.perf_counter()
        thread = thread_id or uuid.uuid4().hex
        inputs = self._inputs(
            messages, user_id=user_id, k=k, must_recommend=must_recommend, llm_rerank=llm_rerank
        )
        self.owners.claim(thread, user_id)
        config = self._config(thread)
        pool: list[Candidate] = []
        with usage_scope() as spent:  # this turn's calls only, even with turns in parallel
            if not keep_pool:
                state = self.graph.invoke(inputs, config, context=self.deps, durability=DURABILITY)
            else:
                state = {}
                for mode, chunk in self.graph.stream(
                    inputs,
                    config,
                    context=self.deps,
                    stream_mode=["updates", "values"],
                    durability=DURABILITY,
                ):
                    if mode == "values":
                        state = chunk
                    elif "rank" in chunk:  # the pool as the rank node saw it: filter's output
                        pool = list(state.get("candidates", []))
        reply = self._reply(state, thread, started, spent())
        reply.pool = pool
        return reply

    def _offline(self, llm_rerank: bool | None) -> bool:
        """Whether a turn is all Python in this process: no LLM call can make it wait."""
        deps = self.deps
        rerank = deps.tools.reranker is not None and (
            deps.config.llm_rerank if llm_rerank is None else llm_rerank
        )
        rephrase = deps.explainer is not None and deps.config.llm_rephrase
        return deps.planner is deps.offline_planner and not rerank and not rephrase

    @asynccontextmanager
    async def _turn_slot(self, offline: bool) -> AsyncIterator[None]:
        """Wait for one of ``turn_slots`` places, first come first served (offline turns only).

        An offline turn is CPU-bound Python: a process runs one such thread at a time, so a
        hundred turns started together share a core and each lasts as long as all of them
        (benchmarks/load.py: 40 conversations back to back, p95 8.7 s at p50 1.7 s). Admitted a
        few at a time, a turn waits for those ahead of it and then runs at full speed; a turn
        that calls an LLM mostly waits on the model and is never queued behind others.
        """
        slots = self.deps.config.turn_slots
        if not offline or slots <= 0:
            yield
            return
        loop = asyncio.get_running_loop()
        gate = self._slots.get(loop)
        if gate is None:
            gate = self._slots[loop] = asyncio.Semaphore(slots)
        async with gate:
            yield

    async def astream(
        self,
        message: str,
        *,
        thread_id: str,
        user_id: int | None = None,
        k: int | None = None,
        must_recommend: bool = False,
        llm_rerank: bool | None = None,
    ) -> AsyncIterator[Stage | Reply]:
        """One turn on an async checkpointer: a ``Stage`` as each node finishes, then the Reply."""
        started = time.perf_counter()
        config = self._config(thread_id)
        inputs = self._inputs(
            message, user_id=user_id, k=k, must_recommend=must_recommend, llm_rerank=llm_rerank
        )
        async with self._turn_slot(self._offline(llm_rerank)):
            queued = round((time.perf_counter() - started) * 1000, 1)
            async for event in self._astream(inputs, config, thread_id, user_id, started):
                if isinstance(event, Reply):
                    event.timings_ms["queue"] = queued
                yield event

    async def _astream(
        self,
        inputs: dict[str, Any],
        config: dict[str, Any],
        thread_id: str,
        user_id: int | None,
        started: float,
    ) -> AsyncIterator[Stage | Reply]:
        await asyncio.to_thread(self.owners.claim, thread_id, user_id)
        # The state before the first node is LangGraph's own first "values" chunk (the stored
        # state with this turn's input applied): the conversation is read from the
        # checkpointer once per turn, not a second time here to describe the stages. It is
        # never empty (it holds this turn's message), so the first chunk is the one kept.
        state: dict[str, Any] = {}
        with usage_scope() as spent:  # this turn's calls only, even with turns in parallel
            async for mode, chunk in self.graph.astream(
                inputs,
                config,
                context=self.deps,
                stream_mode=["values", "updates"],
                durability=DURABILITY,
            ):
                if mode == "values":
                    state = state or dict(chunk)
                    continue
                for node, update in chunk.items():
                    if not isinstance(update, dict):
                        continue
                    yield describe(node, update, state, self.deps)
                    state.update(update)
        # the turn's own updates make the reply (only ``messages`` has a reducer, and the reply
        # reads none): no second read of the whole state back from the checkpointer
        yield self._reply(state, thread_id, started, spent())

    def ensure_access(self, thread_id: str, user_id: int | None) -> None:
        """Raise ``NotYourConversation`` unless ``user_id`` may read and continue the thread."""
        self.owners.check(thread_id, user_id)

    async def ahistory(self, thread_id: str, *, user_id: int | None = None) -> list[ChatMessage]:
        """The conversation so far, as stored by the checkpointer (empty when unknown)."""
        await asyncio.to_thread(self.owners.check, thread_id, user_id)
        state = (await self.graph.aget_state(self._config(thread_id))).values
        out: list[ChatMessage] = []
        for message in state.get("messages", []):
            if isinstance(message, HumanMessage):
                out.append(ChatMessage(role="user", content=str(message.content)))
            else:
                out.append(ChatMessage(role="assistant", content=str(message.content)))
        return out

    @staticmethod
    def _transcript(transcript: list[ChatMessage]) -> dict[str, Any]:
        """Inputs for a transcript: the graph's ``replay`` step folds its earlier turns."""
        if not transcript or transcript[-1].role != "user":
            raise ValueError("the transcript must end with a user message")
        earlier = [
            AIMessage(m.content) if m.role == "assistant" else HumanMessage(m.content)
            for m in transcript[:-1]
        ]
        return {
            "messages": [*earlier, HumanMessage(transcript[-1].content)],
            "transcript": earlier,
        }

    def _feedback_update(
        self, state: dict[str, Any], item_id: int, kind: FeedbackKind
    ) -> dict[str, Any]:
        if item_id not in self.deps.tools.catalog:
            raise ValueError(f"item {item_id} is not in the catalog")
        if kind == "liked":
            prefs = (state.get("preferences") or Preferences()).model_copy(deep=True)
            prefs.liked = dedupe([*prefs.liked, item_id])
            return {"preferences": prefs}
        key = "rejected" if kind == "rejected" else "seen"
        return {key: dedupe([*state.get(key, []), item_id])}

    def record_feedback(
        self, thread_id: str, item_id: int, kind: FeedbackKind, *, user_id: int | None = None
    ) -> None:
        """A 👍 / 👎 / seen click: the conversation adapts, and a known user's profile keeps it."""
        self.owners.claim(thread_id, user_id)
        config = self._config(thread_id)
        state = self.graph.get_state(config).values
        self.graph.update_state(
            config, self._feedback_update(state, item_id, kind), as_node="respond"
        )
        if user_id is not None:
            self.deps.users.record_feedback(user_id, item_id, kind)

    async def afeedback(
        self, thread_id: str, item_id: int, kind: FeedbackKind, *, user_id: int | None = None
    ) -> Recommendation | None:
        """A click on a card (async checkpointer). 👎 and "seen" also pick the next-best
        candidate of the last ranking to take the item's place; None when there is none."""
        await asyncio.to_thread(self.owners.claim, thread_id, user_id)
        config = self._config(thread_id)
        state = dict((await self.graph.aget_state(config)).values)
        update = self._feedback_update(state, item_id, kind)
        if user_id is not None:
            await asyncio.to_thread(self.deps.users.record_feedback, user_id, item_id, kind)
        replacement = None
        if kind != "liked":
            replacement = await asyncio.to_thread(self._replacement, {**state, **update})
        if replacement is not None:
            update.update(self._swap(state, item_id, replacement))
        await self.graph.aupdate_state(config, update, as_node="respond")
        return replacement

    async def aforget(self, thread_id: str, *, user_id: int | None) -> None:
        """Delete the conversation's memory (every checkpoint) and its owner, as ``user_id``:
        someone else's conversation raises ``NotYourConversation`` and is left as it is."""
        await asyncio.to_thread(self.owners.check, thread_id, user_id)
        await self.checkpointer.adelete_thread(thread_id)
        await asyncio.to_thread(self.owners.release, thread_id)

    def _replacement(self, state: dict[str, Any]) -> Recommendation | None:
        """The best candidate of the last ranking that is still allowed, with its reason."""
        user = user_facts(state, self.deps)
        excluded = set(excluded_ids(state, user))
        catalog = self.deps.tools.catalog
        for candidate in state.get("ranked", []):
            if candidate.item_id not in excluded and candidate.item_id in catalog:
                history = shown_history(state, user)
                return recommendation(candidate, preferences(state), history, self.deps)
        return None

    @staticmethod
    def _swap(state: dict[str, Any], item_id: int, new: Recommendation) -> dict[str, Any]:
        """Put ``new`` where ``item_id`` was in the last list; remember it as shown."""
        last = [new.item_id if i == item_id else i for i in state.get("last_shown", [])]
        recommendations = [
            new if r.item_id == item_id else r for r in state.get("recommendations", [])
        ]
        return {
            "last_shown": last,
            "recommendations": recommendations,
            "shown": dedupe([*state.get("shown", []), new.item_id]),
        }
