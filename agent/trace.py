"""What each stage of a turn did, in words: the steps the chat UI shows as the graph runs.

``describe`` reads one node's state update (as ``graph.astream(stream_mode="updates")`` yields
it) and the state so far, and says what was understood, searched, filtered, ranked and reranked:
``lines`` for developers (the terminal chat, logs) and ``summary`` in plain words for people
(the web chat's one "How I chose these" step), keyed by ``SUMMARY_PARTS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from agent.context import Deps
from agent.plan import Plan, year_span_text
from agent.state import Candidate, GuardRecord, Preferences
from agent.turn import preferences_summary, query_text

# Chat UIs show a finished stage as "Used <title>".
STAGE_TITLES = {
    "understand": "the planner",
    "retrieve": "catalog search",
    "filter": "filters",
    "rank": "the DNN ranker",
    "rerank": "the LLM reranker",
    "respond": "grounded explanations",
    "clarify": "a clarifying question",
    "answer": "item lookup",
    "smalltalk": "small talk",
}


# What a person reads about a turn, in this order: the headings of ``Stage.summary``.
SUMMARY_PARTS = {
    "understood": "What I understood",
    "applied": "What I applied",
    "candidates": "How I picked",
    "llm": "The AI language model",
}

# The LLM steps a node runs ("stage" of its ``llm_fallbacks`` entries), and what a person reads
# when one took the offline path (the why follows: too slow, or an unusable answer).
_LLM_STEPS = {
    "replay": "planner",
    "understand": "planner",
    "rerank": "rerank",
    "respond": "rephrase",
}
_FELL_BACK_PLAIN = {
    "planner": "Fell back to my own rules to read your message",
    "rerank": "Fell back to the ranker's order",
    "rephrase": "Fell back to my own wording of the reasons",
}
_WHY_PLAIN = {"LLM deadline": "it took too long", "LLM error": "it did not answer"}


class Stage(BaseModel):
    """One stage of a turn as the UI shows it."""

    node: str
    title: str
    lines: list[str] = Field(default_factory=list)
    summary: dict[str, str] = Field(default_factory=dict)
    ms: float | None = None

    @property
    def text(self) -> str:
        return "\n".join(f"- {line}" for line in self.lines)


def describe(node: str, update: Mapping[str, Any], state: Mapping[str, Any], deps: Deps) -> Stage:
    """The stage ``node`` just finished, from its update and the state before it."""
    lines: list[str] = []
    describer = _DESCRIBERS.get(node)
    if describer is not None:
        lines = describer(update, state, deps)
    plain = _PLAIN.get(node)
    summary = plain(update, state, deps) if plain is not None else {}
    fell_back = _llm_fallbacks(node, update)
    lines += [f"{step.capitalize()} fell back: {why}" for step, why in fell_back]
    if fell_back:
        summary["llm"] = " ".join(
            f"{_FELL_BACK_PLAIN[step]}: {_WHY_PLAIN.get(why, 'its answer was unusable')}."
            for step, why in fell_back
        )
    ms = (update.get("timings_ms") or {}).get(node)
    return Stage(node=node, title=STAGE_TITLES.get(node, node), lines=lines, summary=summary, ms=ms)


def _llm_fallbacks(node: str, update: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(step, why) for each LLM step of ``node`` that took the offline path this turn."""
    step = _LLM_STEPS.get(node)
    out = []
    for entry in update.get("llm_fallbacks") or ():
        stage, _, why = str(entry).partition(": ")
        if stage == step and (stage, why) not in out:
            out.append((stage, why))
    return out


