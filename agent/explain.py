"""One short, data-grounded reason per recommendation.

Reasons come only from catalog data: the nearest liked item ("because you liked X"), genres the
person asked for, tags matching their moods or words, and a phrase of the overview.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from agent.lexicon import implied_avoid, mood_score
from agent.state import Preferences
from catalog.domain import Catalog, Item
from catalog.index import VectorIndex

SIMILAR_ENOUGH = 0.45  # cosine above which "because you liked X" is honest
OVERVIEW_CHARS = 110


def overview_phrase(item: Item, limit: int = OVERVIEW_CHARS) -> str:
    """The overview's first sentence, cut at a word boundary."""
    text = item.overview.strip()
    if not text:
        return ""
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def nearest_liked(
    item: Item, liked: Sequence[int], index: VectorIndex, catalog: Catalog
) -> Item | None:
    usable = [i for i in liked if i in index and i in catalog]
    if not usable or item.id not in index:
        return None
    sims = index.vectors(usable) @ index.vector(item.id)
    best = int(np.argmax(sims))
    return catalog.get(usable[best]) if sims[best] >= SIMILAR_ENOUGH else None


def shared_genres(
    item: Item, liked: Sequence[int], catalog: Catalog
) -> tuple[str, list[str]] | None:
    """The named item sharing the most genres (two or more) with ``item``, and those genres."""
    best: tuple[str, list[str]] | None = None
    for other in (catalog.get(i) for i in liked if i in catalog and i != item.id):
        common = [g for g in item.genres if g in other.genres][:3]
        if len(common) >= 2 and (best is None or len(common) > len(best[1])):
            best = (other.display_title, common)
    return best


def explain(
    item: Item,
    prefs: Preferences,
    catalog: Catalog,
    index: VectorIndex,
    *,
    history: Sequence[int] = (),
) -> str:
    """A one-line reason for recommending ``item`` to someone with these preferences."""
    reasons: list[str] = []
    liked = nearest_liked(item, [*prefs.liked, *history[:20]], index, catalog)
    if liked is not None:
        reasons.append(f"because you liked {liked.display_title}")
    elif shared := shared_genres(
        item, [i for i in [prefs.anchor, *prefs.liked] if i is not None], catalog
    ):
        title, genres = shared
        reasons.append(f"shares {' and '.join(genres)} with {title}")
    wanted = [
        g for g in item.genres if g.casefold() in {w.casefold() for w in prefs.include_genres}
    ]
    if wanted:
        reasons.append(" and ".join(wanted) + (" as you asked" if not reasons else ""))
    words = {w.casefold() for w in re.findall(r"[\w'-]+", " ".join([prefs.vibe, *prefs.moods]))}
    unwanted = [*prefs.avoid_moods, *implied_avoid(prefs.moods, prefs.avoid_moods)]
    tags = [
        t
        for t in item.tags
        if (t.casefold() in words or any(w in t.casefold().split() for w in words if len(w) > 3))
        and not any(
            mood_score(m, (), (t,), "") for m in unwanted
        )  # not "dark comedy" for "feel-good"
    ]
    if tags:
        reasons.append("tagged “" + "”, “".join(tags[:2]) + "”")
    if not reasons and item.genres:
        reasons.append(", ".join(item.genres[:3]))
    reason = "; ".join(reasons)
    reason = reason[:1].upper() + reason[1:]
    phrase = overview_phrase(item)
    if not phrase:
        return f"{reason}." if reason else ""
    return f"{reason}. {phrase}" if reason else phrase
