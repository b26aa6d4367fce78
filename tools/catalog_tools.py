"""Typed tools over the catalog, the retriever, the ranker and the LLM reranker.

The graph's nodes call these functions directly; :mod:`tools.langchain_tools` wraps each once as
a LangChain tool for a tool-calling LLM. Every item id a tool returns is a catalog id; ids it is
given that the catalog lacks are dropped, not trusted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from catalog.domain import Item
from catalog.search import ItemFilter
from ranker.types import UserContext
from tools.deps import ToolDeps
from tools.scoring import standardise

HitSource = Literal["text", "items", "popular", "ranker", "subject"]


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieval candidate: its similarity and which search found it."""

    item_id: int
    score: float
    source: HitSource


@dataclass(frozen=True, slots=True)
class Ranked:
    """A ranked candidate: the blended score of :func:`rank_items`."""

    item_id: int
    score: float


@dataclass(frozen=True, slots=True)
class RerankOutcome:
    """What :func:`rerank_items` did: the new order (catalog ids) and the guard's record.

    ``ran`` is False when no LLM is configured (the ranker's order stands)."""

    item_ids: list[int]
    dropped: list[str]
    fell_back: bool
    ran: bool
    error: str = ""


def item_filter(
    include_genres: Iterable[str] | None = None,
    exclude_genres: Iterable[str] | None = None,
    year_min: int | None = None,
    year_max: int | None = None,
    exclude_item_ids: Iterable[int] | None = None,
    require_genres: Iterable[str] | None = None,
    exclude_years: Iterable[tuple[int, int]] | None = None,
) -> ItemFilter:
    """An :class:`ItemFilter` from plain lists (what a plan or a tool call carries)."""
    return ItemFilter(
        include_genres=frozenset(include_genres or ()),
        require_genres=frozenset(require_genres or ()),
        exclude_genres=frozenset(exclude_genres or ()),
        min_year=year_min,
        max_year=year_max,
        exclude_ids=frozenset(exclude_item_ids or ()),
        exclude_years=frozenset(exclude_years or ()),
    )


def search_items(
    deps: ToolDeps,
    *,
    query: str = "",
    like_item_ids: Sequence[int] = (),
    where: ItemFilter | None = None,
    k: int = 200,
) -> list[Hit]:
    """Items matching a description and/or similar to liked items, under ``where``; best first.

    With neither a query nor liked items: the most popular items that pass the filter.
    """
    where = where or ItemFilter()
    liked = deps.catalog.known(like_item_ids)
    best: dict[int, tuple[float, HitSource]] = {}
    sources: list[tuple[HitSource, list]] = []
    if query.strip():
        sources.append(("text", deps.retriever.by_text(query, k, where)))
    if liked:
        sources.append(("items", deps.retriever.by_items(liked, k, where)))
    for source, hits in sources:
        for hit in hits:
            if hit.item_id not in best or hit.score > best[hit.item_id][0]:
                best[hit.item_id] = (hit.score, source)
    if not sources:
        picks = _passing(deps, where, deps.popular)[:k]
        best = {item_id: (0.0, "popular") for item_id in picks}
    ranked = sorted(best.items(), key=lambda kv: -kv[1][0])[:k]
    return [Hit(i, round(s, 6), src) for i, (s, src) in ranked]


def filter_items(deps: ToolDeps, item_ids: Iterable[int], where: ItemFilter) -> list[int]:
    """The candidate ids, in order and once each, that are in the catalog and pass ``where``."""
    return _passing(deps, where, deps.catalog.known(dict.fromkeys(item_ids)))


def _passing(deps: ToolDeps, where: ItemFilter, item_ids: list[int]) -> list[int]:
    """The ids, in order, that ``where`` allows."""
    allowed = deps.retriever.metadata.allowed_ids(where)
    if allowed is None:
        return list(item_ids)
    allowed_set = set(allowed.tolist())
    return [i for i in item_ids if i in allowed_set]


