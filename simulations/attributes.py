"""What a simulated user knows about its hidden target, and the seeded order it tells it in.

:func:`plan_attributes` reads the target's genres, era, mood, tags, plot words and a similar
film the user liked (:func:`similar_by_genres` by default) as :class:`Attr` phrases. Only what
many films share is said: tag and plot words must occur in at least ``MIN_DOC_SHARE`` of the
catalog's items (tags and overviews), names (words the catalog's overviews capitalise mid-sentence)
are never said, nor anything that names the target or reads as some film's title — so the words
describe the target without singling it out. :func:`plan_from_history` is the target-free user's
plan: what its history says about its taste, nothing about the held-out item.

The moods, eras and words are the simulator's own (:mod:`simulations.templates`); nothing is
borrowed from the agent's planner or lexicon.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

from catalog.domain import Catalog, Item
from catalog.folding import fold_accents
from catalog.titles import title_aliases
from simulations.leak import leaks, title_names
from simulations.templates import MOODS, genre_phrase
from simulations.types import Target

Similar = Callable[[int, Sequence[int]], int | None]
LIKED_RATING = 3.5  # history items rated at least this may be named as "I loved X"
MAX_SIMILAR_PICKS = 5  # asks for a similar liked item whose title does not leak
MIN_DOC_SHARE = 0.004  # a tag or plot word must describe at least this share of the catalog
MIN_DOC_COUNT = 2  # ... and at least this many items (small catalogs)
RECENT_YEARS, OLD_CLASSIC = 4, 1969  # the simulator's own idea of "recent" and "old classic"
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


def words_of(text: str) -> list[str]:
    """Lowercase words without accents or apostrophes: the simulator's own normalisation."""
    return re.findall(r"[a-z0-9]+", fold_accents(text).casefold().replace("'", ""))


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


