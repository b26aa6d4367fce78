"""What a turn's ranking counts as named: the planner's and the replay's items, and titles
written with their year in any message."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage

from agent.context import Deps
from agent.ranking import turn_request, written_items
from agent.state import UserFacts


def test_titles_written_with_their_year_inside_sentences_are_found(agent_deps: Deps) -> None:
    catalog = agent_deps.tools.catalog
    messages = [
        HumanMessage("I loved the matrix"),  # no year: the planner's business, not this one's
        AIMessage("have you seen The Matrix (1999)? or Amelie (2001), maybe Toy Story 2 (2000)"),
        AIMessage("nothing here (1999), nor in Nope Movie (2010); The Matrix (1999) again"),
    ]
    # Toy Story 2 is dated a year off (release dates differ by country); each item once
    assert written_items(messages, catalog) == [4, 6, 5]


def test_the_request_counts_what_the_other_side_named_in_free_text(agent_deps: Deps) -> None:
    state = {"messages": [HumanMessage("hi"), AIMessage("have you seen Heat (1995)? it's great")]}
    assert turn_request(state, agent_deps, UserFacts()).mentioned == (3,)
