"""Titles the catalog lacks: phrases that look like titles where a title is expected.

"I loved Blorptastic Zingwhirl 3000" names a film the catalog does not have. Read as a vibe,
its words would send retrieval after "blorptastic zingwhirl"; kept as a title, written as the
person wrote it, the agent can say it could not find it (it resolves titles through
``Catalog.search_titles`` and reports those that fail).

A phrase looks like a title when it starts at a slot (right after a cue such as "loved",
"hated", "something like", or at the start of a quotation) and is

* a quoted passage ("I liked 'blorp zing'"), or
* a run of capitalised words and numbers with small joining words inside ("The Lord of the
  Flies 3"), possibly after a lowercase "the"; it ends at punctuation, at a cue that starts a
  new statement ("... and hated X"), at "I", and at anything already read as a title, era or
  position.

A title the catalog has, written on past its end ("Toy Story 5", "The Lord of the Flies 3"
when only "Lord of the Flies" exists), is a title the catalog lacks too.

It is not a title when all its words describe rather than name — genre, mood, cue and filler
words, nationalities, holidays ("I loved Comedy", "I like Dark Movies", "French Films") — or
when it is one of the catalog's tags ("Pixar", "Tom Hanks"), which retrieval matches as a vibe.
Capitals carry no signal in a message written In Title Case, so there only quotes count.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from agent.planner.title_spotter import MAX_TITLE_WORDS, list_continues
from agent.planner.words import FILLER_WORDS, SHOUTING_SHARE, STOPWORDS, Word, word_set

# Words that join the capitalised words of a title: "Lord of the Flies", "Zing and Blorp".
JOINING_WORDS = word_set("of the and in a an on at to for from with vs v n de la le du des von van")
# Capitalised words that describe films rather than name one.
NAME_LIKE_WORDS = word_set(
    """
    american british english french german italian spanish japanese korean chinese indian
    hindi russian swedish danish norwegian nordic scandinavian european asian african irish
    scottish australian canadian mexican brazilian hollywood bollywood hong kong foreign
    christmas xmas halloween easter thanksgiving valentines valentine oscar oscars
    disney pixar marvel dc netflix hbo
    first second third fourth fifth last top
    """
)
_LIST_JOINERS = word_set("and or nor plus")
_SPEAKER = word_set("i im ive id ill")  # "loved X and I hated Y": the person, not a title
_ROMAN = re.compile(r"^[IVX]{1,5}$")  # "Zing II" keeps its numeral
_SENTENCE_BREAK = re.compile(r"[.!?;…\n]")
_RUN_BREAK = re.compile(r"[.,;!?…()\[\]\"“”\n]")
_YEAR = re.compile(r"^(18|19|20)\d\d$")


@dataclass(frozen=True, slots=True)
class UnknownTitleSpot:
    """Words ``start:end`` look like a title no catalog item links to; ``written`` is the
    phrase as the message spells it."""

    start: int
    end: int
    written: str


class UnknownTitleFinder:
    """Finds title-like phrases that did not link to the catalog (see the module docstring).

    ``vocabulary`` holds the words of the planner's cue, genre and mood phrases; ``tags`` the
    catalog's tags, normalised like message words.
    """

    def __init__(self, vocabulary: Iterable[str], tags: Iterable[str]) -> None:
        self._describing = frozenset(vocabulary) | FILLER_WORDS | STOPWORDS | NAME_LIKE_WORDS
        self._tags = frozenset(tags)

    def find(
        self,
        text: str,
        words: Sequence[Word],
        claimed: Sequence[bool],
        slots: Collection[int],
        linked: Sequence[tuple[int, int]] = (),
        stops: Collection[int] = (),
    ) -> list[UnknownTitleSpot]:
        """Title-like phrases starting at ``slots``, left to right.

        ``linked`` are the (start, end) word spans of titles the catalog has. A list after one
        goes on being cued ("loved Inception and Blorp Zing"), and one written on past its end
        is a title the catalog lacks ("Toy Story 5"): its spot starts where the linked title
        does, and replaces it. A run also stops at ``stops``, the starts of cues that begin a
        new statement ("... And Hated Y").
        """
        title_case = self._title_case(words)
        open_slots = {slot for slot in slots if slot < len(words)}
        linked_ends = dict(linked)
        found: list[UnknownTitleSpot] = []
        for start in range(len(words)):
            if start not in open_slots:
                continue
            if start in linked_ends:
                end = (
                    None
                    if title_case
                    else _written_on_end(words, claimed, start, linked_ends[start], stops)
                )
                if end is None:
                    open_slots |= list_continues(words, linked_ends[start])
                    continue
            else:
                end = self._phrase_end(words, claimed, start, stops, title_case)
                if end is None or not self._names(words[start:end]):
                    continue
            written = text[words[start].start : words[end - 1].end].strip()
            found.append(UnknownTitleSpot(start, end, written))
            open_slots |= list_continues(words, end)
        return found

    def _phrase_end(
        self,
        words: Sequence[Word],
        claimed: Sequence[bool],
        start: int,
        stops: Collection[int],
        title_case: bool,
    ) -> int | None:
        """Where a title-like phrase starting at ``start`` ends, or ``None`` if none starts."""
        if claimed[start] or _SENTENCE_BREAK.search(words[start].sep):
            return None
        if _opens_quote(words, start):
            end = start
            while end < len(words) and words[end].quote == words[start].quote:
                end += 1
            fits = end - start <= MAX_TITLE_WORDS and not any(claimed[start:end])
            return end if fits else None
        first = _first_name_word(words, start)
        if title_case or first is None or claimed[first]:
            return None
        return _run_end(words, claimed, start, first, stops, continuing=False)

    def _title_case(self, words: Sequence[Word]) -> bool:
        """Written In Title Case: most words that are normally lowercase are capitalised.

        Only describing words count, so the title itself ("I loved Blorp Zing") does not make
        a message look like Title Case; sentence starts and "I" are capitalised anyway.
        """
        free = [
            word
            for word in words
            if not word.sentence_start and word.norm in self._describing and word.norm != "i"
        ]
        capitals = sum(1 for word in free if word.capitalised)
        return bool(free) and capitals > SHOUTING_SHARE * len(free)

    def _names(self, words: Sequence[Word]) -> bool:
        """Whether a phrase names something rather than describes it."""
        norms = [word.norm for word in words]
        key = " ".join(norms)
        if key in self._tags or (norms[0] == "the" and " ".join(norms[1:]) in self._tags):
            return False
        content = [norm for norm in norms if not norm.isdigit() and norm not in JOINING_WORDS]
        return any(norm not in self._describing for norm in content)


def _opens_quote(words: Sequence[Word], index: int) -> bool:
    word = words[index]
    return word.quote >= 0 and (index == 0 or words[index - 1].quote != word.quote)


def _first_name_word(words: Sequence[Word], start: int) -> int | None:
    """Where an unquoted title starting at ``start`` shows its first capital: ``start``, or
    the word after a lowercase "the" ("loved the Zing Machine"); ``None`` if it does not."""
    first = start + 1 if words[start].norm == "the" and not words[start].capitalised else start
    if first >= len(words) or words[first].quote >= 0 or not words[first].capitalised:
        return None
    return None if words[first].norm in _SPEAKER else first


def _name_word(word: Word) -> bool:
    """A capitalised word or a number: the stuff titles are made of ("And" only joins them)."""
    if word.norm in _SPEAKER or word.norm in JOINING_WORDS:
        return False
    return word.capitalised or word.norm.isdigit() or bool(_ROMAN.match(word.text))


def _run_end(
    words: Sequence[Word],
    claimed: Sequence[bool],
    start: int,
    first: int,
    stops: Collection[int],
    *,
    continuing: bool,
) -> int | None:
    """End of the run of name words from ``first`` ("The Lord of the Flies 3"), trailing
    joining words left out; ``None`` if no name word comes. ``continuing``: ``first`` goes
    on a phrase already begun, so it may not follow punctuation either."""
    end = None
    for at in range(first, min(len(words), start + MAX_TITLE_WORDS)):
        word = words[at]
        joined = at == first and not continuing  # the first word may follow the cue's comma
        if word.quote >= 0 or (
            not joined and (claimed[at] or at in stops or _RUN_BREAK.search(word.sep))
        ):
            break
        if _name_word(word):
            end = at + 1
        elif word.norm not in JOINING_WORDS:
            break
    return end


def _written_on_end(
    words: Sequence[Word],
    claimed: Sequence[bool],
    start: int,
    linked_end: int,
    stops: Collection[int],
) -> int | None:
    """Where a linked title the person wrote on past ends ("Toy Story 5", "Lord of the Flies
    3"), or ``None``: it was written as a name (capitalised, unquoted) and more name words
    follow it in the same phrase, not as the next item of a list. A year after it is left to
    the title ("Heat 2010")."""
    if _first_name_word(words, start) is None or linked_end >= len(words):
        return None
    if words[linked_end].norm in _LIST_JOINERS:
        return None  # "Inception and Blorp Zing": a list, not one title
    end = _run_end(words, claimed, start, linked_end, stops, continuing=True)
    if end is None or (end == linked_end + 1 and _YEAR.match(words[linked_end].norm)):
        return None
    return end
