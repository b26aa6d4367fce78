"""respond, clarify, answer and smalltalk: the nodes that write the reply."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime

from agent import budget
from agent.context import Deps
from agent.dialog import llm_failure
from agent.explain import overview_phrase
from agent.lexicon import MOODS, mood_score
from agent.opening import opening_line
from agent.preferences import resolve_titles
from agent.state import AgentState, Preferences, Recommendation
from agent.turn import (
    preferences,
    preferences_summary,
    recommendations,
    shown_history,
    user_facts,
)
from catalog.domain import Catalog
from catalog.sequences import dedupe
from tools.catalog_tools import find_item


def _finish(reply: str, action: str, **updates: Any) -> dict[str, Any]:
    """Every turn ends here. The retrieval pool (``candidates``, ~1,000 items) is this turn's
    working set and is emptied, so the stored conversation keeps the short ``ranked`` list (the
    source of a replacement card) but not the pool: reading the pool back at the start of
    every turn was a busy server's largest single cost (benchmarks/load.py, docs/deploy.md)."""
    return {
        "messages": [AIMessage(reply)],
        "reply": reply,
        "action": action,
        "candidates": [],
        **updates,
    }


def respond(state: AgentState, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = runtime.context
    catalog = deps.tools.catalog
    k = state.get("k") or deps.config.k
    prefs = preferences(state)
    history = shown_history(state, user_facts(state, deps))
    picks = [c for c in state.get("ranked", []) if c.item_id in catalog][:k]
    recs = recommendations(picks, prefs, history, deps)
    fallbacks = list(state.get("llm_fallbacks", []))
    if deps.explainer is not None and deps.config.llm_rephrase and recs:
        worded = _reworded(recs, prefs, deps)
        if worded is None:
            fallbacks.append(f"rephrase: {llm_failure('unusable answer')}")
        for rec, text in zip(recs, worded or [], strict=False):
            rec.explanation = text
    notes = list(state.get("notes", []))
    notes += [f"I couldn't find “{t}” in the catalog." for t in state.get("unresolved", [])]
    if not recs:
        reply = " ".join(
            [
                *notes,
                "Nothing in the catalog fits all of that. Could you loosen a constraint, such as the years or a genre?",
            ]
        )
        return _finish(
            reply,
            "clarify",
            recommendations=[],
            last_shown=[],
            focus=None,
            clarifications=state.get("clarifications", 0) + 1,
        )
    lines = [f"{n}. {r.title} — {r.explanation}" for n, r in enumerate(recs, start=1)]
    intro = " ".join([*notes, _opening(state, catalog)])
    ids = [r.item_id for r in recs]
    return _finish(
        "\n".join([intro, *lines]),
        "recommend",
        llm_fallbacks=fallbacks,
        recommendations=recs,
        last_shown=ids,
        focus=None,  # a new list: "it" means its top item again
        shown=dedupe([*state.get("shown", []), *ids]),
        clarifications=0,
    )


def _reworded(recs: list[Recommendation], prefs: Preferences, deps: Deps) -> list[str] | None:
    """The LLM's wording of the grounded reasons; None when it gave none or had no time left."""
    if budget.expired():
        return None
    from agent.rephrase import rephrase_reasons

    pairs = [(r.title, r.explanation) for r in recs]
    return rephrase_reasons(deps.explainer, preferences_summary(prefs, deps), pairs, deps.llm_usage)


def _opening(state: AgentState, catalog: Catalog) -> str:
    """The line before the list, fitting this turn (see :mod:`agent.opening`)."""
    plan = state.get("plan")
    named = resolve_titles(catalog, plan.liked_titles).ids if plan is not None else []
    return opening_line(plan, named, catalog, follow_up=bool(state.get("last_shown")))


def clarify(state: AgentState, runtime: Runtime[Deps]) -> dict[str, Any]:
    unresolved = state.get("unresolved", [])
    prefs = state.get("preferences") or Preferences()
    # this turn's notes first: "under 90 minutes" alone is a question, and says why
    parts = [*state.get("notes", [])]
    parts += [f"I couldn't find “{t}” in the catalog." for t in unresolved]
    catalog = runtime.context.tools.catalog
    for title in unresolved[:1]:
        guesses = [
            m.item.display_title for m in catalog.search_titles(title, limit=3) if m.plausible
        ]
        if guesses:
            parts.append("Did you mean " + " or ".join(guesses) + "?")
    if not prefs.liked and not prefs.include_genres:
        parts.append(
            "What are you in the mood for: a film you loved, a genre, or a vibe you can describe?"
        )
    else:
        parts.append("Anything to narrow it down: an era, a mood, or something to avoid?")
    return _finish(
        " ".join(parts),
        "clarify",
        recommendations=[],
        clarifications=state.get("clarifications", 0) + 1,
    )


def answer(state: AgentState, runtime: Runtime[Deps]) -> dict[str, Any]:
    """Answer a question about a shown item from catalog data only.

    Without a position in the plan, the question is about the item talked about last
    (``focus``: "how long is it?" after "what is the second one about?"), else the top one.
    """
    deps = runtime.context
    plan = state.get("plan")
    shown = state.get("last_shown", [])
    if plan is not None and plan.question_title:
        item = find_item(deps.tools, title=plan.question_title)
        if item is None:
            return _finish(f"I couldn't find “{plan.question_title}” in the catalog.", "answer")
    else:
        position = (plan.question_position if plan else None) or state.get("focus") or 1
        if not 1 <= position <= len(shown):
            return _finish(f"I only showed {len(shown)} titles. Which one do you mean?", "answer")
        item = find_item(deps.tools, item_id=shown[position - 1])
        if item is None:
            return _finish(
                "That title has left the catalog. Which other one do you mean?", "answer"
            )
    question = (plan.question if plan else "").casefold()
    asked = [m for m in MOODS if m in question]
    if asked:
        score = mood_score(asked[0], item.genres, item.tags, item.overview)
        verdict = "Yes, quite" if score >= 0.5 else "A little" if score > 0.15 else "Not really"
        reply = f"{verdict} {asked[0]}: {item.display_title} is {', '.join(item.display_genres) or 'unclassified'}"
        reply += f" (tags: {', '.join(item.tags[:4])})." if item.tags else "."
    else:
        about = overview_phrase(item, limit=400) or "I have no plot summary for it."
        rating = (
            f" Rated {item.mean_rating:.1f}/5 by {item.popularity} people."
            if item.mean_rating
            else ""
        )
        reply = f"{item.display_title} ({', '.join(item.display_genres)}): {about}{rating}"
    return _finish(reply, "answer")


def smalltalk(state: AgentState, runtime: Runtime[Deps]) -> dict[str, Any]:
    """A greeting gets a greeting; a message about something else (``Plan.off_topic``: "what's
    the weather in Paris?") is told plainly what recbot can do, without repeating it."""
    plan = state.get("plan")
    opening = (
        "I can only help with finding movies, so I can't answer that."
        if plan is not None and plan.off_topic
        else "Hi! I recommend movies from the catalog."
    )
    reply = (
        f"{opening} Tell me a film you loved, a genre or a mood — "
        "for example “something like Inception, but less depressing”."
    )
    return _finish(reply, "smalltalk")
