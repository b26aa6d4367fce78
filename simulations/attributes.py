"""What a simulated user knows about its hidden target, and the seeded order it tells it in.

:func:`plan_attributes` reads the target's genres, era, mood, tags, plot words and a similar
film the user liked (:func:`similar_by_genres` by default) as :class:`Attr` phrases, leaving out
any that would name the target or read as some film's title.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

from agent.lexicon import MOODS, mood_score, normalize_text
from agent.planner.eras import CLASSIC_END, RECENT_YEARS
from catalog.domain import Catalog, Item
from catalog.titles import title_aliases
from simulations.leak import leaks, title_names
from simulations.templates import MOOD_WORDS, genre_phrase
from simulations.types import Target

Similar = Callable[[int, Sequence[int]], int | None]
LIKED_RATING = 3.5  # history items rated at least this may be named as "I loved X"
MAX_SIMILAR_PICKS = 5  # asks for a similar liked item whose title does not leak
MOOD_MIN_SCORE = 0.35
NOUN_CUES = frozenset(
    str.split("a an the his her their its of by with into from for about new young")
)
NOT_NOUNS = ("ly", "ed", "ing", "ous", "ful", "ive", "able", "ible", "less")  # plot word endings
SKIP_GENRES = frozenset({"IMAX", "(no genres listed)"})
GENRE_ORDER = ("Animation", "Children", "Sci-Fi", "Crime", "Horror", "Fantasy", "War", "Action")
# Kinds of attribute and their weight in the reveal order: heavier ones tend to come first.
WEIGHTS = {"genre": 5, "mood": 3, "similar": 3, "era": 3, "plot": 2, "tag": 2, "genre2": 1}
WEIGHTS |= {"era2": 1}
STOPWORDS = frozenset(
    str.split("""a about after again against all also an and any are around as at away
