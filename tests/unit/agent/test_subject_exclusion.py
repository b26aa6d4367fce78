"""Which subjects a plan may leave out (agent/dialog.py ``tagged_subjects``), whichever planner
named them: only what the catalog tags, never a word that only says "film"."""

from __future__ import annotations

from agent.dialog import tagged_subjects
from catalog.domain import Catalog, Item

CATALOG = Catalog(
    [
        Item(1, "Zombieland", 2009, ("Comedy",), ("zombies", "movies"), "Survivors."),
        Item(2, "Big", 1988, ("Comedy",), ("Tom Hanks",), "A boy wakes up as a man."),
        Item(3, "Heat", 1995, ("Crime",), (), "A long heist film."),
    ]
)


def test_only_tagged_subjects_are_left_out() -> None:
    named = ["Zombies", "zombie", "movies", "a long film", "", "Tom Hanks", "long", "the film"]
    assert tagged_subjects(named, CATALOG) == ["zombies", "zombie", "tom hanks"]
