"""Subjects a film is about (catalog/subjects.py): what "nothing with zombies" leaves out."""

from __future__ import annotations

import pytest

from catalog.domain import Catalog, Item
from catalog.subjects import catalog_words, items_about, subject_forms, tag_vocabulary

CATALOG = Catalog(
    [
        Item(1, "Zombieland", 2009, ("Comedy", "Horror"), ("zombies", "funny"), "Survivors."),
        Item(2, "Shaun of the Dead", 2004, ("Comedy",), ("Zombie",), "A slacker's bad day."),
        Item(3, "28 Days Later", 2002, ("Horror",), (), "A zombie outbreak empties London."),
        Item(4, "The Shining", 1980, ("Horror",), ("Stephen King",), "A hotel in winter."),
        Item(5, "Zombies on Ice", 2020, ("Comedy",), (), "Hockey."),
        Item(6, "Forrest Gump", 1994, ("Drama",), ("Tom Hanks",), "A man runs across America."),
        Item(7, "Big", 1988, ("Comedy",), (), "A boy wakes up as a grown man, Tom Hanks."),
        Item(8, "Zombiepocalypse Now", 2021, ("Comedy",), (), "A tomb raider's story."),
    ]
)


@pytest.mark.parametrize(
    ("subject", "forms"),
    [
        ("zombies", {"zombies", "zombie", "zomby"}),  # "stories" -> "story" spells it so
        ("zombie", {"zombie", "zombies"}),
        ("Ghost Stories", {"ghost stories", "ghost story", "ghost storie"}),
        ("story", {"story", "stories"}),
        ("boxes", {"boxes", "boxe", "box"}),
        ("kiss", {"kiss", "kisses"}),
        ("", set()),
    ],
)
def test_a_subject_in_both_numbers(subject: str, forms: set[str]) -> None:
    assert subject_forms(subject) == forms


def test_items_about_a_subject_by_tag_title_or_overview_as_whole_words() -> None:
    assert items_about(CATALOG, "zombies") == (1, 2, 3, 5)  # not "zombieland"'s prefix alone
    assert items_about(CATALOG, "Tom Hanks") == (6, 7)
    assert items_about(CATALOG, "tom") == (7,)  # Big's overview; "tomb" (8) is no "tom"
    assert items_about(CATALOG, "stephen king") == (4,)


def test_the_vocabularies() -> None:
    assert {"zombies", "zombie", "tom hanks", "stephen king", "funny"} == tag_vocabulary(CATALOG)
    words = catalog_words(CATALOG)
    assert {"outbreak", "hockey", "stephen", "zombieland"} <= words and "horror" not in words
