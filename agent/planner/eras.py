"""Release-year wishes in a message: "the 90s", "before 1990", "recent", "something older".

Patterns run over the message's normalised words joined by spaces; the first pattern to claim
words wins them, and each match gives an :class:`Era`: bounds, a shift, or just "the year".
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from agent.planner.words import Word

RECENT_YEARS = 5  # "recent", "new releases": the last five years
MODERN_YEARS = 25  # "modern"
CLASSIC_END = 1979  # "classic", "old movies": up to the end of the seventies

EraShift = Literal["newer", "older"]


@dataclass(frozen=True, slots=True)
class Era:
    """A release-year wish: bounds, a shift ("something newer"), or just "the year" (``vague``,
    which only matters to "forget the year")."""

    year_min: int | None = None
    year_max: int | None = None
    shift: EraShift | None = None
    vague: bool = False


_DECADE_WORDS = {
    "thirties": 1930,
    "forties": 1940,
    "fifties": 1950,
    "sixties": 1960,
    "seventies": 1970,
    "eighties": 1980,
    "nineties": 1990,
    "noughties": 2000,
}
_DEC = rf"(?:(?:early|mid|late) )?(?:(?:18|19|20)?\d0s|{'|'.join(_DECADE_WORDS)})"
_YR = r"(?:18[89]\d|19\d\d|20\d\d)"
_PT = rf"(?:the )?(?:{_DEC}|{_YR})"
_FILM = r"(?:movie|movies|film|films|stuff|ones|releases?)"
_ANY_DIGIT = "0|1|2|3|4|5|6|7|8|9"
_DECADE_HINTS = "0s|ties"
# (pattern over the space-joined normalised words, kind, hints), tried in order, the first claim
# winning. A pattern runs only when one of its "|"-separated hints is in the text: most
# messages name no era, and a long one should not pay for twenty scans.
_ERA_PATTERNS = [
    (
        rf"\b(?:between|from) (?P<a>{_PT}) (?:and|to|till|until|through|thru) (?P<b>{_PT})\b",
        "range",
        "between|from",
    ),
    (rf"\b(?P<a>{_YR}) (?:to )?(?P<b>{_YR})\b", "range", _ANY_DIGIT),
    (
        rf"\b(?:from )?(?P<a>(?:the )?{_DEC}) (?:or|and|to|through) (?P<b>(?:the )?{_DEC})\b",
        "range",
        _DECADE_HINTS,
    ),
    (
        rf"\b(?:before|pre|older than|earlier than|prior to) (?P<a>{_PT})\b",
        "before",
        "before|pre|than|prior",
    ),
    (
        rf"\b(?:until|till|up to|no later than|not after) (?P<a>{_PT})\b",
        "until",
        "til|up to|later|after",
    ),
    (rf"\b(?P<a>{_PT}) (?:or|and) (?:earlier|older|before)\b", "until", "earlier|older|before"),
    (
        rf"\b(?:after|post|newer than|later than|more recent than) (?P<a>{_PT})\b",
        "after",
        "after|post|than",
    ),
    (
        rf"\b(?:since|from) (?P<a>{_PT}) (?:on|onwards?|forward|(?:or|and) (?:later|newer|after|up))\b",
        "since",
        "since|from",
    ),
    (rf"\bsince (?P<a>{_PT})\b", "since", "since"),
    (
        rf"\b(?P<a>{_PT}) (?:onwards?|(?:or|and) (?:later|newer|after|up))\b",
        "since",
        "onward|later|newer|after| up",
    ),
    (rf"\b(?:(?:from|in|of|during) )?(?P<a>(?:the )?{_DEC})\b", "point", _DECADE_HINTS),
    (
        rf"\b(?:from|in|of|made in|released in|circa|around) (?P<a>{_YR})\b",
        "point",
        _ANY_DIGIT,
    ),
    (rf"\b(?P<a>{_YR})(?= {_FILM}\b)", "point", _ANY_DIGIT),
    (
        rf"\b(?:recent|recently released|newest|latest|brand new|new(?= {_FILM}\b)|this year"
        r"|(?:last|past) (?:few|couple of) years)\b",
        "recent",
        "recent|new|latest|year",
    ),
    (r"\bmodern\b(?! classic)", "modern", "modern"),
    (
        rf"\b(?:(?<!modern )(?<!cult )(?<!instant )(?<!future )classics?|old school|oldies"
        rf"|golden age|black and white|vintage|old(?= {_FILM}\b)|(?:something|anything) old)\b",
        "classic",
        "classic|old|golden|black and white|vintage",
    ),
    (
        r"\b(?:newer|more recent|more modern|fresher|less old)\b",
        "newer",
        "newer|more|fresher|less old",
    ),
    (r"\b(?:older|less recent|earlier ones|oldschool)\b", "older", "older|less|earlier|oldschool"),
    (
        r"\b(?:any )?(?:the )?(?:release )?(?:year|years|decade|decades|era|eras|time period)\b",
        "vague",
        "year|decade|era|time period",
    ),
]
_ERA_REGEXES = [
    (re.compile(pattern), kind, hints.split("|")) for pattern, kind, hints in _ERA_PATTERNS
]


def _decade(body: str, current_year: int) -> int:
    """ "90s" -> 1990, "1990s" -> 1990, "10s" -> 2010, "20s" -> 2020 once 2020 has come."""
    if body in _DECADE_WORDS:
        return _DECADE_WORDS[body]
    digits = int(body[:-1])
    if digits >= 100:
        return digits
    century = 2000 if digits <= 10 or (digits == 20 and current_year >= 2020) else 1900
    return century + digits


def _period(text: str, current_year: int) -> tuple[int, int]:
    """The years a point names: "1995" -> (1995, 1995), "the late 90s" -> (1996, 1999)."""
    words = [word for word in text.split() if word != "the"]
    if words[-1].isdigit():
        return int(words[-1]), int(words[-1])
    start = _decade(words[-1], current_year)
    spans = {"early": (0, 3), "mid": (3, 6), "late": (6, 9)}
    low, high = spans.get(words[0], (0, 9))
    return start + low, start + high


def _era(kind: str, match: re.Match[str], current_year: int) -> Era:
    """The era one pattern match stands for."""
    groups = match.groupdict()
    a = _period(groups["a"], current_year) if groups.get("a") else (0, 0)
    b = _period(groups["b"], current_year) if groups.get("b") else (0, 0)
    eras = {
        "range": lambda: Era(min(a[0], b[0]), max(a[1], b[1])),
        "before": lambda: Era(None, a[0] - 1),
        "until": lambda: Era(None, a[1]),
        "after": lambda: Era(a[1] + 1, None),
        "since": lambda: Era(a[0], None),
        "point": lambda: Era(a[0], a[1]),
        "recent": lambda: Era(current_year - RECENT_YEARS, None),
        "modern": lambda: Era(current_year - MODERN_YEARS, None),
        "classic": lambda: Era(None, CLASSIC_END),
        "newer": lambda: Era(shift="newer"),
        "older": lambda: Era(shift="older"),
        "vague": lambda: Era(vague=True),
    }
    return eras[kind]()


def find_eras(
    words: Sequence[Word], claimed: Sequence[bool], current_year: int
) -> list[tuple[int, int, Era]]:
    """Era expressions as (start word, end word, era), over words not yet claimed."""
    starts, position = [], 0
    for word in words:
        starts.append(position)
        position += len(word.norm) + 1
    text = " ".join(word.norm for word in words)
    taken = list(claimed)
    found: list[tuple[int, int, Era]] = []
    for regex, kind, hints in _ERA_REGEXES:
        if not any(hint in text for hint in hints):
            continue
        for match in regex.finditer(text):
            first = bisect.bisect_right(starts, match.start()) - 1
            last = bisect.bisect_left(starts, match.end())
            if first < last and not any(taken[first:last]):
                taken[first:last] = [True] * (last - first)
                found.append((first, last, _era(kind, match, current_year)))
    return sorted(found, key=lambda found_era: found_era[0])
