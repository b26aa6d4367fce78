"""What the person reads in a reply: natural titles, an opening that fits the turn, no repeats of
what the conversation already named (by the person or by the assistant)."""

from __future__ import annotations

from agent.context import Deps
from agent.dialog import titles_in
from agent.recommender import Recommender


def test_titles_in_reads_natural_and_filed_titles_but_not_titles_cited_in_reasons(
    agent_deps: Deps,
) -> None:
    shown = (
        "Close to Inception:\n"
        "1. The Matrix (1999) — shares “philosophy” with Inception. A hacker learns.\n"
        "2. Amelie (Le Fabuleux destin d'Amélie Poulain) (2001) — people call it charming.\n"
        "3. Conjuring, The (2013) — tagged “scary”."
    )
    assert titles_in(shown, agent_deps) == [4, 6, 10]


def test_a_reply_shows_titles_in_natural_order_and_no_pseudo_genres(
    recommender: Recommender,
) -> None:
    reply = recommender.reply("something like Interstellar", k=5)
    catalog = recommender.deps.tools.catalog
    assert reply.recommendations
    for rec in reply.recommendations:
        assert rec.title == catalog.get(rec.item_id).display_title
        assert ", The (" not in rec.title
    assert "IMAX" not in reply.reply and "no genres" not in reply.reply
    assert "because you liked" not in reply.reply.casefold()


def test_nothing_the_transcript_named_comes_back(recommender: Recommender) -> None:
    first = recommender.reply("I loved Toy Story", k=3)
    named = {1, *(r.item_id for r in first.recommendations)}
    transcript = [
        {"role": "user", "content": "I loved Toy Story"},
        {"role": "assistant", "content": first.reply},  # natural titles, read back
        {"role": "user", "content": "I've seen The Matrix. More please"},
    ]
    again = recommender.reply(transcript, k=3)
    assert again.recommendations
    assert not named & {r.item_id for r in again.recommendations}
    assert 4 not in {r.item_id for r in again.recommendations}  # named by the person as seen


def test_the_opening_answers_i_have_seen_all_of_those(recommender: Recommender) -> None:
    first = recommender.reply("something like Inception, but less depressing", k=3)
    assert first.reply.startswith("Close to Inception")
    then = recommender.reply("I've seen all of those", k=3, thread_id=first.thread_id)
    assert then.reply.startswith("Since you've seen those, here are others:")
    assert not {r.item_id for r in first.recommendations} & {
        r.item_id for r in then.recommendations
    }


def test_notes_are_kept_before_the_opening(recommender: Recommender) -> None:
    reply = recommender.reply("I loved Toy Story and Zzyzx Quantum Banana", k=3)
    if reply.action == "recommend":
        opening = reply.reply.splitlines()[0]
        assert "Zzyzx Quantum Banana" in opening and opening.endswith(":")
