"""The lexicon: its tables point at real genres and moods, and mood_score reads item data sensibly.

Scores are checked in bands and by ordering between realistic items, not as exact values.
"""

from __future__ import annotations

import pytest

from agent.lexicon import (
    GENRE_SYNONYMS,
    MOOD_SYNONYMS,
    MOODS,
    OPPOSITE_MOODS,
    Mood,
    canonical_mood,
    mood_genre_bounds,
    mood_score,
    normalize_text,
)
from agent.planner.words import word_set

MOVIELENS_GENRES = word_set(
    "Action Adventure Animation Children Comedy Crime Documentary Drama Fantasy Film-Noir Horror"
    " IMAX Musical Mystery Romance Sci-Fi Thriller War Western"
)

# (genres, tags, overview) of items whose moods nobody would argue about
SCHINDLER = (
    ("Drama", "War"),
    ("holocaust", "sad", "history"),
    "A businessman saves a thousand Jews during the Holocaust; a story of death and grief.",
)
TOY_STORY = (
    ("Adventure", "Animation", "Children", "Comedy", "Fantasy"),
    ("pixar", "funny", "heartwarming"),
    "A cowboy doll is threatened by a new spaceman toy; a charming tale of friendship.",
)
ALIEN = (
    ("Horror", "Sci-Fi"),
    ("scary", "creepy", "space"),
    "The crew of a spaceship is hunted by a deadly creature in a terrifying game of survival.",
)
INCEPTION = (
    ("Action", "Crime", "Drama", "Mystery", "Sci-Fi", "Thriller", "IMAX"),
    ("mind-bending", "thought-provoking", "twist ending", "dreams"),
    "A thief steals corporate secrets by entering people's dreams.",
)


def test_genre_synonyms_name_movielens_genres_only() -> None:
    for phrase, genres in GENRE_SYNONYMS.items():
        assert genres and set(genres) <= MOVIELENS_GENRES, phrase
        assert phrase == phrase.lower()


@pytest.mark.parametrize(
    ("phrase", "genres"),
    [
        ("sci-fi", ("Sci-Fi",)),
        ("science fiction", ("Sci-Fi",)),
        ("cartoons", ("Animation",)),
        ("anime", ("Animation",)),
        ("kids", ("Children",)),
        ("family", ("Children",)),
        ("rom-com", ("Comedy", "Romance")),
        ("noir", ("Film-Noir",)),
        ("docs", ("Documentary",)),
        ("whodunit", ("Mystery",)),
        ("slashers", ("Horror",)),
        ("comedies", ("Comedy",)),
        ("thrillers", ("Thriller",)),
        ("westerns", ("Western",)),
        ("war movies", ("War",)),
    ],
)
def test_genre_synonyms(phrase: str, genres: tuple[str, ...]) -> None:
    assert GENRE_SYNONYMS[phrase] == genres


def test_space_and_superhero_are_left_to_the_vibe() -> None:
    # no MovieLens genre carries them; retrieval matches them in tags and overviews instead
    assert "space" not in GENRE_SYNONYMS
    assert "superhero" not in GENRE_SYNONYMS


def test_moods_are_complete_and_consistent() -> None:
    required = {"dark", "depressing", "light", "funny", "scary", "romantic", "exciting"}
    assert required | {"thoughtful", "relaxing"} <= set(MOODS)
    for name, mood in MOODS.items():
        assert mood.words, name
        assert mood.genres_up <= MOVIELENS_GENRES and mood.genres_down <= MOVIELENS_GENRES
        assert not mood.genres_up & mood.genres_down, name
    assert set(MOOD_SYNONYMS.values()) <= set(MOODS)
    assert set(OPPOSITE_MOODS) == set(MOODS)
    for name, opposites in OPPOSITE_MOODS.items():
        assert name not in opposites and opposites <= set(MOODS)


