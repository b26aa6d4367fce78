"""Grounded reasons: only catalog facts, and the named item the pick resembles."""

from __future__ import annotations

from agent.context import Deps
from agent.explain import explain, shared_genres
from agent.state import Preferences


def test_a_pick_that_shares_genres_with_the_named_title_says_so(agent_deps: Deps) -> None:
    catalog = agent_deps.tools.catalog
    matrix, inception = catalog.get(4), catalog.get(8)
    assert shared_genres(matrix, [8], catalog) == (
        inception.display_title,
        ["Action", "Sci-Fi", "Thriller"][:3],
    )
    assert shared_genres(matrix, [15], catalog) is None  # Casablanca shares nothing
    assert shared_genres(inception, [8], catalog) is None  # never itself


def test_explain_uses_the_shared_genres_when_embeddings_are_not_close(agent_deps: Deps) -> None:
    catalog = agent_deps.tools.catalog
    reason = explain(
        catalog.get(14), Preferences(liked=[4]), catalog, agent_deps.tools.retriever.index
    )
    assert "Matrix, The (1999)" in reason
    assert reason.startswith(("Because you liked", "Shares Action"))
