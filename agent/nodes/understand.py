"""replay and understand: read the dialog into state (the helpers live in ``agent/dialog.py``)."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent import budget
from agent.context import Deps
from agent.dialog import fold_plan, last_user_text, make_plan, planner_context, replay_transcript
from agent.state import AgentState
from agent.turn import load_user


def replay(state: AgentState, runtime: Runtime[Deps]) -> dict[str, Any]:
    """Entry step for a transcript: fold its earlier turns into a fresh dialog state."""
    budget.arm(runtime.context.config.turn_deadline_s)
    updates = replay_transcript(state.get("transcript", []), runtime.context)
    updates["transcript"] = []
    return updates


def understand(state: AgentState, runtime: Runtime[Deps]) -> dict[str, Any]:
    """Plan the new message, fold it in, and load the user's facts once for the whole turn."""
    deps = runtime.context
    budget.arm(deps.config.turn_deadline_s)  # the turn's LLM time counts from its start
    text = last_user_text(state)
    notes: list[str] = []
    fallbacks: list[str] = []
    if len(text) > deps.config.max_message_chars:
        notes.append(
            f"Your message was long; I read its first {deps.config.max_message_chars} characters."
        )
        text = text[: deps.config.max_message_chars]
    plan = make_plan(text, planner_context(state, deps), deps, fallbacks)
    updates = fold_plan(state, plan, deps)
    updates["notes"] = notes + updates["notes"]
    updates["llm_fallbacks"] = fallbacks  # this turn's, from here on
    user = load_user(state.get("user_id"), deps)
    updates["user"] = user
    updates["warm"] = user.known_interactions >= deps.config.warm_threshold
    updates["timings_ms"] = {}
    return updates
