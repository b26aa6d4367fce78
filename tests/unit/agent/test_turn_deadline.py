"""One deadline for all LLM work of a turn (RECBOT_TURN_DEADLINE_S, issue 14 item 8).

A slow LLM (the loopback stub with a delay) must cost a turn no more than its deadline: the
calls take the time left as their timeout, are not retried past it, and the steps after it take
the offline path, saying so in the turn's trace. No wall-clock assertions: the tests count the
requests the server saw and read the timeouts the transport set.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx2
import pytest

from agent import budget
from agent.context import Deps
from agent.llm import usage_scope
from agent.recommender import Recommender
from agent.settings import Settings
from agent.trace import Stage
from agent.wiring import llm_parts
from tests.agent_fixtures import with_llm

if TYPE_CHECKING:
    from tests.llm_stub import LLMStub

PLAN = {"action": "recommend", "liked_titles": ["Toy Story"], "include_genres": ["Animation"]}


def llm_agent(deps: Deps, stub: LLMStub, *, deadline: float, rephrase: bool = False) -> Recommender:
    """The agent with the LLM the composition root builds from settings, on the DEFAULT
    per-call timeout (20 s) and retry: only the turn's deadline keeps a slow server short."""
    settings = Settings(
        k=3,
        rerank_top=5,
        llm_base_url=stub.base_url,
        llm_model="stub-model",
        turn_deadline_s=deadline,
        llm_rephrase=rephrase,
    )
    assert settings.llm_timeout_s == 20 and settings.llm_max_retries == 1
    return with_llm(deps, settings, llm_parts(settings, deps.tools.catalog.genres))


def state_of(agent: Recommender, thread: str) -> dict[str, Any]:
    return agent.graph.get_state(agent._config(thread)).values


def test_a_slow_llm_falls_back_to_the_offline_path_at_the_deadline(
    agent_deps: Deps, llm_stub: LLMStub
) -> None:
    agent = llm_agent(agent_deps, llm_stub, deadline=1.0, rephrase=True)
    llm_stub.always(json_plan(), delay=10)  # every call would take 10 s
    reply = agent.reply("I loved Toy Story, more animation please", thread_id="slow")
    state = state_of(agent, "slow")
    assert reply.action == "recommend" and reply.recommendations
    assert state["llm_fallbacks"] == [
        "planner: LLM deadline",
        "rerank: LLM deadline",
        "rephrase: LLM deadline",
    ]
    # one planner request, not retried; the rerank and rephrase never asked
    assert len(llm_stub.requests) == 1
    assert state["guard"].fell_back and not state["guard"].ran
    assert agent.deps.counters.planner_fallbacks == 1
    # the offline planner read the message: Toy Story is liked, not shown again
    assert all(r.title != "Toy Story" for r in reply.recommendations)


def test_a_fast_llm_is_used_and_nothing_falls_back(agent_deps: Deps, llm_stub: LLMStub) -> None:
    agent = llm_agent(agent_deps, llm_stub, deadline=30.0)
    llm_stub.enqueue_json(PLAN)
    llm_stub.enqueue("[2, 1, 3]")
    reply = agent.reply("I loved Toy Story", thread_id="fast")
    state = state_of(agent, "fast")
    assert reply.llm.calls == 2
    assert state["llm_fallbacks"] == []
    assert state["guard"].ran and not state["guard"].fell_back


def test_the_next_turn_gets_a_fresh_budget(agent_deps: Deps, llm_stub: LLMStub) -> None:
    agent = llm_agent(agent_deps, llm_stub, deadline=1.0)
    llm_stub.enqueue_json(PLAN, delay=10)  # the rerank is never asked: no time left
    agent.reply("I loved Toy Story", thread_id="two")
    assert state_of(agent, "two")["llm_fallbacks"] == [
        "planner: LLM deadline",
        "rerank: LLM deadline",
    ]
    llm_stub.enqueue_json(PLAN)  # the next turn is fast again
    llm_stub.enqueue("[1, 2, 3]")
    reply = agent.reply("more please", thread_id="two")
    assert reply.llm.calls == 2
    assert state_of(agent, "two")["llm_fallbacks"] == []


