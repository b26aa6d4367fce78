"""How a turn's candidates are found beyond plain retrieval, and how they are scored.

The rank node and the training job (``jobs/conversation_training.py``) both call
:func:`pool_signals`, so the weights learned from real conversations are learned on exactly the
signals the agent ranks by (``tools/scoring.py`` defines them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from agent.context import Deps
from agent.state import Preferences, UserFacts
from agent.turn import liked_items, preferences, query_text
from ranker.neighbours import top_neighbours
from ranker.types import UserContext
from tools.scoring import COLD_WEIGHTS, WARM_WEIGHTS, Request, raw_signals

EXTRA_CANDIDATES = 200  # per extra source: co-watched, followed in conversations, recommended


def mentioned_items(state: Mapping[str, Any]) -> list[int]:
    """Every movie the conversation named, by either side, liked or not."""
    prefs = preferences(state)
    return list(
        dict.fromkeys(
            [
                *liked_items(prefs),
                *prefs.disliked,
                *state.get("shown", []),
                *state.get("seen", []),
                *state.get("rejected", []),
            ]
        )
    )


def turn_request(state: Mapping[str, Any], deps: Deps, user: UserFacts) -> Request:
    """The signals' view of this turn (``user`` empty on the cold path)."""
    prefs: Preferences = preferences(state)
    query = query_text(prefs)
    vector = deps.tools.retriever.query_vector(query) if query else None
    catalog = deps.tools.catalog
    history = [i for i in user.history if i in catalog]
    ratings = [r for i, r in zip(user.history, user.ratings, strict=False) if i in catalog]
    context = UserContext(
        history=tuple(history),
        ratings=tuple(ratings) if len(ratings) == len(history) else (),
        liked=tuple(catalog.known(liked_items(prefs))),
        disliked=tuple(catalog.known(prefs.disliked)),
        wanted_genres=frozenset(prefs.include_genres),
        unwanted_genres=frozenset(prefs.exclude_genres),
        query_vector=vector,
    )
    return Request(
        context=context,
        query_vector=vector,
        seeds=tuple(catalog.known(liked_items(prefs))),
        mentioned=tuple(catalog.known(mentioned_items(state))),
    )


def extra_candidates(state: Mapping[str, Any], deps: Deps) -> list[int]:
    """Candidates retrieval by similarity misses: what people who liked the named movies
    watched, what followed them in real conversations, and what people recommend most."""
    tools = deps.tools
    seeds = liked_items(preferences(state))
    out: list[int] = []
    if tools.neighbours is not None and seeds:
        out += top_neighbours(tools.neighbours, seeds, EXTRA_CANDIDATES)
    if tools.conversation:
        out += tools.conversation.top_following(mentioned_items(state), EXTRA_CANDIDATES)
        out += tools.conversation.top_recommended(EXTRA_CANDIDATES)
    return list(dict.fromkeys(i for i in out if i in tools.catalog))


def signal_weights(deps: Deps, warm: bool) -> Mapping[str, float]:
    """Learned weights for the cold path when real conversations trained some; else defaults."""
    if warm:
        return WARM_WEIGHTS
    return deps.tools.conversation.weights or COLD_WEIGHTS


def pool_signals(
    state: Mapping[str, Any], deps: Deps, item_ids: Sequence[int], user: UserFacts
) -> np.ndarray:
    """(n, S) raw signals of ``item_ids`` for this turn (see ``tools/scoring.py``)."""
    return raw_signals(deps.tools, item_ids, turn_request(state, deps, user))
