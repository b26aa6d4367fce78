from __future__ import annotations

from agent.context import Deps
from tools.langchain_tools import (
    ALL_TOOLS,
    filter_candidates,
    lookup_item,
    rank_candidates,
    rerank_with_llm,
    search_catalog,
)


def test_injected_dependencies_are_hidden_from_the_schemas() -> None:
    for tool in ALL_TOOLS:
        schema = tool.tool_call_schema.model_json_schema()
        assert "deps" not in schema.get("properties", {}), tool.name
        assert tool.description


def test_search_with_filters_returns_only_allowed_catalog_items(agent_deps: Deps) -> None:
    hits = search_catalog.invoke(
        {
            "query": "toys",
            "exclude_genres": ["Horror"],
            "year_min": 1995,
            "k": 50,
            "deps": agent_deps.tools,
        }
    )
    catalog = agent_deps.tools.catalog
    assert hits
    for hit in hits:
        item = catalog.get(hit["item_id"])
        assert "Horror" not in item.genres and item.year is not None and item.year >= 1995


def test_search_without_a_query_falls_back_to_popular_items(agent_deps: Deps) -> None:
    hits = search_catalog.invoke({"k": 3, "deps": agent_deps.tools})
    assert [h["source"] for h in hits] == ["popular"] * 3


def test_filter_drops_unknown_and_excluded_ids(agent_deps: Deps) -> None:
    kept = filter_candidates.invoke(
        {
            "item_ids": [1, 99999, 3, 1, 10],
            "exclude_item_ids": [3],
            "exclude_genres": ["Horror"],
            "deps": agent_deps.tools,
        }
    )
    assert kept == [1]


def test_rank_keeps_only_catalog_items_and_applies_adjustments(agent_deps: Deps) -> None:
    ranked = rank_candidates.invoke(
        {
            "item_ids": [1, 2, 3, 424242],
            "adjustments": {3: 10.0},
            "keep": 3,
            "deps": agent_deps.tools,
        }
    )
    assert ranked[0]["item_id"] == 3
    assert {r["item_id"] for r in ranked} <= {1, 2, 3}


def test_lookup_by_id_and_title(agent_deps: Deps) -> None:
    assert (
        lookup_item.invoke({"item_id": 4, "deps": agent_deps.tools})["title"] == "The Matrix (1999)"
    )
    assert lookup_item.invoke({"title": "the matrix", "deps": agent_deps.tools})["item_id"] == 4
    assert lookup_item.invoke({"title": "Zorblax", "deps": agent_deps.tools})["found"] is False


def test_rerank_without_an_llm_keeps_the_ranker_order(agent_deps: Deps) -> None:
    result = rerank_with_llm.invoke(
        {"preferences": "x", "item_ids": [5, 4, 99999, 3], "k": 2, "deps": agent_deps.tools}
    )
    assert result == {"item_ids": [5, 4], "dropped": [], "fell_back": False, "ran": False}
