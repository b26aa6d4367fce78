"""The line that opens a list: it answers what the person just said.

"Since you've seen those, here are others:" after "I've seen all of those", "Newer ones, then:"
after "newer", "Close to Inception, but lighter in tone:" for "something like Inception, but
less depressing". Only what the plan of this turn says is used, so the line never claims more
than was understood; notes (unknown titles, loosened constraints) go before it.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.lexicon import canonical_mood
from agent.plan import Plan, year_span_text
from catalog.domain import PSEUDO_GENRES, Catalog

DEFAULT = "Here are some picks for you:"
_MORE = {
    "light": "Lighter",
    "funny": "Funnier",
    "dark": "Darker",
    "scary": "Scarier",
    "relaxing": "Calmer",
    "romantic": "More romantic",
    "exciting": "More exciting",
    "thoughtful": "More thought-provoking",
    "depressing": "Sadder",
    "violent": "More violent",
}
_LESS = {"depressing": "lighter in tone", "dark": "lighter in tone", "scary": "less scary"}


def opening_line(
    plan: Plan | None, named: Sequence[int], catalog: Catalog, *, follow_up: bool
) -> str:
    """The opening for this turn's list. ``named`` are the items this turn's message named as
    liked or wanted more of; ``follow_up`` is whether a list was shown before this turn."""
    if plan is None:
        return DEFAULT
    kinds = [f.kind for f in plan.feedback]
    if "seen" in kinds:
        those = "those" if kinds.count("seen") > 1 else "that one"
        return f"Since you've seen {those}, here are others:"
    if "rejected" in kinds:
        return "Here are others instead:"
    if plan.more_like_position is not None:
        return "More like that one:"
    if plan.era_shift is not None:
        return f"{plan.era_shift.capitalize()} ones, then:"
    less = _less(plan.avoid_moods)
    titles = [catalog.get(i).name for i in named if i in catalog]
    if titles:
        return f"Close to {_and(titles)}" + (f", but {less}" if less else "") + _years(plan) + ":"
    if follow_up:
        return _refinement(plan, less) or DEFAULT
    genres = [g for g in plan.include_genres if g not in PSEUDO_GENRES]
    if genres:
        return f"{_and(genres)} picks{_years(plan)}:"
    years = _years(plan)
    return f"Here are some picks{years}:" if years else DEFAULT


def _refinement(plan: Plan, less: str) -> str:
    """How a change to the last list reads: "Lighter picks:", "Without Romance, then:"."""
    moods = [m for m in (canonical_mood(p) or p for p in plan.moods) if m in _MORE]
    if moods:
        return f"{_MORE[moods[0]]} picks:"
    if less:
        return f"{less[:1].upper()}{less[1:]}, then:"
    if plan.exclude_genres:
        return f"Without {_and(plan.exclude_genres)}, then:"
    if plan.include_genres:
        return f"{_and(plan.include_genres)}, then:"
    if any(entry.startswith("years:") for entry in plan.drop):  # "the 80s are fine after all"
        return "With those years back in:"
    years = _years(plan)
    return f"Picks{years}:" if years else ""


def _less(avoid: Sequence[str]) -> str:
    for phrase in avoid:
        mood = canonical_mood(phrase) or phrase
        if mood in _MORE:
            return _LESS.get(mood, f"less {mood}")
    return ""


def _years(plan: Plan) -> str:
    low, high = plan.year_min, plan.year_max
    window = ""
    if low is not None and high is not None:
        window = f" from {low} to {high}"
    elif low is not None:
        window = f" from {low} on"
    elif high is not None:
        window = f" up to {high}"
    if plan.exclude_years:
        spans = [year_span_text(span) for span in plan.exclude_years]
        window += f"{',' if window else ''} not from {_and(spans, 'or')}"
    return window


def _and(words: Sequence[str], conjunction: str = "and") -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {conjunction} {words[-1]}"
