"""What the catalog cannot check (running times, streaming services, age ratings, countries)
is said in the reply and kept out of the title search: "a movie under 90 minutes" showed
*30 Minutes or Less*, *Gone in 60 Seconds* and *48 Hrs.* by their titles."""

from __future__ import annotations

import pytest

from agent.dialog import _ignored_note
from agent.planner.offline import OfflinePlanner
from agent.planner.unsupported import unsupported_kind
from agent.recommender import Recommender
from catalog.domain import Catalog, Item
from tests.unit.agent.test_offline_planner import CATALOG, EMPTY

GROWN_UPS = Catalog([*CATALOG.items, Item(901, "Grown Ups", 2010, ("Comedy",), popularity=50)])


@pytest.fixture(scope="module")
def planner() -> OfflinePlanner:
    return OfflinePlanner(GROWN_UPS, current_year=2018)


@pytest.mark.parametrize(
    ("message", "written", "kind", "left"),
    [
        ("a comedy under 90 minutes", "under 90 minutes", "runtime", set()),
        ("a thriller, less than two hours long", "less than two hours long", "runtime", set()),
        ("a three-hour war epic", "three-hour", "runtime", {"epic"}),
        ("a horror movie on Netflix", "on Netflix", "streaming", set()),
        ("a PG-13 comedy", "PG-13", "rating", set()),
        ("a Korean thriller", "Korean", "country", {"korean"}),
    ],
)
def test_what_the_catalog_lacks_is_ignored_and_named(
    planner: OfflinePlanner, message: str, written: str, kind: str, left: set[str]
) -> None:
    plan = planner.plan(message, EMPTY)
    assert plan.action == "recommend" and plan.include_genres  # the genre still counts
    assert plan.ignored == [written]
    assert unsupported_kind(written) == kind
    # a running time, a service or a rating is no search; a country may be in an overview
    assert set(plan.vibe.split()) - {g.lower() for g in plan.include_genres} <= left | {
        "a", "movie", "comedy", "thriller", "horror",
    }  # fmt: skip


def test_the_note_says_what_was_not_checked() -> None:
    assert "no running times" in _ignored_note("under 90 minutes")
    assert "streams" in _ignored_note("on Netflix")
    assert "no age ratings" in _ignored_note("rated R")
    assert "descriptions" in _ignored_note("Korean")
    # anything else is what could not be read, as before
    assert _ignored_note("from my childhood").startswith("I can't tell which films")


def test_plain_words_are_not_attributes(planner: OfflinePlanner) -> None:
    for message in ("a long heist movie", "something about an hour glass", "a french kiss"):
        kinds = [unsupported_kind(text) for text in planner.plan(message, EMPTY).ignored]
        assert kinds in ([], ["country"]), message
    assert planner.plan("a romantic comedy", EMPTY).ignored == []


def test_for_grown_ups_is_an_audience_not_the_film(planner: OfflinePlanner) -> None:
    plan = planner.plan("a comedy for grown-ups", EMPTY)
    assert plan.liked_titles == [] and "Children" in plan.exclude_genres
    assert planner.plan("something like Grown Ups", EMPTY).liked_titles == ["Grown Ups (2010)"]


def test_a_request_of_only_what_the_catalog_lacks_asks_and_says_why(
    recommender: Recommender,
) -> None:
    reply = recommender.reply("a movie under 90 minutes", thread_id="u1")
    assert reply.action == "clarify" and not reply.recommendations
    assert reply.reply.startswith("The catalog has no running times")
    shown = recommender.reply("a comedy on Netflix", thread_id="u2", k=3)
    assert shown.recommendations and "which service streams what" in shown.reply


@pytest.mark.parametrize("message", ["asdkjh qwe zzzp", "zzzp", "xkcd bvcdf"])
def test_gibberish_gets_a_question_not_a_list(planner: OfflinePlanner, message: str) -> None:
    plan = planner.plan(message, EMPTY)
    assert plan.action == "clarify" and plan.vibe == "" and plan.ignored == [message]


@pytest.mark.parametrize(
    "message", ["wuxia", "a xyzzy horror movie", "something blorpy", "a movie with Meryl Streep"]
)
def test_one_unknown_but_wordlike_word_is_still_searched(
    planner: OfflinePlanner, message: str
) -> None:
    assert planner.plan(message, EMPTY).action == "recommend"


def test_gibberish_in_the_chat_says_it_was_not_understood(recommender: Recommender) -> None:
    reply = recommender.reply("asdkjh qwe zzzp", thread_id="g1")
    assert reply.action == "clarify" and not reply.recommendations
    assert reply.reply.startswith("I can't tell which films “asdkjh qwe zzzp” means")
