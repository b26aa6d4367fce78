"""Title parsing and fuzzy title search.

Copes with the ways people write titles: "inception", "the matrix", "Matrix, The (1999)",
"Amelie" vs "Amélie", typos, and missing or present years. Returns ranked matches with scores so
callers can tell a sure match from a guess.

Scoring, in points out of 100 (each rule has a named constant below):

* similarity: ``fuzz.ratio`` of the query key against an alias key, so "matrix" prefers
  "Matrix, The" (100) to "Matrix Reloaded, The"; a query found as whole words inside a longer
  alias scores ``CONTAINED_BASE``..``CONTAINED_TOP``, and a match on the part of a title before
  its colon is capped at ``SHORT_TITLE_CAP``. Neither can be sure on its own.
* penalties: a year in the query that differs from the item's; an article the query spells but
  the alias does not have; and up to ``POPULARITY_PRIOR`` points for obscurity, which breaks ties
  between equally good matches in favour of the better known item.
* sure: the top match scores at least ``SURE_SCORE`` and beats the runner-up by ``SURE_MARGIN``.

What a score is good for is one policy, here, read through :class:`TitleMatch`: ``sure`` is taken
without comment, ``usable`` (``USABLE_SCORE``) is taken as the title meant but a reply says which
item it took, ``plausible`` (``PLAUSIBLE_SCORE``) is only offered as "did you mean", and
``names_it`` (``NAMING_SCORE``) says a phrase would be read as that title's name.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from rapidfuzz import fuzz, process

from catalog.folding import fold_accents

MIN_SCORE = 50.0  # below this a "match" is noise and is dropped
SURE_SCORE = 90.0  # with SURE_MARGIN: taken without comment
USABLE_SCORE = 80.0  # taken as the title meant; below SURE_SCORE a reply says which item it took
PLAUSIBLE_SCORE = 60.0  # worth offering as "did you mean"
NAMING_SCORE = 95.0  # a phrase this close to a title reads as its name ("toys", "boyhood")
SURE_MARGIN = 5.0  # more than the popularity prior, so equal titles are never sure without a year
CONTAINED_BASE = 60.0  # the query is a few words of a long title: "harry potter"
CONTAINED_TOP = 85.0  # ... or most of it; still below SURE_SCORE
SHORT_TITLE_CAP = 85.0
WRONG_YEAR_PENALTY = 15.0
NEAR_YEAR_PENALTY = 5.0  # people often misremember a release year by one
UNKNOWN_YEAR_PENALTY = 5.0  # the query names a year and the item has none
ARTICLE_PENALTY = 3.0  # "die hard" should prefer "Die Hard" to a film called "Hard"
POPULARITY_PRIOR = 2.0
SHORTLIST_SIZE = 200  # alias keys scored per query reading and per way of matching

_YEAR_AT_END = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})(?:[-–]\d{0,4})?\)\s*$")
_BARE_YEAR_AT_END = re.compile(r"^(?P<title>.*?\w.*?)[\s,;:–-]+(?P<year>(?:18|19|20)\d\d)$")


def split_title_year(raw: str) -> tuple[str, int | None]:
    """Split ``"Matrix, The (1999)"`` into ``("Matrix, The", 1999)``; no year gives ``None``.

    Ranges such as ``"(2005-2007)"`` (series) keep the first year.
    """
    text = raw.strip()
    match = _YEAR_AT_END.match(text)
    if match is None or not match.group("title"):
        return text, None
    return match.group("title").strip(), int(match.group("year"))


# Articles MovieLens files at the end of a title or of an alternative title ("Boot, Das",
# "Fabuleux destin d'Amélie Poulain, Le"), as written there.
_FILED_ARTICLE = re.compile(
    r"^(?P<body>.*\S),\s+(?P<article>The|A|An|Le|La|Les|L'|El|Il|I|Lo|Gli|Los|Las|Un|Une|Una"
    r"|Der|Die|Das|De|Det|Den|En|Ett|Het|O|Os|As)$"
)
_PART = re.compile(r"\(([^()]*)\)|[^()]+")


def natural_order(title: str) -> str:
    """A title as people write it: ``"Matrix, The"`` -> ``"The Matrix"``; each alternative title
    in parentheses too (``"Amelie (Fabuleux destin d'Amélie Poulain, Le)"`` -> ``"Amelie (Le
    Fabuleux destin d'Amélie Poulain)"``). Matching never needs this (:func:`title_key`), and
    embeddings keep :func:`catalog.text.natural_title`, so vectors do not move."""

    def unfiled(part: str) -> str:
        aka = re.match(r"\s*a\.k\.a\.\s+", part, re.IGNORECASE)
        prefix, rest = (part[: aka.end()], part[aka.end() :]) if aka else ("", part)
        match = _FILED_ARTICLE.match(rest.strip())
        if match is None:
            return part
        article = match.group("article")
        return prefix + article + ("" if article.endswith("'") else " ") + match.group("body")

    parts: list[str] = []
    for match in _PART.finditer(title):
        inner = match.group(1)
        if inner is not None:
            parts.append(f"({unfiled(inner)})")
        else:
            lead, body, trail = _edges(match.group(0))
            parts.append(lead + unfiled(body) + trail)
    return "".join(parts)


def _edges(text: str) -> tuple[str, str, str]:
    """``"  x y "`` -> ``("  ", "x y", " ")``: a segment and the spaces around it."""
    body = text.strip()
    if not body:
        return text, "", ""
    start = text.index(body)
    return text[:start], body, text[start + len(body) :]


# --- Normalisation -------------------------------------------------------------------------------

# Leading articles dropped from match keys, English and the foreign ones MovieLens moves to the end
# ("Boot, Das"). "l" is the elided French/Italian "l'" after normalisation ("l'avventura").
_ARTICLES = frozenset(
    {"the", "a", "an", "le", "la", "les", "l", "el", "il", "lo", "gli", "un", "une", "una"}
    | {"der", "die", "das", "los", "las"}
)
_TRAILING_ARTICLE = re.compile(
    r"^(?P<body>.*\S)\s*,\s*(?P<article>" + "|".join(sorted(_ARTICLES - {"l"})) + r"|l')$"
)
_APOSTROPHES = re.compile(r"[’‘`ʼ]")
_ELISION = re.compile(r"\b([ld])'")  # "l'avventura", "d'amelie": the article is a word of its own
_NON_WORD = re.compile(r"[\W_]+")


def normalize_title(text: str) -> str:
    """The readable normal form of a title: ``"Matrix, The"`` -> ``"the matrix"``.

    Lowercases, strips accents, spells "&" as "and", moves a trailing article to the front and
    turns punctuation into spaces (apostrophes inside words vanish: "schindler's" ->
    "schindlers"). Articles are kept; :func:`title_key` drops them for matching.
    """
    folded = _APOSTROPHES.sub("'", fold_accents(text).casefold()).strip()
    folded = _TRAILING_ARTICLE.sub(r"\g<article> \g<body>", folded)
    folded = _ELISION.sub(r"\1 ", folded).replace("'", "").replace("&", " and ")
    return " ".join(_NON_WORD.sub(" ", folded).split())


def _split_article(normalized: str) -> tuple[str, str]:
    """``"the matrix"`` -> ``("the", "matrix")``; a title that is only an article keeps it."""
    head, _, rest = normalized.partition(" ")
    if head in _ARTICLES and rest:
        return head, rest
    return "", normalized


def title_key(text: str) -> str:
    """The key titles are matched on: normalised and without a leading article.

    ``"Matrix, The"``, ``"The Matrix"`` and ``"matrix"`` all give ``"matrix"``, so people need not
    remember how the catalog files a title.
    """
    return _split_article(normalize_title(text))[1]


# --- Aliases -------------------------------------------------------------------------------------

_PARENTHESISED = re.compile(r"\(([^()]*)\)")
_AKA = re.compile(r"^\s*(?:a\.\s*k\.\s*a\.?|aka)\s+", re.IGNORECASE)


def title_aliases(title: str) -> list[str]:
    """The names a catalog title goes by, as written: the main title, then its alternatives.

    MovieLens puts alternative titles in parentheses: ``"Seven (a.k.a. Se7en)"`` gives
    ``["Seven", "Se7en", "Seven (a.k.a. Se7en)"]``. The full title comes last so a pasted
    display title matches too. Aliases with the same :func:`title_key` appear once.
    """
    main = " ".join(_PARENTHESISED.sub(" ", title).split()) or title.strip()
    alternatives = [_AKA.sub("", inner).strip() for inner in _PARENTHESISED.findall(title)]
    aliases: list[str] = []
    seen: set[str] = set()
    for alias in [main, *alternatives, title.strip()]:
        key = title_key(alias)
        if key and key not in seen:
            seen.add(key)
            aliases.append(alias)
    return aliases


def _short_title(main: str) -> str | None:
    """The part before a colon ("Star Wars: Episode IV - A New Hope" -> "Star Wars"), if any."""
    head, colon, tail = main.partition(":")
    return head.strip() if colon and head.strip() and tail.strip() else None


_SERIES_TAIL = re.compile(r"(?: (?:part|chapter|episode|vol|volume))?(?: (?:\d+|[ivx]+))+$")
MIN_SERIES_CHARS = 4  # shorter base titles ("up", "it") would gather unrelated films


def series_key(title: str) -> str:
    """The name a title's series shares: the key before a colon, without a trailing number
    ("Toy Story 3" -> "toy story", "Star Wars: Episode V - ..." -> "star wars"); "" when too
    short to tell a series by."""
    main = " ".join(_PARENTHESISED.sub(" ", title).split()) or title
    key = title_key(_short_title(main) or main)
    key = _SERIES_TAIL.sub("", key).strip() or key
    named = _HERO_AND_THE.match(key)  # "Harry Potter and the Goblet of Fire": no colon
    key = named.group(1) if named else key
    return key if len(key) >= MIN_SERIES_CHARS else ""


# a hero's name of two or three words, then "and the": "Harry Potter and the Chamber of
# Secrets", "Indiana Jones and the Temple of Doom" (one word is too little: "Beauty and the
# Beast", "Charlie and the Chocolate Factory")
_HERO_AND_THE = re.compile(r"^(\w+ \w+(?: \w+)?) and the \w")


_ROMAN = {"i": 1, "v": 5, "x": 10}
_INSTALMENT_AT_END = re.compile(
    r"(?:^| )(?:(?:part|chapter|episode|vol|volume) )?(\d{1,2}|[ivx]+)$"
)
_INSTALMENT_AFTER_COLON = re.compile(r"^(?:part|chapter|episode|vol|volume) (\d{1,2}|[ivx]+)\b")


def _numeral(text: str) -> int | None:
    """``"2"`` -> 2, ``"iv"`` -> 4; None for what is no numeral (``"vix"``)."""
    if text.isdigit():
        return int(text)
    values = [_ROMAN[char] for char in text]
    total = sum(-v if v < nxt else v for v, nxt in zip(values, [*values[1:], 0], strict=True))
    return total if 0 < total < 40 and _roman(total) == text else None


def _roman(number: int) -> str:
    tens, rest = divmod(number, 10)
    units = ["", "i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix"]
    return "x" * tens + units[rest]


def instalment(title: str) -> int | None:
    """The sequel number a title names: ``"Toy Story 3"`` -> 3, ``"The Godfather Part IV"``
    -> 4, ``"Star Wars: Episode V - ..."`` -> 5; None when it names none ("Toy Story", a
    trailing year as in "Heat 1995")."""
    main = " ".join(_PARENTHESISED.sub(" ", split_title_year(title)[0]).split()) or title
    _, colon, tail = main.partition(":")
    if colon:
        match = _INSTALMENT_AFTER_COLON.match(title_key(tail))
        if match is not None:
            return _numeral(match.group(1))
    match = _INSTALMENT_AT_END.search(title_key(main))
    return _numeral(match.group(1)) if match is not None else None


def same_instalment(query: str, title: str) -> bool:
    """Whether ``title`` can be the film ``query`` names, as far as sequel numbers tell: a query
    naming no number fits any; a title naming none is the first ("Godfather 2" is not "The
    Godfather", "Toy Story 5" is no film of a catalog that stops at 3)."""
    wanted = instalment(query)
    return wanted is None or wanted == (instalment(title) or 1)


def in_series(key: str, title: str) -> bool:
    """Whether ``title`` belongs to the series named ``key`` (from :func:`series_key`): its own
    key starts with the series name as whole words ("the matrix reloaded" for "matrix")."""
    own = title_key(" ".join(_PARENTHESISED.sub(" ", title).split()) or title)
    return bool(key) and (own == key or own.startswith(key + " "))


# --- Search --------------------------------------------------------------------------------------


class Titled(Protocol):
    """What title search needs of an item; :class:`catalog.domain.Item` has it. Searching a
    protocol, not the catalog's own type, keeps this module below ``catalog.domain``."""

    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def year(self) -> int | None: ...
    @property
    def popularity(self) -> int: ...


T = TypeVar("T", bound=Titled)


@dataclass(frozen=True, slots=True)
class TitleMatch(Generic[T]):
    """One item found for a title query; ``alias`` is the name of the item that matched."""

    item: T
    score: float  # 0..100, higher is better
    sure: bool  # only ever true for the first match of a search
    alias: str

    @property
    def usable(self) -> bool:
        """Good enough to act on as the title meant (if not ``sure``, say which item it took)."""
        return self.score >= USABLE_SCORE

    @property
    def plausible(self) -> bool:
        """Worth offering as a guess: "did you mean …?"."""
        return self.score >= PLAUSIBLE_SCORE

    @property
    def names_it(self) -> bool:
        """Close enough that the query reads as this title's name, not as ordinary words."""
        return self.score >= NAMING_SCORE


@dataclass(frozen=True, slots=True)
class _Alias:
    """One searchable name of an item, with its precomputed match key."""

    text: str
    key: str
    article: str  # the leading article the key dropped, "" if none
    cap: float  # the best similarity this alias can give
    position: int  # of its item in the index


@dataclass(frozen=True, slots=True)
class _Reading:
    """One way to read a query: its match key, the article it spelled, and the year it asked for."""

    key: str
    article: str
    year: int | None


@dataclass(frozen=True, slots=True)
class _Candidate:
    """The best alias of one item for a query, and its final score."""

    position: int
    score: float
    alias: str


def _reading(title: str, year: int | None) -> _Reading:
    """Read ``title`` as a title asked for in ``year``."""
    article, key = _split_article(normalize_title(title))
    return _Reading(key=key, article=article, year=year)


def _read_query(query: str) -> list[_Reading]:
    """The readings of a query: ``"heat (1995)"`` has one, ``"blade runner 2049"`` two.

    A bare trailing year may be part of the title, so the query is also read whole and each item
    keeps its best reading. Empty queries have no reading.
    """
    title, year = split_title_year(query)
    readings = [_reading(title, year)]
    bare = _BARE_YEAR_AT_END.match(title) if year is None else None
    if bare is not None:
        readings.append(_reading(bare.group("title"), int(bare.group("year"))))
    return [reading for reading in readings if reading.key]


def _year_penalty(wanted: int | None, actual: int | None) -> float:
    """Points an item loses when the query asks for a year: none if it asks for none."""
    if wanted is None:
        return 0.0
    if actual is None:
        return UNKNOWN_YEAR_PENALTY
    gap = abs(wanted - actual)
    if gap == 0:
        return 0.0
    return NEAR_YEAR_PENALTY if gap == 1 else WRONG_YEAR_PENALTY


def _obscurity_penalties(items: Sequence[Titled]) -> list[float]:
    """Up to ``POPULARITY_PRIOR`` points per item, zero for the most popular, on a log scale."""
    scale = math.log1p(max((item.popularity for item in items), default=0))
    if scale <= 0:
        return [0.0] * len(items)
    return [
        POPULARITY_PRIOR * (1.0 - math.log1p(max(item.popularity, 0)) / scale) for item in items
    ]


def _item_aliases(item: Titled, position: int) -> Iterator[_Alias]:
    """Every alias of an item with its key; the short title only when it is new."""
    names = title_aliases(item.title)
    for name in names:
        article, key = _split_article(normalize_title(name))
        yield _Alias(name, key, article, 100.0, position)
    short = _short_title(names[0]) if names else None
    if short is not None and title_key(short) not in {title_key(name) for name in names}:
        article, key = _split_article(normalize_title(short))
        yield _Alias(short, key, article, SHORT_TITLE_CAP, position)


def _contained_similarity(query_key: str, alias_key: str) -> float:
    """Similarity of a query found as whole words inside a longer alias ("harry potter").

    Between ``CONTAINED_BASE`` and ``CONTAINED_TOP`` by how much of the alias the query covers:
    a useful guess, never a sure match.
    """
    coverage = len(query_key) / max(len(alias_key), 1)
    return CONTAINED_BASE + (CONTAINED_TOP - CONTAINED_BASE) * min(coverage, 1.0)


def _is_sure(scores: list[float]) -> bool:
    """The best score is high and clearly ahead of the next item's."""
    if not scores or scores[0] < SURE_SCORE:
        return False
    return len(scores) == 1 or scores[0] - scores[1] >= SURE_MARGIN


class TitleIndex(Generic[T]):
    """Fuzzy title search over a fixed set of items.

    Alias keys are computed once. A query scores every key in rapidfuzz's C++ ``process.extract``
    and applies penalties in Python only to a shortlist, so a search over 10,000 items takes a few
    milliseconds.
    """

    def __init__(self, items: Iterable[T]) -> None:
        self._items = list(items)
        self._obscurity = _obscurity_penalties(self._items)
        self._aliases = [
            alias
            for position, item in enumerate(self._items)
            for alias in _item_aliases(item, position)
        ]
        self._keys = [alias.key for alias in self._aliases]
        self._padded = [f" {key} " for key in self._keys]  # for whole-word containment tests

    def __len__(self) -> int:
        return len(self._items)

    def search(self, query: str, limit: int = 5) -> list[TitleMatch[T]]:
        """Up to ``limit`` distinct items whose titles match ``query``, best first.

        Only the first match can be ``sure``; matches scoring under ``MIN_SCORE`` are dropped,
        so an empty or nonsense query gives an empty list.
        """
        if limit < 1:
            return []
        best: dict[int, _Candidate] = {}
        for reading in _read_query(query):
            for candidate in self._candidates(reading):
                kept = best.get(candidate.position)
                if kept is None or candidate.score > kept.score:
                    best[candidate.position] = candidate
        ranked = sorted(best.values(), key=self._rank)
        sure = _is_sure([candidate.score for candidate in ranked])
        return [
            TitleMatch(self._items[c.position], c.score, sure and rank == 0, c.alias)
            for rank, c in enumerate(ranked[:limit])
        ]

    def _candidates(self, reading: _Reading) -> Iterator[_Candidate]:
        """Aliases similar to one reading, penalties applied, those under ``MIN_SCORE`` dropped."""
        for index, similarity in self._similar_aliases(reading.key).items():
            alias = self._aliases[index]
            score = (
                min(similarity, alias.cap)
                - _year_penalty(reading.year, self._items[alias.position].year)
                - (ARTICLE_PENALTY if reading.article not in ("", alias.article) else 0.0)
                - self._obscurity[alias.position]
            )
            if score >= MIN_SCORE:
                yield _Candidate(alias.position, min(100.0, score), alias.text)

    def _similar_aliases(self, key: str) -> dict[int, float]:
        """Alias index -> similarity, for close whole keys and for keys that contain the query.

        ``fuzz.ratio`` over every key runs in rapidfuzz's C++ loop (about a millisecond for 10,000
        items); ``WRatio`` would find partial matches too but costs thirty times as much, so
        partial matches come from a plain whole-word containment test instead.
        """
        close = process.extract(
            key, self._keys, scorer=fuzz.ratio, limit=SHORTLIST_SIZE, score_cutoff=MIN_SCORE
        )
        found = {index: float(score) for _key, score, index in close}
        for index in self._containing(key):
            contained = _contained_similarity(key, self._keys[index])
            found[index] = max(found.get(index, 0.0), contained)
        return found

    def _containing(self, key: str) -> list[int]:
        """Indexes of the (at most ``SHORTLIST_SIZE``) shortest keys holding ``key`` as words."""
        needle = f" {key} "
        hits = [index for index, padded in enumerate(self._padded) if needle in padded]
        if len(hits) <= SHORTLIST_SIZE:
            return hits
        return heapq.nsmallest(SHORTLIST_SIZE, hits, key=lambda index: len(self._keys[index]))

    def _rank(self, candidate: _Candidate) -> tuple[float, int, int]:
        """Best score first; equal scores by popularity, then by id so results are stable."""
        item = self._items[candidate.position]
        return (-candidate.score, -item.popularity, item.id)
