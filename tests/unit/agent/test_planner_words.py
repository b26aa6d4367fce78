"""The planner's everyday word lists, and reading a message into words."""

from __future__ import annotations

from agent.planner.words import COMMON_WORDS, STOPWORDS, TypoFixer, one_edit_apart, read_words


def test_word_lists_mark_everyday_titles_as_common() -> None:
    assert {"up", "it", "her", "heat", "alien", "aliens", "air"} <= COMMON_WORDS
    assert {"inception", "memento", "casablanca", "matrix", "nemo"}.isdisjoint(COMMON_WORDS)
    assert STOPWORDS <= COMMON_WORDS


def test_read_words_keeps_offsets_separators_and_quotes() -> None:
    words = read_words("I loved d'Amélie, and 'Up'.")
    assert [w.norm for w in words] == ["i", "loved", "d", "amelie", "and", "up"]
    assert [w.sep for w in words] == ["", "", "", "", ",", "'"]
    assert words[2].text == words[3].text == "d'Amélie"  # one token, two words
    assert [w.quote for w in words] == [-1, -1, -1, -1, -1, 0]
    assert words[0].sentence_start and not words[1].sentence_start


def test_one_edit_apart() -> None:
    assert one_edit_apart("horor", "horror") and one_edit_apart("horror", "horor")
    assert one_edit_apart("comdey", "comedy")  # neighbours swapped
    assert one_edit_apart("thriler", "thriller") and one_edit_apart("dramma", "drama")
    assert not one_edit_apart("comedy", "comedy")
    assert not one_edit_apart("hrror", "horrors") and not one_edit_apart("cmoedy", "comdey")


def test_typos_are_fixed_only_for_words_the_catalog_never_uses() -> None:
    fixer = TypoFixer({"horror", "western", "scary", "sad"}, known={"eastern", "scars"})
    assert fixer.fix("horor") == "horror" and fixer.fix("westren") == "western"
    assert fixer.fix("eastern") is None  # a real word, one letter from "western"
    assert fixer.fix("scars") is None and fixer.fix("scray") == "scary"
    assert fixer.fix("sadd") is None  # too short to tell
    assert fixer.fix("horror") is None
