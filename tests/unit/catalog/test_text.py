from __future__ import annotations

import pytest

from catalog.domain import Item
from catalog.text import description_text, item_text, natural_title


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Matrix, The", "The Matrix"),
        ("Inception", "Inception"),
        (
            "Amelie (Fabuleux destin d'Amélie Poulain, Le)",
            "Amelie (Fabuleux destin d'Amélie Poulain, Le)",
        ),
        ("Cité des enfants perdus, La", "La Cité des enfants perdus"),
        ("Avventura, L'", "L'Avventura"),
    ],
)
def test_natural_title(raw: str, expected: str) -> None:
    assert natural_title(raw) == expected


def test_item_text_puts_short_fields_first_and_skips_empty_ones() -> None:
    item = Item(
        4, "Matrix, The", 1999, ("Action", "Sci-Fi"), ("cyberpunk", "philosophy"), "A hacker."
    )
    assert item_text(item) == (
        "The Matrix (1999). Genres: Action, Sci-Fi. Tags: cyberpunk, philosophy. A hacker."
    )
    assert item_text(Item(5, "Untitled")) == "Untitled."


def test_item_text_caps_tags() -> None:
    item = Item(1, "X", tags=tuple(f"t{i}" for i in range(20)))
    assert "t9" in item_text(item) and "t10" not in item_text(item)


def test_a_description_is_the_text_without_its_title_unless_only_genres_describe_it() -> None:
    described = Item(1, "Matrix, The", 1999, ("Action",), ("cyberpunk",), "A hacker learns.")
    assert description_text(described) == "Genres: Action. Tags: cyberpunk. A hacker learns."
    assert item_text(described) == "The Matrix (1999). " + description_text(described)
    bare = Item(2, "Inside (À l'intérieur)", 2007, ("Horror", "Thriller"))
    assert description_text(bare) == item_text(bare)
    assert description_text(bare, enrichment="Tone: tense.") == (
        "Genres: Horror, Thriller. Tone: tense."
    )
