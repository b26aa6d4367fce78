"""No franchise fills the list (agent/ranking.py ``spread_series``)."""

from __future__ import annotations

from agent.ranking import spread_series
from agent.state import Candidate
from catalog.domain import Catalog, Item

CATALOG = Catalog(
    [
        Item(1, "Matrix, The", 1999, ("Sci-Fi",)),
        Item(2, "Matrix Reloaded, The", 2003, ("Sci-Fi",)),
        Item(3, "Matrix Revolutions, The", 2003, ("Sci-Fi",)),
        Item(4, "Blade Runner", 1982, ("Sci-Fi",)),
        Item(5, "Toy Story 2", 1999, ("Animation",)),
        Item(6, "Toy Story 3", 2010, ("Animation",)),
        Item(7, "Up", 2009, ("Animation",)),
        Item(8, "Alien", 1979, ("Horror",)),
        Item(9, "Toy Story 4", 2019, ("Animation",)),
    ]
)


def ranked(*ids: int) -> list[Candidate]:
    return [Candidate(item_id=i, score=1.0 - n / 10) for n, i in enumerate(ids)]


def ids(candidates: list[Candidate]) -> list[int]:
    return [c.item_id for c in candidates]


def test_a_series_keeps_two_films_in_place_and_the_rest_wait() -> None:
    assert ids(spread_series(ranked(5, 6, 9, 7, 4, 8), CATALOG)) == [5, 6, 7, 4, 8, 9]
    assert ids(spread_series(ranked(5, 6, 7, 4), CATALOG)) == [5, 6, 7, 4]  # two may stay


def test_the_series_of_a_named_film_waits_behind_every_other_film() -> None:
    # "something like The Matrix": Reloaded and Revolutions are the Matrix's series
    assert ids(spread_series(ranked(2, 3, 4, 7), CATALOG, named=[1])) == [4, 7, 2, 3]
    assert ids(spread_series(ranked(2, 3, 4, 7), CATALOG)) == [2, 3, 4, 7]  # unrelated keys


def test_nothing_is_dropped_and_short_titles_are_no_series() -> None:
    order = ranked(7, 8, 1, 4)
    assert ids(spread_series(order, CATALOG, named=[7])) == [7, 8, 1, 4]
