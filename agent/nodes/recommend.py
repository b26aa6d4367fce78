"""retrieve → filter → rank → rerank: from preferences to an ordered, guarded candidate list."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from langgraph.runtime import Runtime

from agent import budget
from agent.context import Deps
from agent.dialog import llm_failure
from agent.lexicon import implied_avoid, mood_genre_bounds, mood_score, mood_specs
from agent.ranking import (
    extra_candidates,
    mood_only,
    pool_signals,
    signal_weights,
    spread_series,
    subject_adjustments,
    subject_candidates,
)
from agent.state import AgentState, Candidate, GuardRecord, Preferences, UserFacts
from agent.turn import (
    excluded_ids,
    liked_items,
    preferences,
    preferences_summary,
    query_text,
    user_facts,
)
from catalog.search import ItemFilter
from tools.catalog_tools import (
    Hit,
    filter_items,
    item_filter,
    rank_items,
    rerank_items,
    search_items,
)
from tools.scoring import blend, standardise

MOOD_BONUS = 0.6  # added per unit of a wanted mood (scores are standardised)
# When the mood is the whole request (agent.ranking.mood_only) it is what the list is about:
# its evidence counts more and the request's words less, as "scary" alone matches titles
# (Scary Movie, Running Scared, Are You Scared?). On ml-latest-small, with the genres bounded:
# text at full weight still opened "something scary" with Scary Movie; without text, lists
# of moods fell back on the same popular classics (tests/integration/test_agent_real.py).
MOOD_ONLY_BONUS = 1.5
MOOD_ONLY_TEXT_SHARE = 0.5
MOOD_BOUND_MIN = 2  # lists' worth of films the mood's genres must leave, else it is topped up
MOOD_PENALTY = 2.5  # subtracted per unit of an unwanted mood: "not X" is said on purpose
IMPLIED_PENALTY = 1.0  # per unit of a mood that fights a wanted one ("feel-good" vs "dark")
BLEND_SPREAD = 1.5  # the spread the mood terms above were calibrated against
HISTORY_QUERY = 20  # newest history items that seed warm-path retrieval


def _timed(state: AgentState, stage: str, started: float) -> dict[str, float]:
    timings = dict(state.get("timings_ms", {}))
    timings[stage] = round((time.perf_counter() - started) * 1000, 1)
    return timings


def where(state: AgentState, user: UserFacts, *, moods: bool = True) -> ItemFilter:
    """The turn's filter: the wanted/unwanted genres and years, and every excluded item; when
    a mood is asked for and no genre (and ``moods``), the genres that carry it
    (``mood_genre_bounds``): "like Alien, but funnier" is a comedy near Alien (the reply said
    "Funnier picks:" over The Shining and The Matrix). The mood's bounds are the agent's
    reading, not the person's words: where they leave fewer than two lists, the filter stage
    tops it up from outside them (:func:`filter_stage`)."""
    prefs = preferences(state)
    include, exclude = list(prefs.include_genres), list(prefs.exclude_genres)
    if moods and prefs.moods and not (include or prefs.require_genres):
        carriers, never = mood_genre_bounds(prefs.moods)
        include = sorted(carriers - set(exclude))
        exclude += sorted(never - set(exclude))
    return item_filter(
        include,
        exclude,
        prefs.year_min,
        prefs.year_max,
        excluded_ids(state, user),
        require_genres=prefs.require_genres,
        exclude_years=[(span.first, span.last) for span in prefs.exclude_years],
    )


def retrieve(state: AgentState, runtime: Runtime[Deps]) -> dict[str, Any]:
    started = time.perf_counter()
    deps = runtime.context
    prefs = preferences(state)
    user = user_facts(state, deps)
    allowed = where(state, user)
    k = deps.config.retrieve_k
    hits = search_items(
        deps.tools, query=query_text(prefs), like_item_ids=liked_items(prefs), where=allowed, k=k
    )
    if state.get("warm") or not hits:
        seeds = user.history[:HISTORY_QUERY]
        hits += search_items(deps.tools, like_item_ids=seeds, where=allowed, k=k)
    if state.get("warm"):
        hits += ranker_candidates(deps, user, allowed)
    hits += [
        Hit(i, 0.0, "ranker")
        for i in filter_items(deps.tools, extra_candidates(state, deps), allowed)
    ]
    # the films about a subject asked for, whether or not the text search found them ("starring
    # Meryl Streep": the films tagged with her were not among its thousand)
    about = subject_candidates(prefs.vibe, deps.tools.catalog)
    hits += [Hit(i, 0.0, "subject") for i in filter_items(deps.tools, about, allowed)]
    loose = where(state, user, moods=False)
    if loose != allowed and len(hits) < MOOD_BOUND_MIN * (state.get("k") or deps.config.k):
        hits += search_items(
            deps.tools, query=query_text(prefs), like_item_ids=liked_items(prefs), where=loose, k=k
        )
    return {"candidates": merged(hits), "timings_ms": _timed(state, "retrieve", started)}


def merged(hits: list[Hit]) -> list[Candidate]:
    """One candidate per item, with its best retrieval score, in first-found order."""
    best: dict[int, float] = {}
    for hit in hits:
        best[hit.item_id] = max(best.get(hit.item_id, -1e9), hit.score)
    # ~1,000 of these a turn: pydantic's compiled validation builds them 2.5x faster than
    # model_construct, whose field loop runs in Python (2,000: 4 vs 10 ms; py-spy showed
    # merged at ~8% of a busy server's time with model_construct)
    return [Candidate(item_id=int(i), retrieval=float(s)) for i, s in best.items()]


def ranker_candidates(deps: Deps, user: UserFacts, allowed: ItemFilter) -> list[Hit]:
    """The ranker's own top items over the whole allowed catalog (the warm path's best source).

    Measured by `recbot eval`'s funnel: a history-centroid FAISS query finds a known user's next
    item in its top 1000 only ~24% of the time, while the ranker alone reaches Recall@20 ~0.24;
    scoring the whole catalog costs a few milliseconds at this size.
    """
    ranked = rank_items(
        deps.tools,
        filter_items(deps.tools, deps.tools.catalog.ids, allowed),
        history=user.history,
        ratings=user.ratings,
        relevance_weight=0.0,
        keep=deps.config.retrieve_k,
    )
    # no retrieval similarity for these: give them the floor so relevance does not favour them
    return [Hit(r.item_id, 0.0, "ranker") for r in ranked]


def filter_stage(state: AgentState, runtime: Runtime[Deps]) -> dict[str, Any]:
    started = time.perf_counter()
    deps = runtime.context
    candidates = state.get("candidates", [])
    user = user_facts(state, deps)
    allowed = where(state, user)
    keep = set(filter_items(deps.tools, [c.item_id for c in candidates], allowed))
    loose = where(state, user, moods=False)
    if loose != allowed and len(keep) < MOOD_BOUND_MIN * (state.get("k") or deps.config.k):
        # too few films of the mood's genres for a list and its replacements (a 👎 swaps in
        # the next): the rest from outside them, the mood's own bonus ranking them (the
        # person named no genre)
        keep |= set(filter_items(deps.tools, [c.item_id for c in candidates], loose))
    kept = [c for c in candidates if c.item_id in keep]
    update: dict[str, Any] = {}
    if not kept and state.get("must_recommend"):
        kept = loosened(state, deps, user)
        update["notes"] = [
            *state.get("notes", []),
            "Nothing in the catalog fits all of that, so these keep only what you ruled out.",
        ]
    return {**update, "candidates": kept, "timings_ms": _timed(state, "filter", started)}


def loosened(state: AgentState, deps: Deps, user: UserFacts) -> list[Candidate]:
    """``must_recommend`` with nothing left: drop genres and years, keep every exclusion, and
    fall back to what people recommend most (conversations, else ratings)."""
    only_excluded = item_filter(exclude_item_ids=excluded_ids(state, user))
    prefs = preferences(state)
    hits = search_items(
        deps.tools,
        query=query_text(prefs),
        like_item_ids=liked_items(prefs),
        where=only_excluded,
        k=deps.config.retrieve_k,
    )
    fallback = [*deps.tools.conversation.top_recommended(200), *deps.tools.popular[:200]]
    hits += [Hit(i, 0.0, "popular") for i in filter_items(deps.tools, fallback, only_excluded)]
    return merged(hits)


def mood_adjustments(
    prefs: Preferences, candidates: list[Candidate], deps: Deps, bonus_weight: float = MOOD_BONUS
) -> dict[int, float]:
    if not (prefs.moods or prefs.avoid_moods):
        return {}
    catalog = deps.tools.catalog
    implied = implied_avoid(prefs.moods, prefs.avoid_moods)
    # "scary but not gory": a genre a wanted mood carries (Horror) is no evidence of an unwanted
    # one, or the penalty would push away every film that fits; its tags and words decide
    wanted_specs, avoided, implied_specs = (
        mood_specs(prefs.moods),
        mood_specs(prefs.avoid_moods),
        mood_specs(implied),
    )
    wanted = set().union(*(mood.genres_up for mood in wanted_specs))
    unwanted = [*avoided, *implied_specs]
    out: dict[int, float] = {}
    for candidate in candidates:
        item = catalog.get(candidate.item_id)
        facts = (item.genres, item.tags, item.overview)
        # a tag of an unwanted mood is no reason to want it ("gore" is scary, but not wanted)
        tags = tuple(t for t in item.tags if not any(mood_score(a, (), (t,), "") for a in unwanted))
        bonus = sum(mood_score(m, item.genres, tags, item.overview) for m in wanted_specs)
        other_genres = tuple(g for g in item.genres if g not in wanted)
        penalty = sum(mood_score(m, other_genres, item.tags, item.overview) for m in avoided)
        fights = sum(mood_score(m, *facts) for m in implied_specs)
        out[candidate.item_id] = (
            bonus_weight * bonus - MOOD_PENALTY * penalty - IMPLIED_PENALTY * fights
        )
    return out


def rank(state: AgentState, runtime: Runtime[Deps]) -> dict[str, Any]:
    """Score every candidate by the turn's signals (tools/scoring.py), weighted for the path:
    learned from real conversations on the cold path when trained, else the defaults."""
    started = time.perf_counter()
    deps = runtime.context
    prefs = preferences(state)
    candidates = state.get("candidates", [])
    warm = bool(state.get("warm"))
    user = user_facts(state, deps) if warm else UserFacts()
    ids, signals = pool_signals(state, deps, user)
    weights = signal_weights(deps, warm)
    only_mood = mood_only(prefs)
    if only_mood:  # the mood's evidence ranks more, the words' echo in titles less
        weights = {
            **weights,
            "relevance": weights.get("relevance", 0.0) * MOOD_ONLY_TEXT_SHARE,
            "text": weights.get("text", 0.0) * MOOD_ONLY_TEXT_SHARE,
        }
    blended = blend(signals, weights)
    # the blend at a fixed spread, so a mood moves the list as much whatever the weights' scale
    scores = BLEND_SPREAD * standardise(blended)
    moods = mood_adjustments(prefs, candidates, deps, MOOD_ONLY_BONUS if only_mood else MOOD_BONUS)
    scores = scores + np.array([moods.get(i, 0.0) for i in ids])
    scores = scores + subject_adjustments(prefs.vibe, ids, deps.tools.catalog)
    order = np.argsort(-scores, kind="stable")[: deps.config.rank_keep]
    out = [
        Candidate(
            item_id=int(ids[j]), retrieval=candidates[j].retrieval, score=round(float(scores[j]), 6)
        )
        for j in order
    ]
    # no franchise fills the list, before any LLM rerank sees it (its order is kept)
    out = spread_series(out, deps.tools.catalog, liked_items(prefs))
    return {"ranked": out, "timings_ms": _timed(state, "rank", started)}


def rerank(state: AgentState, runtime: Runtime[Deps]) -> dict[str, Any]:
    started = time.perf_counter()
    deps = runtime.context
    ranked = state.get("ranked", [])
    top = ranked[: deps.config.rerank_top]
    k = state.get("k") or deps.config.k
    history = user_facts(state, deps).history[: deps.config.llm_history_items]
    summary = preferences_summary(preferences(state), deps, history)
    fallbacks = list(state.get("llm_fallbacks", []))
    if budget.expired():  # no LLM time left in this turn: the ranker's order stands
        deps.counters.record_rerank(dropped=0, fell_back=True)
        fallbacks.append(f"rerank: {budget.DEADLINE_REASON}")
        guard = GuardRecord(ran=False, fell_back=True, error=budget.DEADLINE_REASON)
        return {
            "guard": guard,
            "llm_fallbacks": fallbacks,
            "timings_ms": _timed(state, "rerank", started),
        }
    result = rerank_items(deps.tools, summary, [c.item_id for c in top], min(k, len(top)))
    deps.counters.record_rerank(dropped=len(result.dropped), fell_back=result.fell_back)
    by_id = {c.item_id: c for c in top}
    order = [by_id[i] for i in result.item_ids if i in by_id]
    rest = [c for c in ranked if c.item_id not in set(result.item_ids)]
    if result.fell_back:
        fallbacks.append(
            f"rerank: {llm_failure('LLM error' if result.error else 'unusable answer')}"
        )
    guard = GuardRecord(
        ran=result.ran, dropped=result.dropped, fell_back=result.fell_back, error=result.error
    )
    return {
        "ranked": order + rest,
        "guard": guard,
        "llm_fallbacks": fallbacks,
        "timings_ms": _timed(state, "rerank", started),
    }
