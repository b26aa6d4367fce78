"""Whole turns with the real LLM as planner, reranker and rephraser, on the small catalog.

What must hold with any model: every shown item is in the catalog and among the turn's
candidates, items the person turned down never come back, no LLM answer arrives after the
turn's deadline (the transport records when the last one did), tokens come from the server's
usage, and every fallback is recorded in the state as "stage: reason".
"""

from __future__ import annotations

from typing import Any

import pytest

from agent import budget
from agent.context import Deps
from agent.recommender import Recommender
from agent.settings import Settings
from agent.wiring import llm_parts
from tests.agent_fixtures import with_llm

REASONS = {"LLM deadline", "LLM error", "unusable answer"}
STAGES = {"planner", "rerank", "rephrase"}


@pytest.fixture
def budgets(monkeypatch: pytest.MonkeyPatch) -> list[budget.TurnBudget]:
    """Every turn's LLM budget, as the turns arm them."""
    armed: list[budget.TurnBudget] = []
    arm = budget.arm

    def recording(seconds: float) -> budget.TurnBudget | None:
        found = arm(seconds)
        if found is not None and found not in armed:
            armed.append(found)
        return found

    monkeypatch.setattr(budget, "arm", recording)
    return armed


def agent(llm_settings: Settings, deps: Deps, mode: str) -> Recommender:
    settings = llm_settings.model_copy(
        update={"k": 3, "rerank_top": 8, "llm_rerank_mode": mode, "llm_rephrase": True}
    )
    return with_llm(deps, settings, llm_parts(settings, deps.tools.catalog.genres))


def check_turn(bot: Recommender, thread: str, reply: Any, never: set[int]) -> None:
    state = bot.graph.get_state(bot._config(thread)).values
    catalog = bot.deps.tools.catalog
    candidates = {c.item_id for c in state.get("ranked", [])}
    for rec in reply.recommendations:
        assert rec.item_id in catalog and rec.item_id in candidates
        assert rec.title == catalog.get(rec.item_id).display_title
        assert rec.item_id not in never
    for entry in state.get("llm_fallbacks", []):
        stage, _, why = entry.partition(": ")
        assert stage in STAGES and why in REASONS, entry
    if state.get("guard") is not None and state["guard"].fell_back:
        assert any(entry.startswith("rerank: ") for entry in state["llm_fallbacks"])
    if reply.llm.calls:  # answers are counted from the server's usage block
        assert reply.llm.input_tokens > 0 and reply.llm.output_tokens > 0
    else:  # no answer in time: every LLM step of the turn says why it went offline
        assert state["llm_fallbacks"], "an LLM turn without answers records its fallbacks"


@pytest.mark.parametrize("mode", ["listwise", "verbalizer", "pointwise"])
def test_turns_with_the_real_llm_keep_every_guarantee(
    mode: str, llm_settings: Settings, agent_deps: Deps, budgets: list[budget.TurnBudget]
) -> None:
    bot = agent(llm_settings, agent_deps, mode)
    thread = f"real-{mode}"
    first = bot.reply("I loved Toy Story, more animation please", thread_id=thread, k=3)
    check_turn(bot, thread, first, never=set())
    assert first.recommendations, "a list, planned by the LLM or by the rules"
    turned_down = {first.recommendations[0].item_id}
    bot.record_feedback(thread, first.recommendations[0].item_id, "rejected")
    second = bot.reply("something else, funnier", thread_id=thread, k=3, must_recommend=True)
    check_turn(bot, thread, second, never=turned_down)
    assert len(budgets) == 2
    for spent in budgets:  # the transport ends an answer at the deadline; +1 s: the last read
        assert spent.last_answer is None or spent.last_answer <= spent.deadline + 1.0
