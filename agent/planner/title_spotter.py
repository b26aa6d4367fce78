"""Spotting the catalog titles a message mentions.

Titles are found by scanning the message's word n-grams against every title key (exact, after
the normalisation of :mod:`catalog.titles`: case, accents, articles, punctuation), and, right
after a cue such as "like" or "loved", by a fuzzy comparison that forgives typos ("Incepton").

False positives are the danger: "Up", "It", "Heat", "Her" and "Alien" are titles made of words
people use every day. A title is *plain* when all its words are common English (built-in list,
plus words found in many of the catalog's overviews), when its key has at most two characters,
or when it is a genre or mood word ("Western"). Plain titles count only when signalled:

* quoted ("I loved 'Up'") or followed by a matching year ("Heat (1995)");
* right after a cue and capitalised mid-sentence ("something like Up", not "I'm up for it");
* right after a cue, lowercase, when the title has several words and one of them is not a
  function word ("loved up in the air", but not "loved it all").

Genre and mood words that happen to be titles ("Romance", "Western") need quotes or a year.

A title's first words alone ("like Harry Potter", "movies like Shawshank") name its best known
film; one word alone does so only for a well-known film (the catalog's ``FAMOUS_SHARE`` most
rated): "Shawshank" is how people name a famous film, "chuck" is a word, not *Chuck & Buck*.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from agent.planner.words import COMMON_WORDS, STOPWORDS, Word, is_shouting, word_set
from catalog.domain import Item
from catalog.titles import normalize_title, title_aliases, title_key

_YEAR = re.compile(r"^(18|19|20)\d\d$")
_CANDIDATE_ARTICLES = "the a an le la les l el il lo gli un une una der die das los las"
ARTICLES = frozenset(w for w in _CANDIDATE_ARTICLES.split() if title_key(f"{w} x") == "x")

MAX_TITLE_WORDS = 12  # n-grams scanned; longer titles are found by their first words
FUZZY_MAX_WORDS = 4  # n-grams tried after a cue when no exact title starts there
FUZZY_MIN_CHARS = 5  # typos in shorter words are too ambiguous to correct
FUZZY_CUTOFF = 86.0  # rapidfuzz ratio; one typo in an 8-letter word scores ~94
FUZZY_CUTOFF_SHORT = 90.0  # for queries under 8 characters
OVERVIEW_COMMON_SHARE = 0.005  # a word in this share of overviews is common...
OVERVIEW_COMMON_MIN = 25  # ... and in at least this many (tiny catalogs teach nothing)
FUZZY_CACHE_SIZE = 4096
MAX_FUZZY_SLOTS = 6  # fuzzy look-ups per message, so a long paste stays fast
_DESCRIPTIVE = word_set("about in with on of involving featuring set starring")
# "star wars movies": a well-known title in ordinary words, named as a film or a series
_FILM_WORDS = word_set("movie movies film films series saga trilogy franchise sequels")
FAMOUS_SHARE = 0.1  # a one-word partial title names a film among the catalog's most rated 10%


@dataclass(frozen=True, slots=True)
class TitleSpot:
    """A title found in a message: words ``start:end`` name ``item``."""

    start: int
    end: int
    item: Item
    fuzzy: bool = False


@dataclass(frozen=True, slots=True)
class _Entry:
    """An item a key names; ``tier`` 0 = a full alias, 1 = the part before a colon."""

    item: Item
    tier: int
    article: str


def _common_in_overviews(items: Sequence[Item]) -> set[str]:
    """Words in so many overviews of this catalog that they are ordinary language here."""
    counts: Counter[str] = Counter()
    for item in items:
        counts.update(set(re.findall(r"[a-z0-9]+", item.overview.lower())))
    floor = max(OVERVIEW_COMMON_MIN, OVERVIEW_COMMON_SHARE * len(items))
    return {word for word, count in counts.items() if count >= floor}


class TitleSpotter:
    """Finds catalog titles inside free text; see the module docstring for the rules.

    Everything is precomputed: exact scanning is dictionary lookups along the message, fuzzy
    matching compares a few n-grams after cues with the keys of similar length only.
    """

    def __init__(self, items: Iterable[Item], *, reserved: Collection[str] = ()) -> None:
        ordered = sorted(items, key=lambda item: (-item.popularity, item.id))
        self._reserved = frozenset(reserved)
        self._reserved_words = frozenset(
            word for phrase in self._reserved for word in phrase.split()
        )
        counts = sorted((item.popularity for item in ordered), reverse=True)
        self._famous = counts[int(len(counts) * FAMOUS_SHARE)] if counts else 0
        self._common = (
            COMMON_WORDS
            | _common_in_overviews(ordered)
            | {word for phrase in self._reserved for word in phrase.split()}
        )
        self._exact: dict[str, list[_Entry]] = {}
        for item in ordered:
            self._index_item(item)
        for entries in self._exact.values():
            entries.sort(key=_weight, reverse=True)  # stable: ids in popularity order
        self._franchise: dict[str, _Entry] = {}  # "harry potter" -> the best known such title
        for key, entries in self._exact.items():
            for n in range(1, len(key.split())):
                prefix = " ".join(key.split()[:n])
                kept = self._franchise.get(prefix)
                if kept is None or _weight(entries[0]) > _weight(kept):
                    self._franchise[prefix] = entries[0]
        self._prefixes = set(self._franchise) | set(self._exact)
        self._by_length = sorted(key for key in self._exact if not self.is_plain(key))
        self._by_length.sort(key=len)
        self._lengths = [len(key) for key in self._by_length]
        self._fuzzy_cache: dict[str, tuple[float, str] | None] = {}

    def _index_item(self, item: Item) -> None:
        names = title_aliases(item.title)
        parts = [(1, _before_colon(names[0])), (1, _subtitle(names[0]))]
        for tier, name in [(0, alias) for alias in names] + parts:
            normalized = normalize_title(name)
            key = title_key(name)
            if key:
                article = normalized[: len(normalized) - len(key)].strip()
                self._exact.setdefault(key, []).append(_Entry(item, tier, article))

    def famous(self, item: Item) -> bool:
        """Whether the item is among the catalog's most rated (``FAMOUS_SHARE``)."""
        return item.popularity >= self._famous

    def is_plain(self, key: str) -> bool:
        """True when a title key could be ordinary words rather than a title."""
        words = key.split()
        return (
            len(key) <= 2
            or key in self._reserved
            or all(word in self._common or word.isdigit() for word in words)
        )

    def spot(
        self,
        words: Sequence[Word],
        slots: Collection[int] = (),
        prefer: Collection[int] = (),
    ) -> list[TitleSpot]:
        """Non-overlapping titles in ``words``, left to right.

        ``slots`` are word indexes right after a cue ("like", "loved"), where a title is
        expected; ``prefer`` holds item ids to choose among equal titles (the items on show).
        """
        shouting = is_shouting(words)
        slots = set(slots)
        fuzzy_budget = MAX_FUZZY_SLOTS
        spots: list[TitleSpot] = []
        position = 0
        while position < len(words):
            spot = self._exact_at(words, position, slots, prefer, shouting)
            if spot is None and position in slots and fuzzy_budget > 0:
                fuzzy_budget -= 1
                spot = self._fuzzy_at(words, position, prefer)
            if spot is None:
                position += 1
                continue
            spots.append(spot)
            if spot.start in slots:
                slots |= list_continues(words, spot.end)
            position = spot.end
        return spots

    def _exact_at(
        self,
        words: Sequence[Word],
        start: int,
        slots: Collection[int],
        prefer: Collection[int],
        shouting: bool,
    ) -> TitleSpot | None:
        """The longest signalled title whose words begin at ``start`` (or after an article)."""
        body = start + 1 if words[start].norm in ARTICLES and start + 1 < len(words) else start
        end, run = self._longest_key_end(words, body)
        if end is None:
            return self._franchise_at(words, start, body, run, slots, shouting)
        key = " ".join(word.norm for word in words[body:end])
        article = words[start].norm if body > start else ""
        year = _year_after(words, end)
        entry = _choose(self._exact[key], year, prefer)
        if year is not None and entry.item.year is not None and abs(entry.item.year - year) <= 1:
            end += 1
        elif not self._signalled(words, start, end, key, article, entry, slots, shouting):
            return None
        return TitleSpot(start, end, entry.item)

    def _longest_key_end(self, words: Sequence[Word], start: int) -> tuple[int | None, int]:
        """End of the longest run of words from ``start`` that is a title key (or ``None``),
        and end of the longest run that begins some title."""
        best = None
        run = start
        text = ""
        for end in range(start + 1, min(len(words), start + MAX_TITLE_WORDS) + 1):
            if end > start + 1 and any(mark in words[end - 1].sep for mark in "!?;\n"):
                break
            text = f"{text} {words[end - 1].norm}".strip()
            if text not in self._prefixes:
                break
            run = end
            if text in self._exact:
                best = end
        return best, run

    def _franchise_at(
        self,
        words: Sequence[Word],
        start: int,
        body: int,
        run: int,
        slots: Collection[int],
        shouting: bool,
    ) -> TitleSpot | None:
        """The start of a title, after a cue or written as a name: "like Harry Potter" gives
        the best known Harry Potter film, "movies like Shawshank" the Shawshank Redemption."""
        prefix = " ".join(word.norm for word in words[body:run])
        capital = words[body].capitalised and not shouting
        if run == body or len(prefix) < FUZZY_MIN_CHARS or self.is_plain(prefix):
            return None
        if run < len(words) and words[run].capitalised and not words[run].sentence_start:
            return None  # a name that goes on: "Christopher Nolan" is no "Christopher Columbus"
        item = self._franchise[prefix].item
        if run - body == 1 and words[start].quote < 0 and item.popularity < self._famous:
            return None  # one word of an obscure title is no evidence ("about chuck")
        if start in slots or words[start].quote >= 0 or (capital and run - body > 1):
            return TitleSpot(start, run, item)
        return None

    def _signalled(
        self,
        words: Sequence[Word],
        start: int,
        end: int,
        key: str,
        article: str,
        entry: _Entry,
        slots: Collection[int],
        shouting: bool,
    ) -> bool:
        """Whether the words ``start:end`` may be taken for this title (module docstring)."""
        if words[start].quote >= 0:
            return True
        capital = words[start].capitalised and not words[start].sentence_start and not shouting
        if not self.is_plain(key):
            # "a movie about hackers", "the one with the boat": a topic, unless written as a title
            after_preposition = start > 0 and words[start - 1].norm in _DESCRIPTIVE
            return capital or start in slots or " " in key or not after_preposition
        if key in self._reserved or article not in ("", entry.article):
            return False
        if start not in slots:
            # no cue before it: only a famous title of several words with a genre or mood word
            # in it, followed by "movies": "star wars movies" is no request for the War genre
            # ("a road trip movie" stays a topic, which search reads well)
            return (
                " " in key
                and not self._reserved_words.isdisjoint(key.split())
                and entry.item.popularity >= self._famous
                and (
                    (end < len(words) and words[end].norm in _FILM_WORDS)
                    or (start == 0 and end == len(words))  # the whole message: "star wars"
                )
            )
        if capital:
            return True
        # several words, counting the title's own article ("die hard", "the notebook")
        several = " " in key or bool(article)
        return several and any(word not in STOPWORDS for word in key.split())

    def _fuzzy_at(
        self, words: Sequence[Word], start: int, prefer: Collection[int]
    ) -> TitleSpot | None:
        """The best typo-tolerant title match of 1..FUZZY_MAX_WORDS words after a cue."""
        best: tuple[float, int, str] | None = None
        for end in range(start + 1, min(len(words), start + FUZZY_MAX_WORDS) + 1):
            if end > start + 1 and _breaks(words[end - 1]):
                break
            query = title_key(" ".join(word.norm for word in words[start:end]))
            if len(query) < FUZZY_MIN_CHARS or all(w in self._common for w in query.split()):
                continue
            found = self._closest_key(query)
            if found is not None and (best is None or found[0] >= best[0]):
                best = (found[0], end, found[1])
        if best is None:
            return None
        entry = _choose(self._exact[best[2]], _year_after(words, best[1]), prefer)
        return TitleSpot(start, best[1], entry.item, fuzzy=True)

    def _closest_key(self, query: str) -> tuple[float, str] | None:
        """The non-plain key most similar to ``query``, among keys of a compatible length."""
        if query not in self._fuzzy_cache:
            if len(self._fuzzy_cache) >= FUZZY_CACHE_SIZE:
                self._fuzzy_cache.clear()
            self._fuzzy_cache[query] = self._search_closest(query)
        return self._fuzzy_cache[query]

    def _search_closest(self, query: str) -> tuple[float, str] | None:
        cutoff = FUZZY_CUTOFF if len(query) >= 8 else FUZZY_CUTOFF_SHORT
        # ratio = 2 * common / (len_a + len_b), so a key far shorter or longer cannot reach it
        low = bisect.bisect_left(self._lengths, int(len(query) * cutoff / (200 - cutoff)))
        high = bisect.bisect_right(self._lengths, int(len(query) * (200 - cutoff) / cutoff) + 1)
        found = process.extractOne(
            query, self._by_length[low:high], scorer=fuzz.ratio, score_cutoff=cutoff
        )
        return None if found is None else (float(found[1]), found[0])


