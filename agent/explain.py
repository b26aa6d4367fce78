"""Short reasons for a list of recommendations, grounded in catalog data, in plain English.

A reason says what the genre chips on the card do not: what the pick shares with a title the
person named (its user tags), how its tone differs from it (the mood lexicon, for a mood the
person wants less of), the tags that carry a wanted mood or a word of the request, the tags
people give it, or how well it is rated. Titles the person named are cited as "like X", never as
"because you liked X": "something like X" is no statement of taste. Tags of a mood the person
does not want are never cited ("dark comedy" for "feel-good"), nor are noise tags (numbers, user
handles, "bad dialogue") and tags that only repeat a genre.

Reasons vary across a list: the sentence shape rotates with the position, and a tag already cited
on ``MAX_TAG_USES`` cards gives way to the next one. The overview's first sentence follows.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from agent.lexicon import (
    GENRE_SYNONYMS,
    MOODS,
    canonical_mood,
    implied_avoid,
    mood_score,
    normalize_text,
)
from agent.state import Preferences
from catalog.domain import Catalog, Item
from catalog.index import VectorIndex

SIMILAR_ENOUGH = 0.45  # cosine above which a pick is "close to" a named title
TONE_MARGIN = 0.15  # a mood score this much below the named title's reads as a different tone
OVERVIEW_CHARS = 110
MAX_TAG_USES = 2  # a tag cited on more cards than this reads as a template
WELL_KNOWN = 50  # ratings for "a crowd favourite"
TAGS_CITED = 2

# Tags that describe a viewing, the tagger or a defect rather than the film.
_NOISE = re.compile(
    r"\d|:|bechdel|dialogue|\bbad\b|\bpoor\b|boring|overrated|predictable|stupid|worst|waste"
    r"|annoying|clich|\bweak\b|must see|netflix|\bseen\b|\bdvd|imdb|\bowned?\b|to see|watch"
    r"|\bmy\b|favou?rite|\bnot\b|\bno\b|\bnever\b"
)
_DESCRIBING_ENDINGS = ("ing", "ic", "ous", "ful", "ive", "al", "ed", "like", "esque")
_NOUNS_THAT_LOOK_DESCRIBING = frozenset(
    {"ending", "music", "animal", "wedding", "boxing", "clothing", "painting", "writing"}
    | {"hospital", "festival"}
)
# Describing words that no ending gives away.
_DESCRIBING_WORDS = frozenset(
    {"dark", "fun", "sad", "cute", "sweet", "funny", "quirky", "gritty", "creepy", "scary"}
    | {"spooky", "silly", "goofy", "witty", "trippy", "bleak", "grim", "deep", "smart", "clever"}
    | {"epic", "tense", "intense", "surreal", "complex", "gory", "bloody", "violent", "heavy"}
    | {"weird", "intelligent", "brilliant", "elegant", "slow", "beautiful", "charming"}
)
# How a lower score for an unwanted mood reads, and how a wanted mood reads.
_LESS = {"depressing": "sad"}
_TONE = {
    "light": "light-hearted",
    "funny": "funny",
    "dark": "dark",
    "depressing": "sad",
    "scary": "scary",
    "romantic": "romantic",
    "exciting": "exciting",
    "thoughtful": "thought-provoking",
    "relaxing": "easygoing",
    "violent": "violent",
}


def overview_phrase(item: Item, limit: int = OVERVIEW_CHARS) -> str:
    """The overview's first sentence, cut at a word boundary. A sentence ends at ". " before a
    capital word, not after an initial or abbreviation ("U.S.", "Frank Abagnale Jr.")."""
    text = " ".join(item.overview.split())
    if not text:
        return ""
    first = re.split(r"(?<![A-Z]\.)(?<!\b[A-Z][a-z]\.)(?<=[.!?])\s(?=[A-Z\"“])", text, maxsplit=1)[
        0
    ]
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


@dataclass
class ReasonContext:
    """What the reasons of one list share: the wishes, the titles named, and what was cited."""

    prefs: Preferences
    catalog: Catalog
    index: VectorIndex
    history: Sequence[int] = ()
    cited: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        ids = [i for i in [self.prefs.anchor, *self.prefs.liked] if i is not None]
        self.named = [self.catalog.get(i) for i in dict.fromkeys(ids) if i in self.catalog]
        wanted = {canonical_mood(m) or m for m in self.prefs.moods}
        self.wanted = [m for m in wanted if m in MOODS]
        self.unwanted = [
            canonical_mood(m) or m
            for m in [*self.prefs.avoid_moods, *implied_avoid(wanted, self.prefs.avoid_moods)]
        ]
        self.genre_words = {normalize_text(g) for g in self.catalog.genres} | {
            normalize_text(g) for g in GENRE_SYNONYMS
        }
        # Words of the request a tag may echo: not genre words (the chips show genres).
        self.request_words = {
            w
            for w in normalize_text(" ".join([self.prefs.vibe, *self.prefs.moods])).split()
            if len(w) > 3 and w not in self.genre_words
        }


def usable_tags(item: Item, ctx: ReasonContext) -> list[str]:
    """The item's tags worth citing: not noise, not a genre again, not of an unwanted mood."""
    return [
        tag
        for tag in item.tags
        if not _NOISE.search(tag)
        and len(tag) <= 30
        and normalize_text(tag) not in ctx.genre_words
        and not any(mood_score(m, (), (tag,), "") for m in ctx.unwanted)
    ]


