"""Understanding that holds up (issue 12): ages, title evidence, negations that keep the anchor,
genre combinations, relative time, new topics. On the offline planner's tiny catalog."""

from __future__ import annotations

import pytest

from agent.dialog import series_members
from agent.plan import Plan
from agent.planner.base import PlannerContext, ShownItem
from agent.planner.offline import OfflinePlanner
from agent.preferences import apply_plan, drop_constraints
from agent.state import Preferences
from catalog.domain import Catalog, Item
from catalog.titles import in_series, series_key
from tests.unit.agent.test_offline_planner import CATALOG, EMPTY, KNOWN

MATRIX = "The Matrix (1999)"
WITH_CHUCK = Catalog([*CATALOG.items, Item(900, "Chuck & Buck", 2000, ("Comedy",), popularity=2)])
SHOWN = PlannerContext(
    shown=tuple(ShownItem(n, i, CATALOG.get(i).display_title) for n, i in [(1, 6), (2, 2)]),
    has_preferences=True,
)


@pytest.fixture(scope="module")
def planner() -> OfflinePlanner:
    return OfflinePlanner(WITH_CHUCK, current_year=2018)


# --- Ages and audiences --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        "something for my 6-year-old, no scary stuff",
        "a movie for a ten year old",
        "what can I watch with my toddler",
        "good for ages 8 and up",
    ],
)
def test_a_child_audience_means_childrens_films_and_nothing_frightening(
    planner: OfflinePlanner, message: str
) -> None:
    plan = planner.plan(message, EMPTY)
    assert plan.action == "recommend"
    assert "Children" in plan.include_genres and "Horror" in plan.exclude_genres
    assert {"scary", "violent", "dark"} <= set(plan.avoid_moods)
    assert not {"old", "year", "toddler", "ages"} & set(plan.vibe.split())  # no title bait


def test_an_adult_age_changes_nothing_and_stays_out_of_the_vibe(planner: OfflinePlanner) -> None:
    plan = planner.plan("a comedy my 40 year old dad would like", EMPTY)
    assert plan.include_genres == ["Comedy"] and plan.exclude_genres == []
    assert "old" not in plan.vibe.split()


# --- A title needs real evidence -----------------------------------------------------------------


@pytest.mark.parametrize("message", ["something about chuck", "something like chuck", "chuck"])
def test_one_word_of_an_obscure_title_links_nothing(planner: OfflinePlanner, message: str) -> None:
    plan = planner.plan(message, EMPTY)
    assert plan.liked_titles == [] and plan.disliked_titles == []


def test_a_title_named_as_a_topic_is_not_a_like(planner: OfflinePlanner) -> None:
    plan = planner.plan('something about "Chuck & Buck"', EMPTY)
    assert plan.liked_titles == []


def test_one_word_of_a_famous_title_still_links(planner: OfflinePlanner) -> None:
    assert planner.plan("something like Harry Potter", EMPTY).liked_titles  # (control)
    assert planner.plan("I love Star Wars", EMPTY).include_genres == []  # Star Wars is no War


# --- Negations keep the anchor -------------------------------------------------------------------


def test_similar_but_not_a_sequel_keeps_the_anchor_and_drops_the_series(
    planner: OfflinePlanner,
) -> None:
    plan = planner.plan("I've seen The Matrix. Something similar, but not a Matrix sequel", EMPTY)
    assert plan.liked_titles == [MATRIX] and plan.disliked_titles == []
    assert plan.exclude_series == [MATRIX]
    assert [(f.kind, f.title) for f in plan.feedback] == [("seen", MATRIX)]


def test_outside_of_titles_excludes_their_series_and_keeps_the_named_anchor(
    planner: OfflinePlanner,
) -> None:
    plan = planner.plan("Something like Inception, outside of The Matrix and Memento", EMPTY)
    assert plan.liked_titles == ["Inception (2010)"]
    assert plan.exclude_series == [MATRIX, "Memento (2000)"]
    alone = planner.plan("something outside of The Matrix", EMPTY)
    assert alone.liked_titles == [MATRIX] and alone.exclude_series == [MATRIX]


def test_genres_after_outside_of_are_excluded(planner: OfflinePlanner) -> None:
    assert planner.plan("anything other than horror", EMPTY).exclude_genres == ["Horror"]


