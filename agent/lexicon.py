"""The words people use for genres and moods, and how a mood shows in an item's data.

Shared by the offline planner (reading requests) and the agent's ranking (pushing items up or
down by mood). Phrases are lowercase and written as people type them; the planner normalises
them the way it normalises messages, so "sci-fi", "sci fi" and "Sci-Fi" are one phrase.

Moods vs genres: a genre is a hard catalog label (include / exclude); a mood is a soft quality
measured by :func:`mood_score` from genres, tags and overview words, so "less depressing" can
push sad films down without banning dramas. Only when a mood is asked for and no genre is
("something scary", "like Alien but funnier") does it bound the genres
(:func:`mood_genre_bounds`, topped up where too few films are left): without that, a film
merely titled with the word (*Scary Movie*, *Running Scared*) or a cartoon about "scaring"
(*Monsters, Inc.*) filled the list.

Opposites: wanting a mood cancels earlier wishes for its opposites (:data:`OPPOSITE_MOODS`):
"something uplifting" after "something dark" replaces dark. Avoiding a mood implies nothing
else: "like Inception but less depressing" only avoids ``depressing`` — adding ``light`` would
pull comedies into an Inception list, and avoiding ``dark`` would push Inception's own
neighbours down.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from catalog.folding import fold_accents
from catalog.sequences import dedupe

# --- Genres --------------------------------------------------------------------------------------


def _with_plurals(table: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Add the regular plural ("thriller" -> "thrillers", "war movie" -> "war movies") of
    every phrase whose plural is regular; irregular ones ("comedies") are listed."""
    out = dict(table)
    for phrase, genres in table.items():
        if phrase[-1].isalpha() and not phrase.endswith(("s", "y", "'s")):
            out.setdefault(phrase + "s", genres)
    return out


# Phrase -> catalog genres. "space" and "superhero" are deliberately absent: no MovieLens genre
# carries them (space films are Sci-Fi but Sci-Fi is not space), so they stay in the vibe text
# that retrieval embeds, where tags like "space" and "superhero" match them.
GENRE_SYNONYMS: dict[str, tuple[str, ...]] = _with_plurals(
    {
        "action": ("Action",),
        "action movie": ("Action",),
        "adventure": ("Adventure",),
        "animation": ("Animation",),
        "animated": ("Animation",),
        "cartoon": ("Animation",),
        "anime": ("Animation",),
        "kids": ("Children",),
        "kid": ("Children",),
        "for kids": ("Children",),
        "kid-friendly": ("Children",),
        "children": ("Children",),
        "children's": ("Children",),
        "family": ("Children",),
        "family-friendly": ("Children",),
        "comedy": ("Comedy",),
        "comedies": ("Comedy",),
        "rom-com": ("Comedy", "Romance"),
        "rom-coms": ("Comedy", "Romance"),
        "romcom": ("Comedy", "Romance"),
        "romantic comedy": ("Comedy", "Romance"),
        "romantic comedies": ("Comedy", "Romance"),
        "crime": ("Crime",),
        "gangster": ("Crime",),
        "mafia": ("Crime",),
        "documentary": ("Documentary",),
        "documentaries": ("Documentary",),
        "docs": ("Documentary",),
        "docu": ("Documentary",),
        "drama": ("Drama",),
        "fantasy": ("Fantasy",),
        "fantasies": ("Fantasy",),
        "fairy tale": ("Fantasy",),
        "noir": ("Film-Noir",),
        "film noir": ("Film-Noir",),
        "film-noir": ("Film-Noir",),
        "horror": ("Horror",),
        "slasher": ("Horror",),
        "imax": ("IMAX",),
        "musical": ("Musical",),
        "mystery": ("Mystery",),
        "mysteries": ("Mystery",),
        "whodunit": ("Mystery",),
        "whodunnit": ("Mystery",),
        "romance": ("Romance",),
        "romances": ("Romance",),
        "sci-fi": ("Sci-Fi",),
        "scifi": ("Sci-Fi",),
        "scfi": ("Sci-Fi",),
        "syfy": ("Sci-Fi",),
        "sifi": ("Sci-Fi",),
        "science fiction": ("Sci-Fi",),
        "science-fiction": ("Sci-Fi",),
        "thriller": ("Thriller",),
        "suspense": ("Thriller",),
        "war": ("War",),
        "war movie": ("War",),
        "war film": ("War",),
        "western": ("Western",),
    }
)


def _bars(text: str) -> list[str]:
    """``"a|b c"`` -> ``["a", "b c"]``: phrase lists written as one string."""
    return text.split("|")


