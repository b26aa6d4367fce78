"""Recommender.astream / afeedback / ahistory: the async API the web app uses."""

from __future__ import annotations

import asyncio
import copy
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage

from agent.context import Deps
from agent.llm import UsageCounter
from agent.persistence import ACCOUNT_ID_BASE, async_sqlite_checkpointer
from agent.recommender import Recommender, Reply
from agent.settings import Settings
from agent.trace import Stage
from agent.wiring import LLMParts, assemble_deps


def _turn(
    recommender: Recommender, text: str, thread: str, **kwargs: Any
) -> tuple[list[Stage], Reply]:
    async def run() -> tuple[list[Stage], Reply]:
        stages: list[Stage] = []
        reply: Reply | None = None
        async for event in recommender.astream(text, thread_id=thread, **kwargs):
            if isinstance(event, Stage):
                stages.append(event)
            else:
                reply = event
        assert reply is not None
        return stages, reply

    return asyncio.run(run())


def test_astream_yields_each_stage_in_order_then_the_reply(recommender: Recommender) -> None:
    stages, reply = _turn(recommender, "something like Toy Story", "t1")
    assert [s.node for s in stages] == ["understand", "retrieve", "filter", "rank", "respond"]
    assert reply.action == "recommend" and reply.recommendations
    retrieve = stages[1]
    assert any("candidates from FAISS" in line for line in retrieve.lines)
    assert any(line.startswith("More like: Toy Story") for line in retrieve.lines)
    kept = next(line for line in stages[2].lines if line.startswith("Kept"))
    assert kept.startswith("Kept ") and " of " in kept
    assert "LLM rerank: off (no LLM configured)" in stages[3].lines
    assert all(s.ms is not None for s in stages[1:4])


def test_astream_matches_reply_for_the_same_conversation(agent_deps: Deps) -> None:
    sync = Recommender(agent_deps).reply("a sci-fi movie", thread_id="a")
    _stages, streamed = _turn(Recommender(agent_deps), "a sci-fi movie", "b")
    assert [r.item_id for r in streamed.recommendations] == [
        r.item_id for r in sync.recommendations
    ]


def test_afeedback_replaces_a_rejected_item_with_an_unshown_candidate(
    recommender: Recommender,
) -> None:
    _s, reply = _turn(recommender, "something like Toy Story", "t2", k=3)
    shown = [r.item_id for r in reply.recommendations]
    new = asyncio.run(recommender.afeedback("t2", shown[0], "rejected"))
    assert new is not None and new.item_id not in shown
    assert new.title == recommender.deps.tools.catalog.get(new.item_id).display_title
    state = recommender.graph.get_state({"configurable": {"thread_id": "t2"}}).values
    assert shown[0] in state["rejected"]
    assert state["last_shown"][0] == new.item_id  # "the first one" now means the replacement
    assert new.item_id in state["shown"]
    _s, later = _turn(recommender, "more please", "t2", k=5)
    assert shown[0] not in {r.item_id for r in later.recommendations}


def test_afeedback_like_adapts_without_a_replacement(recommender: Recommender) -> None:
    _s, reply = _turn(recommender, "a sci-fi movie", "t3", k=3, user_id=3)
    liked = reply.recommendations[0].item_id
    assert asyncio.run(recommender.afeedback("t3", liked, "liked", user_id=3)) is None
    state = recommender.graph.get_state({"configurable": {"thread_id": "t3"}}).values
    assert liked in state["preferences"].liked
    assert liked in recommender.deps.users.feedback(3)["liked"]


def test_afeedback_returns_none_when_no_candidate_is_left(recommender: Recommender) -> None:
    _s, reply = _turn(recommender, "something like Toy Story", "t4", k=50)
    last = None
    for rec in reply.recommendations:
        last = asyncio.run(recommender.afeedback("t4", rec.item_id, "seen"))
    assert last is None


def test_llm_rerank_switch_is_reported_per_conversation(recommender: Recommender) -> None:
    stages, _reply = _turn(recommender, "a sci-fi movie", "t5", llm_rerank=False)
    rank = next(s for s in stages if s.node == "rank")
    assert "LLM rerank: off (no LLM configured)" in rank.lines  # no LLM beats the switch


