"""Routers: pure functions of the state (and settings) with ``Literal`` return types."""

from __future__ import annotations

from typing import Literal

from langgraph.runtime import Runtime

from agent.context import Deps
from agent.state import AgentState, Preferences


def at_start(state: AgentState) -> Literal["replay", "understand"]:
    """A transcript's earlier turns are folded in first (``Recommender.reply`` with a list)."""
    return "replay" if state.get("transcript") else "understand"


def after_understand(
    state: AgentState, runtime: Runtime[Deps]
) -> Literal["clarify", "retrieve", "answer", "smalltalk"]:
    """Clarify when there is too little to go on (at most N times in a row), else act."""
    plan = state.get("plan")
    action = plan.action if plan is not None else "clarify"
    if state.get("must_recommend"):  # a contract: a list, whatever the planner decided
        return "retrieve"
    if action == "answer" and (state.get("last_shown") or (plan and plan.question_title)):
        return "answer"
    if action == "smalltalk":
        return "smalltalk"
    if state.get("clarifications", 0) >= runtime.context.config.max_clarifications:
        return "retrieve"
    prefs = state.get("preferences") or Preferences()
    if state.get("unresolved") and not prefs.has_signal():
        return "clarify"
    if action == "clarify" and not (prefs.has_signal() or state.get("warm")):
        return "clarify"
    if action == "answer":  # a question with nothing shown yet: treat it as a request
        return "retrieve" if prefs.has_signal() else "clarify"
    return "retrieve"


def after_rank(state: AgentState, runtime: Runtime[Deps]) -> Literal["rerank", "respond"]:
    """The LLM rerank runs when configured, switched on, and (by default) for cold users only."""
    config = runtime.context.config
    wanted = state.get("llm_rerank")
    if runtime.context.tools.reranker is None or not (
        config.llm_rerank if wanted is None else wanted
    ):
        return "respond"
    if state.get("warm") and not config.llm_rerank_warm:
        return "respond"
    return "rerank" if state.get("ranked") else "respond"
