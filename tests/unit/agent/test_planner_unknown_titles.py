"""Titles the catalog lacks are reported, not read as a vibe; questions name their title.

The agent resolves ``liked_titles`` / ``disliked_titles`` through ``Catalog.search_titles`` and
says which failed ("I couldn't find “Blorptastic Zingwhirl 3000”"), so a title-like phrase the
catalog does not have must reach the plan as written. Same catalog as the offline planner tests.
"""

from __future__ import annotations

import itertools

import pytest

from agent.planner import OfflinePlanner, PlannerContext
from agent.preferences import resolve_titles
from tests.unit.agent.test_offline_planner import CATALOG, EMPTY, SHOWN

FAKE_TITLES = ["Blorptastic Zingwhirl 3000", "The Lord of the Flies 3", "Quux and the Flibber"]
LIKING_CUES = [
    "I loved {}",
    "I liked {}",
    "I enjoyed {}",
    "I like {}",
    "something similar to {}",
    "more like {}",
    "I'm a fan of {}",
    "something like {}",
    "a movie like {}",
    "Any movies like {}?",
]
DISLIKING_CUES = ["I hated {}", "I couldn't stand {}", "not a fan of {}", "nothing like {}"]


@pytest.fixture(scope="module")
def planner() -> OfflinePlanner:
    return OfflinePlanner(CATALOG, current_year=2018)


def _unresolved(titles: list[str]) -> list[str]:
    return resolve_titles(CATALOG, titles).unresolved


@pytest.mark.parametrize(("cue", "title"), list(itertools.product(LIKING_CUES, FAKE_TITLES)))
def test_an_unknown_title_after_a_liking_cue_is_liked_as_written(
    planner: OfflinePlanner, cue: str, title: str
) -> None:
    plan = planner.plan(cue.format(title), EMPTY)
    assert (plan.liked_titles, plan.disliked_titles) == ([title], [])
    assert _unresolved(plan.liked_titles) == [title]  # so the agent reports it
    assert plan.vibe == "" and plan.action == "recommend"


@pytest.mark.parametrize(("cue", "title"), list(itertools.product(DISLIKING_CUES, FAKE_TITLES)))
def test_an_unknown_title_after_a_disliking_cue_is_disliked_as_written(
    planner: OfflinePlanner, cue: str, title: str
) -> None:
    plan = planner.plan(cue.format(title), EMPTY)
    assert (plan.liked_titles, plan.disliked_titles) == ([], [title])
    assert plan.vibe == ""


@pytest.mark.parametrize(
    ("message", "liked", "disliked"),
    [
        ('I loved "blorp zing"', ["blorp zing"], []),  # quoted: capitals not needed
        ("'Zingwhirl' was great", ["Zingwhirl"], []),  # quotes alone are a cue
        ('I hated "Zingwhirl Returns"', [], ["Zingwhirl Returns"]),
        ("I loved the Zing Machine", ["the Zing Machine"], []),
        ("I loved Zingwhirl II", ["Zingwhirl II"], []),
        ("I loved Zing-Blorp: The Return", ["Zing-Blorp: The Return"], []),
        ("I loved Dark Zingwhirl", ["Dark Zingwhirl"], []),  # a mood word inside a title
        ("I loved Inception and Blorp Zing", ["Inception (2010)", "Blorp Zing"], []),
        (
            "I loved Blorp Zing, Toy Story and Quux Flib",
            ["Blorp Zing", "Toy Story (1995)", "Quux Flib"],
            [],
        ),
        ("I loved Blorp Zing and I hated Quux Flib", ["Blorp Zing"], ["Quux Flib"]),
        ("I don't really like Blorp Zing", [], ["Blorp Zing"]),
        ("something like Toy Story 5", ["Toy Story 5"], []),  # a known title written on past
        ("I liked Blorp Zing from the 90s", ["Blorp Zing"], []),
    ],
)
def test_unknown_titles_written_in_other_ways(
    planner: OfflinePlanner, message: str, liked: list[str], disliked: list[str]
) -> None:
    plan = planner.plan(message, EMPTY)
    assert (plan.liked_titles, plan.disliked_titles) == (liked, disliked)


def test_an_unknown_title_stays_out_of_the_vibe_but_the_rest_counts(
    planner: OfflinePlanner,
) -> None:
    plan = planner.plan("I loved Blorp Zing from the 90s, but less depressing", EMPTY)
    assert plan.liked_titles == ["Blorp Zing"] and plan.vibe == ""
    assert plan.avoid_moods == ["depressing"] and (plan.year_min, plan.year_max) == (1990, 1999)


@pytest.mark.parametrize(
    ("message", "genres", "moods", "vibe"),
    [
        ("I like dark movies", [], ["dark"], "dark"),
        ("something like a heist", [], [], "heist"),
        ("I loved Comedy", ["Comedy"], [], "comedy"),  # a genre word stays a genre (a taste)
        ("I like Dark Movies", [], ["dark"], "dark"),
        ("I love Science Fiction", ["Sci-Fi"], [], "science fiction"),
        ("I love French Films", [], [], "french"),  # describes, does not name
        ("something like Pixar", [], [], "pixar"),  # a catalog tag is a vibe
        ("I Loved Blorp Zing And Other Things", [], [], "blorp zing"),  # Title Case: no signal
        ("I enjoyed the ending", [], [], "ending"),
        ("I liked 2 of them", [], [], ""),
        ("I loved it, thanks", [], [], ""),
    ],
)
def test_ordinary_sentences_are_untouched(
    planner: OfflinePlanner, message: str, genres: list[str], moods: list[str], vibe: str
) -> None:
    plan = planner.plan(message, EMPTY)
    assert plan.liked_titles == [] and plan.disliked_titles == []
    # "I loved Comedy" is a taste: the genre ranks (prefer_genres) rather than filters
    genres_read = [*plan.include_genres, *plan.prefer_genres]
    assert (genres_read, plan.moods, plan.vibe) == (genres, moods, vibe)


# --- Questions about a title not on show -----------------------------------------------------


@pytest.mark.parametrize(
    ("message", "context", "position", "title"),
    [
        ("what is Casablanca about?", SHOWN, None, "Casablanca (1942)"),
        ("tell me more about The Matrix", SHOWN, None, "The Matrix (1999)"),
        ("is Inception scary?", EMPTY, None, "Inception (2010)"),
        ("is Inception scary?", SHOWN, 2, None),  # on show: a position, no title
        ("what is Blorp Zing about?", EMPTY, None, "Blorp Zing"),  # unknown: as written
        ("Is Zingwhirl 3000 violent?", SHOWN, None, "Zingwhirl 3000"),
        ("is Tom Hanks in it?", SHOWN, 1, None),  # "it" is the item; a name is no title
        ("is it scary?", PlannerContext(shown=SHOWN.shown, focus_position=3), 3, None),
    ],
)
def test_questions_name_their_title(
    planner: OfflinePlanner,
    message: str,
    context: PlannerContext,
    position: int | None,
    title: str | None,
) -> None:
    plan = planner.plan(message, context)
    assert plan.action == "answer" and plan.question == message
    assert (plan.question_position, plan.question_title) == (position, title)
    assert plan.liked_titles == [] and plan.vibe == ""


def test_requests_carry_no_question_title(planner: OfflinePlanner) -> None:
    plan = planner.plan("I loved Casablanca", SHOWN)
    assert plan.action == "refine" and plan.question_title is None