def describing(tag: str) -> bool:
    """Whether a tag reads as a description ("thought-provoking", "atmospheric") rather than a
    topic ("time travel", "pixar"), which is quoted instead."""
    words = tag.replace("-", " ").split()
    last = words[-1] if words else ""
    return len(words) <= 2 and (
        last in _DESCRIBING_WORDS
        or (last.endswith(_DESCRIBING_ENDINGS) and last not in _NOUNS_THAT_LOOK_DESCRIBING)
    )


def _fresh(tags: Sequence[str], ctx: ReasonContext) -> list[str]:
    """Tags not yet cited too often on this list, at most ``TAGS_CITED``."""
    return [t for t in tags if ctx.cited[t] < MAX_TAG_USES][:TAGS_CITED]


def _words(tags: Sequence[str]) -> str:
    """Descriptions in plain words (``thought-provoking and dreamlike``), anything else as the
    tags they are (``“philosophy” and “alternate reality”``)."""
    plain = all(describing(t) for t in tags)
    return " and ".join(t if plain else f"“{t}”" for t in tags)


def _cosine(item: Item, others: Sequence[Item], index: VectorIndex) -> tuple[Item, float] | None:
    usable = [o for o in others if o.id in index and o.id != item.id]
    if not usable or item.id not in index:
        return None
    sims = index.vectors([o.id for o in usable]) @ index.vector(item.id)
    best = int(np.argmax(sims))
    return usable[best], float(sims[best])


def _named_clause(item: Item, tags: list[str], ctx: ReasonContext, turn: int) -> tuple[str, bool]:
    """How the pick relates to a title the person named ("" when it does not), and whether
    that says what they share."""
    named = [n for n in ctx.named if n.id != item.id]
    if not named:
        return "", False
    shared_by = {n.id: [t for t in tags if t in set(usable_tags(n, ctx))] for n in named}
    best = max(named, key=lambda n: len(_fresh(shared_by[n.id], ctx)))
    shared = _fresh(shared_by[best.id], ctx)
    if not shared:
        close = _cosine(item, named, ctx.index)
        genres = set(item.display_genres)
        partner = next((n for n in named if len(genres & set(n.display_genres)) >= 2), None)
        if close is not None and close[1] >= SIMILAR_ENOUGH:
            best = close[0]
        elif partner is not None:
            best = partner
        else:
            return "", False
    ctx.cited.update(shared)
    return _relate(best.name, shared, turn) + _tone(item, best, ctx, turn), bool(shared)


def _relate(title: str, shared: list[str], turn: int) -> str:
    if not shared:
        return [f"in the spirit of {title}", f"close to {title}", f"for fans of {title}"][turn % 3]
    words = _words(shared)
    if all(describing(t) for t in shared):
        return [
            f"{words}, like {title}",
            f"another {words} one after {title}",
            f"as {words} as {title}",
        ][turn % 3]
    return [
        f"shares {words} with {title}",
        f"like {title}: {words}",
        f"another {words} film, after {title}",
    ][turn % 3]