@pytest.mark.parametrize(
    ("title", "key", "members"),
    [
        ("Matrix, The", "matrix", ["Matrix Reloaded, The", "Matrix, The"]),
        ("Toy Story 3", "toy story", ["Toy Story", "Toy Story 2"]),
        ("Star Wars: Episode V - The Empire Strikes Back", "star wars", ["Star Wars: Episode I"]),
        ("Up", "", []),  # too short to tell a series by
        (
            "Harry Potter and the Goblet of Fire",  # no colon: the hero's name is the series
            "harry potter",
            ["Harry Potter and the Chamber of Secrets", "Harry Potter and the Deathly Hallows"],
        ),
        ("Indiana Jones and the Temple of Doom", "indiana jones", ["Indiana Jones and the X"]),
        ("Beauty and the Beast", "beauty and the beast", []),  # one word is no hero's name
    ],
)
def test_series_keys(title: str, key: str, members: list[str]) -> None:
    assert series_key(title) == key
    assert all(in_series(key, member) for member in members)
    assert not in_series(key, "Animatrix, The")


# --- Genre combinations --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "required"),
    [
        ("A romantic comedy from after 2005", {"Comedy", "Romance"}),
        ("a rom-com", {"Comedy", "Romance"}),
        ("a romantic drama from the last twenty years", {"Drama", "Romance"}),
        ("an action comedy", {"Action", "Comedy"}),
        ("a funny horror movie", {"Comedy", "Horror"}),
        ("comedy or drama", set()),
        ("comedy, drama, anything", set()),
        ("a romantic comedy, but no romance", set()),
    ],
)
def test_a_named_genre_combination_requires_all_its_genres(
    planner: OfflinePlanner, message: str, required: set[str]
) -> None:
    plan = planner.plan(message, EMPTY)
    assert set(plan.require_genres) == required
    assert required <= set(plan.include_genres)


# --- Relative time -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "year_min", "year_max"),
    [
        ("a romantic drama from the last twenty years", 1999, None),
        ("something from the past 2 decades", 1999, None),
        ("thrillers from the last few years", 2016, None),
        ("recent sci-fi", 2013, None),
        ("comedies from the 90s", 1990, 1999),
        (
            "I want something from the last twenty years, nothing too long, a classic is fine",
            1999,
            None,
        ),
        ("I don't mind a classic", None, None),
        ("older ones are fine too", None, None),
    ],
)
def test_relative_time_becomes_a_year_range(
    planner: OfflinePlanner, message: str, year_min: int | None, year_max: int | None
) -> None:
    plan = planner.plan(message, EMPTY)
    assert (plan.year_min, plan.year_max, plan.era_shift) == (year_min, year_max, None)


@pytest.mark.parametrize(
    "message", ["a movie from my childhood", "something I grew up with", "when I was a kid"]
)
def test_a_time_only_the_person_knows_is_said_to_be_ignored(
    planner: OfflinePlanner, message: str
) -> None:
    plan = planner.plan(message, EMPTY)
    assert plan.ignored and plan.year_min is None and plan.year_max is None
    assert plan.action == "clarify"  # nothing else to go on: ask


# --- A new request is a new topic ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "context", "new"),
    [
        ("something like the office but a movie", KNOWN, True),
        ("scary", KNOWN, True),
        ("a western", SHOWN, True),
        ("older", SHOWN, False),
        ("more like the second", SHOWN, False),
        ("without romance", SHOWN, False),
        ("from the 90s", SHOWN, False),
        ("funnier", SHOWN, False),
        ("also something scary", SHOWN, False),
        ("but more upbeat", SHOWN, False),
        ("scary", EMPTY, False),  # nothing to leave behind
        ("I loved Inception", KNOWN, False),  # taste, added to the request
    ],
)
def test_a_new_request_starts_a_new_topic_unless_it_refines(
    planner: OfflinePlanner, message: str, context: PlannerContext, new: bool
) -> None:
    assert ("topic" in planner.plan(message, context).drop) is new


def test_a_new_topic_forgets_the_last_description_and_moods_only() -> None:
    before = Preferences(
        moods=["romantic"], vibe="date night", liked=[2], anchor=3, include_genres=["Comedy"]
    )
    after = drop_constraints(before, ["topic"], CATALOG)
    assert after == Preferences(liked=[2], include_genres=["Comedy"])


