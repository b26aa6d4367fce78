"""The agent with a real ChatOpenAI client against the loopback stub: planner and reranker.

The LLM misbehaves on purpose (invented titles, out-of-range indices, prose, timeouts); nothing
outside the candidate set may reach the reply, and the state records what the guard did.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from agent.context import Deps
from agent.llm import UsageCounter, make_chat_model
from agent.planner.llm import LLMPlanner
from agent.prompts import rerank_messages
from agent.recommender import Recommender
from agent.settings import Settings
from agent.wiring import LLMParts, assemble_deps
from tools.reranker import LLMReranker

if TYPE_CHECKING:
    from tests.llm_stub import LLMStub


def llm_agent(deps: Deps, stub: LLMStub) -> Recommender:
    usage = UsageCounter()
    model = make_chat_model(stub.base_url, "stub-model", "sk-test", timeout=2, max_retries=0)
    parts = LLMParts(
        planner=LLMPlanner(model, deps.tools.catalog.genres, method="json_schema", counter=usage),
        reranker=LLMReranker(model, prompt=rerank_messages, counter=usage),
        usage=usage,
    )
    settings = Settings(k=3, rerank_top=5, warm_threshold=deps.config.warm_threshold)
    return Recommender(
        assemble_deps(
            settings,
            tools=deps.tools,
            users=deps.users,
            llm=parts,
            offline_planner=deps.offline_planner,
        )
    )


PLAN = {"action": "recommend", "liked_titles": ["Toy Story"], "include_genres": ["Animation"]}


@pytest.mark.parametrize(
    "rerank_answer",
    [
        '["Shrek (2001)", "The Incredibles", 4]',  # invented titles and one good index
        "[99, -1, 0, 2, 2, 3]",  # out of range, zero, duplicate
        "I would recommend the first and the third, they are lovely!",  # prose
        '{"ranking": [3, 1, 2]}',  # a valid object
    ],
)
def test_no_item_outside_the_candidate_set_reaches_the_reply(
    agent_deps: Deps, llm_stub: LLMStub, rerank_answer: str
) -> None:
    agent = llm_agent(agent_deps, llm_stub)
    llm_stub.enqueue_json(PLAN)
    llm_stub.enqueue(rerank_answer)
    reply = agent.reply("I loved Toy Story, more animation please", thread_id="llm")
    state = agent.graph.get_state(agent._config("llm")).values
    candidates = {c.item_id for c in state["ranked"]}
    catalog = agent_deps.tools.catalog
    assert reply.action == "recommend" and len(reply.recommendations) == 3
    for rec in reply.recommendations:
        assert rec.item_id in candidates
        assert rec.title == catalog.get(rec.item_id).display_title
    assert "Shrek" not in reply.reply and "Incredibles" not in reply.reply
    assert state["guard"].ran
    assert reply.llm.calls == 2 and reply.llm.input_tokens > 0


def test_guard_outcomes_are_recorded_and_counted(agent_deps: Deps, llm_stub: LLMStub) -> None:
    agent = llm_agent(agent_deps, llm_stub)
    llm_stub.enqueue_json(PLAN)
    llm_stub.enqueue("[99, 1]")
    agent.reply("I loved Toy Story", thread_id="g1")
    guard = agent.graph.get_state(agent._config("g1")).values["guard"]
    assert guard.dropped and not guard.fell_back
    llm_stub.enqueue_json(PLAN)
    llm_stub.enqueue("no idea, sorry")
    agent.reply("I loved Toy Story", thread_id="g2")
    assert agent.graph.get_state(agent._config("g2")).values["guard"].fell_back
    rates = agent.deps.counters.rates()
    assert rates["reranks"] == 2 and rates["rerank_fallback_rate"] == 0.5


def test_llm_timeouts_fall_back_to_the_offline_planner_and_ranker_order(
    agent_deps: Deps, llm_stub: LLMStub
) -> None:
    agent = llm_agent(agent_deps, llm_stub)
    llm_stub.enqueue_json(PLAN, delay=5)  # planner times out → offline planner
    llm_stub.enqueue("[1, 2, 3]", delay=5)  # reranker times out → ranker order
    reply = agent.reply("I loved Toy Story", thread_id="slow")
    state = agent.graph.get_state(agent._config("slow")).values
    assert reply.action == "recommend" and reply.recommendations
    assert state["guard"].fell_back
    assert agent.deps.counters.planner_fallbacks == 1


def test_titles_the_llm_planner_writes_are_resolved_through_the_catalog(
    agent_deps: Deps, llm_stub: LLMStub
) -> None:
    agent = llm_agent(agent_deps, llm_stub)
    llm_stub.enqueue_json({"action": "recommend", "liked_titles": ["Toy Story 7: The Invention"]})
    reply = agent.reply("I loved that toy movie sequel", thread_id="inv")
    assert reply.action == "clarify"
    assert "couldn't find" in reply.reply