def plan_from_history(
    target: Target, catalog: Catalog, rng: random.Random, similar: Similar
) -> list[Attr]:
    """The target-free user's plan: its taste as its liked history shows it — the genres and
    decade most of its liked films share, their mood, and liked films to name — never anything
    of the held-out item (only a title that would name it is kept back)."""
    liked = _liked(target, catalog)
    items = [catalog.get(i) for i in liked[:20]]
    if not items:
        return []
    genres = Counter(g for item in items for g in item.genres if g not in SKIP_GENRES)
    top = [g for g, _ in genres.most_common(2)]
    attrs = [Attr("genre", genre_phrase(top[0]))] if top else []
    attrs += [Attr("genre2", genre_phrase(g, 1)) for g in top[1:]]
    decades = Counter(item.year // 10 * 10 for item in items if item.year)
    if decades:
        decade = decades.most_common(1)[0][0]
        short = f"{decade % 100:02d}s" if 1910 <= decade < 2000 else f"{decade}s"
        attrs.append(Attr("era", f"from the {short}"))
    moods = Counter(m for item in items if (m := mood_of(item.genres, item.tags)))
    if moods:
        attrs.append(Attr("mood", rng.choice(MOODS[moods.most_common(1)[0][0]].words)))
    names = [spoken_title(catalog.get(i)) for i in liked[:6]]
    attrs += [Attr("similar", n) for n in names if not leaks(n, target.title, strict=True)][:2]
    return _ordered(attrs, rng)


def _liked(target: Target, catalog: Catalog) -> list[int]:
    """The history's liked items (all of them without ratings), newest first."""
    history, ratings = target.history, target.ratings
    return [
        i
        for n, i in enumerate(history)
        if (len(ratings) != len(history) or ratings[n] >= LIKED_RATING)
        and i in catalog
        and i != target.item_id
    ]


def _genres(item: Item, catalog: Catalog, rng: random.Random) -> list[Attr]:
    """One or two of the three rarest genres (the rarer say more), and one more as a
    refinement."""
    genre_counts = _catalog_stats(catalog).genres
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
    newest = _catalog_stats(catalog).newest
    decade = item.year // 10 * 10
    short = f"{decade % 100:02d}s" if 1910 <= decade < 2000 else f"{decade}s"
    options = [f"from the {short}", f"from the {decade}s", f"made in the {short}"]
    options += ["that's fairly recent", "from the last few years"] * (
        item.year >= newest - RECENT_YEARS
    )
    options += ["that's an old classic", "from way back"] * (item.year <= OLD_CLASSIC)
    part = ("early", "mid", "late")[min(item.year % 10 // 3, 2)]
    return [Attr("era", rng.choice(options)), Attr("era2", f"from the {part} {short}")]


def mood_of(genres: Sequence[str], tags: Sequence[str]) -> str | None:
    """The simulator's mood for an item: the one whose cue words its tags use most (a tag cue
    counts 2, a carrying genre 1); ``None`` without a tag cue and a genre cue together."""
    tag_words = {w for tag in tags for w in words_of(tag)}
    scores = {
        name: (2 * len(mood.cues & tag_words), len(mood.genres & set(genres)))
        for name, mood in MOODS.items()
    }
    best = max(scores, key=lambda m: (sum(scores[m]), scores[m][0], m))
    return best if scores[best][0] and sum(scores[best]) >= 3 else None


def _mood(item: Item, rng: random.Random) -> list[Attr]:
    """The item's mood in one of the simulator's words for it."""
    mood = mood_of(item.genres, item.tags)
    return [Attr("mood", rng.choice(MOODS[mood].words))] if mood else []


def common_words(catalog: Catalog, phrase: str) -> bool:
    """Every word of the phrase is shared by many items and none is a name: it describes a
    kind of film, not one film."""
    stats = _catalog_stats(catalog)
    floor = max(MIN_DOC_COUNT, MIN_DOC_SHARE * stats.size)
    words = words_of(phrase)
    return bool(words) and all(stats.doc_counts[w] >= floor and w not in stats.names for w in words)


def singles_out(text: str, item: Item, catalog: Catalog) -> bool:
    """The text shares a word with the item's overview or tags that few films share, or that
    is a name (a character's, a person's, a franchise's): it would single the item out."""
    own = set(words_of(item.overview + " " + " ".join(item.tags)))
    said = [w for w in words_of(text) if w in own and len(w) > 2 and w not in STOPWORDS]
    return any(not common_words(catalog, w) for w in said)


def _tags(item: Item, title: str, catalog: Catalog, rng: random.Random) -> list[Attr]:
    """One or two tags a person would say: common words only, no digits or list-keeping junk,
    not a genre, not a title (of the target or of any other film)."""
    genre_words = {genre_phrase(g, f) for g in catalog.genres for f in range(3)}
    tags = []
    for tag in item.tags:
        norm = " ".join(words_of(tag))
        if len(norm) < 3 or len(norm.split()) > 3 or norm in genre_words:
            continue
        if leaks(tag, title, strict=True) or re.search(r"\d|netflix|queue|dvd|seen", norm):
            continue
        if common_words(catalog, norm) and not _names_a_film(catalog, tag):
            tags.append(norm)
    chosen = tags[: rng.choice((1, 2))]
    return [Attr("tag", " and ".join(chosen))] if chosen else []


def _plot(item: Item, title: str, catalog: Catalog, rng: random.Random) -> list[Attr]:
    """Two or three overview words many films share, in overview order, nouns by a cheap guess
    (after "a", "the", "by"...) first. Skips stopwords, names, words of the title and titles."""
    title_words = {w for name in title_names(title) for w in name.words}
    text, found, preceding = item.overview, {}, ""
    for match in re.finditer(r"[A-Za-z][A-Za-z'-]*", text):
        word, before = " ".join(words_of(match.group())), text[: match.start()].rstrip()
        cued, preceding = preceding in NOUN_CUES, word
        if match.group()[0].isupper() and before and before[-1] not in ".!?":
            continue  # a name
        if len(word) < 5 or " " in word or word in STOPWORDS or word in title_words:
            continue
        if word not in found and not word.endswith(NOT_NOUNS) and common_words(catalog, word):
            found[word] = (not cued, text.find(match.group()))
    count, ranked = rng.choice((2, 3)), sorted(found, key=found.__getitem__)
    top = sorted(islice((w for w in ranked if not _names_a_film(catalog, w)), count), key=text.find)
    return [Attr("plot", ", ".join(top[:-1]) + " and " + top[-1])] if len(top) > 1 else []


def _similar(target: Target, catalog: Catalog, similar: Similar) -> list[Attr]:
    """A liked history item (all are liked without ratings) like the target, as "The
    Matrix"; a pick whose title leaks (a sequel) is passed over for the next one."""
    liked = _liked(target, catalog)
    for _ in range(MAX_SIMILAR_PICKS):
        pick = similar(target.item_id, liked) if liked else None
        if pick is None or pick not in catalog:
            return []
        if not leaks(phrase := spoken_title(catalog.get(pick)), target.title, strict=True):
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


def spoken_title(item: Item) -> str:
    """How people say a title: "Matrix, The" -> "The Matrix", alternative titles dropped."""
    main = title_aliases(item.title)[0] if item.title else item.title
    return re.sub(r"^(.+), (The|A|An)$", r"\2 \1", main)


def _names_a_film(catalog: Catalog, phrase: str) -> bool:
    """The recommender would read the phrase as a title ("toys", "boyhood")."""
    return any(m.names_it for m in catalog.search_titles(phrase, 1))


@dataclass(frozen=True)
class CatalogStats:
    """What the simulator counts once per catalog: genre counts, in how many items each word
    occurs (tags and overview), the words its overviews write as names, size and newest year."""

    genres: Counter[str]
    doc_counts: Counter[str]
    names: frozenset[str]
    size: int
    newest: int


@lru_cache(maxsize=8)
def _catalog_stats(catalog: Catalog) -> CatalogStats:
    genres = Counter(genre for item in catalog for genre in item.genres)
    docs: Counter[str] = Counter()
    capitalised: Counter[str] = Counter()
    lower: Counter[str] = Counter()
    for item in catalog:
        docs.update(set(words_of(item.overview + " " + " ".join(item.tags))))
        for match in re.finditer(r"(?<=[a-z,;] )[A-Za-z]+", item.overview):
            word = match.group()
            (capitalised if word[0].isupper() else lower)[word.lower()] += 1
    names = frozenset(w for w, n in capitalised.items() if n > lower[w])
    newest = max((item.year for item in catalog if item.year), default=0)
    return CatalogStats(genres, docs, names, len(catalog), newest)