def _understand(update: Mapping[str, Any], state: Mapping[str, Any], deps: Deps) -> list[str]:
    plan: Plan | None = update.get("plan")
    prefs: Preferences = update.get("preferences") or Preferences()
    lines = [f"Intent: {plan.action}"] if plan is not None else []
    lines.append("Preferences so far: " + preferences_summary(prefs, deps))
    if prefs.year_min is not None or prefs.year_max is not None:
        lines.append(f"Years: {prefs.year_min or '…'}–{prefs.year_max or '…'}")
    if prefs.exclude_years:
        lines.append("Not from: " + ", ".join(year_span_text(s) for s in prefs.exclude_years))
    lines += [f"Not in the catalog: “{t}”" for t in update.get("unresolved", [])]
    lines += list(update.get("notes", []))
    if update.get("warm"):
        lines.append("Known user: their history leads the ranking")
    return lines


def _retrieve(update: Mapping[str, Any], state: Mapping[str, Any], deps: Deps) -> list[str]:
    prefs: Preferences = state.get("preferences") or Preferences()
    candidates: list[Candidate] = update.get("candidates", [])
    query = query_text(prefs)
    lines = [f"Query: “{query}”" if query else "Query: items like the ones you named"]
    liked = [
        deps.tools.catalog.get(i).display_title for i in prefs.liked if i in deps.tools.catalog
    ]
    if liked:
        lines.append("More like: " + ", ".join(liked))
    if state.get("warm"):
        lines.append("Also from your history and the ranker's own top picks")
    lines.append(f"{len(candidates)} candidates from FAISS")
    return lines


def _filter(update: Mapping[str, Any], state: Mapping[str, Any], deps: Deps) -> list[str]:
    prefs: Preferences = state.get("preferences") or Preferences()
    before = len(state.get("candidates", []))
    after = len(update.get("candidates", []))
    rules = []
    if prefs.require_genres:
        rules.append("genres " + " and ".join(prefs.require_genres))
    elif prefs.include_genres:
        rules.append("genres " + " or ".join(prefs.include_genres))
    if prefs.exclude_genres:
        rules.append("no " + ", ".join(prefs.exclude_genres))
    if prefs.year_min is not None or prefs.year_max is not None:
        rules.append(f"years {prefs.year_min or '…'}–{prefs.year_max or '…'}")
    if prefs.exclude_years:
        rules.append("not " + ", ".join(year_span_text(s) for s in prefs.exclude_years))
    hidden = (
        len(state.get("rejected", [])) + len(state.get("seen", [])) + len(state.get("shown", []))
    )
    if hidden:
        rules.append(f"{hidden} already shown, seen or rejected")
    lines = ["Filters: " + ("; ".join(rules) if rules else "none")]
    lines.append(f"Kept {after} of {before} candidates")
    return lines


def _rank(update: Mapping[str, Any], state: Mapping[str, Any], deps: Deps) -> list[str]:
    ranked: list[Candidate] = update.get("ranked", [])
    who = "your history and this conversation" if state.get("warm") else "this conversation"
    lines = [f"DNN ranker scored the candidates against {who}; kept the top {len(ranked)}"]
    top = [deps.tools.catalog.get(c.item_id).display_title for c in ranked[:3]]
    if top:
        lines.append("Top: " + ", ".join(top))
    lines.append(_rerank_plan(state, deps))
    return lines


def _rerank_plan(state: Mapping[str, Any], deps: Deps) -> str:
    """Why the LLM rerank will or will not run after ranking (mirrors ``routing.after_rank``)."""
    if deps.tools.reranker is None:
        return "LLM rerank: off (no LLM configured)"
    wanted = state.get("llm_rerank")
    if not (deps.config.llm_rerank if wanted is None else wanted):
        return "LLM rerank: switched off"
    if state.get("warm") and not deps.config.llm_rerank_warm:
        return "LLM rerank: skipped for a known user (the ranker leads)"
    return f"LLM rerank: on for the top {deps.config.rerank_top}"


def _rerank(update: Mapping[str, Any], state: Mapping[str, Any], deps: Deps) -> list[str]:
    guard: GuardRecord = update.get("guard") or GuardRecord()
    if guard.fell_back and not guard.ran:
        lines = ["No LLM time left in this turn: kept the ranker's order"]
    elif guard.fell_back:
        reason = f" ({guard.error})" if guard.error else ""
        lines = [f"The LLM's answer was unusable{reason}: kept the ranker's order"]
    else:
        lines = ["The LLM reordered the top candidates"]
    if guard.dropped:
        lines.append("Guard dropped: " + ", ".join(guard.dropped[:5]))
    return lines


