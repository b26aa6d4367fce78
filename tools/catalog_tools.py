"""LangChain tools over the catalog, the retriever, the ranker and the LLM reranker.

The graph's nodes call them, and an LLM tool-calling loop can too: each takes its dependencies
as an injected ``deps`` argument that is hidden from the schema the model sees. Every item id a
tool returns is a catalog id; ids it is given that the catalog lacks are dropped, not trusted.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from langchain_core.tools import InjectedToolArg, tool

from catalog.search import ItemFilter
from ranker.types import UserContext
from tools.deps import ToolDeps

Deps = Annotated[ToolDeps, InjectedToolArg]


def _item_filter(
    include_genres: list[str] | None,
    exclude_genres: list[str] | None,
    year_min: int | None,
    year_max: int | None,
    exclude_item_ids: list[int] | None,
) -> ItemFilter:
    return ItemFilter(
        include_genres=frozenset(include_genres or ()),
        exclude_genres=frozenset(exclude_genres or ()),
        min_year=year_min,
        max_year=year_max,
        exclude_ids=frozenset(exclude_item_ids or ()),
    )


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
    item_filter = _item_filter(include_genres, exclude_genres, year_min, year_max, exclude_item_ids)
    liked = deps.catalog.known(like_item_ids or [])
    best: dict[int, tuple[float, str]] = {}
    sources = []
    if query.strip():
        sources.append(("text", deps.retriever.by_text(query, k, item_filter)))
    if liked:
        sources.append(("items", deps.retriever.by_items(liked, k, item_filter)))
    for source, hits in sources:
        for hit in hits:
            if hit.item_id not in best or hit.score > best[hit.item_id][0]:
                best[hit.item_id] = (hit.score, source)
    if not sources:
        picks = _passing(deps, item_filter, deps.popular)[:k]
        best = {item_id: (0.0, "popular") for item_id in picks}
    ranked = sorted(best.items(), key=lambda kv: -kv[1][0])[:k]
    return [{"item_id": i, "score": round(s, 6), "source": src} for i, (s, src) in ranked]


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
    item_filter = _item_filter(include_genres, exclude_genres, year_min, year_max, exclude_item_ids)
    return _passing(deps, item_filter, deps.catalog.known(dict.fromkeys(item_ids)))


def _passing(deps: ToolDeps, item_filter: ItemFilter, item_ids: list[int]) -> list[int]:
    """The ids, in order, that ``item_filter`` allows."""
    allowed = deps.retriever.metadata.allowed_ids(item_filter)
    if allowed is None:
        return list(item_ids)
    allowed_set = set(allowed.tolist())
    return [i for i in item_ids if i in allowed_set]


def standardise(values: np.ndarray) -> np.ndarray:
    """Zero mean, unit spread; all zeros when the values do not vary."""
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 1e-9 else np.zeros_like(values)


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
    candidates = deps.catalog.known(dict.fromkeys(item_ids))
    if not candidates:
        return []
    known_history = [i for i in (history or []) if i in deps.catalog]
    aligned = [r for i, r in zip(history or [], ratings or [], strict=False) if i in deps.catalog]
    context = UserContext(
        history=tuple(known_history),
        ratings=tuple(aligned) if len(aligned) == len(known_history) else (),
        liked=tuple(deps.catalog.known(liked or [])),
        disliked=tuple(deps.catalog.known(disliked or [])),
        wanted_genres=frozenset(wanted_genres or ()),
        unwanted_genres=frozenset(unwanted_genres or ()),
        query_vector=deps.retriever.embedder.embed([query])[0] if query.strip() else None,
    )
    model = standardise(np.asarray(deps.scorer.score(context, candidates), dtype=np.float64))
    rel = np.array([(relevance or {}).get(i, 0.0) for i in candidates], dtype=np.float64)
    adj = np.array([(adjustments or {}).get(i, 0.0) for i in candidates], dtype=np.float64)
    final = ranker_weight * model + relevance_weight * standardise(rel) + adj
    order = np.argsort(-final, kind="stable")[:keep]
    return [{"item_id": candidates[j], "score": round(float(final[j]), 6)} for j in order]


@tool
def lookup_item(deps: Deps, item_id: int | None = None, title: str = "") -> dict[str, Any]:
    """Catalog facts about one item, by id or by (fuzzy) title: title, year, genres, tags, overview."""
    if item_id is None and title.strip():
        matches = deps.catalog.search_titles(title, limit=1)
        item_id = matches[0].item.id if matches and matches[0].score >= 80 else None
    if item_id is None or item_id not in deps.catalog:
        return {"found": False, "query": title or item_id}
    item = deps.catalog.get(item_id)
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
    candidates = deps.catalog.known(dict.fromkeys(item_ids))
    if deps.reranker is None or not candidates:
        return {"item_ids": candidates[:k], "dropped": [], "fell_back": False, "ran": False}
    result = deps.reranker.rerank(preferences, [deps.catalog.get(i) for i in candidates], k)
    return {
        "item_ids": [candidates[p] for p in result.order],
        "dropped": list(result.dropped),
        "fell_back": result.fell_back,
        "ran": True,
        "error": result.error or "",
    }


ALL_TOOLS = [search_catalog, filter_candidates, rank_candidates, lookup_item, rerank_with_llm]
