"""The agent graph end to end on a tiny generated catalog (offline planner, popularity ranker)."""

from __future__ import annotations

import pytest

from agent.context import Deps
from agent.recommender import Recommender
from agent.state import Preferences
from tests.agent_fixtures import AgentParts


def test_a_vague_request_gets_one_concrete_question(recommender: Recommender) -> None:
    reply = recommender.reply("recommend me a movie", thread_id="t1")
    assert reply.action == "clarify" and reply.reply.endswith("?")
    assert reply.recommendations == []


def test_clarifications_are_capped_then_it_recommends(recommender: Recommender) -> None:
    actions = [recommender.reply("what should I watch?", thread_id="t2").action for _ in range(3)]
    assert actions == ["clarify", "clarify", "recommend"]


def test_must_recommend_skips_the_question(recommender: Recommender) -> None:
    reply = recommender.reply([{"role": "user", "content": "anything"}], must_recommend=True)
    assert reply.action == "recommend" and len(reply.recommendations) == 3


def test_recommendations_are_catalog_items_without_the_liked_one(recommender: Recommender) -> None:
    reply = recommender.reply("I loved Toy Story", thread_id="t3")
    catalog = recommender.deps.tools.catalog
    assert reply.action == "recommend"
    ids = [r.item_id for r in reply.recommendations]
    assert 1 not in ids and len(ids) == 3
    for rec in reply.recommendations:
        assert rec.title == catalog.get(rec.item_id).display_title
        assert rec.explanation


def test_rejected_items_never_come_back(recommender: Recommender) -> None:
    first = recommender.reply("something like The Matrix", thread_id="t4")
    top = first.recommendations[0].item_id
    second = recommender.reply("not that one", thread_id="t4")
    assert top not in {r.item_id for r in second.recommendations}
    state = recommender.graph.get_state(recommender._config("t4")).values
    assert top in state["rejected"]


def test_genre_exclusion_holds(recommender: Recommender) -> None:
    reply = recommender.reply("a mystery thriller, no horror", thread_id="t5", k=5)
    catalog = recommender.deps.tools.catalog
    assert reply.recommendations
    assert all("Horror" not in catalog.get(r.item_id).genres for r in reply.recommendations)


def test_a_subject_said_with_no_is_never_shown_and_the_reply_says_so(
    recommender: Recommender,
) -> None:
    """ "nothing with toys": Toy Story is tagged "toys" and its sequels have the word in their
    titles; none of them may be shown, in this turn or a later one."""
    catalog = recommender.deps.tools.catalog
    about_toys = {i for i in catalog.ids if "toy" in catalog.get(i).title.lower()}
    assert about_toys == {1, 5, 9}
    asked = recommender.reply("an animated comedy, nothing with toys", thread_id="t9", k=10)
    assert asked.recommendations and "I left out films about toys." in asked.reply
    assert not about_toys & {r.item_id for r in asked.recommendations}
    later = recommender.reply("more please", thread_id="t9", k=10)
    assert not about_toys & {r.item_id for r in later.recommendations}
    without = recommender.reply("an animated comedy", thread_id="t10", k=10)
    assert about_toys & {r.item_id for r in without.recommendations}  # the check can fail


def test_question_about_a_shown_item_is_answered_from_the_catalog(recommender: Recommender) -> None:
    first = recommender.reply("I loved Toy Story", thread_id="t6")
    second_item = recommender.deps.tools.catalog.get(first.recommendations[1].item_id)
    reply = recommender.reply("what is the second one about?", thread_id="t6")
    assert reply.action == "answer"
    assert second_item.display_title in reply.reply


def test_smalltalk(recommender: Recommender) -> None:
    assert recommender.reply("hello!", thread_id="t7").action == "smalltalk"


def test_unknown_title_is_reported_honestly(recommender: Recommender) -> None:
    reply = recommender.reply("I loved Blorptastic Zingwhirl", thread_id="t8")
    assert reply.action == "clarify"
    assert "couldn't find" in reply.reply