def _before_colon(title: str) -> str:
    """ "Star Wars: Episode IV - A New Hope" -> "Star Wars"; "" when there is no colon."""
    head, colon, tail = title.partition(":")
    return head.strip() if colon and tail.strip() else ""


def _subtitle(title: str) -> str:
    """ "Star Wars: Episode V - The Empire Strikes Back" -> "The Empire Strikes Back": the name
    people use for a numbered part; "" without one of at least two words."""
    _, colon, tail = title.partition(":")
    tail = tail.rpartition(" - ")[2].strip() if colon else ""
    return tail if len(tail.split()) >= 2 and not tail.lower().startswith("part ") else ""


SHORT_TITLE_WEIGHT = 0.25  # "lord of the rings" names the 1978 film, unless a trilogy part is
# four times better known


def _weight(entry: _Entry) -> float:
    """How strongly a key suggests this item: its popularity, less for a before-colon match."""
    return (entry.item.popularity + 1) * (1.0 if entry.tier == 0 else SHORT_TITLE_WEIGHT)


def list_continues(words: Sequence[Word], end: int) -> set[int]:
    """After a cued title, the next item of a list is cued too: "loved X, Y and Z"."""
    if end >= len(words):
        return set()
    if words[end].norm in ("and", "or", "nor", "plus"):
        return {end + 1}
    return {end, end + 1} if re.search(r"[,&/]", words[end].sep) else set()


def _breaks(word: Word) -> bool:
    """A fuzzy title match does not run across punctuation or a joining word."""
    return bool(re.search(r"[.,;!?]", word.sep)) or word.norm in {"and", "or", "but", "with"}


def _year_after(words: Sequence[Word], end: int) -> int | None:
    """The year written right after a title ("Heat (1995)", "heat 1995"), if any."""
    if end < len(words) and _YEAR.match(words[end].norm):
        return int(words[end].norm)
    return None


def _choose(entries: list[_Entry], year: int | None, prefer: Collection[int]) -> _Entry:
    """Among items sharing a key: one on show, else the year asked for, else the best known."""
    for entry in entries:
        if entry.item.id in prefer:
            return entry
    if year is not None:
        dated = [e for e in entries if e.item.year is not None and abs(e.item.year - year) <= 1]
        if dated:
            return min(
                dated, key=lambda entry: (abs((entry.item.year or 0) - year), -_weight(entry))
            )
    return entries[0]
