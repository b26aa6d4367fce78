from __future__ import annotations

import pytest

from agent.plan import Plan, YearSpan
from agent.preferences import apply_plan, drop_constraints, resolve_titles, shift_era
from agent.state import Preferences
from catalog.domain import Catalog, Item

CATALOG = Catalog(
    [
        Item(1, "Inception", 2010, ("Sci-Fi",), popularity=50),
        Item(2, "Matrix, The", 1999, ("Sci-Fi", "Action"), popularity=60),
        Item(3, "Toy Story", 1995, ("Animation",), popularity=40),
    ]
)
GENRES = ("Action", "Animation", "Comedy", "Sci-Fi")


def test_resolve_titles_links_sure_matches_and_reports_unknown_ones() -> None:
    result = resolve_titles(CATALOG, ["inception", "the matrix", "Zorblax Returns"])
    assert result.ids == [1, 2]
    assert result.unresolved == ["Zorblax Returns"]


@pytest.mark.parametrize(
    ("before", "plan", "expected"),
    [
        # a genre wanted, then excluded: the later statement wins
        (Preferences(include_genres=["Comedy"]), Plan(action="refine", exclude_genres=["comedy"]),
         Preferences(exclude_genres=["Comedy"])),
        # unknown genre names from a planner are dropped
        (Preferences(), Plan(action="recommend", include_genres=["Space Opera", "sci-fi"]),
         Preferences(include_genres=["Sci-Fi"])),
        # a mood avoided after being wanted
        (Preferences(moods=["dark"]), Plan(action="refine", avoid_moods=["dark"]),
         Preferences(avoid_moods=["dark"])),
        # a new year range replaces the old one
        (Preferences(year_min=1990, year_max=1999), Plan(action="refine", year_min=2010),
         Preferences(year_min=2010)),
        # years excluded add up, and a wanted window is kept around them
        (Preferences(year_min=1970, exclude_years=[YearSpan(first=1980, last=1989)]),
         Plan(action="refine", exclude_years=[YearSpan(first=2000, last=2009)]),
         Preferences(year_min=1970, exclude_years=[YearSpan(first=1980, last=1989),
                                                   YearSpan(first=2000, last=2009)])),
        # a window asked for later lifts an exclusion it lies within, not the others
        (Preferences(exclude_years=[YearSpan(first=1990, last=1999), YearSpan(first=1970, last=1979)]),
         Plan(action="refine", year_min=1995, year_max=1998),
         Preferences(year_min=1995, year_max=1998, exclude_years=[YearSpan(first=1970, last=1979)])),
        # a one-sided window both can hold keeps the exclusion ("nothing before 1980")
        (Preferences(exclude_years=[YearSpan(first=1990, last=1999)]),
         Plan(action="refine", year_min=1980),
         Preferences(year_min=1980, exclude_years=[YearSpan(first=1990, last=1999)])),
        # excluding the very years asked for before ends that window
        (Preferences(include_genres=["Comedy"], year_min=1990, year_max=1999),
         Plan(action="refine", exclude_years=[YearSpan(first=1999, last=1990)]),
         Preferences(include_genres=["Comedy"], exclude_years=[YearSpan(first=1990, last=1999)])),
        # a new vibe replaces the old; an empty one keeps it
        (Preferences(vibe="heist"), Plan(action="refine", vibe="space"), Preferences(vibe="space")),
        (Preferences(vibe="heist"), Plan(action="refine"), Preferences(vibe="heist")),
        # a genre liked as a taste ("I love comedies"), then asked for: now a must
        (Preferences(prefer_genres=["Comedy"]), Plan(action="refine", include_genres=["comedy"]),
         Preferences(include_genres=["Comedy"])),
        # asked for, then said to be liked: a taste does not loosen a must
        (Preferences(include_genres=["Comedy"]), Plan(action="refine", prefer_genres=["Comedy"]),
         Preferences(include_genres=["Comedy"])),
        # a taste ruled out; ruled out, then liked: the later statement wins
        (Preferences(prefer_genres=["Comedy"]), Plan(action="refine", exclude_genres=["Comedy"]),
         Preferences(exclude_genres=["Comedy"])),
        (Preferences(exclude_genres=["Comedy"]), Plan(action="refine", prefer_genres=["Comedy"]),
         Preferences(prefer_genres=["Comedy"])),
        # tastes add up and never become a filter
        (Preferences(prefer_genres=["Comedy"]), Plan(action="refine", prefer_genres=["sci-fi"]),
         Preferences(prefer_genres=["Comedy", "Sci-Fi"])),
    ],
)  # fmt: skip
def test_later_statements_override_earlier_ones(
    before: Preferences, plan: Plan, expected: Preferences
) -> None:
    assert apply_plan(before, plan, liked_ids=[], disliked_ids=[], genres=GENRES) == expected


def test_liked_then_disliked_moves_the_item() -> None:
    prefs = apply_plan(
        Preferences(liked=[1]), Plan(action="refine"), liked_ids=[], disliked_ids=[1], genres=GENRES
    )
    assert prefs.liked == [] and prefs.disliked == [1]