back be because been before being between both but by can could did do does down during each even
ever every few for from get gets go goes had has have he her here him his how if in into is it its
just make makes more most must new now of off on once one only or other our out over own she so
some still such than that the their them then there these they this those through to too under
until up upon very was way we were what when where which while who whose why will with without
would year years you young your life lives film movie story finds learns becomes tries takes
begins world time made""")
)


@dataclass(frozen=True, slots=True)
class Attr:
    """One thing a simulated user can say about its target."""

    kind: str  # a key of WEIGHTS, or "avoid"
    phrase: str  # "sci-fi thriller", "from the 90s", "The Matrix", "horror"


def similar_by_genres(catalog: Catalog) -> Similar:
    """The default ``similar``: the history item sharing most genres with the target, ties by
    recency (history is newest first); ``None`` when none shares a genre."""

    def similar(target_id: int, history: Sequence[int]) -> int | None:
        wanted = set(catalog.get(target_id).genres) - SKIP_GENRES
        scored = [(len(wanted & set(catalog.get(i).genres)), -n, i) for n, i in enumerate(history)]
        best = max((s for s in scored if s[0] > 0), default=None)
        return best[2] if best else None

    return similar


def plan_attributes(
    target: Target, catalog: Catalog, rng: random.Random, similar: Similar
) -> list[Attr]:
    """The target's attributes in a seeded reveal order: genres, era, mood, tags, plot words
    and a liked film ``similar`` picks from the history. Draws from ``rng`` in a fixed order, so
    a seed always gives the same plan."""
    item = catalog.get(target.item_id)
    attrs = _genres(item, catalog, rng) + _eras(item, catalog, rng) + _mood(item, rng)
    attrs += _tags(item, target.title, catalog, rng) + _plot(item, target.title, catalog, rng)
    return _ordered(attrs + _similar(target, catalog, similar), rng)


def _genres(item: Item, catalog: Catalog, rng: random.Random) -> list[Attr]:
    """One or two of the three rarest genres (the rarer say more), and one more as a
    refinement."""
    genre_counts, _, _, _ = _catalog_stats(catalog)
    ranked = sorted(set(item.genres) - SKIP_GENRES, key=lambda g: (genre_counts[g], g))
    if not ranked:
        return []
    main = rng.sample(ranked[:3], min(len(ranked), rng.choice((1, 2))))
    main.sort(key=lambda g: (*GENRE_ORDER, g).index(g))
    attrs = [Attr("genre", " ".join(map(genre_phrase, main)))]
    return attrs + [Attr("genre2", genre_phrase(g, 1)) for g in ranked if g not in main][:1]


def _eras(item: Item, catalog: Catalog, rng: random.Random) -> list[Attr]:
    """The decade (or "fairly recent", "an old classic"), and its early, mid or late part as a
    refinement."""
    if not item.year:
        return []
    _, _, _, newest = _catalog_stats(catalog)
    decade = item.year // 10 * 10
    short = f"{decade % 100:02d}s" if 1910 <= decade < 2000 else f"{decade}s"
    options = [f"from the {short}", f"from the {decade}s"]
    options += ["that's fairly recent"] * (item.year >= newest - RECENT_YEARS)
    options += ["that's an old classic"] * (item.year <= CLASSIC_END)
    part = ("early", "mid", "late")[min(item.year % 10 // 3, 2)]
    return [Attr("era", rng.choice(options)), Attr("era2", f"from the {part} {short}")]


def _mood(item: Item, rng: random.Random) -> list[Attr]:
    """The mood the item carries most (agent.lexicon); more carrying genres break ties."""
    scores = {
        m: mood_score(m, item.genres, item.tags, item.overview)
        + 0.01 * len(MOODS[m].genres_up & set(item.genres))
        for m in MOODS
    }
    best = max(scores.values())
    if best < MOOD_MIN_SCORE:
        return []
    mood = rng.choice(sorted(m for m, s in scores.items() if s >= best - 1e-6))
    return [Attr("mood", rng.choice(MOOD_WORDS[mood]))]


def _tags(item: Item, title: str, catalog: Catalog, rng: random.Random) -> list[Attr]:
    """One or two tags a person would say: no digits or list-keeping junk, not a genre,
    not a title (of the target or of any other film)."""
    genre_words = {genre_phrase(g, f) for g in catalog.genres for f in range(3)}
    tags = []
    for tag in item.tags:
        norm = normalize_text(tag)
        if len(norm) < 3 or len(norm.split()) > 3 or norm in genre_words:
            continue
        if leaks(tag, title, strict=True) or re.search(r"\d|netflix|queue|dvd|seen", norm):
            continue
        if not _names_a_film(catalog, tag):
            tags.append(tag)
    chosen = tags[: rng.choice((1, 2))]
    return [Attr("tag", " and ".join(chosen))] if chosen else []


def _plot(item: Item, title: str, catalog: Catalog, rng: random.Random) -> list[Attr]:
    """Two or three salient overview words, in overview order: nouns by a cheap guess
    (after "a", "the", "by"...) first, then the rarest in the catalog's overviews. Skips
    stopwords, names (capitalised mid-sentence), words of the title and titles."""
    _, doc_counts, size, _ = _catalog_stats(catalog)
    title_words = {w for name in title_names(title) for w in name.words}
    text, found, preceding = item.overview, {}, ""
    for match in re.finditer(r"[A-Za-z][A-Za-z'-]*", text):
        word, before = normalize_text(match.group()), text[: match.start()].rstrip()
        cued, preceding = preceding in NOUN_CUES, word
        if match.group()[0].isupper() and before and before[-1] not in ".!?":
            continue  # a name
        if len(word) < 5 or " " in word or word in STOPWORDS or word in title_words:
            continue
        if word not in found and not word.endswith(NOT_NOUNS):
            rarity = math.log((doc_counts[word] + 1) / (size + 1))
            found[word] = (not cued, rarity, -len(word))
    count, ranked = rng.choice((2, 3)), sorted(found, key=found.__getitem__)
    top = sorted(islice((w for w in ranked if not _names_a_film(catalog, w)), count), key=text.find)
    return [Attr("plot", ", ".join(top[:-1]) + " and " + top[-1])] if len(top) > 1 else []


def _similar(target: Target, catalog: Catalog, similar: Similar) -> list[Attr]:
    """A liked history item (all are liked without ratings) like the target, as "The
    Matrix"; a pick whose title leaks (a sequel) is passed over for the next one."""
    history, ratings = target.history, target.ratings
    liked = [
        i
        for n, i in enumerate(history)
        if (len(ratings) != len(history) or ratings[n] >= LIKED_RATING)
        and i in catalog
        and i != target.item_id
    ]
    for _ in range(MAX_SIMILAR_PICKS):
        pick = similar(target.item_id, liked) if liked else None
        if pick is None or pick not in catalog:
            return []
        if not leaks(phrase := _spoken_title(catalog.get(pick)), target.title, strict=True):
            return [Attr("similar", phrase)]
        liked = [i for i in liked if i != pick]
    return []


def _ordered(attrs: list[Attr], rng: random.Random) -> list[Attr]:
    """A seeded weighted shuffle; refinements (genre2, era2) after what they refine."""
    keyed = sorted(attrs, key=lambda a: -(rng.random() ** (1 / WEIGHTS[a.kind])))
    for later, first in (("genre2", "genre"), ("era2", "era")):
        kinds = [a.kind for a in keyed]
        if later in kinds and first in kinds and kinds.index(later) < kinds.index(first):
            i, j = kinds.index(later), kinds.index(first)
            keyed[i], keyed[j] = keyed[j], keyed[i]
    return keyed


def _spoken_title(item: Item) -> str:
    """How people say a title: "Matrix, The" -> "The Matrix", alternative titles dropped."""
    main = title_aliases(item.title)[0] if item.title else item.title
    return re.sub(r"^(.+), (The|A|An)$", r"\2 \1", main)


def _names_a_film(catalog: Catalog, phrase: str) -> bool:
    """The recommender would read the phrase as a title ("toys", "boyhood")."""
    return any(m.names_it for m in catalog.search_titles(phrase, 1))


@lru_cache(maxsize=8)
def _catalog_stats(catalog: Catalog) -> tuple[Counter[str], Counter[str], int, int]:
    """Genre counts, overview word document counts, the number of items and the newest year."""
    genres = Counter(genre for item in catalog for genre in item.genres)
    words = Counter(w for item in catalog for w in set(normalize_text(item.overview).split()))
    newest = max((item.year for item in catalog if item.year), default=0)
    return genres, words, len(catalog), newest
