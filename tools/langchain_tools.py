"""The typed tools of :mod:`tools.catalog_tools`, wrapped once as LangChain tools.

For a tool-calling LLM: arguments are plain JSON (lists, numbers, strings) and answers are
dicts. Each tool takes its dependencies as an injected ``deps`` argument that is hidden from the
schema the model sees. The graph's nodes call the typed functions, not these.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from langchain_core.tools import InjectedToolArg, tool

from tools.catalog_tools import (
    filter_items,
    find_item,
    item_filter,
    rank_items,
    rerank_items,
    search_items,
)
from tools.deps import ToolDeps

Deps = Annotated[ToolDeps, InjectedToolArg]


@tool
def search_catalog(
    deps: Deps,
    query: str = "",
    like_item_ids: list[int] | None = None,
    include_genres: list[str] | None = None,
    exclude_genres: list[str] | None = None,
    year_min: int | None = None,
    year_max: int | None = None,
    exclude_item_ids: list[int] | None = None,
    k: int = 200,
) -> list[dict[str, Any]]:
    """Find catalog items matching a description and/or similar to liked items, under filters.

    Returns up to k candidates as {"item_id", "score", "source"}, best first. With neither a
    query nor liked items, returns the most popular items that pass the filters.
    """
    where = item_filter(include_genres, exclude_genres, year_min, year_max, exclude_item_ids)
    hits = search_items(deps, query=query, like_item_ids=like_item_ids or (), where=where, k=k)
    return [asdict(hit) for hit in hits]


@tool
def filter_candidates(
    deps: Deps,
    item_ids: list[int],
    exclude_item_ids: list[int] | None = None,
    include_genres: list[str] | None = None,
    exclude_genres: list[str] | None = None,
    year_min: int | None = None,
    year_max: int | None = None,
) -> list[int]:
    """Keep, in order, the candidate ids that are in the catalog and pass every filter."""
    where = item_filter(include_genres, exclude_genres, year_min, year_max, exclude_item_ids)
    return filter_items(deps, item_ids, where)


@tool
def rank_candidates(
    deps: Deps,
    item_ids: list[int],
    history: list[int] | None = None,
    ratings: list[float] | None = None,
    liked: list[int] | None = None,
    disliked: list[int] | None = None,
    wanted_genres: list[str] | None = None,
    unwanted_genres: list[str] | None = None,
    query: str = "",
    relevance: dict[int, float] | None = None,
    adjustments: dict[int, float] | None = None,
    ranker_weight: float = 1.0,
    relevance_weight: float = 1.0,
    keep: int = 50,
) -> list[dict[str, Any]]:
    """Score candidates with the DNN ranker for this person and keep the best ``keep``.

    ``history`` is newest first. The final score blends the ranker's score with the retrieval
    ``relevance`` (both standardised) and adds ``adjustments`` (e.g. mood bonuses/penalties).
    """
    ranked = rank_items(
        deps,
        item_ids,
        history=history or (),
        ratings=ratings or (),
        liked=liked or (),
        disliked=disliked or (),
        wanted_genres=wanted_genres or (),
        unwanted_genres=unwanted_genres or (),
        query=query,
        relevance=relevance,
        adjustments=adjustments,
        ranker_weight=ranker_weight,
        relevance_weight=relevance_weight,
        keep=keep,
    )
    return [asdict(r) for r in ranked]


@tool
def lookup_item(deps: Deps, item_id: int | None = None, title: str = "") -> dict[str, Any]:
    """Catalog facts about one item, by id or by (fuzzy) title: title, year, genres, tags, overview."""
    item = find_item(deps, item_id=item_id, title=title)
    if item is None:
        return {"found": False, "query": title or item_id}
    return {
        "found": True,
        "item_id": item.id,
        "title": item.display_title,
        "year": item.year,
        "genres": list(item.genres),
        "tags": list(item.tags[:10]),
        "overview": item.overview,
        "mean_rating": item.mean_rating,
        "ratings": item.popularity,
    }


@tool
def rerank_with_llm(
    deps: Deps, preferences: str, item_ids: list[int], k: int = 10
) -> dict[str, Any]:
    """Let the LLM reorder numbered candidates; the guard keeps only candidate items.

    Without an LLM configured, or when its answer is unusable, the ranker's order stands.
    """
    outcome = asdict(rerank_items(deps, preferences, item_ids, k))
    if not outcome["ran"]:
        del outcome["error"]
    return outcome


ALL_TOOLS = [search_catalog, filter_candidates, rank_candidates, lookup_item, rerank_with_llm]
