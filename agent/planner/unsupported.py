"""What people ask for that the catalog cannot check: running times, streaming services, age
ratings, countries and languages.

MovieLens-format catalogs have titles, years, genres, tags and overviews; nothing else. A
request for "a movie under 90 minutes" must not become a text search ("minutes" and "90" found
*30 Minutes or Less*, *Gone in 60 Seconds* and *48 Hrs.* by their titles), and the reply must say
what was not checked instead of pretending. Running times, services and age ratings are taken
out of the search (:func:`find_unsupported` claims their words); a country or language stays
in it, since overviews and tags often say it ("two North Korean soldiers"), and the reply says
only the descriptions were searched. :func:`unsupported_kind` tells the reply which it was,
for any planner's ``ignored`` text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from agent.lexicon import normalize_text
from agent.planner.words import Word, WordText

Kind = Literal["runtime", "streaming", "rating", "country"]

_AMOUNT = r"(?:\d{1,3}|an?|one|two|three|half an?|1 5|2 5)"
_UNIT = r"(?:minutes?|mins?|hours?|hrs?|h)"
_PATTERNS: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    (
        "runtime",
        re.compile(
            # a bound and an amount ("under an hour"), a number ("90 minutes", "a three-hour
            # epic") or a length ("an hour long"); "about an hour glass" is none of them
            r"\b(?:under|less than|shorter than|no longer than|not longer than|no more than"
            r"|at most|max|maximum|over|more than|longer than|at least|roughly"
            r"|approximately|below|above|within)\s+"
            rf"{_AMOUNT}\s*{_UNIT}(?:\s+(?:long|or less|or more|max))?\b"
            rf"|\b(?:\d{{1,3}}|one|two|three|four|five)\s*{_UNIT}(?:\s+(?:long|or less|or more|max))?\b"
            rf"|\b{_AMOUNT}\s*{_UNIT}\s+(?:long|or less|or more|max)\b"
            r"|\b(?:runtime|run time|running time)\b"
        ),
    ),
    (
        "streaming",
        re.compile(
            r"\b(?:(?:on|from|streaming on|available on|that is on|thats on)\s+)?"
            r"(?:netflix|hulu|amazon prime(?: video)?|prime video|disney plus|hbo max|hbo"
            r"|apple tv(?: plus)?|peacock|paramount plus|crunchyroll|tubi)\b"
            r"|\b(?:streaming (?:services?|platforms?|now)|on streaming|to stream|free to watch"
            r"|free online)\b"
        ),
    ),
    (
        "rating",
        re.compile(
            r"\b(?:rated (?:g|pg|pg 13|r|nc 17)|pg 13|pg13|nc 17|r rated|pg rated|g rated"
            r"|mpaa rating|age rating)\b"
        ),
    ),
    (
        "country",
        re.compile(
            r"\b(?:korean|japanese|french|german|italian|spanish|mexican|indian|bollywood"
            r"|chinese|british|swedish|danish|norwegian|finnish|russian|iranian|brazilian|thai"
            r"|turkish|australian|canadian|irish|polish|dutch|greek|argentinian|nollywood"
            r"|scandinavian|hong kong|european|asian|latin american|foreign|foreign language"
            r"|subtitled|with subtitles|subtitles|dubbed|in english|english language"
            r"|non english)\b"
        ),
    ),
)
CLAIMED_KINDS: frozenset[Kind] = frozenset({"runtime", "streaming", "rating"})
NOTES: dict[Kind, str] = {
    "runtime": "The catalog has no running times, so I couldn't check “{text}”.",
    "streaming": "I can't see which service streams what, so I couldn't check “{text}”.",
    "rating": "The catalog has no age ratings, so I couldn't check “{text}”.",
    "country": (
        "The catalog has no countries or languages, so “{text}” only searched the films'"
        " descriptions."
    ),
}


def find_unsupported(words: Sequence[Word], claimed: Sequence[bool]) -> list[tuple[int, int, Kind]]:
    """Unclaimed phrases asking for what the catalog lacks, as (start word, end word, kind)."""
    joined = WordText(words)
    taken = list(claimed)
    found: list[tuple[int, int, Kind]] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(joined.text):
            first, last = joined.span(match.start(), match.end())
            if first >= last or any(taken[first:last]):
                continue
            taken[first:last] = [True] * (last - first)
            found.append((first, last, kind))
    return sorted(found)


def unsupported_kind(text: str) -> Kind | None:
    """Which attribute the catalog lacks a phrase asks about ("under 90 minutes": runtime)."""
    plain = normalize_text(text)  # as the planner reads words: "that's on" -> "thats on"
    for kind, pattern in _PATTERNS:
        if pattern.search(plain):
            return kind
    return None
