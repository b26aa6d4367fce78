"""Reading the dialog into state: the planner's context, the plan, and folding it in.

Used by the ``replay`` and ``understand`` nodes (``agent/nodes/understand.py``); kept apart from
them so nothing else has to import a node module.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from agent import budget
from agent.context import Deps
from agent.plan import Plan
from agent.planner.base import PlannerContext, ShownItem
from agent.planner.unsupported import NOTES as UNSUPPORTED_NOTES
from agent.planner.unsupported import unsupported_kind
from agent.planner.words import names_a_tag
from agent.preferences import apply_plan, drop_constraints, resolve_titles, shift_era
from agent.state import AgentState, Preferences
from catalog.domain import Catalog
from catalog.errors import RecbotError
from catalog.sequences import dedupe
from catalog.subjects import items_about, tag_vocabulary
from catalog.titles import in_series, series_key

_TITLE_WITH_YEAR = re.compile(r"([^\n\d—:•*]{1,120}?\(\d{4}\))")
_LISTED_TITLE = re.compile(r"^\s*\d{1,2}[.)]\s+(.{1,160}?\(\d{4}\))\s*(?:—|$)")


def message_text(message: BaseMessage) -> str:
    return message.content if isinstance(message.content, str) else str(message.content)


def last_user_text(state: Mapping[str, Any]) -> str:
    for message in reversed(state.get("messages", [])):
        if isinstance(message, HumanMessage):
            return message_text(message)
    return ""


def planner_context(state: Mapping[str, Any], deps: Deps) -> PlannerContext:
    """What the planner sees besides the message: the last list, the focus ("it"), the rest."""
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
        focus_position=state.get("focus"),
    )


def make_plan(
    text: str, context: PlannerContext, deps: Deps, fallbacks: list[str] | None = None
) -> Plan:
    """The configured planner's plan; the offline planner's when the LLM fails or the turn's
    LLM time is spent (then ``"planner: <why>"`` is added to ``fallbacks``)."""
    if not text.strip():
        return Plan(action="clarify")
    if deps.planner is not deps.offline_planner:
        if not budget.expired():
            try:
                return deps.planner.plan(text, context)
            except RecbotError:
                pass
        deps.counters.record_planner_fallback()
        if fallbacks is not None:
            fallbacks.append(f"planner: {llm_failure()}")
    return deps.offline_planner.plan(text, context)


def llm_failure(unusable: str = "LLM error") -> str:
    """Why an LLM step took the offline path: the turn's deadline when it is spent."""
    return budget.DEADLINE_REASON if budget.expired() else unusable


def fold_plan(state: Mapping[str, Any], plan: Plan, deps: Deps) -> dict[str, Any]:
    """State updates for ``plan``: preferences, feedback on shown items, unresolved titles, and
    the shown item talked about (``focus``, what "it" means next)."""
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
    for item_id in series_members(catalog, plan.exclude_series):
        if item_id not in rejected:
            rejected.append(item_id)
    subjects = tagged_subjects(plan.exclude_tags, catalog)
    for subject in subjects:  # "nothing with zombies": tagged or said so, never shown
        known = set(rejected)
        rejected += [i for i in items_about(catalog, subject) if i not in known]
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
        "notes": liked.notes
        + disliked.notes
        + [_ignored_note(text) for text in plan.ignored]
        + [f"I left out films about {subject}." for subject in subjects],
        "focus": _focus(plan, len(last_shown), state.get("focus")),
    }


def tagged_subjects(subjects: Sequence[str], catalog: Catalog) -> list[str]:
    """The subjects to leave out that the catalog tags, whichever planner named them: an LLM
    may name anything ("movies", "a long film"), and a word no film is tagged with, or a word
    that only says "film", must not empty the catalog by its overviews."""
    tags = tag_vocabulary(catalog)
    return [s for s in dedupe(s.strip().lower() for s in subjects) if names_a_tag(s, tags)]


def series_members(catalog: Catalog, titles: Sequence[str]) -> list[int]:
    """Every item of the named titles' series ("not a Matrix sequel"): the titles themselves
    and the items whose title starts with the series name."""
    resolved = resolve_titles(catalog, titles).ids
    keys = {series_key(catalog.get(i).title) for i in resolved} - {""}
    if not keys:  # nothing named (most turns): no need to read the whole catalog
        return dedupe(resolved)
    members = [item.id for item in catalog if any(in_series(key, item.title) for key in keys)]
    return dedupe([*resolved, *members])


def _ignored_note(text: str) -> str:
    """What the reply says about a part of the request nothing could apply: what the catalog
    lacks ("under 90 minutes": no running times), else that it could not be read."""
    kind = unsupported_kind(text)
    if kind is not None:
        return UNSUPPORTED_NOTES[kind].format(text=text)
    return f"I can't tell which films “{text}” means, so I left it out of the search."


def _focus(plan: Plan, shown: int, before: int | None) -> int | None:
    """The shown position the plan talks about (a question, else feedback); else unchanged."""
    positions = [plan.question_position, *(f.position for f in reversed(plan.feedback))]
    for position in positions:
        if position is not None and 1 <= position <= shown:
            return position
    return before


def _shown_item(
    position: int | None, title: str | None, shown: list[int], catalog: Catalog
) -> int | None:
    if position is not None and 1 <= position <= len(shown):
        return shown[position - 1]
    if title:
        ids = resolve_titles(catalog, [title]).ids
        if ids:
            return ids[0]
    return None


def _titles_written(text: str) -> list[str]:
    """The "Title (Year)" strings of a message: a numbered line's whole title (digits and colons
    included: "1. Toy Story 2 (1999) — ..."), elsewhere the digit-free ones of free text."""
    written: list[str] = []
    for line in text.splitlines():
        listed = _LISTED_TITLE.match(line)
        written += [listed.group(1)] if listed else _TITLE_WITH_YEAR.findall(line)
    return written


def titles_in(text: str, deps: Deps) -> list[int]:
    """Catalog items an assistant message names as "Title (Year)" (sure title matches only)."""
    found: list[int] = []
    for raw in _titles_written(text):
        candidate = re.sub(r"^\W*\d*[.)]?\s*", "", raw).strip()
        matches = deps.tools.catalog.search_titles(candidate, limit=1)
        if matches and matches[0].sure and matches[0].item.id not in found:
            found.append(matches[0].item.id)
    return found


def replay_transcript(earlier: Sequence[BaseMessage], deps: Deps) -> dict[str, Any]:
    """The state a transcript's earlier turns leave: user turns planned and folded in order,
    items named in assistant turns counted as shown (the last such list is "the list")."""
    state: AgentState = {"preferences": Preferences(), "shown": [], "last_shown": []}
    fallbacks: list[str] = []
    for message in earlier:
        if isinstance(message, AIMessage):
            named = titles_in(message_text(message), deps)
            state["shown"] = dedupe([*state.get("shown", []), *named])
            if named:
                state["last_shown"], state["focus"] = named, None
            continue
        text = message_text(message)
        plan = make_plan(text, planner_context(state, deps), deps, fallbacks)
        state.update(fold_plan(state, plan, deps))  # type: ignore[typeddict-item]
    return {
        "llm_fallbacks": dedupe(fallbacks),
        "preferences": state["preferences"],
        "rejected": state.get("rejected", []),
        "seen": state.get("seen", []),
        "shown": state.get("shown", []),
        "last_shown": state.get("last_shown", []),
        "focus": state.get("focus"),
    }
