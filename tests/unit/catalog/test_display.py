"""What a person reads of an item: the title in natural order, genres without pseudo-genres.
Title search takes both the catalog's and the natural form."""

from __future__ import annotations

import pytest

from catalog.domain import Catalog, Item
from catalog.titles import natural_order


@pytest.mark.parametrize(
    ("filed", "natural"),
    [
        ("Matrix, The", "The Matrix"),
        ("Inception", "Inception"),
        (
            "Amelie (Fabuleux destin d'Amélie Poulain, Le)",
            "Amelie (Le Fabuleux destin d'Amélie Poulain)",
        ),
        (
            "City of Lost Children, The (Cité des enfants perdus, La)",
            "The City of Lost Children (La Cité des enfants perdus)",
        ),
        ("Avventura, L' (Adventure, The)", "L'Avventura (The Adventure)"),
        ("Boot, Das (Boat, The)", "Das Boot (The Boat)"),
        ("Macbeth (a.k.a. Tragedy of Macbeth, The)", "Macbeth (a.k.a. The Tragedy of Macbeth)"),
        ("Good, the Bad and the Ugly, The", "The Good, the Bad and the Ugly"),
        ("Seven (a.k.a. Se7en)", "Seven (a.k.a. Se7en)"),
        ("(500) Days of Summer", "(500) Days of Summer"),
        ("I Love You, Man", "I Love You, Man"),  # "Man" is no article
        ("Honey, I Shrunk the Kids", "Honey, I Shrunk the Kids"),
        ("Crazy, Stupid, Love.", "Crazy, Stupid, Love."),
    ],
)
def test_natural_order(filed: str, natural: str) -> None:
    assert natural_order(filed) == natural


def test_an_item_shows_its_natural_title_and_real_genres() -> None:
    item = Item(8, "Inception", 2010, ("Action", "Sci-Fi", "IMAX"))
    assert item.display_genres == ("Action", "Sci-Fi")
    assert item.genres == ("Action", "Sci-Fi", "IMAX")  # kept for search and filters
    assert Item(16, "Untitled", None, ("(no genres listed)",)).display_genres == ()
    matrix = Item(4, "Matrix, The", 1999)
    assert (matrix.name, matrix.display_title) == ("The Matrix", "The Matrix (1999)")


@pytest.mark.parametrize(
    "written",
    [
        "The Matrix (1999)",
        "Matrix, The (1999)",
        "Amelie (Le Fabuleux destin d'Amélie Poulain) (2001)",
    ],
)
def test_title_search_takes_the_natural_and_the_filed_form(written: str) -> None:
    catalog = Catalog(
        [
            Item(4, "Matrix, The", 1999, popularity=50),
            Item(6, "Amelie (Fabuleux destin d'Amélie Poulain, Le)", 2001, popularity=40),
            Item(7, "Matrix Reloaded, The", 2003, popularity=30),
        ]
    )
    best = catalog.search_titles(written, limit=1)[0]
    assert best.sure and best.item.display_title in {
        written,
        catalog.get(best.item.id).display_title,
    }
    assert best.item.id == (6 if "Amelie" in written else 4)
