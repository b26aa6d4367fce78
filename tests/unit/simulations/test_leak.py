"""The leak guard: table-driven, text in, leak or not out."""

from __future__ import annotations

import pytest

from simulations.leak import first_leak, leaks, title_names

MATRIX = "Matrix, The (1999)"
AMELIE = "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)"
TOY_STORY_3 = "Toy Story 3 (2010)"
HEAT = "Heat (1995)"
IT_FOLLOWS = "It Follows (2014)"
MAD_MAX = "Mad Max: Fury Road (2015)"


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("the matrix", MATRIX),
        ("Matrix", MATRIX),
        ("matrix 1999", MATRIX),
        ("Mtrix", MATRIX),
        ("I loved The Matrix!", MATRIX),
        ("Matrix, The (1999)", MATRIX),
        ("Matrix, The", "Matrix, The"),  # a plain title without its year
        ("Amelie", AMELIE),
        ("amélie", AMELIE),
        ("something like AMÉLIE please", AMELIE),
        ("le fabuleux destin d'Amélie Poulain", AMELIE),  # the alternative title
        ("Toy Story 2", TOY_STORY_3),  # a sequel names the base
        ("toy story", TOY_STORY_3),
        ("Toy Story 3", "Toy Story (1995)"),
        ("toystory", TOY_STORY_3),
        ("It Follows", IT_FOLLOWS),
        ("have you seen it follows?", IT_FOLLOWS),
        ("something like mad max", MAD_MAX),  # the part before the colon
        ("fury road", MAD_MAX),
        ("I loved Heat", HEAT),  # short title: Title-Cased mid-sentence
        ("Heat (1995) was great", HEAT),  # ... followed by its year
        ("heat 1995", HEAT),
        ("something like 'heat'", HEAT),  # ... quoted
        ("a movie called heat", HEAT),  # ... after "called"
        ("I liked Up a lot", "Up (2009)"),
    ],
)
def test_leaks(text: str, title: str) -> None:
    assert leaks(text, title)
    assert first_leak(text, ["Casablanca (1942)", title]) == title


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("a movie about machines and simulated reality", MATRIX),
        ("something mathematical, from the 90s", MATRIX),
        ("a french romantic comedy", AMELIE),
        ("a story about toys", TOY_STORY_3),
        ("an animated film from 2010", TOY_STORY_3),
        ("it was fun", IT_FOLLOWS),
        ("a horror movie where it follows you", "It (2017)"),
        ("I need some heat in my life", HEAT),  # short title in ordinary phrasing
        ("Heat is what I need tonight", HEAT),  # sentence start: not written as a title
        ("a gritty crime thriller from the 90s", HEAT),
        ("something to cheer me up", "Up (2009)"),
        ("", MATRIX),
        ("...", MATRIX),
    ],
)
def test_does_not_leak(text: str, title: str) -> None:
    assert not leaks(text, title)
    assert first_leak(text, [title]) is None


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("I need some heat in my life", HEAT),
        ("Heat is what I need tonight", HEAT),
        ("it was fun", "It (2017)"),
        ("something to cheer me up", "Up (2009)"),
    ],
)
def test_strict_flags_any_standalone_short_title_word(text: str, title: str) -> None:
    assert not leaks(text, title)
    assert leaks(text, title, strict=True)


def test_strict_still_needs_a_whole_word() -> None:
    assert not leaks("a heated argument at the theatre", HEAT, strict=True)
    assert not leaks("upbeat and fun", "Up (2009)", strict=True)
    assert not leaks("she recalled heat waves", HEAT)  # "called" only as a word


def test_title_names_cover_aliases_parts_and_sequel_base() -> None:
    keys = {
        name.key: name.short for name in title_names("Star Wars: Episode IV - A New Hope (1977)")
    }
    assert {"star wars", "new hope"} <= set(keys)
    assert "episode" not in keys  # generic parts name nothing
    assert {n.key for n in title_names(TOY_STORY_3)} == {"toy story 3", "toy story"}
    assert [(n.key, n.short) for n in title_names(HEAT)] == [("heat", True)]
    assert {n.key for n in title_names(AMELIE)} >= {"amelie", "fabuleux destin d amelie poulain"}


def test_first_leak_returns_the_first_named_title() -> None:
    titles = [HEAT, MATRIX, "Matrix Reloaded, The (2003)"]
    assert first_leak("I loved the Matrix Reloaded", titles) == MATRIX
    assert first_leak("a gritty crime film", titles) is None
