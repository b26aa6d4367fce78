"""A genre asked for filters; a genre said to be liked ("I love horror") only ranks first.

On the dialogue benchmark a taste read as a filter removed real picks of human recommenders
(docs/dialogues.md); a person asking for "a horror movie" must still see only horror.
"""

from __future__ import annotations

import pytest

from agent.context import Deps
from agent.planner.base import PlannerContext
from agent.preferences import drop_constraints
from agent.ranking import signal_weights
from agent.recommender import Recommender
from agent.state import Preferences
from catalog.domain import Catalog, Item
from ranker.conversation import ConversationModel
from tools.scoring import COLD_WEIGHTS, SIGNALS, genre_share

HORROR = {10, 13}  # the generated catalog's horror films (tests/conftest.py)


@pytest.mark.parametrize(
    ("message", "include", "prefer"),
    [
        ("I love horror movies", [], ["Horror"]),
        ("I'm a big fan of comedies", [], ["Comedy"]),
        ("I like horror movies, what do you recommend?", [], ["Horror"]),
        ("I'm looking for a horror movie", ["Horror"], []),
        ("any horror movies?", ["Horror"], []),
        ("a comedy from the 90s", ["Comedy"], []),
        # asked for in the same message: a must, not a taste
        ("I love horror. Any good horror movies lately?", ["Horror"], []),
        ("I love horror but tonight I want a comedy", ["Comedy"], ["Horror"]),
        # a liked mood-and-genre pair stays a taste ("funny" stands for Comedy)
        ("I love funny horror movies", [], ["Comedy", "Horror"]),
    ],
)
def test_a_liked_genre_is_a_taste_and_an_asked_one_a_must(
    agent_deps: Deps, message: str, include: list[str], prefer: list[str]
) -> None:
    plan = agent_deps.offline_planner.plan(message, PlannerContext())
    assert sorted(plan.include_genres) == include
    assert sorted(plan.prefer_genres) == prefer
    assert plan.require_genres == []
    assert plan.action == "recommend"


def test_forgetting_a_genre_forgets_the_taste_too() -> None:
    catalog = Catalog([Item(1, "Heat", 1995, ("Thriller",))])
    prefs = Preferences(prefer_genres=["Horror", "Comedy"])
    assert drop_constraints(prefs, ["genre:horror"], catalog).prefer_genres == ["Comedy"]
    assert Preferences(prefer_genres=["Horror"]).has_signal()


def test_an_asked_for_genre_still_filters_every_item(recommender: Recommender) -> None:
    reply = recommender.reply("I'm looking for a horror movie", thread_id="h1", k=5)
    assert reply.recommendations
    assert {r.item_id for r in reply.recommendations} <= HORROR


def test_a_liked_genre_ranks_first_but_excludes_nothing(recommender: Recommender) -> None:
    reply = recommender.reply("I love horror movies", thread_id="h2", k=5, must_recommend=True)
    ids = [r.item_id for r in reply.recommendations]
    assert len(ids) == 5  # the catalog holds two horror films: the rest are other genres
    assert set(ids[:2]) == HORROR


def test_the_genre_signal_is_the_share_of_liked_genres_an_item_has() -> None:
    items = [
        Item(1, "A", 2000, ("Horror", "Comedy")),
        Item(2, "B", 2000, ("horror",)),
        Item(3, "C", 2000, ("Drama",)),
    ]
    assert genre_share(items, frozenset({"Horror", "Comedy"})) == [1.0, 0.5, 0.0]
    assert genre_share(items, frozenset()) == [0.0, 0.0, 0.0]
    assert "genre" in SIGNALS and COLD_WEIGHTS["genre"] > 0


def test_weights_learned_before_the_genre_signal_keep_its_default(agent_deps: Deps) -> None:
    learned = ConversationModel().with_weights({"relevance": 0.2, "ranker": 0.4})
    weights = signal_weights(agent_deps.with_conversation(learned), warm=False)
    assert weights["genre"] == COLD_WEIGHTS["genre"] and weights["relevance"] == 0.2
    fitted = ConversationModel().with_weights({"relevance": 0.2, "genre": 0.7})
    assert signal_weights(agent_deps.with_conversation(fitted), warm=False)["genre"] == 0.7