def test_required_genres_fold_in_and_an_exclusion_removes_them() -> None:
    genres = ["Comedy", "Romance", "Drama"]
    combo = Plan(action="recommend", require_genres=["comedy", "Romance"])
    prefs = apply_plan(Preferences(), combo, liked_ids=[], disliked_ids=[], genres=genres)
    assert prefs.require_genres == ["Comedy", "Romance"]
    assert prefs.include_genres == ["Comedy", "Romance"]
    without = Plan(action="refine", exclude_genres=["Romance"])
    prefs = apply_plan(prefs, without, liked_ids=[], disliked_ids=[], genres=genres)
    assert (prefs.require_genres, prefs.include_genres) == (["Comedy"], ["Comedy"])


def test_a_series_is_the_title_and_every_item_named_after_it() -> None:
    assert sorted(series_members(CATALOG, ["The Matrix"])) == [3, 4]  # and Reloaded
    assert series_members(CATALOG, ["Blorptastic Zingwhirl"]) == []


@pytest.mark.parametrize(
    ("plan", "vibe"),
    [
        (Plan(action="refine", exclude_genres=["Romance"]), "comedy"),
        (Plan(action="refine", avoid_moods=["romantic"]), "comedy"),
        (Plan(action="refine", exclude_genres=["Comedy"]), "romantic"),
        (Plan(action="refine", exclude_genres=["Horror"]), "romantic comedy"),
    ],
)
def test_the_vibe_loses_words_for_what_is_now_unwanted(plan: Plan, vibe: str) -> None:
    before = Preferences(include_genres=["Comedy", "Romance"], vibe="romantic comedy")
    genres = ["Comedy", "Romance", "Horror"]
    after = apply_plan(before, plan, liked_ids=[], disliked_ids=[], genres=genres)
    assert after.vibe == vibe


# --- Decades however written (the plain-request probe) -------------------------------------------


@pytest.mark.parametrize(
    ("message", "years"),
    [
        # "horror" ends in "or": read as "or the 80s", an era only allowed, so no years at all
        ("horror from the 80s", (1980, 1989)),
        ("best horror of the seventies", (1970, 1979)),
        ("a war film from the two thousands", (2000, 2009)),
        ("dramas from the twenty-tens", (2010, 2019)),
        ("a sci-fi movie from the ninties", (1990, 1999)),
        ("an action flick from the eightys", (1980, 1989)),
        ("late nineties thriller", (1996, 1999)),
    ],
)
def test_a_decade_however_written_bounds_the_years(
    planner: OfflinePlanner, message: str, years: tuple[int, int]
) -> None:
    plan = planner.plan(message, EMPTY)
    assert (plan.year_min, plan.year_max) == years
    assert plan.include_genres  # the genre is still read


def test_an_era_only_allowed_still_bounds_nothing(planner: OfflinePlanner) -> None:
    for message in ("I don't mind the 80s", "a comedy, or the 80s is fine"):
        plan = planner.plan(message, EMPTY)
        assert (plan.year_min, plan.year_max) == (None, None), message


def test_years_said_outright_win_over_older(planner: OfflinePlanner) -> None:
    plan = planner.plan("something older, 70s or 80s", SHOWN)
    assert (plan.year_min, plan.year_max, plan.era_shift) == (1970, 1989, None)
    assert planner.plan("something older", SHOWN).era_shift == "older"


def test_sci_fi_misspelt_is_still_sci_fi(planner: OfflinePlanner) -> None:
    for message in ("a scfi movie", "some syfy please"):
        assert planner.plan(message, EMPTY).include_genres == ["Sci-Fi"], message


@pytest.mark.parametrize(
    ("message", "avoided"),
    [
        ("anything except horror, I scare easily", "scary"),
        ("I get scared easily, something else", "scary"),
        ("horror scares me", None),  # the genre is left out instead
    ],
)
def test_what_the_person_cannot_take_is_avoided(
    planner: OfflinePlanner, message: str, avoided: str | None
) -> None:
    plan = planner.plan(message, EMPTY)
    assert "scary" not in plan.moods
    assert plan.avoid_moods == ([avoided] if avoided else [])
    assert "scare" not in plan.vibe and "scared" not in plan.vibe
    if avoided is None:
        assert plan.exclude_genres == ["Horror"]
