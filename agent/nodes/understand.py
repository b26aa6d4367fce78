"""understand: plan the new message and fold it into the dialog state."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.runtime import Runtime

from agent.context import Deps
from agent.plan import Plan
from agent.planner.base import PlannerContext, ShownItem
from agent.preferences import apply_plan, drop_constraints, resolve_titles, shift_era
from agent.state import AgentState, Preferences
from catalog.errors import RecbotError


def last_user_text(state: AgentState) -> str:
    for message in reversed(state.get("messages", [])):
        if isinstance(message, HumanMessage):
            return message.content if isinstance(message.content, str) else str(message.content)
    return ""


def planner_context(state: AgentState, deps: Deps) -> PlannerContext:
    catalog = deps.tools.catalog
    shown = tuple(
        ShownItem(position, item_id, catalog.get(item_id).display_title)
        for position, item_id in enumerate(state.get("last_shown", []), start=1)
        if item_id in catalog
    )
    prefs = state.get("preferences") or Preferences()
    return PlannerContext(
        shown=shown,
        has_preferences=prefs.has_signal(),
        clarifications=state.get("clarifications", 0),
        last_action=state.get("action"),
    )


def make_plan(text: str, context: PlannerContext, deps: Deps) -> Plan:
    """The configured planner's plan; the offline planner's when the LLM fails."""
    if not text.strip():
        return Plan(action="clarify")
    try:
        return deps.planner.plan(text, context)
    except RecbotError:
        deps.counters.record_planner_fallback()
        return deps.offline_planner.plan(text, context)


def understand(state: AgentState, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = runtime.context
    text = last_user_text(state)
    notes: list[str] = []
    if len(text) > deps.config.max_message_chars:
        notes.append(
            f"Your message was long; I read its first {deps.config.max_message_chars} characters."
        )
        text = text[: deps.config.max_message_chars]
    plan = make_plan(text, planner_context(state, deps), deps)
    updates = fold_plan(state, plan, deps)
    updates["notes"] = notes + updates["notes"]
    user = deps.users.profile(state.get("user_id"), deps.config.max_history)
    updates["warm"] = user.known_interactions >= deps.config.warm_threshold
    updates["timings_ms"] = {}
    return updates


def fold_plan(state: AgentState, plan: Plan, deps: Deps) -> dict[str, Any]:
    """State updates for ``plan``: preferences, feedback on shown items, unresolved titles."""
    catalog = deps.tools.catalog
    liked = resolve_titles(catalog, plan.liked_titles)
    disliked = resolve_titles(catalog, plan.disliked_titles)
    last_shown = state.get("last_shown", [])
    rejected = list(state.get("rejected", []))
    seen = list(state.get("seen", []))
    liked_ids = list(liked.ids)
    for feedback in plan.feedback:
        item_id = _shown_item(feedback.position, feedback.title, last_shown, catalog)
        if item_id is None:
            continue
        target = {"rejected": rejected, "seen": seen, "liked": liked_ids}[feedback.kind]
        if item_id not in target:
            target.append(item_id)
    prefs = state.get("preferences") or Preferences()
    prefs = drop_constraints(prefs, plan.drop, catalog)
    anchor = _shown_item(plan.more_like_position, None, last_shown, catalog)
    if anchor is not None:
        liked_ids.append(anchor)
    prefs = apply_plan(
        prefs, plan, liked_ids=liked_ids, disliked_ids=disliked.ids, genres=catalog.genres
    )
    if anchor is not None:
        prefs.anchor = anchor
    if plan.era_shift:
        years = [catalog.get(i).year for i in last_shown if i in catalog and catalog.get(i).year]
        prefs = shift_era(prefs, plan.era_shift, [y for y in years if y is not None])
    return {
        "plan": plan,
        "preferences": prefs,
        "rejected": rejected,
        "seen": seen,
        "unresolved": liked.unresolved + disliked.unresolved,
        "notes": liked.notes + disliked.notes,
    }


def _shown_item(
    position: int | None, title: str | None, shown: list[int], catalog: Any
) -> int | None:
    if position is not None and 1 <= position <= len(shown):
        return shown[position - 1]
    if title:
        ids = resolve_titles(catalog, [title]).ids
        if ids:
            return ids[0]
    return None
