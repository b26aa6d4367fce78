"""``must_recommend`` is a contract: a non-empty, guarded list whatever the planner decided."""

from __future__ import annotations

import pytest

from agent.plan import Plan
from agent.recommender import Recommender

OPENERS = [
    "hi",
    "Hello, how are you?",
    "What are you watching this weekend?",
    "thanks, bye",
    "Is Inception considered sci-fi?",  # a question with nothing shown
    "I loved The Godfather Part IV",  # a title the catalog lacks
    "",
]


@pytest.mark.parametrize("text", OPENERS)
def test_every_opener_gets_a_list(recommender: Recommender, text: str) -> None:
    reply = recommender.reply([{"role": "user", "content": text}], must_recommend=True)
    assert reply.action == "recommend"
    assert reply.recommendations
    catalog = recommender.deps.tools.catalog
    assert all(r.item_id in catalog for r in reply.recommendations)


def test_a_question_after_a_list_still_gets_a_list(recommender: Recommender) -> None:
    first = recommender.reply("something like Toy Story", thread_id="q", must_recommend=True)
    later = recommender.reply("what is the second one about?", thread_id="q", must_recommend=True)
    assert later.recommendations
    assert not {r.item_id for r in later.recommendations} & {
        r.item_id for r in first.recommendations
    }


def test_constraints_nothing_meets_are_loosened_never_exclusions(
    recommender: Recommender,
) -> None:
    reply = recommender.reply(
        [
            {"role": "user", "content": "I loved Toy Story"},
            {"role": "user", "content": "a horror western from the 1920s, not Toy Story 2"},
        ],
        must_recommend=True,
    )
    shown = {r.item_id for r in reply.recommendations}
    assert shown and 1 not in shown  # the liked title is never recommended back
    assert "ruled out" in reply.reply  # the reply says the constraints were loosened


class SmalltalkPlanner:
    """A planner (e.g. an LLM) that calls everything small talk."""

    def plan(self, text: str, context: object) -> Plan:
        return Plan(action="smalltalk")


def test_a_planner_that_says_smalltalk_cannot_empty_the_list(recommender: Recommender) -> None:
    from dataclasses import replace

    deps = replace(recommender.deps, planner=SmalltalkPlanner())
    reply = Recommender(deps).reply("Something like Inception", must_recommend=True)
    assert reply.recommendations