@pytest.mark.parametrize(
    ("phrase", "mood"),
    [
        ("uplifting", "light"),
        ("feel-good", "light"),
        ("cheerful", "light"),
        ("gloomy", "dark"),
        ("creepy", "scary"),
        ("trippy", "thoughtful"),
        ("Mind-Bending", "thoughtful"),
        ("tearjerker", "depressing"),
        ("cozy", "relaxing"),
        ("hilarious", "funny"),
        ("action-packed", "exciting"),
        ("melancholic", "depressing"),
        ("no such mood", None),
    ],
)
def test_canonical_mood(phrase: str, mood: str | None) -> None:
    assert canonical_mood(phrase) == mood


@pytest.mark.parametrize(
    ("mood", "high", "low"),
    [
        ("depressing", SCHINDLER, TOY_STORY),
        ("light", TOY_STORY, SCHINDLER),
        ("funny", TOY_STORY, ALIEN),
        ("scary", ALIEN, TOY_STORY),
        ("thoughtful", INCEPTION, TOY_STORY),
    ],
)
def test_mood_score_orders_items(mood: str, high: tuple, low: tuple) -> None:
    high_score, low_score = mood_score(mood, *high), mood_score(mood, *low)
    assert 0.5 <= high_score <= 1.0
    assert 0.0 <= low_score <= 0.3
    assert high_score > low_score


def test_mood_score_bounds_on_every_mood_and_item() -> None:
    for mood in MOODS:
        for item in (SCHINDLER, TOY_STORY, ALIEN, INCEPTION):
            assert 0.0 <= mood_score(mood, *item) <= 1.0


def test_mood_score_matches_whole_words_only() -> None:
    # "sadistic" is not "sad", "warm" is not "war", "darkroom" is not "dark"
    assert mood_score("depressing", (), ("sadistic",), "a warm story") == 0.0
    assert mood_score("dark", (), (), "a photographer's darkroom") == 0.0
    assert mood_score("dark", (), ("Dark",), "") > 0.0  # case does not matter
    assert mood_score("light", (), ("Feel-Good",), "") > 0.0  # nor hyphens
    assert mood_score("scary", (), (), "Ghosts haunt the house") > 0.0  # plurals count


def test_mood_score_weights() -> None:
    assert mood_score("funny", ("Comedy",), (), "") == pytest.approx(0.4)
    tags_only = mood_score("funny", (), ("funny", "witty"), "")
    assert tags_only == pytest.approx(0.35)
    # a genre that fights the mood halves the score: funny war films exist, but fewer
    assert mood_score("funny", ("Comedy", "War"), (), "") == pytest.approx(0.2)


def test_mood_score_accepts_synonyms_moods_and_unknown_names() -> None:
    assert mood_score("uplifting", *TOY_STORY) == mood_score("light", *TOY_STORY)
    assert mood_score("melancholy-ish", *SCHINDLER) == 0.0  # LLM-written names are data
    custom = Mood(frozenset({"Western"}), frozenset(), frozenset({"cowboy"}))
    assert mood_score(custom, ("Western",), (), "a cowboy rides") > 0.5


def test_normalize_text() -> None:
    assert normalize_text("Amélie's  Feel-Good") == "amelies feel good"


def test_wanting_a_mood_implies_avoiding_its_opposites() -> None:
    from agent.lexicon import implied_avoid

    assert implied_avoid(["light"], []) == ["dark", "depressing"]
    assert implied_avoid(["uplifting"], ["dark"]) == ["depressing"]  # synonyms; explicit wins
    assert implied_avoid(["light", "dark"], []) == ["depressing"]  # never avoid what is wanted
    assert implied_avoid([], ["scary"]) == []


def test_a_romance_drama_is_not_light() -> None:
    """ "A feel-good movie" opened with American Beauty and A Beautiful Mind (Drama|Romance):
    romance is the romantic mood's carrier, not the light one's; a romantic comedy is light
    by its comedy."""
    carriers, _never = mood_genre_bounds(["feel-good"])
    assert "Romance" not in carriers and "Comedy" in carriers
    drama = mood_score("light", ("Drama", "Romance"), (), "A suburban father in crisis.")
    romcom = mood_score("light", ("Comedy", "Romance"), (), "Two friends fall in love.")
    assert drama == 0.0 and romcom > drama
