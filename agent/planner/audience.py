"""Who the film is for: "for my 6-year-old", "a ten year old", "the toddler", "teenagers".

An age or an audience names suitable items, not words to search for: "6-year-old" must not put
"old" in the retrieval text (it found *Old Boy*). A child's age (up to ``CHILD_MAX_AGE``) or a
child word becomes the children's audience: the Children genre, no Horror, and dark, scary and
violent moods avoided. Older ages are claimed (kept out of the vibe) and change nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from agent.planner.words import Word, WordText

CHILD_MAX_AGE = 12
CHILD_GENRES = ("Children",)
CHILD_AVOID_GENRES = ("Horror",)
CHILD_AVOID_MOODS = ("scary", "violent", "dark")
_NUMBER_WORDS = re.findall(
    r"\w+",
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
    " fifteen sixteen seventeen eighteen nineteen twenty",
)
_AGE = rf"(?P<age>\d{{1,2}}|{'|'.join(_NUMBER_WORDS)})"
_PATTERNS = (
    re.compile(rf"\b{_AGE} (?:years? old|year olds|yr olds?|yrs? old|yo|y o)\b"),
    re.compile(rf"\b(?:aged?|ages) {_AGE}(?: and up| and under| plus)?\b"),
    re.compile(
        r"\b(?P<child>toddlers?|preschoolers?|little ones?|little kids?|young kids|young children"
        r"|my kids|my children|my son|my daughter|the kids)\b"
    ),
    # "like Toy Story but for adults": not a children's film
    re.compile(r"\bfor (?P<adult>adults|grown ups|grownups|an adult audience|mature audiences)\b"),
)


@dataclass(frozen=True, slots=True)
class Audience:
    """A child audience (``children``), adults (``adults``: no children's films) or an age that
    asks for nothing in particular."""

    children: bool
    adults: bool = False


def _age(text: str) -> int:
    return int(text) if text.isdigit() else _NUMBER_WORDS.index(text)


def find_audiences(
    words: Sequence[Word], claimed: Sequence[bool]
) -> list[tuple[int, int, Audience]]:
    """Ages and child audiences as (start word, end word, audience), over unclaimed words."""
    joined = WordText(words)
    taken = list(claimed)
    found: list[tuple[int, int, Audience]] = []
    for pattern in _PATTERNS:
        for match in pattern.finditer(joined.text):
            first, last = joined.span(match.start(), match.end())
            if first >= last or any(taken[first:last]):
                continue
            groups = match.groupdict()
            adults = bool(groups.get("adult"))
            age = groups.get("age")
            children = bool(groups.get("child")) or (age is not None and _age(age) <= CHILD_MAX_AGE)
            taken[first:last] = [True] * (last - first)
            found.append((first, last, Audience(children, adults)))
    return sorted(found, key=lambda spot: spot[0])