# --- Moods ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mood:
    """How a mood shows in item data: genres that carry it, genres that fight it, and words
    (lowercase, normalised) found in tags and overviews of items that have it."""

    genres_up: frozenset[str]
    genres_down: frozenset[str]
    words: frozenset[str]
    # When the mood is all a request says ("something scary"): a film must have one of
    # ``carriers`` and none of ``never`` (see :func:`mood_genre_bounds`).
    carriers: frozenset[str] = frozenset()
    never: frozenset[str] = frozenset()


def _mood(up: str, down: str, words: str, *, carriers: str = "", never: str | None = None) -> Mood:
    """Build a :class:`Mood` from ``|``-separated genre lists and a ``|``-separated word list;
    ``carriers`` defaults to the genres that carry the mood, ``never`` to those that fight it."""
    genres_up = frozenset(filter(None, up.split("|")))
    genres_down = frozenset(filter(None, down.split("|")))
    return Mood(
        genres_up=genres_up,
        genres_down=genres_down,
        words=frozenset(normalize_text(word) for word in words.split("|")),
        carriers=frozenset(filter(None, carriers.split("|"))) or genres_up,
        never=genres_down if never is None else frozenset(filter(None, never.split("|"))),
    )


def normalize_text(text: str) -> str:
    """Lowercase, strip accents, and turn everything but letters and digits into single spaces."""
    bare = fold_accents(text).casefold().replace("'", "")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", bare).split())


MOODS: dict[str, Mood] = {
    "dark": _mood(
        "Film-Noir|Horror",
        "Children|Animation|Musical",
        "dark|bleak|grim|gritty|disturbing|violent|violence|brutal|noir|neo noir|sinister|twisted"
        "|nihilistic|menacing|macabre|gloomy|brooding|nightmarish|dark humor|dark humour|dark comedy"
        "|black comedy|black humor|black humour"
        "|serial killer|psychopath|murder|revenge",
        carriers="Crime|Drama|Film-Noir|Horror|Mystery|Thriller|War",
    ),
    "depressing": _mood(
        "Drama|War",
        "Comedy|Children|Animation|Musical",
        "sad|sadness|tragic|tragedy|depressing|depression|death|dying|grief|grieving|suicide"
        "|cancer|war|holocaust|genocide|loss|mourning|heartbreaking|tearjerker|tear jerker"
        "|melancholy|melancholic|terminal illness|funeral|abuse|bleak|loneliness",
        never="Children|Animation|Musical",  # a sad film may have its comic moments
    ),
    "light": _mood(
        # not Romance: "romantic" is its own mood, and a Drama|Romance (American Beauty, A
        # Beautiful Mind) opened "a feel-good movie"; a romantic comedy carries it by Comedy
        "Comedy|Animation|Children|Musical",
        "Horror|War|Film-Noir",
        "feel good|funny|heartwarming|heart warming|charming|uplifting|cheerful|lighthearted"
        "|light hearted|sweet|cute|whimsical|wholesome|fun|happy ending|optimistic|hopeful"
        "|delightful|good fun|friendship|family",
    ),
    "funny": _mood(
        "Comedy",
        "War|Horror|Documentary",
        "funny|hilarious|comedy|humor|humour|humorous|witty|satire|satirical|parody|spoof"
        "|slapstick|quirky|absurd|goofy|silly|jokes|comic|dark comedy|laugh out loud",
        never="War|Documentary",  # horror comedies are funny on purpose
    ),
    "scary": _mood(
        "Horror|Thriller",
        "Children|Comedy|Animation|Musical",
        "scary|terrifying|creepy|frightening|horror|spooky|eerie|haunted|ghost|demon|possession"
        "|supernatural|monster|zombie|jump scares|suspense|serial killer|slasher|gore|nightmare"
        "|terror|paranormal",
        never="Children|Animation|Musical",  # horror comedies still frighten
    ),
    "romantic": _mood(
        "Romance",
        "Horror|War",
        "romantic|romance|love|love story|falls in love|fall in love|relationship|wedding"
        "|couple|passion|first love|true love|chick flick",
    ),
    "exciting": _mood(
        "Action|Adventure|Thriller",
        "Documentary",
        "exciting|action|action packed|thrilling|suspense|suspenseful|intense|fast paced|chase"
        "|explosions|adrenaline|heist|fight|battle|epic|gripping|tense|high octane|car chase",
        never="Documentary|Children",
    ),
    "thoughtful": _mood(
        "Mystery|Documentary",
        "Children",
        "mind bending|mindfuck|cerebral|twist ending|plot twist|twist|thought provoking"
        "|philosophical|philosophy|dreamlike|dreams|surreal|surrealism|existential|nonlinear"
        "|non linear|complicated|intelligent|smart|open ending|ambiguous ending"
        "|alternate reality|psychological|thoughtful|metaphysical|consciousness|identity|memory",
        carriers="Drama|Documentary|Mystery|Sci-Fi",
    ),
    "relaxing": _mood(
        "Comedy|Animation|Romance|Children",
        "Horror|Thriller|War|Action",
        "relaxing|cozy|cosy|calm|gentle|slow paced|quiet|peaceful|comforting|feel good|charming"
        "|sweet|heartwarming|whimsical|low key|soothing|nature|slice of life|tranquil|easygoing",
        carriers="Comedy|Animation|Romance|Children|Musical|Documentary",
    ),
    "violent": _mood(
        "Action|War|Horror|Crime",
        "Children|Animation|Musical",
        "violent|violence|gore|gory|bloody|brutal|brutality|graphic violence|torture|massacre"
        "|bloodshed|blood|splatter|slasher|gruesome|grisly|dismember|dismemberment|cannibal",
        carriers="Action|War|Horror|Crime|Thriller|Western",
    ),
}