def _tone(item: Item, named: Item, ctx: ReasonContext, turn: int) -> str:
    """A tone that differs from the named title the way the person asked ("lighter in tone")."""

    def lower(mood: str) -> bool:
        ours = mood_score(mood, item.genres, item.tags, item.overview)
        return mood_score(mood, named.genres, named.tags, named.overview) - ours >= TONE_MARGIN

    def not_higher(mood: str) -> bool:
        ours = mood_score(mood, item.genres, item.tags, item.overview)
        return ours <= mood_score(mood, named.genres, named.tags, named.overview)

    for mood in ctx.unwanted:
        if lower(mood):
            light = mood in ("depressing", "dark") and all(
                not_higher(m) for m in ("dark", "depressing")
            )
            less = "lighter in tone" if light else f"less {_LESS.get(mood, mood)}"
            return [f", but {less}", f", {less}", f" — and {less}"][turn % 3]
    return ""


def _mood_clause(item: Item, tags: list[str], ctx: ReasonContext) -> str:
    for mood in ctx.wanted:
        carrying = _fresh([t for t in tags if mood_score(mood, (), (t,), "")], ctx)
        if carrying:
            ctx.cited.update(carrying)
            return f"{_TONE[mood]}: {_words(carrying)}"
    return ""


def _request_clause(item: Item, tags: list[str], ctx: ReasonContext) -> str:
    matching = _fresh([t for t in tags if ctx.request_words & set(normalize_text(t).split())], ctx)
    ctx.cited.update(matching)
    return f"tagged {_words(matching)}" if matching else ""


def _own_clause(item: Item, tags: list[str], ctx: ReasonContext, turn: int) -> str:
    own = _fresh(tags, ctx)
    if not own:
        return _rating_clause(item, turn)
    ctx.cited.update(own)
    if all(describing(t) for t in own):
        return [f"people call it {_words(own)}", f"often described as {_words(own)}"][turn % 2]
    return [f"tagged {_words(own)}", f"people tag it {_words(own)}"][turn % 2]


def _rating_clause(item: Item, turn: int) -> str:
    if item.mean_rating is None or not item.popularity:
        return ", ".join(item.display_genres[:3]).lower()  # the last resort: what it is
    rating, count = f"{item.mean_rating:.1f}/5", f"{item.popularity:,}"
    if item.mean_rating >= 4.0 and item.popularity >= WELL_KNOWN:
        return f"a crowd favourite: {rating} from {count} ratings"
    return [f"rated {rating} by {count} people", f"{count} people rate it {rating}"][turn % 2]


def _history_clause(item: Item, ctx: ReasonContext) -> str:
    watched = [ctx.catalog.get(i) for i in ctx.history[:20] if i in ctx.catalog]
    close = _cosine(item, watched, ctx.index)
    if close is None or close[1] < SIMILAR_ENOUGH:
        return ""
    return f"close to {close[0].name}, which you watched"


def reason(item: Item, ctx: ReasonContext, turn: int = 0) -> str:
    """One reason for ``item``, the ``turn``-th pick of the list ``ctx`` is shared across: how
    it relates to a named title (or the history), a wanted mood, the request's words; else
    what people say of it."""
    tags = usable_tags(item, ctx)
    before = Counter(ctx.cited)
    related, said_what = _named_clause(item, tags, ctx, turn)
    related = related or _history_clause(item, ctx)
    clauses = [related]
    for clause in (_mood_clause, _request_clause):
        fresh = [t for t in tags if ctx.cited[t] == before[t]]  # not cited on this card yet
        clauses.append(clause(item, fresh, ctx))
    kept = [c for c in clauses if c][:2]
    if not kept or (related and not said_what and len(kept) == 1):
        fresh = [t for t in tags if ctx.cited[t] == before[t]]
        kept.append(_own_clause(item, fresh, ctx, turn))
    return "; ".join(c for c in kept if c)


def explain(item: Item, ctx: ReasonContext, turn: int = 0) -> str:
    """The reason for ``item``, then its overview's first sentence."""
    text = reason(item, ctx, turn)
    text = text[:1].upper() + text[1:]
    phrase = overview_phrase(item)
    if not phrase:
        return f"{text}." if text else ""
    return f"{text}. {phrase}" if text else phrase