def test_transcript_folds_every_user_turn_and_assistant_suggestions(
    recommender: Recommender,
) -> None:
    transcript = [
        {"role": "user", "content": "I want a comedy"},
        {"role": "assistant", "content": "1. Toy Story (1995) — fun\n2. Jumanji (1995) — fun"},
        {"role": "user", "content": "forget the comedy part, something with animation"},
    ]
    reply = recommender.reply(transcript)
    ids = {r.item_id for r in reply.recommendations}
    assert not ids & {1, 2}  # named by the assistant: already suggested
    assert reply.action == "recommend"


def test_feedback_click_updates_the_conversation_and_the_user(recommender: Recommender) -> None:
    first = recommender.reply("I loved Toy Story", thread_id="t9", user_id=3)
    item = first.recommendations[0].item_id
    recommender.record_feedback("t9", item, "rejected", user_id=3)
    state = recommender.graph.get_state(recommender._config("t9")).values
    assert item in state["rejected"]
    assert recommender.deps.users.feedback(3)["rejected"] == [item]
    later = recommender.reply("something fun", thread_id="another", user_id=3, must_recommend=True)
    assert item not in {r.item_id for r in later.recommendations}


def test_huge_and_empty_messages_are_handled(recommender: Recommender) -> None:
    assert recommender.reply("", thread_id="t10").action == "clarify"
    huge = "I loved Toy Story. " + "blah " * 50_000
    reply = recommender.reply(huge, thread_id="t11")
    assert reply.action in {"recommend", "clarify"}
    assert "long" in reply.reply


def test_state_survives_a_new_recommender_on_the_same_checkpointer(agent_deps) -> None:  # type: ignore[no-untyped-def]
    from agent.persistence import memory_checkpointer

    saver = memory_checkpointer()
    Recommender(agent_deps, saver).reply("I want a sci-fi movie", thread_id="p1")
    state = (
        Recommender(agent_deps, saver).graph.get_state({"configurable": {"thread_id": "p1"}}).values
    )
    assert state["preferences"].include_genres == ["Sci-Fi"]
    assert isinstance(state["preferences"], Preferences)


def test_question_about_a_title_not_on_show(recommender: Recommender) -> None:
    reply = recommender.reply("what is Casablanca about?", thread_id="t12")
    assert reply.action == "answer"
    assert "Casablanca (1942)" in reply.reply


def test_known_users_take_the_warm_path_and_never_see_their_history(
    recommender: Recommender,
) -> None:
    reply = recommender.reply("something fun", thread_id="w1", user_id=1, must_recommend=True)
    state = recommender.graph.get_state(recommender._config("w1")).values
    assert state["warm"] is True
    history = {i.item_id for i in recommender.deps.users.store.interactions(1)}
    cold = recommender.reply("something fun", thread_id="w2", must_recommend=True)
    assert recommender.graph.get_state(recommender._config("w2")).values["warm"] is False
    assert reply.recommendations and cold.recommendations
    assert not history & {r.item_id for r in reply.recommendations}


@pytest.mark.parametrize("run", ["first", "second"])
def test_each_test_writes_to_its_own_copy_of_the_app_database(
    agent_deps: Deps, agent_parts: AgentParts, run: str
) -> None:
    """The catalog and index are shared by the session; the database a test writes is not."""
    template = agent_parts.database.read_bytes()
    users = agent_deps.users
    user = users.user_id_for("a visitor")
    assert users.feedback(user)["liked"] == []  # the other run's feedback is not here
    users.record_feedback(user, 4, "liked")
    assert users.feedback(user)["liked"] == [4]
    assert agent_parts.database.read_bytes() == template


def test_it_means_the_item_the_conversation_talked_about_last(recommender: Recommender) -> None:
    first = recommender.reply("I loved Toy Story", thread_id="focus")
    second_item = recommender.deps.tools.catalog.get(first.recommendations[1].item_id)
    about = recommender.reply("what is the second one about?", thread_id="focus")
    assert about.action == "answer" and about.reply.startswith(second_item.display_title)
    for follow_up in ("how long is it?", "tell me more about it"):
        reply = recommender.reply(follow_up, thread_id="focus")
        assert reply.action == "answer", follow_up
        assert reply.reply.startswith(second_item.display_title), follow_up
    again = recommender.reply("something else, more animation", thread_id="focus")
    top = recommender.deps.tools.catalog.get(again.recommendations[0].item_id)
    assert recommender.reply("is it funny?", thread_id="focus").reply.count(top.display_title) == 1