def test_async_sqlite_checkpointer_survives_a_restart(agent_deps: Deps, tmp_path: Path) -> None:
    path = tmp_path / "conversations.db"

    async def first() -> list[int]:
        saver = await async_sqlite_checkpointer(path)
        try:
            rec = Recommender(agent_deps, saver)
            reply = None
            async for event in rec.astream("something like Toy Story", thread_id="kept", k=3):
                reply = event
            assert isinstance(reply, Reply)
            await rec.afeedback("kept", reply.recommendations[0].item_id, "rejected")
            return [r.item_id for r in reply.recommendations]
        finally:
            await saver.conn.close()

    async def second() -> tuple[list[str], list[int]]:
        saver = await async_sqlite_checkpointer(path)
        try:
            rec = Recommender(agent_deps, saver)
            history = [m.role for m in await rec.ahistory("kept")]
            state = (await rec.graph.aget_state({"configurable": {"thread_id": "kept"}})).values
            return history, state["rejected"]
        finally:
            await saver.conn.close()

    shown = asyncio.run(first())
    history, rejected = asyncio.run(second())
    assert history == ["user", "assistant"]
    assert rejected == [shown[0]]


def test_accounts_map_identities_to_stable_user_ids(agent_deps: Deps) -> None:
    users = agent_deps.users
    alice = users.user_id_for("alice")
    assert alice > ACCOUNT_ID_BASE
    assert users.user_id_for("alice") == alice
    assert users.user_id_for("bob") == alice + 1
    assert users.user_id_for("3") == 3  # a catalog user: the demo of the warm path
    assert users.user_id_for("999") > ACCOUNT_ID_BASE  # digits, but no such catalog user


class _CountingPlanner:
    """The offline planner's plans, each billed as one LLM call of ``len(message)`` input tokens;
    two plans wait for each other so that two turns overlap."""

    def __init__(self, offline: Any, counter: UsageCounter) -> None:
        self.offline, self.counter = offline, counter
        self.together = threading.Barrier(2, timeout=10)

    def plan(self, message: str, context: Any) -> Any:
        self.counter.record(
            AIMessage(
                "{}",
                usage_metadata={
                    "input_tokens": len(message),
                    "output_tokens": 1,
                    "total_tokens": len(message) + 1,
                },
            )
        )
        self.together.wait()
        return self.offline.plan(message, context)


def test_concurrent_astream_turns_count_only_their_own_llm_use(agent_deps: Deps) -> None:
    counter = UsageCounter()
    planner = _CountingPlanner(agent_deps.offline_planner, counter)
    parts = LLMParts(planner=planner, usage=counter)  # type: ignore[arg-type]
    settings = Settings(k=agent_deps.config.k, warm_threshold=agent_deps.config.warm_threshold)
    recommender = Recommender(
        assemble_deps(settings, tools=agent_deps.tools, users=agent_deps.users, llm=parts)
    )
    short, long = "a comedy", "something like Toy Story, but scarier and from the nineties"

    async def both() -> list[tuple[list[Stage], Reply]]:
        async def turn(text: str, thread: str) -> tuple[list[Stage], Reply]:
            stages: list[Stage] = []
            async for event in recommender.astream(text, thread_id=thread):
                if isinstance(event, Stage):
                    stages.append(event)
                else:
                    return stages, event
            raise AssertionError("no reply")

        return list(await asyncio.gather(turn(short, "u1"), turn(long, "u2")))

    (_a, first), (_b, second) = asyncio.run(both())
    assert first.llm.calls == 1 and first.llm.input_tokens == len(short)
    assert second.llm.calls == 1 and second.llm.input_tokens == len(long)
    assert counter.calls == 2  # the process-wide counter still sees both


def test_it_follows_the_item_talked_about_in_the_stream(recommender: Recommender) -> None:
    _s, first = _turn(recommender, "I loved Toy Story", "f1")
    second_item = recommender.deps.tools.catalog.get(first.recommendations[1].item_id)
    _s, about = _turn(recommender, "what is the second one about?", "f1")
    assert about.action == "answer" and about.reply.startswith(second_item.display_title)
    for follow_up in ("how long is it?", "tell me more about it"):
        _s, reply = _turn(recommender, follow_up, "f1")
        assert reply.action == "answer"
        assert reply.reply.startswith(second_item.display_title), follow_up


def test_a_streamed_turn_reads_the_conversation_once(agent_deps: Deps, tmp_path: Path) -> None:
    """The stages are described from LangGraph's own read of the stored state, not from a
    second read of the whole conversation before the turn (each read deserialises it all)."""

    async def run() -> list[int]:
        reads: list[int] = []
        saver = await async_sqlite_checkpointer(tmp_path / "memory.db")
        original = saver.aget_tuple

        async def counted(config: Any) -> Any:
            reads[-1] += 1
            return await original(config)

        saver.aget_tuple = counted  # type: ignore[method-assign]
        try:
            recommender = Recommender(agent_deps, saver)
            for text in ("something like Toy Story", "more please"):
                reads.append(0)
                async for _event in recommender.astream(text, thread_id="once"):
                    pass
        finally:
            await saver.conn.close()
        return reads

    assert asyncio.run(run()) == [1, 1]


