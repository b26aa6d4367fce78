"""Moods move the list: what is wanted up, what is unwanted down, without cancelling out."""

from __future__ import annotations

from agent.context import Deps
from agent.nodes.recommend import mood_adjustments
from agent.state import Candidate, Preferences

IT_FOLLOWS = 13  # Horror, nothing else known about it in the generated catalog


def test_an_unwanted_mood_does_not_count_the_genre_a_wanted_mood_carries(
    agent_deps: Deps,
) -> None:
    scary_not_violent = Preferences(moods=["scary"], avoid_moods=["violent"])
    only_scary = Preferences(moods=["scary"])
    candidates = [Candidate(item_id=IT_FOLLOWS)]
    both = mood_adjustments(scary_not_violent, candidates, agent_deps)[IT_FOLLOWS]
    wanted = mood_adjustments(only_scary, candidates, agent_deps)[IT_FOLLOWS]
    assert wanted > 0
    assert both == wanted  # its Horror genre is why it is scary, not evidence of violence


def test_an_unwanted_mood_still_counts_its_own_genres(agent_deps: Deps) -> None:
    not_scary = Preferences(avoid_moods=["scary"])
    assert mood_adjustments(not_scary, [Candidate(item_id=IT_FOLLOWS)], agent_deps)[IT_FOLLOWS] < 0