def _respond(update: Mapping[str, Any], state: Mapping[str, Any], deps: Deps) -> list[str]:
    recommendations = update.get("recommendations", [])
    if update.get("action") != "recommend":
        return ["Nothing fits every constraint; asked to loosen one"]
    return [f"{len(recommendations)} recommendations, each with a reason from the catalog"]


_DESCRIBERS = {
    "understand": _understand,
    "retrieve": _retrieve,
    "filter": _filter,
    "rank": _rank,
    "rerank": _rerank,
    "respond": _respond,
}


def _wishes(prefs: Preferences, deps: Deps) -> str:
    """The person's wishes as they might say them back: "Like Inception; lighter; not Horror"."""
    catalog = deps.tools.catalog
    parts = []
    liked = [catalog.get(i).display_title for i in prefs.liked if i in catalog]
    if liked:
        parts.append("like " + ", ".join(liked))
    if prefs.vibe:
        parts.append(f"“{prefs.vibe}”")
    parts += [*prefs.moods, *prefs.include_genres, *(f"{g} first" for g in prefs.prefer_genres)]
    parts += [f"not {word}" for word in [*prefs.avoid_moods, *prefs.exclude_genres]]
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] if text else "Nothing specific yet, so popular favourites"


def _plain_understand(
    update: Mapping[str, Any], state: Mapping[str, Any], deps: Deps
) -> dict[str, str]:
    prefs: Preferences = update.get("preferences") or Preferences()
    text = _wishes(prefs, deps)
    missing = update.get("unresolved", [])
    if missing:
        text += ". I could not find " + ", ".join(f"“{t}”" for t in missing) + " in the catalog"
    return {"understood": text + "."}


def _plain_filter(
    update: Mapping[str, Any], state: Mapping[str, Any], deps: Deps
) -> dict[str, str]:
    prefs: Preferences = state.get("preferences") or Preferences()
    rules = []
    if prefs.require_genres:
        rules.append("only " + " and ".join(prefs.require_genres))
    elif prefs.include_genres:
        rules.append("only " + " or ".join(prefs.include_genres))
    if prefs.exclude_genres:
        rules.append("no " + ", ".join(prefs.exclude_genres))
    if prefs.year_min is not None and prefs.year_max is not None:
        rules.append(f"from {prefs.year_min} to {prefs.year_max}")
    elif prefs.year_min is not None:
        rules.append(f"from {prefs.year_min} on")
    elif prefs.year_max is not None:
        rules.append(f"up to {prefs.year_max}")
    if prefs.exclude_years:
        rules.append("nothing from " + " or ".join(year_span_text(s) for s in prefs.exclude_years))
    if state.get("rejected") or state.get("seen") or state.get("shown"):
        rules.append("nothing you have already seen, turned down or been shown")
    text = "; ".join(rules) if rules else "no limits on genre or year"
    return {"applied": text[:1].upper() + text[1:] + "."}


def _plain_rank(update: Mapping[str, Any], state: Mapping[str, Any], deps: Deps) -> dict[str, str]:
    found = len(state.get("candidates", []))
    basis = "your ratings and what you said" if state.get("warm") else "what you said"
    return {
        "candidates": f"Looked at {found:,} films that fit and put first the ones people with "
        f"a similar taste enjoyed most, going by {basis}."
    }


def _plain_rerank(
    update: Mapping[str, Any], state: Mapping[str, Any], deps: Deps
) -> dict[str, str]:
    guard: GuardRecord = update.get("guard") or GuardRecord()
    if guard.fell_back:
        return {}
    return {"candidates": "An AI language model then read the top picks and reordered them."}


_PLAIN = {
    "understand": _plain_understand,
    "filter": _plain_filter,
    "rank": _plain_rank,
    "rerank": _plain_rerank,
}