def test_the_stored_conversation_keeps_the_ranking_but_not_the_retrieval_pool(
    recommender: Recommender,
) -> None:
    """The pool (hundreds of candidates) is one turn's working set; the stored state keeps the
    ranked list a replacement card is taken from, and a later turn still retrieves afresh."""
    stages, reply = _turn(recommender, "something like Toy Story", "pool", k=3)
    kept = next(line for line in stages[2].lines if line.startswith("Kept"))
    assert int(kept.split()[1]) > len(reply.recommendations)  # the turn had a real pool
    state = recommender.graph.get_state({"configurable": {"thread_id": "pool"}}).values
    assert state["candidates"] == []
    assert len(state["ranked"]) > len(reply.recommendations)
    shown = [r.item_id for r in reply.recommendations]
    assert asyncio.run(recommender.afeedback("pool", shown[0], "rejected")) is not None
    stages, _later = _turn(recommender, "something funnier", "pool", k=3)
    kept = next(line for line in stages[2].lines if line.startswith("Kept"))
    assert int(kept.split()[3]) > 0  # "Kept A of B": the filter saw a fresh pool of B


def test_reply_returns_the_pool_the_rank_node_scored_only_when_asked(
    recommender: Recommender,
) -> None:
    """Learning from conversations needs the scored pool, which the stored state lacks."""
    plain = recommender.reply("something like Toy Story", thread_id="p1", k=3)
    assert plain.pool == [] and "pool" not in plain.model_dump()
    kept = recommender.reply("something like Toy Story", thread_id="p2", k=3, keep_pool=True)
    ids = {c.item_id for c in kept.pool}
    assert len(ids) > 3 and {r.item_id for r in kept.recommendations} <= ids
    assert [r.item_id for r in kept.recommendations] == [r.item_id for r in plain.recommendations]


def _concurrent_turns(recommender: Recommender, count: int) -> tuple[int, list[Reply]]:
    """``count`` turns started together on separate threads: how many were inside the graph at
    once at most, and their replies."""
    active = peak = 0
    inner = recommender._astream

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        try:
            async for event in inner(*args, **kwargs):
                yield event
        finally:
            active -= 1

    recommender._astream = counted  # type: ignore[method-assign]

    async def one(n: int) -> Reply:
        events = [e async for e in recommender.astream("a sci-fi movie", thread_id=f"c{n}")]
        assert isinstance(events[-1], Reply)
        return events[-1]

    async def run() -> list[Reply]:
        return list(await asyncio.gather(*(one(n) for n in range(count))))

    replies = asyncio.run(run())
    return peak, replies


def test_offline_turns_wait_for_a_slot_first_come_first_served(agent_deps: Deps) -> None:
    one_slot = replace(agent_deps, config=replace(agent_deps.config, turn_slots=1))
    peak, replies = _concurrent_turns(Recommender(one_slot), 4)
    assert peak == 1
    assert all(r.action == "recommend" and r.recommendations for r in replies)
    waits = sorted(r.timings_ms["queue"] for r in replies)
    assert waits[0] < waits[-1] and waits[-1] > 0  # the last admitted waited for the others


def test_without_a_limit_turns_run_together(agent_deps: Deps) -> None:
    unlimited = replace(agent_deps, config=replace(agent_deps.config, turn_slots=0))
    peak, replies = _concurrent_turns(Recommender(unlimited), 4)
    assert peak == 4 and len(replies) == 4


def test_only_turns_without_an_llm_call_are_queued(agent_deps: Deps) -> None:
    offline = Recommender(agent_deps)
    assert offline._offline(None) and offline._offline(True)  # no reranker: nothing to call
    tools = copy.copy(agent_deps.tools)
    tools.reranker = object()  # type: ignore[assignment]  # never called here
    reranking = Recommender(replace(agent_deps, tools=tools))
    assert reranking._offline(False)  # switched off for this conversation
    assert not reranking._offline(True) and not reranking._offline(None)  # on by default
    planning = Recommender(replace(agent_deps, planner=object()))  # an LLM planner
    assert not planning._offline(False)
