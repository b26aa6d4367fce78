"""The props of the ``Recommendations`` card element (ui/web/public/elements/Recommendations.jsx).

Everything on a card comes from the catalog by item id, as people read it (the title in
natural order, no pseudo-genres such as "IMAX"); only the reason line comes from the agent
(grounded in catalog data, or the LLM's rewording of it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from agent.explain import overview_phrase
from agent.state import Recommendation
from catalog.domain import Catalog, Item

Detail = Literal["short", "full"]
DETAILS: tuple[Detail, ...] = ("short", "full")
SHORT_OVERVIEW = 180
FULL_OVERVIEW = 600
Status = Literal["liked", "rejected", "seen"]


def reason_line(explanation: str, item: Item) -> str:
    """The reason without the overview phrase the agent appends (the card shows the overview)."""
    phrase = overview_phrase(item)
    text = explanation.strip()
    if phrase and text.endswith(phrase):
        text = text[: -len(phrase)].strip()
    return text or explanation.strip()


def short_overview(item: Item, limit: int) -> str:
    text = " ".join(item.overview.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:.") + "…"


def card(rec: Recommendation, catalog: Catalog, detail: Detail = "short") -> dict[str, Any]:
    """One card: title, year, genres, the reason, an overview; more facts when ``full`` (in
    words a person reads: tags and ratings, never the ranker's score)."""
    item = catalog.get(rec.item_id)
    details: list[str] = []
    if detail == "full":
        if item.tags:
            details.append("Tagged: " + ", ".join(item.tags[:5]))
        if item.mean_rating is not None and item.popularity:
            details.append(f"Rated {item.mean_rating:.1f}/5 by {item.popularity:,} people")
    limit = FULL_OVERVIEW if detail == "full" else SHORT_OVERVIEW
    return {
        "item_id": item.id,
        "title": item.name,
        "year": item.year,
        "genres": list(item.display_genres),
        "reason": reason_line(rec.explanation, item),
        "overview": short_overview(item, limit),
        "details": details,
        "status": None,
    }


def cards_props(
    element_id: str,
    recommendations: Sequence[Recommendation],
    catalog: Catalog,
    detail: Detail = "short",
) -> dict[str, Any]:
    return {
        "element_id": element_id,
        "detail": detail,
        "items": [card(r, catalog, detail) for r in recommendations],
        "note": "",
    }


def apply_feedback(
    props: dict[str, Any],
    item_id: int,
    kind: Status,
    replacement: dict[str, Any] | None,
) -> dict[str, Any]:
    """New props after a click: a like is marked; 👎 / seen swap the card for ``replacement``
    (or drop it, with a note, when nothing is left to offer)."""
    items: list[dict[str, Any]] = []
    note = props.get("note", "")
    for item in props.get("items", []):
        if item["item_id"] != item_id:
            items.append(item)
        elif kind == "liked":
            items.append({**item, "status": "liked"})
        elif replacement is not None:
            items.append({**replacement, "note": f"Instead of {item['title']}"})
        else:
            note = "Nothing else in this search fits; ask for something new to see more."
    return {**props, "items": items, "note": note}