def user_context(
    deps: ToolDeps,
    *,
    history: Sequence[int] = (),
    ratings: Sequence[float] = (),
    liked: Sequence[int] = (),
    disliked: Sequence[int] = (),
    wanted_genres: Iterable[str] = (),
    unwanted_genres: Iterable[str] = (),
    query: str = "",
) -> UserContext:
    """The ranker's view of a person: catalog items only, ratings kept while they still align
    with the history (newest first), the request's words embedded (once per text)."""
    known_history = [i for i in history if i in deps.catalog]
    aligned = [r for i, r in zip(history, ratings, strict=False) if i in deps.catalog]
    return UserContext(
        history=tuple(known_history),
        ratings=tuple(aligned) if len(aligned) == len(known_history) else (),
        liked=tuple(deps.catalog.known(liked)),
        disliked=tuple(deps.catalog.known(disliked)),
        wanted_genres=frozenset(wanted_genres),
        unwanted_genres=frozenset(unwanted_genres),
        query_vector=deps.retriever.query_vector(query) if query.strip() else None,
    )


def rank_items(
    deps: ToolDeps,
    item_ids: Iterable[int],
    *,
    history: Sequence[int] = (),
    ratings: Sequence[float] = (),
    liked: Sequence[int] = (),
    disliked: Sequence[int] = (),
    wanted_genres: Iterable[str] = (),
    unwanted_genres: Iterable[str] = (),
    query: str = "",
    relevance: Mapping[int, float] | None = None,
    adjustments: Mapping[int, float] | None = None,
    ranker_weight: float = 1.0,
    relevance_weight: float = 1.0,
    keep: int = 50,
) -> list[Ranked]:
    """Score candidates with the DNN ranker for this person and keep the best ``keep``.

    ``history`` is newest first. The final score blends the ranker's score with the retrieval
    ``relevance`` (both standardised) and adds ``adjustments`` (e.g. mood bonuses/penalties).
    """
    candidates = deps.catalog.known(dict.fromkeys(item_ids))
    if not candidates:
        return []
    context = user_context(
        deps,
        history=history,
        ratings=ratings,
        liked=liked,
        disliked=disliked,
        wanted_genres=wanted_genres,
        unwanted_genres=unwanted_genres,
        query=query,
    )
    model = standardise(np.asarray(deps.scorer.score(context, candidates), dtype=np.float64))
    rel = np.array([(relevance or {}).get(i, 0.0) for i in candidates], dtype=np.float64)
    adj = np.array([(adjustments or {}).get(i, 0.0) for i in candidates], dtype=np.float64)
    final = ranker_weight * model + relevance_weight * standardise(rel) + adj
    order = np.argsort(-final, kind="stable")[:keep]
    return [Ranked(candidates[j], round(float(final[j]), 6)) for j in order]


def find_item(deps: ToolDeps, *, item_id: int | None = None, title: str = "") -> Item | None:
    """The catalog item with ``item_id``, else the best fuzzy match of ``title``; None when
    neither names a catalog item (a match that is not ``usable`` names nothing)."""
    if item_id is None and title.strip():
        matches = deps.catalog.search_titles(title, limit=1)
        item_id = matches[0].item.id if matches and matches[0].usable else None
    if item_id is None or item_id not in deps.catalog:
        return None
    return deps.catalog.get(item_id)


def rerank_items(
    deps: ToolDeps, preferences: str, item_ids: Iterable[int], k: int = 10
) -> RerankOutcome:
    """Let the LLM reorder the candidates; the guard keeps only candidate items.

    Without an LLM configured, or when its answer is unusable, the ranker's order stands.
    """
    candidates = deps.catalog.known(dict.fromkeys(item_ids))
    if deps.reranker is None or not candidates:
        return RerankOutcome(candidates[:k], [], fell_back=False, ran=False)
    result = deps.reranker.rerank(preferences, [deps.catalog.get(i) for i in candidates], k)
    return RerankOutcome(
        [candidates[p] for p in result.order],
        list(result.dropped),
        fell_back=result.fell_back,
        ran=True,
        error=result.error or "",
    )
