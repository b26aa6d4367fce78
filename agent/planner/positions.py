"""References to the last recommendation list: "the second one", "#3", "the first two",
"it", "none of them"."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from agent.planner.words import Word, word_set


@dataclass(frozen=True, slots=True)
class PositionRef:
    """Shown items a message points at. "it" / "that one" leave ``positions`` empty with
    ``demonstrative`` set (the planner resolves them); "none of them" sets ``none``."""

    positions: tuple[int, ...]
    demonstrative: bool = False
    none: bool = False


_ORDINAL_WORDS = "first second third fourth fifth sixth seventh eighth ninth tenth"
_ORDINALS = {word: n for n, word in enumerate(_ORDINAL_WORDS.split(), start=1)} | {
    "1st": 1,
    "2nd": 2,
    "3rd": 3,
    **{f"{n}th": n for n in range(4, 11)},
}
_COUNTS = {"two": 2, "three": 3, "four": 4, "five": 5, "2": 2, "3": 3, "4": 4, "5": 5}
_ONE_NOUNS = word_set("one ones movie film pick suggestion option recommendation title choice")
_NOT_AN_ITEM = word_set(
    "time times of night year years week month place half date world season person sight grade"
    " thing things minute minutes glance"
)
_NUMBER_MARKERS = word_set("number option pick movie film item suggestion choice no")
_GROUPS = {
    ("all", "of", "them"): "all",
    ("all", "of", "these"): "all",
    ("all", "of", "those"): "all",
    ("them", "all"): "all",
    ("both", "of", "them"): "all",
    ("both",): "all",
    ("those",): "all",
    ("these",): "all",
    ("them",): "all",
    ("none", "of", "them"): "none",
    ("none", "of", "these"): "none",
    ("none", "of", "those"): "none",
    ("that", "one"): "it",
    ("this", "one"): "it",
    ("that", "movie"): "it",
    ("this", "movie"): "it",
    ("that", "film"): "it",
    ("this", "film"): "it",
    ("it",): "it",
}


_GROUP_FIRST = frozenset(phrase[0] for phrase in _GROUPS) | {"that", "this"}


def find_positions(
    words: Sequence[Word], claimed: Sequence[bool], shown: int, cue_ends: Collection[int]
) -> list[tuple[int, int, PositionRef]]:
    """References to the last list ("the second one", "#3", "the first two", "it").

    Bare numbers count right after a cue ("seen 2") or in a list of references ("1 and 3").
    Positions beyond the ``shown`` items are dropped; "it" is found even with nothing shown,
    since it may point back at a title in the same message.
    """
    found: list[tuple[int, int, PositionRef]] = []
    last_end = -1
    position = 0
    while position < len(words):
        ref = None
        if not claimed[position]:
            ref = _group_at(words, claimed, position, shown) or _ordinal_at(
                words, claimed, position, shown
            )
            ref = ref or _number_at(words, position, shown, cue_ends, last_end)
        if ref is None:
            position += 1
            continue
        found.append(ref)
        position = last_end = ref[1]
    return found


def _group_at(
    words: Sequence[Word], claimed: Sequence[bool], start: int, shown: int
) -> tuple[int, int, PositionRef] | None:
    if words[start].norm not in _GROUP_FIRST:
        return None
    for length in (3, 2, 1):
        phrase = tuple(word.norm for word in words[start : start + length])
        kind = _GROUPS.get(phrase) if len(phrase) == length else None
        if kind is None or any(claimed[start : start + length]):
            continue
        if kind == "it":
            return start, start + length, PositionRef((), demonstrative=True)
        if shown:
            every = tuple(range(1, shown + 1))
            return start, start + length, PositionRef(every, none=kind == "none")
    if words[start].norm in ("that", "this") and _ends_clause(words, start + 1):
        return start, start + 1, PositionRef((), demonstrative=True)
    return None


_CLAUSE_GOES_ON = word_set("but though please too instead again and or")


def _ends_clause(words: Sequence[Word], index: int) -> bool:
    """Whether a clause ends before ``index``: "seen that." / "more like that but funnier"."""
    if index >= len(words) or re.search(r"[.,;!?]", words[index].sep):
        return True
    return words[index].norm in _CLAUSE_GOES_ON


def _ordinal_at(
    words: Sequence[Word], claimed: Sequence[bool], index: int, shown: int
) -> tuple[int, int, PositionRef] | None:
    """ "the second (one)", "3rd", "the last one", "the first two", "top pick"."""
    word = words[index].norm
    after = words[index + 1].norm if index + 1 < len(words) else ""
    before = words[index - 1].norm if index > 0 else ""
    if not shown or after in _NOT_AN_ITEM or before in ("at", "a"):
        return None
    if word in _ORDINALS:
        positions: tuple[int, ...] = (_ORDINALS[word],)
    elif word == "last" and (before == "the" or after in _ONE_NOUNS):
        positions = (shown,)
    elif word == "top" and after in _ONE_NOUNS:
        positions = (1,)
    else:
        return None
    start = index - 1 if before == "the" and not claimed[index - 1] else index
    end = index + 1
    if after in _COUNTS and word in ("first", "last", "top"):
        count = _COUNTS[after]
        positions = tuple(
            range(1, count + 1) if word != "last" else range(shown - count + 1, shown + 1)
        )
        end += 1
    if end < len(words) and words[end].norm in _ONE_NOUNS:
        end += 1
    return start, end, PositionRef(tuple(p for p in positions if 1 <= p <= shown))


def _number_at(
    words: Sequence[Word], index: int, shown: int, cue_ends: Collection[int], last_end: int
) -> tuple[int, int, PositionRef] | None:
    """ "#3", "number 2", "no. 4", or a bare number after a cue or in a list ("1 and 3")."""
    word = words[index]
    if not word.norm.isdigit() or len(word.norm) > 2 or not 1 <= int(word.norm) <= shown:
        return None
    before = words[index - 1].norm if index > 0 else ""
    marked = "#" in word.sep or (before in _NUMBER_MARKERS and (before != "no" or "." in word.sep))
    listed = (last_end == index and bool(re.search(r"[,&]", word.sep))) or (
        last_end == index - 1 and before in ("and", "or")
    )
    if not (marked or listed or index in cue_ends):
        return None
    start = index - 1 if marked and before in _NUMBER_MARKERS else index
    return start, index + 1, PositionRef((int(word.norm),))