# Phrase -> mood name. Mood names map to themselves.
MOOD_SYNONYMS: dict[str, str] = {name: name for name in MOODS} | {
    **dict.fromkeys(
        _bars(
            "darker|darkest|gritty|grittier|bleak|grim|gloomy|disturbing|twisted|sinister|edgy"
            "|brooding|nihilistic|dark and gritty"
        ),
        "dark",
    ),
    **dict.fromkeys(
        _bars(
            "sad|sadder|tragic|tearjerker|tear-jerker|tear jerker|heartbreaking|melancholic"
            "|melancholy|downer|a downer|heavy|make me cry|makes me cry|cry"
        ),
        "depressing",
    ),
    **dict.fromkeys(
        _bars(
            "lighter|lighthearted|light-hearted|feel-good|feelgood|uplifting|cheerful|cheery"
            "|happy|happier|upbeat|wholesome|heartwarming|heart-warming|positive|optimistic|hopeful"
            "|joyful|fun|good fun"
        ),
        "light",
    ),
    **dict.fromkeys(
        _bars(
            "funnier|funniest|hilarious|humorous|witty|comedic|goofy|silly|laugh|laughs"
            "|make me laugh|slapstick|quirky|absurd|satirical"
        ),
        "funny",
    ),
    **dict.fromkeys(
        _bars(
            "scarier|scariest|terrifying|creepy|creepier|spooky|frightening|chilling|eerie|scare"
            "|scares|scared|jump scares|jumpscares|horrifying|give me nightmares|nightmares"
        ),
        "scary",
    ),
    **dict.fromkeys(
        _bars("love story|love stories|date night|date movie|swoon|swoony|sappy|lovey-dovey"),
        "romantic",
    ),
    **dict.fromkeys(
        _bars(
            "action-packed|action packed|thrilling|intense|gripping|fast-paced|fast paced"
            "|adrenaline|edge of my seat|edge-of-your-seat|edge of your seat|high octane"
            "|high-octane|suspenseful|tense|epic|non-stop|nonstop"
        ),
        "exciting",
    ),
    **dict.fromkeys(
        _bars(
            "thought-provoking|thought provoking|mind-bending|mind bending|mindbending"
            "|mind-blowing|mind blowing|mind-bendy|cerebral|trippy|philosophical|deep|smart"
            "|intelligent|clever|complex|makes you think|make me think|twisty|plot twist"
            "|plot twists|twist ending|surreal|dreamlike|existential|brainy|puzzling"
        ),
        "thoughtful",
    ),
    **dict.fromkeys(
        _bars(
            "cozy|cosy|calm|chill|chilled|laid-back|laid back|gentle|comforting|soothing|low-key"
            "|low key|easy watch|easy-going|easygoing|comfort movie|peaceful|mellow"
        ),
        "relaxing",
    ),
    **dict.fromkeys(
        _bars("violence|gory|gore|bloody|brutal|graphic|bloodshed"),
        "violent",
    ),
}

# Wanting a mood cancels wishes for these (the agent applies it across turns, the planner
# inside one message).
OPPOSITE_MOODS: dict[str, frozenset[str]] = {
    "dark": frozenset({"light"}),
    "depressing": frozenset({"light", "funny"}),
    "light": frozenset({"dark", "depressing"}),
    "funny": frozenset({"depressing"}),
    "scary": frozenset({"relaxing"}),
    "relaxing": frozenset({"scary", "exciting", "violent"}),
    "exciting": frozenset({"relaxing"}),
    "violent": frozenset({"relaxing"}),
    "romantic": frozenset(),
    "thoughtful": frozenset(),
}


