"""How often the held-out item survives FAISS retrieval into the ranker (the funnel's first cut).

Two queries per test user, as the agent builds them: ``content`` — a description of what the
person wants from item content alone (the cold path: genres and tags of the target, never its
title) — and ``history`` — the centroid of the user's most recent items (the warm path).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from catalog.domain import Catalog, Item
from catalog.search import ItemFilter, Retriever
from ranker.protocol import Split

DEFAULT_KS = (50, 200, 500, 1000)


def describe_wish(item: Item, max_tags: int = 3) -> str:
    """What a person after ``item`` might say, from its genres and top tags (no title, no year)."""
    genres = ", ".join(g for g in item.genres if g != "IMAX") or "any genre"
    text = f"A {genres} movie"
    if item.tags:
        text += ", " + ", ".join(item.tags[:max_tags])
    return text


@dataclass(frozen=True)
class FunnelResult:
    query: str  # "content" | "history"
    recall: dict[int, float]  # k -> share of test targets retrieved in the top k
    users: int


def retrieval_recall(
    retriever: Retriever,
    catalog: Catalog,
    split: Split,
    *,
    ks: Sequence[int] = DEFAULT_KS,
    max_history: int = 20,
) -> list[FunnelResult]:
    """Recall@k of retrieval for each user's test item, with the visible history excluded."""
    depth = max(ks)
    found: dict[str, list[int]] = {"content": [], "history": []}
    for user, target in sorted(split.test.items()):
        history = split.history(user, "test")
        exclude = ItemFilter(exclude_ids=frozenset(history))
        wish = describe_wish(catalog.get(target))
        recent = history[::-1][:max_history]
        for name, hits in (
            ("content", retriever.by_text(wish, depth, exclude)),
            ("history", retriever.by_items(recent, depth, exclude) if recent else []),
        ):
            ids = [hit.item_id for hit in hits]
            found[name].append(ids.index(target) + 1 if target in ids else depth + 1)
    return [
        FunnelResult(name, {k: sum(r <= k for r in ranks) / len(ranks) for k in ks}, len(ranks))
        for name, ranks in found.items()
        if ranks
    ]


def format_funnel(results: Sequence[FunnelResult]) -> str:
    ks = sorted(results[0].recall) if results else []
    header = "query     " + "".join(f"  R@{k:<6}" for k in ks)
    rows = [f"{r.query:<10}" + "".join(f"  {r.recall[k]:.4f}  " for k in ks) for r in results]
    return "\n".join([header, *rows])
