"""Release-year wishes in a message: "the 90s", "before 1990", "recent", "something older".

Patterns run over the message's normalised words joined by spaces; the first pattern to claim
words wins them, and each match gives an :class:`Era`: bounds, a shift, or just "the year".

"The last twenty years" counts back from the current year. An era the person only allows ("a
classic is fine", "I don't mind older ones") bounds nothing. A time only the person knows ("from
my childhood", "when I was a kid") is ``unknowable``: the agent cannot turn it into years and
says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from agent.planner.words import Word, WordText

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
    unknowable: str = ""  # "from my childhood": years only the person knows, as written
    # "the 80s are fine after all": years allowed, not asked for (first, last); they lift an
    # earlier "not from the 80s" without bounding anything
    allowed: tuple[int, int] | None = None


_DECADE_WORDS = {
    "thirties": 1930,
    "forties": 1940,
    "fifties": 1950,
    "sixties": 1960,
    "seventies": 1970,
    "eighties": 1980,
    "nineties": 1990,
    "noughties": 2000,
    # other ways people write them, and the common misspellings
    "two thousands": 2000,
    "twenty tens": 2010,
    "twenty teens": 2010,
    "ninties": 1990,
    "ninetees": 1990,
    "eightys": 1980,
    "seventys": 1970,
    "sixtys": 1960,
}
_DEC = (
    rf"(?:(?:early|mid|late) )?(?:(?:18|19|20)?\d0s"
    rf"|{'|'.join(sorted(_DECADE_WORDS, key=len, reverse=True))})"
)
_YR = r"(?:18[89]\d|19\d\d|20\d\d)"
_PT = rf"(?:the )?(?:{_DEC}|{_YR})"
_FILM = r"(?:movie|movies|film|films|stuff|ones|releases?)"
_ANY_DIGIT = "0|1|2|3|4|5|6|7|8|9"
_DECADE_HINTS = "0s|ties|two thousands|tens|teens|ninties|ninetees|ys"
_COUNTS = {
    "a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "couple": 2, "couple of": 2, "few": 3,
}  # fmt: skip
_COUNT = rf"(?P<n>\d{{1,2}}|{'|'.join(sorted(_COUNTS, key=len, reverse=True))})"
# Allowing an era is not asking for it: "a classic is fine", "don't mind older ones".
_ALLOWED_AFTER = re.compile(
    r"^(?: ones?| movies?| films?| stuff)?(?: is| are| would be| could be| its| theyre)?"
    r" (?:fine|ok|okay|good|welcome|allowed|acceptable|great)\b"
)
_ALLOWED_BEFORE = re.compile(
    # whole words: "horror from the 80s" ends in "or" and asks for the 80s
    r"(?:^|\b)(?:dont mind|do not mind|wouldnt mind|fine with|ok with|okay with|open to"
    r"|happy with|even|including|or)(?: an?| the| some)? $"
)
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
        rf"\b(?:from |in |of |over )?(?:the )?(?:last|past|previous) {_COUNT} (?:years?|decades?)\b",
        "last",
        "last|past|previous",
    ),
    (
        r"\b(?:from |in |of |during )?(?:my|our) (?:childhood|youth|teens|teen years|school days"
        r"|college days|college years)\b|\bwhen (?:i|we) (?:was|were) (?:a )?(?:kids?|young"
        r"|little|growing up|in (?:school|college))\b|\b(?:i|we) grew up (?:on|with)\b",
        "unknowable",
        "childhood|youth|teen|school|college|when i|when we|grew up",
    ),
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
    spans = {"early": (0, 3), "mid": (3, 6), "late": (6, 9)}
    low, high = spans.get(words[0], (0, 9))
    start = _decade(" ".join(words[1:] if words[0] in spans else words), current_year)
    return start + low, start + high


def _era(kind: str, match: re.Match[str], current_year: int) -> Era:
    """The era one pattern match stands for."""
    groups = match.groupdict()
    a = _period(groups["a"], current_year) if groups.get("a") else (0, 0)
    b = _period(groups["b"], current_year) if groups.get("b") else (0, 0)
    if kind == "last":
        n = groups["n"]
        count = int(n) if n.isdigit() else _COUNTS[n]
        years = count * (10 if "decade" in match.group(0) else 1)
        return Era(current_year - years + 1, None)
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
        "unknowable": lambda: Era(vague=True, unknowable=match.group(0)),
    }
    return eras[kind]()


def find_eras(
    words: Sequence[Word], claimed: Sequence[bool], current_year: int
) -> list[tuple[int, int, Era]]:
    """Era expressions as (start word, end word, era), over words not yet claimed."""
    joined = WordText(words)
    text = joined.text
    taken = list(claimed)
    found: list[tuple[int, int, Era]] = []
    for regex, kind, hints in _ERA_REGEXES:
        if not any(hint in text for hint in hints):
            continue
        for match in regex.finditer(text):
            first, last = joined.span(match.start(), match.end())
            if first < last and not any(taken[first:last]):
                taken[first:last] = [True] * (last - first)
                era = _era(kind, match, current_year)
                allowed = _ALLOWED_AFTER.match(text[match.end() :]) or _ALLOWED_BEFORE.search(
                    text[: match.start()]
                )
                if allowed:
                    low, high = era.year_min, era.year_max
                    span = (low, high) if low is not None and high is not None else None
                    era = Era(vague=True, allowed=span)
                found.append((first, last, era))
    return sorted(found, key=lambda found_era: found_era[0])
