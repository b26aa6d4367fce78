"""How a turn's candidates are found beyond plain retrieval, and how they are scored.

The rank node and the training job (``jobs/conversation_training.py``) both call
:func:`pool_signals`, so the weights learned from real conversations are learned on exactly the
signals the agent ranks by (``tools/scoring.py`` defines them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from agent.context import Deps
from agent.state import Preferences, UserFacts
from agent.turn import liked_items, preferences, query_text
from catalog.sequences import dedupe
from tools.catalog_tools import user_context
from tools.scoring import COLD_WEIGHTS, WARM_WEIGHTS, Request, raw_signals

EXTRA_CANDIDATES = 200  # per extra source: followed in conversations, most recommended


def mentioned_items(state: Mapping[str, Any]) -> list[int]:
    """Every movie the conversation named, by either side, liked or not."""
    prefs = preferences(state)
    return dedupe(
        [
            *liked_items(prefs),
            *prefs.disliked,
            *state.get("shown", []),
            *state.get("seen", []),
            *state.get("rejected", []),
        ]
    )


def turn_request(state: Mapping[str, Any], deps: Deps, user: UserFacts) -> Request:
    """The signals' view of this turn (``user`` empty on the cold path)."""
    prefs: Preferences = preferences(state)
    context = user_context(
        deps.tools,
        history=user.history,
        ratings=user.ratings,
        liked=liked_items(prefs),
        disliked=prefs.disliked,
        wanted_genres=prefs.include_genres,
        unwanted_genres=prefs.exclude_genres,
        query=query_text(prefs),
    )
    catalog = deps.tools.catalog
    return Request(
        context=context,
        query_vector=context.query_vector,
        seeds=context.liked,
        mentioned=tuple(catalog.known(mentioned_items(state))),
    )


def extra_candidates(state: Mapping[str, Any], deps: Deps) -> list[int]:
    """Candidates retrieval by similarity misses: what followed the named movies in real
    conversations, and what people recommend most (when conversations trained counts).

    Co-watched neighbours are a signal, not a source: on ml-latest-small the most co-watched
    films of almost anything are the same classics (Forrest Gump, Pulp Fiction), which is
    what a person asking for "more like Toy Story" does not want to see.
    """
    tools = deps.tools
    out: list[int] = []
    if tools.conversation:
        out += tools.conversation.top_following(mentioned_items(state), EXTRA_CANDIDATES)
        out += tools.conversation.top_recommended(EXTRA_CANDIDATES)
    return dedupe(i for i in out if i in tools.catalog)


def signal_weights(deps: Deps, warm: bool) -> Mapping[str, float]:
    """Learned weights for the cold path when real conversations trained some; else defaults."""
    if warm:
        return WARM_WEIGHTS
    return deps.tools.conversation.weights or COLD_WEIGHTS


def pool_signals(
    state: Mapping[str, Any], deps: Deps, user: UserFacts
) -> tuple[list[int], np.ndarray]:
    """The turn's candidates and their (n, S) raw signals (see ``tools/scoring.py``)."""
    candidates = state.get("candidates", [])
    ids = [c.item_id for c in candidates]
    relevance = [c.retrieval for c in candidates]
    return ids, raw_signals(deps.tools, ids, turn_request(state, deps, user), relevance)
