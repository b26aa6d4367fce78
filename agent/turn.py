"""What one turn knows once understood: the user's stored facts, what never to show again, the
retrieval text, the wishes in words, and how a candidate becomes a recommendation.

Shared by the nodes, the stage trace and :class:`agent.recommender.Recommender` (card
replacement), so none of them imports another's internals. The user's profile is read from the
database once per turn, by ``understand`` (:func:`load_user`), and carried in the state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agent.context import Deps
from agent.explain import ReasonContext, explain
from agent.state import Candidate, Preferences, Recommendation, UserFacts
from catalog.sequences import dedupe


def load_user(user_id: int | None, deps: Deps) -> UserFacts:
    """The user's stored profile as a turn uses it (the one database read of a turn)."""
    user = deps.users.profile(user_id, deps.config.max_history)
    return UserFacts(
        user_id=user.user_id,
        history=list(user.history),
        ratings=list(user.ratings),
        excluded=dedupe([*user.rejected, *user.seen, *user.liked, *sorted(user.rated)]),
        known_interactions=user.known_interactions,
    )


def user_facts(state: Mapping[str, Any], deps: Deps) -> UserFacts:
    """The turn's user facts from the state; loaded only for a state saved before they were kept."""
    facts = state.get("user")
    return facts if isinstance(facts, UserFacts) else load_user(state.get("user_id"), deps)


def preferences(state: Mapping[str, Any]) -> Preferences:
    return state.get("preferences") or Preferences()


def excluded_ids(state: Mapping[str, Any], user: UserFacts) -> list[int]:
    """Never recommend: rejected, seen, disliked, liked, shown, or already rated items."""
    prefs = preferences(state)
    return dedupe(
        [
            *state.get("rejected", []),
            *state.get("seen", []),
            *state.get("shown", []),
            *prefs.disliked,
            *prefs.liked,
            *user.excluded,
        ]
    )


def query_text(prefs: Preferences) -> str:
    """The retrieval text: the vibe, wanted moods and genres (asked for or liked), in words."""
    parts = [prefs.vibe, *prefs.moods, *prefs.include_genres, *prefs.prefer_genres]
    return " ".join(p for p in parts if p).strip()


def liked_items(prefs: Preferences) -> list[int]:
    """The items to find more like: the anchor ("more like the second one") and the liked."""
    return [i for i in [prefs.anchor, *prefs.liked] if i is not None]


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
    if prefs.prefer_genres:
        parts.append("likes genres: " + ", ".join(prefs.prefer_genres))
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


def recommendations(
    candidates: Sequence[Candidate], prefs: Preferences, history: Sequence[int], deps: Deps
) -> list[Recommendation]:
    """A list of recommendations: titles rendered from the catalog by id, grounded reasons that
    vary along the list (they share one :class:`ReasonContext`)."""
    catalog = deps.tools.catalog
    ctx = ReasonContext(prefs, catalog, deps.tools.retriever.index, history)
    return [
        Recommendation(
            item_id=candidate.item_id,
            title=catalog.get(candidate.item_id).display_title,
            score=round(candidate.score, 4),
            explanation=explain(catalog.get(candidate.item_id), ctx, turn),
        )
        for turn, candidate in enumerate(candidates)
    ]


def recommendation(
    candidate: Candidate, prefs: Preferences, history: Sequence[int], deps: Deps
) -> Recommendation:
    """One recommendation (a card swapped in after 👎 or "seen")."""
    return recommendations([candidate], prefs, history, deps)[0]


def shown_history(state: Mapping[str, Any], user: UserFacts) -> Sequence[int]:
    """The history reasons may cite: the user's on the warm path, none on the cold one."""
    return user.history if state.get("warm") else ()