@pytest.mark.parametrize(
    ("drops", "expected"),
    [
        (["genre:comedy"], Preferences(liked=[1], exclude_genres=["Horror"], year_min=1990, moods=["light"])),
        (["years"], Preferences(liked=[1], include_genres=["Comedy"], exclude_genres=["Horror"], moods=["light"])),
        (["mood:light"], Preferences(liked=[1], include_genres=["Comedy"], exclude_genres=["Horror"], year_min=1990)),
        (["liked:Inception"], Preferences(include_genres=["Comedy"], exclude_genres=["Horror"], year_min=1990, moods=["light"])),
        (["all"], Preferences()),
    ],
)  # fmt: skip
def test_drop_constraints(drops: list[str], expected: Preferences) -> None:
    before = Preferences(
        liked=[1],
        include_genres=["Comedy"],
        exclude_genres=["Horror"],
        year_min=1990,
        moods=["light"],
    )
    assert drop_constraints(before, drops, CATALOG) == expected


@pytest.mark.parametrize(
    ("before", "drop", "expected"),
    [
        # "the 80s are fine after all": only the overlapping exclusion goes
        (Preferences(exclude_years=[YearSpan(first=1980, last=1989), YearSpan(first=2000, last=2009)]),
         "years:1980-1989", Preferences(exclude_years=[YearSpan(first=2000, last=2009)])),
        # "from 2000 on", then "the 90s are ok too": the window widens to take them in
        (Preferences(year_min=2000), "years:1990-1999", Preferences(year_min=1990)),
        (Preferences(year_max=1979), "years:1980-1989", Preferences(year_max=1989)),
        # "from 2000 on", then "the 80s are fine too": not the 90s between them
        (Preferences(year_min=2000), "years:1980-1989",
         Preferences(year_min=1980, exclude_years=[YearSpan(first=1990, last=1999)])),
        (Preferences(year_max=1969), "years:1980-1989",
         Preferences(year_max=1989, exclude_years=[YearSpan(first=1970, last=1979)])),
        # a malformed span changes nothing
        (Preferences(year_min=2000), "years:soon", Preferences(year_min=2000)),
        # plain "years" forgets windows and exclusions alike
        (Preferences(year_min=1970, exclude_years=[YearSpan(first=1980, last=1989)]), "years",
         Preferences()),
    ],
)  # fmt: skip
def test_years_allowed_again(before: Preferences, drop: str, expected: Preferences) -> None:
    assert drop_constraints(before, [drop], CATALOG) == expected


def test_older_moves_the_window_below_the_last_lists_median() -> None:
    prefs = shift_era(Preferences(year_min=2000), "older", [2004, 2010, 2012])
    assert (prefs.year_min, prefs.year_max) == (2000, 2009)  # the lower bound still fits
    prefs = shift_era(Preferences(year_min=2012), "older", [2010, 2011, 2012])
    assert (prefs.year_min, prefs.year_max) == (None, 2010)  # it no longer does: dropped
    newer = shift_era(Preferences(), "newer", [1990, 1995, 2001])
    assert newer.year_min == 1996
    assert shift_era(Preferences(), "older", []) == Preferences()


SEQUELS = Catalog(
    [
        Item(11, "Godfather, The", 1972, ("Crime",), popularity=90),
        Item(12, "Godfather: Part II, The", 1974, ("Crime",), popularity=70),
        Item(13, "Godfather: Part III, The", 1990, ("Crime",), popularity=40),
        Item(14, "Toy Story", 1995, ("Animation",), popularity=90),
        Item(15, "Toy Story 2", 1999, ("Animation",), popularity=70),
        Item(16, "Toy Story 3", 2010, ("Animation",), popularity=60),
        Item(17, "Rocky", 1976, ("Drama",), popularity=50),
        Item(18, "Rocky II", 1979, ("Drama",), popularity=30),
        Item(19, "Apollo 13", 1995, ("Drama",), popularity=50),
        Item(20, "Blade Runner 2049", 2017, ("Sci-Fi",), popularity=50),
    ]
)


@pytest.mark.parametrize(
    "title", ["The Godfather Part IV", "Toy Story 5", "Toy Story 4", "Rocky IV", "Apollo 14"]
)
def test_a_sequel_the_series_lacks_is_not_found(title: str) -> None:
    result = resolve_titles(SEQUELS, [title])
    assert result.ids == [] and result.unresolved == [title]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("The Godfather Part II", 12),
        ("Godfather 2", 12),  # not the first film, which the plain search ranks first
        ("The Godfather Part 3", 13),
        ("The Godfather", 11),
        ("Toy Story 2", 15),
        ("toy story ii", 15),
        ("Toy Story", 14),
        ("Rocky 2", 18),
        ("Apollo 13", 19),
        ("Blade Runner 2049", 20),
    ],
)
def test_real_sequels_link_to_their_instalment(title: str, expected: int) -> None:
    assert resolve_titles(SEQUELS, [title]).ids == [expected]