def test_the_trace_says_which_steps_fell_back_and_why(agent_deps: Deps, llm_stub: LLMStub) -> None:
    agent = llm_agent(agent_deps, llm_stub, deadline=1.0)
    llm_stub.always(json_plan(), delay=10)

    async def run() -> list[Stage]:
        stages = []
        async for event in agent.astream("I loved Toy Story", thread_id="trace"):
            if isinstance(event, Stage):
                stages.append(event)
        return stages

    stages = {stage.node: stage for stage in asyncio.run(run())}
    assert "Planner fell back: LLM deadline" in stages["understand"].lines
    assert "Rerank fell back: LLM deadline" in stages["rerank"].lines
    assert stages["understand"].summary["llm"].startswith("Fell back to my own rules")
    assert "took too long" in stages["rerank"].summary["llm"]


def test_an_unusable_answer_is_recorded_as_such_not_as_the_deadline(
    agent_deps: Deps, llm_stub: LLMStub
) -> None:
    agent = llm_agent(agent_deps, llm_stub, deadline=30.0)
    llm_stub.enqueue_json(PLAN)
    llm_stub.enqueue("no idea, sorry")
    agent.reply("I loved Toy Story", thread_id="garbage")
    assert state_of(agent, "garbage")["llm_fallbacks"] == ["rerank: unusable answer"]


def json_plan() -> str:
    import json

    return json.dumps(PLAN)


# the transport: each call's timeout is the time left, no call past the deadline


class Recorder(httpx2.BaseTransport):
    def __init__(self, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.seen: list[httpx2.Request] = []
        self.status, self.headers = status, headers or {}

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        self.seen.append(request)
        return httpx2.Response(self.status, headers=self.headers, content=b"{}")


def send(transport: httpx2.BaseTransport, retries_taken: int = 0) -> httpx2.Response:
    with httpx2.Client(transport=transport, timeout=20) as client:
        request = client.build_request(
            "POST", "http://llm.test/v1", headers={"x-stainless-retry-count": str(retries_taken)}
        )
        return client.send(request)


def test_outside_a_turn_the_configured_timeout_stands() -> None:
    inner = Recorder()
    send(budget.DeadlineTransport(inner))
    assert inner.seen[0].extensions["timeout"]["read"] == 20


def test_in_a_turn_the_time_left_is_the_calls_timeout() -> None:
    inner = Recorder()
    with usage_scope():
        budget.arm(1.5)
        send(budget.DeadlineTransport(inner))
    timeouts = inner.seen[0].extensions["timeout"]
    assert all(0 < timeouts[phase] <= 1.5 for phase in ("connect", "read", "write", "pool"))


def test_no_call_starts_once_the_budget_is_spent() -> None:
    inner = Recorder()
    with usage_scope():
        spent = budget.arm(1.0)
        assert spent is not None
        spent.deadline -= 5  # as if the turn started 5 s ago
        with pytest.raises(budget.LLMDeadlineError, match="LLM deadline"):
            send(budget.DeadlineTransport(inner))
    assert inner.seen == []


@pytest.mark.parametrize(("left", "retries_taken", "retry"), [(5.0, 0, True), (0.3, 0, False)])
def test_an_error_is_retried_only_when_the_back_off_fits(
    left: float, retries_taken: int, retry: bool
) -> None:
    inner = Recorder(status=503, headers={"retry-after": "30"})
    with usage_scope():
        armed = budget.arm(left)
        assert armed is not None
        response = send(budget.DeadlineTransport(inner), retries_taken)
    assert "retry-after" not in response.headers  # a server may not park the turn for 30 s
    assert (response.headers.get("x-should-retry") != "false") is retry


def test_the_first_arming_of_a_turn_counts() -> None:
    with usage_scope():
        first = budget.arm(1.0)
        assert budget.arm(50.0) is first
    assert budget.current() is None and budget.arm(1.0) is None
