from __future__ import annotations

from dataclasses import replace

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from agent.context import Deps
from agent.recommender import Recommender
from agent.rephrase import rephrase_reasons

ITEMS = [("Toy Story 2 (1999)", "Because you liked Toy Story."), ("Up (2009)", "Animation.")]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ('["More toys, more fun.", "A floating-house adventure."]', ["More toys, more fun.", "A floating-house adventure."]),
        ('Sure! ["A.", "B."]', ["A.", "B."]),
        ('["only one"]', None),  # wrong length: it would misalign reasons and items
        ('["Like Shrek (2001) but better.", "B."]', None),  # names another title
        ("no list at all", None),
        ('["", "B."]', None),
        ('[1, 2]', None),
    ],
)  # fmt: skip
def test_only_well_formed_rewordings_are_used(answer: str, expected: list[str] | None) -> None:
    assert (
        rephrase_reasons(FakeListChatModel(responses=[answer]), "likes animation", ITEMS)
        == expected
    )


def test_the_agent_rewords_reasons_but_keeps_items_and_titles(agent_deps: Deps) -> None:
    plain = Recommender(agent_deps).reply("I loved Toy Story", thread_id="a")
    worded = ["Reason one.", "Reason two.", "Reason three."]
    model = FakeListChatModel(responses=[str(worded).replace("'", '"')])
    deps = replace(
        agent_deps, config=replace(agent_deps.config, llm_rephrase=True), explainer=model
    )
    reply = Recommender(deps).reply("I loved Toy Story", thread_id="b")
    assert [r.item_id for r in reply.recommendations] == [r.item_id for r in plain.recommendations]
    assert [r.title for r in reply.recommendations] == [r.title for r in plain.recommendations]
    assert [r.explanation for r in reply.recommendations] == worded
