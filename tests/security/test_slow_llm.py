"""A slow LLM never stalls a turn (issue 14, item 8).

A real `recbot serve` is pointed at the loopback stub LLM, which takes 30 s per answer. With the
configured per-call timeout (20 s) and retry, a turn used to wait 20 s x 2 for the planner and as
long again for the rerank (80 s, past this suite's 60 s wait for an answer). With
RECBOT_TURN_DEADLINE_S the answer arrives, made offline, and "How I chose these" says which
steps fell back and why. The stub counts the requests: one planner call, never retried, and no
rerank call once the time is spent.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.e2e.test_protocol import HOW, Chat, cards_in, of, sign_in
from tests.llm_stub import LLMStub
from tests.security.conftest import StartServer

PLAN = {"action": "recommend", "liked_titles": ["Toy Story"]}


async def _one_turn(url: str) -> list[Any]:
    chat = await Chat(url, await sign_in(url)).open()
    try:
        return [event for event in await chat.say("Something like Toy Story")]
    finally:
        await chat.close()


def test_a_slow_llm_costs_a_turn_its_deadline_and_the_trace_says_so(
    start_server: StartServer, llm_stub: LLMStub
) -> None:
    llm_stub.always(json.dumps(PLAN), delay=30)
    srv = start_server(
        RECBOT_LLM_BASE_URL=llm_stub.base_url,
        RECBOT_LLM_MODEL="stub-model",
        RECBOT_LLM_TIMEOUT_S="20",
        RECBOT_LLM_MAX_RETRIES="1",
        RECBOT_TURN_DEADLINE_S="2",
    )
    turn = asyncio.run(_one_turn(srv.url))
    assert cards_in(turn), "the answer arrived, with its cards"
    steps = of(turn, "new_message") + of(turn, "update_message")
    how = " ".join(s["output"] for s in steps if s["type"] == "tool" and s["name"] == HOW)
    assert "Fell back to my own rules to read your message: it took too long." in how
    assert "Fell back to the ranker's order: it took too long." in how
    assert len(llm_stub.requests) == 1  # the planner's one call: no retry, no rerank call
