"""The opening line answers this turn: seen, rejected, newer, lighter, a named title, years."""

from __future__ import annotations

import pytest

from agent.context import Deps
from agent.opening import DEFAULT, opening_line
from agent.plan import Plan, ShownFeedback, YearSpan

SEEN_ALL = [ShownFeedback(kind="seen", position=p) for p in (1, 2, 3)]


@pytest.mark.parametrize(
    ("plan", "named", "follow_up", "expected"),
    [
        (
            Plan(action="refine", feedback=SEEN_ALL),
            [],
            True,
            "Since you've seen those, here are others:",
        ),
        (
            Plan(action="refine", feedback=[ShownFeedback(kind="seen", position=2)]),
            [],
            True,
            "Since you've seen that one, here are others:",
        ),
        (
            Plan(action="refine", feedback=[ShownFeedback(kind="rejected", position=1)]),
            [],
            True,
            "Here are others instead:",
        ),
        (Plan(action="refine", era_shift="newer"), [], True, "Newer ones, then:"),
        (Plan(action="refine", era_shift="older"), [], True, "Older ones, then:"),
        (Plan(action="refine", moods=["lighter"]), [], True, "Lighter picks:"),
        (Plan(action="refine", exclude_genres=["Romance"]), [], True, "Without Romance, then:"),
        (Plan(action="refine", more_like_position=2), [], True, "More like that one:"),
        (
            Plan(action="recommend", liked_titles=["Inception"], avoid_moods=["depressing"]),
            [8],
            False,
            "Close to Inception, but lighter in tone:",
        ),
        (
            Plan(action="recommend", liked_titles=["the matrix", "toy story"]),
            [4, 1],
            False,
            "Close to The Matrix and Toy Story:",
        ),
        (
            Plan(action="recommend", include_genres=["Comedy", "Romance"], year_min=2006),
            [],
            False,
            "Comedy and Romance picks from 2006 on:",
        ),
        (
            Plan(
                action="recommend",
                include_genres=["Comedy"],
                year_min=1970,
                exclude_years=[YearSpan(first=1990, last=1999), YearSpan(first=2005, last=2007)],
            ),
            [],
            False,
            "Comedy picks from 1970 on, not from the 1990s or 2005 to 2007:",
        ),
        (
            Plan(action="recommend", exclude_years=[YearSpan(first=1984, last=1984)]),
            [],
            False,
            "Here are some picks not from 1984:",
        ),
        (Plan(action="refine", drop=["years:1980-1989"]), [], True, "With those years back in:"),
        (Plan(action="recommend", include_genres=["IMAX"]), [], False, DEFAULT),
        (Plan(action="recommend", vibe="space"), [], False, DEFAULT),
        (None, [], False, DEFAULT),
    ],
)
def test_opening_line(
    plan: Plan | None, named: list[int], follow_up: bool, expected: str, agent_deps: Deps
) -> None:
    catalog = agent_deps.tools.catalog
    assert opening_line(plan, named, catalog, follow_up=follow_up) == expected
