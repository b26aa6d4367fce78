"""Folding a :class:`Plan` into the dialog state: later statements override earlier ones.

Pure functions over plain data, so every rule is a table-driven test away.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from agent.lexicon import GENRE_SYNONYMS, MOOD_SYNONYMS, MOODS, normalize_text
from agent.plan import Plan, YearSpan
from agent.state import Preferences
from catalog.domain import Catalog, Item
from catalog.titles import (
    SURE_SCORE,
    TitleMatch,
    in_series,
    instalment,
    same_instalment,
    series_key,
)

SEQUEL_CANDIDATES = 8  # matches looked through for the instalment a title names


@dataclass
class Resolution:
    ids: list[int] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def resolve_titles(catalog: Catalog, titles: Iterable[str]) -> Resolution:
    """Catalog ids of titles as a person (or an LLM) wrote them; unknown ones are reported."""
    result = Resolution()
    for title in titles:
        matches = catalog.search_titles(title, limit=SEQUEL_CANDIDATES)
        # a sequel number the catalog's series lacks ("Toy Story 5") is no other film of it
        fitting = [m for m in matches if same_instalment(title, m.item.title)]
        best = fitting[0] if fitting else None
        if best is None or not (best.usable or _names_instalment(title, best)):
            result.unresolved.append(title)
            continue
        if best.item.id not in result.ids:
            result.ids.append(best.item.id)
        if not best.sure and best.score < SURE_SCORE:
            result.notes.append(f"I took “{title}” to mean {best.item.display_title}.")
    return result


def _names_instalment(title: str, match: TitleMatch[Item]) -> bool:
    """A plausible match that is the very instalment of the very series the title names
    ("Rocky 2" for "Rocky II"): usable though its spelling differs."""
    return (
        match.plausible
        and instalment(title) is not None
        and in_series(series_key(title), match.item.title)
    )


def _add(values: list, new: Iterable) -> list:
    out = list(values)
    for value in new:
        if value not in out:
            out.append(value)
    return out


def _remove(values: list, gone: Iterable) -> list:
    gone_set = {g.casefold() if isinstance(g, str) else g for g in gone}
    return [v for v in values if (v.casefold() if isinstance(v, str) else v) not in gone_set]


def drop_constraints(prefs: Preferences, drops: Sequence[str], catalog: Catalog) -> Preferences:
    """Forget what the person took back ("forget the comedy part", "start over")."""
    p = prefs.model_copy(deep=True)
    for drop in drops:
        kind, _, value = drop.partition(":")
        kind = kind.strip().lower()
        if kind == "all":
            p = Preferences()
        elif kind == "topic":  # a new request: its description and moods replace the last one's
            p.vibe, p.moods, p.avoid_moods, p.anchor = "", [], [], None
        elif kind == "genre":
            p.include_genres = _remove(p.include_genres, [value])
            p.require_genres = _remove(p.require_genres, [value])
            p.exclude_genres = _remove(p.exclude_genres, [value])
            p.prefer_genres = _remove(p.prefer_genres, [value])
        elif kind == "mood":
            p.moods = _remove(p.moods, [value])
            p.avoid_moods = _remove(p.avoid_moods, [value])
        elif kind == "years" and value.strip():
            _allow_years(p, value)
        elif kind == "years":
            p.year_min = p.year_max = None
            p.exclude_years = []
        elif kind == "vibe":
            p.vibe = ""
        elif kind == "liked":
            ids = resolve_titles(catalog, [value]).ids
            p.liked = _remove(p.liked, ids)
            p.anchor = None if p.anchor in ids else p.anchor
    return p


def shift_era(prefs: Preferences, shift: str, shown_years: Sequence[int]) -> Preferences:
    """ "Something newer" / "older, please": move the year window past the last list's median."""
    if not shown_years:
        return prefs
    pivot = int(statistics.median(shown_years))
    p = prefs.model_copy()
    if shift == "older":
        p.year_max = pivot - 1
        if p.year_min is not None and p.year_min > p.year_max:
            p.year_min = None  # the old lower bound would leave an empty window
    else:
        p.year_min = pivot + 1
        if p.year_max is not None and p.year_max < p.year_min:
            p.year_max = None
    return p