def implied_avoid(moods: Iterable[str], avoid_moods: Iterable[str]) -> list[str]:
    """Moods that fight the wanted ones ("feel-good" → not dark, not depressing), minus any
    the person also wants or already avoids outright."""
    wanted = {canonical_mood(m) or m for m in moods}
    explicit = {canonical_mood(m) or m for m in avoid_moods}
    implied = (o for m in sorted(wanted) for o in sorted(OPPOSITE_MOODS.get(m, ())))
    return dedupe(o for o in implied if o not in wanted and o not in explicit)


def mood_specs(phrases: Iterable[str]) -> list[Mood]:
    """The moods the phrases name, unknown ones left out (they score 0 in :func:`mood_score`):
    resolved once for a turn's thousand candidates instead of once per candidate."""
    named = (MOODS.get(canonical_mood(phrase) or "") for phrase in phrases)
    return [mood for mood in named if mood is not None]


def mood_genre_bounds(moods: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
    """The genres a film needs (any one) and may not have when these moods are all a request
    says: "something scary" is a horror film or a thriller and no children's film, "a
    feel-good movie" no horror or war film. Empty when no mood is known. A genre one mood
    carries is never excluded for another ("scary and funny")."""
    specs = mood_specs(moods)
    carriers = frozenset().union(*(mood.carriers for mood in specs))
    never = frozenset().union(*(mood.never for mood in specs))
    return carriers, never - carriers


def canonical_mood(phrase: str) -> str | None:
    """The mood a phrase names ("uplifting" -> "light"), or ``None``; for moods an LLM wrote."""
    return MOOD_SYNONYMS.get(phrase.strip().lower()) or MOOD_SYNONYMS.get(normalize_text(phrase))


# --- Scoring -------------------------------------------------------------------------------------

GENRE_WEIGHT = 0.4  # a carrying genre is good evidence but broad ("Drama" is not always sad)
TAG_WEIGHT = 0.35  # user tags are short, deliberate descriptions
OVERVIEW_WEIGHT = 0.25  # overviews describe plot, so a mood word there is weaker evidence
HITS_TO_SATURATE = 2  # two matching tags (or overview words) count as full evidence
DOWN_FACTOR = 0.5  # a genre that fights the mood halves the score ("funny" war films exist)


@lru_cache(maxsize=64)
def _word_pattern(words: frozenset[str]) -> re.Pattern[str]:
    """Whole-word (and simple plural) matcher for normalised mood words, longest first."""
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?:s|es)?(?![a-z0-9])")


@lru_cache(maxsize=8192)
def _normalized(text: str) -> str:
    return normalize_text(text)


def mood_score(
    mood: str | Mood, genres: Iterable[str], tags: Iterable[str], overview: str
) -> float:
    """How much an item carries a mood, in [0, 1]: carrying genres, tags and overview words.

    ``GENRE_WEIGHT`` if a carrying genre is present, plus up to ``TAG_WEIGHT`` for tags and
    ``OVERVIEW_WEIGHT`` for distinct overview words (each full at ``HITS_TO_SATURATE`` hits);
    halved when a genre that fights the mood is present. Unknown mood names score 0 — moods
    an LLM writes are data, not errors (map them with :func:`canonical_mood` first).
    """
    spec = MOODS.get(canonical_mood(mood) or "") if isinstance(mood, str) else mood
    if spec is None:
        return 0.0
    return _mood_score(spec, tuple(genres), tuple(tags), overview)


# A turn scores a few moods over a thousand candidates, and the next turns meet the same items:
# the regex work is done once per (mood, item facts). Strings cache their hashes, so a key costs
# little; 2^17 entries hold every mood of a 10^4-item catalog.
@lru_cache(maxsize=1 << 17)
def _mood_score(spec: Mood, genres: tuple[str, ...], tags: tuple[str, ...], overview: str) -> float:
    genre_set = set(genres)
    pattern = _word_pattern(spec.words)
    tag_hits = sum(1 for tag in tags if pattern.search(_normalized(tag)))
    overview_hits = len(set(pattern.findall(_normalized(overview)))) if overview else 0
    score = (
        GENRE_WEIGHT * bool(genre_set & spec.genres_up)
        + TAG_WEIGHT * min(1.0, tag_hits / HITS_TO_SATURATE)
        + OVERVIEW_WEIGHT * min(1.0, overview_hits / HITS_TO_SATURATE)
    )
    if genre_set & spec.genres_down:
        score *= DOWN_FACTOR
    return round(score, 6)
