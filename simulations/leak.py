"""The leak guard: does a message name a hidden target, exactly or fuzzily?

A title's names are its main title, its alternative titles in parentheses, the parts around a
colon ("Mad Max: Fury Road" -> "Mad Max", "Fury Road") and its sequel base ("Toy Story 3" ->
"Toy Story", which "Toy Story 2" names too). Names and messages are compared on
:func:`catalog.titles.normalize_title` words, so case, accents, punctuation, a leading or moved
article and the year do not matter; a window of the message's words within ``FUZZY_RATIO`` of a
name (rapidfuzz ``ratio``) counts as a typo of it ("Mtrix").

Short names — one word of at most ``SHORT_NAME_CHARS`` characters ("Up", "Heat", "Seven") or only
common words ("It", "Get Out") — would flag ordinary sentences, so they leak only when written as
a title: Title-Cased away from the start of a sentence ("I loved Heat"), quoted or emphasised
("'heat'", "*Up*"), followed by a year ("heat (1995)") or after "called", "titled" or "named".
"I need some heat in my life" is not a leak. ``strict=True`` drops that leniency (any standalone
occurrence leaks); the rule-based simulator checks its own drafts that way and so never says
those words at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from catalog.folding import fold_accents
from catalog.titles import normalize_title, split_title_year, title_aliases, title_key

FUZZY_RATIO = 90.0
SHORT_NAME_CHARS = 5
_COMMON = frozenset(
    str.split(
        """a an the it its her him his he she they them us we me my i you your up down in on out
        off of to at by for and or but not no yes all one this that what who how why be is are was
        get go got do did so if as am"""
    )
)
# Words that make no name on their own: "Part 2", "The Movie", "Episode IV".
_GENERIC = frozenset(
    str.split(
        """movie film part chapter episode vol volume story the a an first second third last final
        i ii iii iv v vi vii viii ix x 1 2 3 4 5 6 7 8 9"""
    )
)
_SEQUEL = re.compile(
    r"\s+(?:(?:part|chapter|vol|volume)\s+)?(?:\d{1,2}|ii|iii|iv|v|vi|vii|viii|ix)$"
)
_SUBTITLE = re.compile(r"\s*(?::|\s-\s|\s–\s)\s*")
_YEAR_AFTER = re.compile(r"\s*[(\[]?\s*(?:18|19|20)\d\d\b")
_OPEN_QUOTES = "\"'“‘«*_"
_CLOSE_QUOTES = "\"'”’»*_"
_CUE_BEFORE = re.compile(r"\b(?:called|titled|named)\W*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class TitleName:
    """One name of a title as normalised words; ``short`` names follow the stricter rule."""

    words: tuple[str, ...]
    short: bool

    @property
    def key(self) -> str:
        return " ".join(self.words)


def _is_short(words: tuple[str, ...]) -> bool:
    if len(words) == 1 and (len(words[0]) <= SHORT_NAME_CHARS or words[0].isdigit()):
        return True
    return all(word in _COMMON for word in words)


def _name_keys(alias: str) -> list[str]:
    """An alias's key, its colon/dash parts (unless generic, "Part 2") and its sequel base."""
    key = title_key(alias)
    parts = [title_key(part) for part in _SUBTITLE.split(alias) if part.strip()]
    keys = [key, *(parts if len(parts) > 1 else [])]
    keys += [_SEQUEL.sub("", k) for k in keys]
    return [key] + [k for k in keys[1:] if k and not set(k.split()) <= _GENERIC]


@lru_cache(maxsize=8192)
def title_names(title: str) -> tuple[TitleName, ...]:
    """Every name a title goes by, as normalised words (see the module docstring)."""
    main, _year = split_title_year(title)
    keys = dict.fromkeys(k for alias in title_aliases(main) for k in _name_keys(alias))
    names = (tuple(key.split()) for key in keys)
    return tuple(TitleName(words, _is_short(words)) for words in names if words)


def _fold_keep_case(text: str) -> str:
    """Strip accents and in-word apostrophes, keeping case: "Amélie's" -> "Amelies"."""
    return re.sub(r"(?<=\w)['’](?=\w)", "", fold_accents(text))


def _contains(words: list[str], name: tuple[str, ...]) -> bool:
    n = len(name)
    return any(tuple(words[i : i + n]) == name for i in range(len(words) - n + 1))


def _fuzzy(words: list[str], name: TitleName) -> bool:
    """A window of about the name's length within ``FUZZY_RATIO`` of it (typos, "toystory")."""
    n = len(name.words)
    for size in {max(1, n - 1), n, n + 1}:
        for i in range(len(words) - size + 1):
            window = " ".join(words[i : i + size])
            if fuzz.ratio(window, name.key, score_cutoff=FUZZY_RATIO):
                return True
    return False


def _sentence_start(text: str, start: int) -> bool:
    before = text[:start].rstrip().rstrip(_OPEN_QUOTES + "([").rstrip()
    return not before or before[-1] in ".!?:;\n"


def _written_as_title(text: str, match: re.Match[str]) -> bool:
    """The short-name rule of the module docstring, for one occurrence."""
    start, end = match.span()
    if start and end < len(text) and text[start - 1] in _OPEN_QUOTES and text[end] in _CLOSE_QUOTES:
        return True
    if _YEAR_AFTER.match(text, end):
        return True
    if _CUE_BEFORE.search(text[:start]):
        return True
    initials = [word[0] for word in re.findall(r"[^\W_]+", match.group()) if word[0].isalpha()]
    title_cased = bool(initials) and all(char.isupper() for char in initials)
    return title_cased and not _sentence_start(text, start)


def _short_leak(text: str, name: TitleName, strict: bool) -> bool:
    pattern = r"(?<![^\W_])" + r"[\W_]+".join(map(re.escape, name.words)) + r"(?![^\W_])"
    folded = _fold_keep_case(text)
    for match in re.finditer(pattern, folded, flags=re.IGNORECASE):
        if strict or _written_as_title(folded, match):
            return True
    return False


def leaks(text: str, title: str, *, strict: bool = False) -> bool:
    """True when ``text`` names ``title`` (a display title such as "Matrix, The (1999)", or a
    plain one) exactly or fuzzily; see the module docstring for what counts."""
    words = normalize_title(text).split()
    if not words:
        return False
    for name in title_names(title):
        if name.short:
            if _short_leak(text, name, strict):
                return True
        elif _contains(words, name.words) or _fuzzy(words, name):
            return True
    return False


def first_leak(text: str, titles: Iterable[str], *, strict: bool = False) -> str | None:
    """The first of ``titles`` that ``text`` names, or ``None`` when it names none."""
    return next((title for title in titles if leaks(text, title, strict=strict)), None)