def apply_plan(
    prefs: Preferences,
    plan: Plan,
    *,
    liked_ids: Sequence[int],
    disliked_ids: Sequence[int],
    genres: Sequence[str],
) -> Preferences:
    """The preferences after this plan. ``*_ids`` are the plan's titles, already resolved.

    A genre liked as a taste (``prefer_genres``) ranks first but filters nothing; asking for
    it (``include_genres``) makes it a must, and a taste stated later does not loosen a must.
    """
    known = {g.casefold(): g for g in genres}
    include = [known[g.casefold()] for g in plan.include_genres if g.casefold() in known]
    exclude = [known[g.casefold()] for g in plan.exclude_genres if g.casefold() in known]
    require = [known[g.casefold()] for g in plan.require_genres if g.casefold() in known]
    prefer = [known[g.casefold()] for g in plan.prefer_genres if g.casefold() in known]
    p = prefs.model_copy(deep=True)
    p.liked = _add(_remove(p.liked, disliked_ids), liked_ids)
    p.disliked = _add(_remove(p.disliked, liked_ids), disliked_ids)
    p.include_genres = _add(_remove(p.include_genres, exclude), [*include, *require])
    p.require_genres = _add(_remove(p.require_genres, exclude), require)
    p.exclude_genres = _add(_remove(p.exclude_genres, [*include, *prefer]), exclude)
    p.prefer_genres = _remove(
        _add(_remove(p.prefer_genres, exclude), prefer), [*p.include_genres, *p.exclude_genres]
    )
    p.moods = _add(_remove(p.moods, plan.avoid_moods), plan.moods)
    p.avoid_moods = _add(_remove(p.avoid_moods, plan.moods), plan.avoid_moods)
    _apply_years(p, plan)
    if plan.vibe.strip():
        p.vibe = plan.vibe.strip()
    p.vibe = _scrub_vibe(p.vibe, set(p.exclude_genres), set(p.avoid_moods))
    return p


def _allow_years(p: Preferences, value: str) -> None:
    """``drop: "years:1980-1989"`` ("the 80s are fine after all"): the exclusions those years
    overlap are lifted, and a window that leaves them out widens to take them in, the years
    between still left out ("from 2000 on", then "the 80s are fine too": not the 90s)."""
    first_text, _, last_text = value.strip().partition("-")
    if not (first_text.strip().isdigit() and last_text.strip().isdigit()):
        return
    first, last = sorted((int(first_text), int(last_text)))
    p.exclude_years = [span for span in p.exclude_years if span.last < first or span.first > last]
    gaps = []
    if p.year_min is not None and p.year_min > first:
        if p.year_min > last + 1:
            gaps.append(YearSpan(first=last + 1, last=p.year_min - 1))
        p.year_min = first
    if p.year_max is not None and p.year_max < last:
        if p.year_max < first - 1:
            gaps.append(YearSpan(first=p.year_max + 1, last=first - 1))
        p.year_max = last
    p.exclude_years = [*p.exclude_years, *gaps]


def _apply_years(p: Preferences, plan: Plan) -> None:
    """The plan's years over the earlier ones, the later wish winning where the two cannot
    both hold: a window asked for now lifts an exclusion it lies within ("not the 90s" → "ok,
    from 1995 to 1998"), and an exclusion said now ends a window it covers ("from the 90s" →
    "actually, nothing from the 90s"). Otherwise both hold: "not the 90s", then "nothing
    before 1980", is 1980 on without the 90s."""
    if plan.year_min is not None or plan.year_max is not None:
        p.year_min, p.year_max = plan.year_min, plan.year_max
        start = -(10**9) if plan.year_min is None else plan.year_min
        end = 10**9 if plan.year_max is None else plan.year_max
        p.exclude_years = [
            span for span in p.exclude_years if not span.first <= start <= end <= span.last
        ]
    for span in plan.exclude_years:
        first, last = sorted((span.first, span.last))
        if not any(old.first == first and old.last == last for old in p.exclude_years):
            p.exclude_years = [*p.exclude_years, YearSpan(first=first, last=last)]
        low, high = p.year_min, p.year_max
        if low is not None and high is not None and first <= low <= high <= last:
            p.year_min = p.year_max = None


def _scrub_vibe(vibe: str, genres: set[str], moods: set[str]) -> str:
    """The vibe without words that name what is now unwanted: after "a romantic comedy",
    "without romance" must not keep searching for "romantic"."""
    if not genres and not moods:
        return vibe
    kept = [word for word in vibe.split() if not _names_any(word, genres, moods)]
    return " ".join(kept)


def _names_any(word: str, genres: set[str], moods: set[str]) -> bool:
    phrase = normalize_text(word)
    mood = MOOD_SYNONYMS.get(phrase)
    named = set(GENRE_SYNONYMS.get(phrase, ()))
    if mood is not None and len(MOODS[mood].genres_up) == 1:
        named |= MOODS[mood].genres_up
    return bool(named & genres) or mood in moods
