"""Title echo: a request word a film's title contains while nothing else about the film does.

Item vectors embed the title together with the rest of the item's text (:mod:`catalog.text`),
so "space movies" lands near *Office Space*, "something fun and light" near *City Lights* and
"for my 6-year-old" near *Old Boy*: the title echoes a word of the request, the film is about
something else. A request word *echoes* in an item when the item's title has it (as a word, a
plural, the start of one: "Oldboy", or the end of a compound: "Spotlight") and its genres, tags and overview do not. Text search
discounts an item by ``ECHO_PENALTY`` times its echo (echoed words over the square root of
the request's words: one title word pulls a long request's vector less), so a film about space
keeps its place ("2001: A Space Odyssey" is tagged "space") and a title that
only shares the word falls back.

Measured on ml-latest-small (``recbot ask``): "space movies" no longer shows *Office Space*,
"something fun and light" no longer opens with *City Lights*.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from functools import lru_cache

from catalog.domain import Catalog, Item
from catalog.folding import fold_accents

ECHO_PENALTY = 0.2  # cosine points per unit of echo; top text hits differ by ~0.05–0.2
MIN_WORD_CHARS = 3
COMPOUND_CHARS = 4  # "spotlight" echoes "light"; "cold" does not echo "old"
_FUNCTION_WORDS = frozenset(
    re.findall(
        r"\w+",
        "the and for with about from that this some something anything movie movies film films"
        " one ones watch want like really very just please into more less not",
    )
)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", fold_accents(text).casefold().replace("'", ""))


def _stem(word: str) -> str:
    """A plural's singular, roughly: "lights" -> "light", "boxes" -> "box"."""
    if len(word) > 4 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def request_words(text: str) -> list[str]:
    """The content words of a request, stemmed, each once: what a title could echo."""
    out: list[str] = []
    for word in _words(text):
        stem = _stem(word)
        if len(stem) >= MIN_WORD_CHARS and word not in _FUNCTION_WORDS and not stem.isdigit():
            out += [stem] if stem not in out else []
    return out


@lru_cache(maxsize=4096)
def _starts_word(stem: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![a-z0-9]){re.escape(stem)}")


def _part_of(stem: str, word: str) -> bool:
    """ "light" in "lights" or "spotlight", "old" in "oldboy": the start of a title word, or
    the end of a compound (stems of ``COMPOUND_CHARS`` or more)."""
    return word.startswith(stem) or (len(stem) >= COMPOUND_CHARS and word.endswith(stem))


class TitleEcho:
    """Per-item echo shares for request words; each item's text is read once, when first met."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        # item id -> (title words, the title's words joined, the rest of its text's words)
        self._items: dict[int, tuple[tuple[str, ...], str, str]] = {}

    def _parts(self, item: Item) -> tuple[tuple[str, ...], str, str]:
        parts = self._items.get(item.id)
        if parts is None:
            title = tuple(_words(item.title))
            body = " ".join(_words(" ".join([*item.genres, *item.tags, item.overview])))
            parts = self._items[item.id] = (title, " ".join(title), body)
        return parts

    def share(self, item_id: int, words: Iterable[str]) -> float:
        """How much the item's title echoes ``words`` (from :func:`request_words`): the echoed
        words over the square root of all of them, at most 1."""
        stems = list(words)
        if not stems or item_id not in self._catalog:
            return 0.0
        title, joined, body = self._parts(self._catalog.get(item_id))
        echoed = sum(
            1
            for stem in stems
            # a stem that is not even a substring of the title cannot start or end a title
            # word: one C-level test rejects most items (~1,000 are scored a text search)
            if stem in joined
            and any(_part_of(stem, word) for word in title)
            and not _starts_word(stem).search(body)
        )
        return min(1.0, echoed / math.sqrt(len(stems)))
