"""retrieve → filter → rank → rerank: from preferences to an ordered, guarded candidate list."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from langgraph.runtime import Runtime

from agent.context import Deps
from agent.lexicon import implied_avoid, mood_score
from agent.persistence import UserProfile
from agent.state import AgentState, Candidate, GuardRecord, Preferences
from tools.catalog_tools import (
    filter_candidates,
    rank_candidates,
    rerank_with_llm,
    search_catalog,
    standardise,
)

MOOD_BONUS = 0.6  # added per unit of a wanted mood (scores are standardised)
MOOD_PENALTY = 1.2  # subtracted per unit of an unwanted mood
IMPLIED_PENALTY = 1.0  # per unit of a mood that fights a wanted one ("feel-good" vs "dark")
QUALITY_WEIGHT = 0.8  # cold path: standardised Bayesian-average rating and log popularity
PRIOR_RATINGS = 10  # the Bayesian average's pseudo-count
HISTORY_QUERY = 20  # newest history items that seed warm-path retrieval


def profile(state: AgentState, deps: Deps) -> UserProfile:
    return deps.users.profile(state.get("user_id"), deps.config.max_history)


def excluded_ids(state: AgentState, deps: Deps, user: UserProfile) -> list[int]:
    """Never recommend: rejected, seen, disliked, liked, shown, or already rated items."""
    prefs = state.get("preferences") or Preferences()
    return list(
        dict.fromkeys(
            [
                *state.get("rejected", []),
                *state.get("seen", []),
                *state.get("shown", []),
                *prefs.disliked,
                *prefs.liked,
                *user.rejected,
                *user.seen,
                *user.liked,
                *sorted(user.rated),
            ]
        )
    )


def query_text(prefs: Preferences) -> str:
    """The retrieval text: the vibe, wanted moods and genres, in words."""
    parts = [prefs.vibe, *prefs.moods, *prefs.include_genres]
    return " ".join(p for p in parts if p).strip()


def _timed(state: AgentState, stage: str, started: float) -> dict[str, float]:
    timings = dict(state.get("timings_ms", {}))
    timings[stage] = round((time.perf_counter() - started) * 1000, 1)
    return timings


def retrieve(state: AgentState, runtime: Runtime[Deps]) -> dict[str, Any]:
    started = time.perf_counter()
    deps = runtime.context
    prefs = state.get("preferences") or Preferences()
    user = profile(state, deps)
    filters = {
        "include_genres": prefs.include_genres,
        "exclude_genres": prefs.exclude_genres,
        "year_min": prefs.year_min,
        "year_max": prefs.year_max,
        "exclude_item_ids": excluded_ids(state, deps, user),
        "k": deps.config.retrieve_k,
        "deps": deps.tools,
    }
    liked = [i for i in [prefs.anchor, *prefs.liked] if i is not None]
    hits = search_catalog.invoke({"query": query_text(prefs), "like_item_ids": liked, **filters})
    if state.get("warm") or not hits:
        seeds = list(user.history[:HISTORY_QUERY]) or None
        hits += search_catalog.invoke({"like_item_ids": seeds, **filters})
    if state.get("warm"):
        hits += ranker_candidates(deps, user, filters)
    best: dict[int, float] = {}
    for hit in hits:
        best[hit["item_id"]] = max(best.get(hit["item_id"], -1e9), hit["score"])
    candidates = [Candidate(item_id=i, retrieval=s) for i, s in best.items()]
    return {"candidates": candidates, "timings_ms": _timed(state, "retrieve", started)}


def ranker_candidates(
    deps: Deps, user: UserProfile, filters: dict[str, Any]
) -> list[dict[str, Any]]:
    """The ranker's own top items over the whole allowed catalog (the warm path's best source).

    Measured by `recbot eval`'s funnel: a history-centroid FAISS query finds a known user's next
    item in its top 1000 only ~24% of the time, while the ranker alone reaches Recall@20 ~0.24;
    scoring the whole catalog costs a few milliseconds at this size.
    """
    allowed = filter_candidates.invoke(
        {"item_ids": deps.tools.catalog.ids, **{k: v for k, v in filters.items() if k != "k"}}
    )
    ranked = rank_candidates.invoke(
        {
            "item_ids": allowed,
            "history": list(user.history),
            "ratings": list(user.ratings),
            "relevance_weight": 0.0,
            "keep": deps.config.retrieve_k,
            "deps": deps.tools,
        }
    )
    # no retrieval similarity for these: give them the floor so relevance does not favour them
    return [{"item_id": r["item_id"], "score": 0.0, "source": "ranker"} for r in ranked]


def filter_stage(state: AgentState, runtime: Runtime[Deps]) -> dict[str, Any]:
    started = time.perf_counter()
    deps = runtime.context
    prefs = state.get("preferences") or Preferences()
    candidates = state.get("candidates", [])
    kept = filter_candidates.invoke(
        {
            "item_ids": [c.item_id for c in candidates],
            "exclude_item_ids": excluded_ids(state, deps, profile(state, deps)),
            "include_genres": prefs.include_genres,
            "exclude_genres": prefs.exclude_genres,
            "year_min": prefs.year_min,
            "year_max": prefs.year_max,
            "deps": deps.tools,
        }
    )
    keep = set(kept)
    return {
        "candidates": [c for c in candidates if c.item_id in keep],
        "timings_ms": _timed(state, "filter", started),
    }


def mood_adjustments(
    prefs: Preferences, candidates: list[Candidate], deps: Deps
) -> dict[int, float]:
    if not (prefs.moods or prefs.avoid_moods):
        return {}
    catalog = deps.tools.catalog
    implied = implied_avoid(prefs.moods, prefs.avoid_moods)
    out: dict[int, float] = {}
    for candidate in candidates:
        item = catalog.get(candidate.item_id)
        facts = (item.genres, item.tags, item.overview)
        bonus = sum(mood_score(m, *facts) for m in prefs.moods)
        penalty = sum(mood_score(m, *facts) for m in prefs.avoid_moods)
        fights = sum(mood_score(m, *facts) for m in implied)
        out[candidate.item_id] = (
            MOOD_BONUS * bonus - MOOD_PENALTY * penalty - IMPLIED_PENALTY * fights
        )
    return out


def quality_prior(candidates: list[Candidate], deps: Deps) -> dict[int, float]:
    """Cold path: prefer well-rated, well-known items among equally relevant ones.

    Without it, text relevance favours items with thin text ("Loser (1991). Comedy.") that
    almost nobody rated; with history, the ranker carries this signal itself.
    """
    if not candidates:
        return {}
    items = [deps.tools.catalog.get(c.item_id) for c in candidates]
    counts = np.array([item.popularity for item in items], dtype=np.float64)
    means = np.array([item.mean_rating or 0.0 for item in items], dtype=np.float64)
    overall = float((means * counts).sum() / max(counts.sum(), 1.0))
    bayes = (means * counts + overall * PRIOR_RATINGS) / (counts + PRIOR_RATINGS)
    score = standardise(bayes) + standardise(np.log1p(counts))
    return {c.item_id: QUALITY_WEIGHT * float(v) for c, v in zip(candidates, score, strict=True)}


def rank(state: AgentState, runtime: Runtime[Deps]) -> dict[str, Any]:
    started = time.perf_counter()
    deps = runtime.context
    prefs = state.get("preferences") or Preferences()
    candidates = state.get("candidates", [])
    warm = bool(state.get("warm"))
    user = profile(state, deps) if warm else UserProfile(None)
    ranked = rank_candidates.invoke(
        {
            "item_ids": [c.item_id for c in candidates],
            "history": list(user.history),
            "ratings": list(user.ratings),
            "liked": [i for i in [prefs.anchor, *prefs.liked] if i is not None],
            "disliked": prefs.disliked,
            "wanted_genres": prefs.include_genres,
            "unwanted_genres": prefs.exclude_genres,
            "query": query_text(prefs),
            "relevance": {c.item_id: c.retrieval for c in candidates},
            "adjustments": _sum(
                mood_adjustments(prefs, candidates, deps),
                {} if warm else quality_prior(candidates, deps),
            ),
            # warm: the collaborative signal leads; cold: what was asked for leads
            "ranker_weight": 1.0 if warm else 0.5,
            "relevance_weight": 0.5 if warm else 1.0,
            "keep": deps.config.rank_keep,
            "deps": deps.tools,
        }
    )
    retrieval = {c.item_id: c.retrieval for c in candidates}
    out = [
        Candidate(item_id=r["item_id"], retrieval=retrieval[r["item_id"]], score=r["score"])
        for r in ranked
    ]
    return {"ranked": out, "timings_ms": _timed(state, "rank", started)}


def _sum(*parts: dict[int, float]) -> dict[int, float]:
    out: dict[int, float] = {}
    for part in parts:
        for key, value in part.items():
            out[key] = out.get(key, 0.0) + value
    return out


def preferences_summary(prefs: Preferences, deps: Deps, history: Sequence[int] = ()) -> str:
    """The person's wishes in words, for LLM prompts; ``history`` adds what they watched
    (newest first, already cut to ``AgentConfig.llm_history_items``)."""
    catalog = deps.tools.catalog
    parts = []
    if prefs.liked:
        parts.append(
            "liked: " + ", ".join(catalog.get(i).display_title for i in prefs.liked if i in catalog)
        )
    if prefs.include_genres:
        parts.append("wants genres: " + ", ".join(prefs.include_genres))
    if prefs.exclude_genres:
        parts.append("avoids genres: " + ", ".join(prefs.exclude_genres))
    if prefs.moods:
        parts.append("mood: " + ", ".join(prefs.moods))
    if prefs.avoid_moods:
        parts.append("not: " + ", ".join(prefs.avoid_moods))
    if prefs.vibe:
        parts.append(f"asked for: {prefs.vibe}")
    watched = [catalog.get(i).display_title for i in history if i in catalog]
    if watched:
        parts.append("recently watched: " + ", ".join(watched))
    return "; ".join(parts) or "no stated preferences"


def rerank(state: AgentState, runtime: Runtime[Deps]) -> dict[str, Any]:
    started = time.perf_counter()
    deps = runtime.context
    ranked = state.get("ranked", [])
    top = ranked[: deps.config.rerank_top]
    k = state.get("k") or deps.config.k
    history = profile(state, deps).history[: deps.config.llm_history_items]
    result = rerank_with_llm.invoke(
        {
            "preferences": preferences_summary(
                state.get("preferences") or Preferences(), deps, history
            ),
            "item_ids": [c.item_id for c in top],
            "k": min(k, len(top)),
            "deps": deps.tools,
        }
    )
    deps.counters.record_rerank(dropped=len(result["dropped"]), fell_back=result["fell_back"])
    by_id = {c.item_id: c for c in top}
    order = [by_id[i] for i in result["item_ids"] if i in by_id]
    rest = [c for c in ranked if c.item_id not in set(result["item_ids"])]
    guard = GuardRecord(
        ran=result["ran"],
        dropped=result["dropped"],
        fell_back=result["fell_back"],
        error=result.get("error", ""),
    )
    return {"ranked": order + rest, "guard": guard, "timings_ms": _timed(state, "rerank", started)}
