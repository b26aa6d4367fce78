"""A mood that is the whole request ("something scary") bounds the genres and ranks by the
mood's evidence, not by the request's words: on ml-latest-small "something scary" opened with
*Scary Movie* and showed *Monsters, Inc.* and *Running Scared* (title and overview words)."""

from __future__ import annotations

import asyncio

from agent.lexicon import MOODS, mood_genre_bounds
from agent.ranking import mood_only
from agent.recommender import Recommender
from agent.state import Preferences

MOVIELENS_GENRES = {
    "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
    "War", "Western", "IMAX",
}  # fmt: skip


def test_every_mood_has_carriers_and_never_excludes_what_carries_it() -> None:
    for name, mood in MOODS.items():
        assert mood.carriers and mood.carriers <= MOVIELENS_GENRES, name
        assert mood.never <= MOVIELENS_GENRES and not mood.carriers & mood.never, name


def test_bounds_of_one_mood_and_of_two() -> None:
    assert mood_genre_bounds(["scary"]) == (
        frozenset({"Horror", "Thriller"}),
        frozenset({"Children", "Animation", "Musical"}),
    )
    carriers, never = mood_genre_bounds(["scary", "funny"])
    assert carriers == {"Horror", "Thriller", "Comedy"}
    assert not carriers & never  # a genre one mood carries is never excluded for the other
    assert mood_genre_bounds(["feel-good"])[1] >= {"Horror", "War"}  # a synonym resolves
    assert mood_genre_bounds(["no such mood"]) == (frozenset(), frozenset())


def test_a_mood_is_the_whole_request_only_without_other_words_genres_or_films() -> None:
    assert mood_only(Preferences(moods=["scary"], vibe="scary"))
    assert mood_only(Preferences(moods=["depressing"], vibe="a really sad movie"))
    assert mood_only(Preferences(moods=["funny"], vibe="something funny and hilarious"))
    assert not mood_only(Preferences(moods=["scary"], vibe="scary sharks"))
    assert not mood_only(Preferences(moods=["scary"], vibe="scary", include_genres=["Comedy"]))
    assert not mood_only(Preferences(moods=["scary"], vibe="scary", liked=[4]))
    assert not mood_only(Preferences(vibe="scary"))


def test_something_scary_shows_only_films_of_its_genres(recommender: Recommender) -> None:
    catalog = recommender.deps.tools.catalog
    reply = recommender.reply("something scary", thread_id="m1", k=3)
    genres = [set(catalog.get(r.item_id).genres) for r in reply.recommendations]
    assert genres and all(g & {"Horror", "Thriller"} for g in genres)
    assert not any(g & {"Children", "Animation", "Musical"} for g in genres)
    # the bound is the mood's alone: a genre asked for replaces it (the check can fail)
    comedy = recommender.reply("a scary comedy", thread_id="m2", k=10)
    assert any("Comedy" in catalog.get(r.item_id).genres for r in comedy.recommendations)


def test_a_feel_good_request_leaves_out_horror_and_war(recommender: Recommender) -> None:
    catalog = recommender.deps.tools.catalog
    reply = recommender.reply("a feel-good movie", thread_id="m3", k=3)
    shown = [set(catalog.get(r.item_id).genres) for r in reply.recommendations]
    assert shown and not any(g & {"Horror", "War", "Film-Noir"} for g in shown)
    assert all(g & MOODS["light"].carriers for g in shown)


# --- Subjects asked for ---------------------------------------------------------------------


def test_request_subjects_are_tagged_phrases_outside_mood_and_genre_words() -> None:
    from agent.ranking import request_subjects
    from catalog.domain import Catalog, Item

    catalog = Catalog(
        [
            Item(1, "Jaws", 1975, ("Horror",), ("sharks", "road trip"), "A shark at sea."),
            Item(2, "Sharky's Machine", 1981, ("Action",), (), "A cop."),
            Item(3, "Best in Show", 2000, ("Comedy",), ("dogs",), "Dog owners."),
        ]
    )
    assert request_subjects("a scary movie about sharks", catalog) == ["sharks"]
    assert request_subjects("a funny road trip", catalog) == ["road trip"]
    assert request_subjects("a dog", catalog) == ["dog"]
    assert request_subjects("scary comedy movies", catalog) == []  # moods and genres only
    assert request_subjects("something about spaceships", catalog) == []  # nobody tags it


def test_a_subject_asked_for_lifts_the_films_about_it_never_by_title(
    recommender: Recommender,
) -> None:
    """The tiny catalog tags Toy Story "toys" and its overview says "toy"; its sequels only
    have the word in their titles, which is no evidence (the title echo)."""
    from agent.ranking import RARE_SUBJECT_BONUS, subject_adjustments

    catalog = recommender.deps.tools.catalog
    lifted = subject_adjustments("animated toys", [1, 5, 9, 7], catalog)
    assert lifted.tolist() == [RARE_SUBJECT_BONUS, 0.0, 0.0, 0.0]  # one film: a rare subject
    assert not subject_adjustments("animated", [1, 5, 9, 7], catalog).any()
    toys = recommender.reply("an animated movie about toys", thread_id="s1", k=10)
    plain = recommender.reply("an animated movie", thread_id="s2", k=10)
    scores = [{r.item_id: r.score for r in reply.recommendations} for reply in (toys, plain)]
    gains = {i: scores[0][i] - scores[1][i] for i in scores[0] if i in scores[1]}
    assert max(gains, key=lambda i: gains[i]) == 1  # Toy Story gained the most


def test_like_a_film_but_funnier_is_a_comedy_near_it(recommender: Recommender) -> None:
    catalog = recommender.deps.tools.catalog
    funnier = recommender.reply("something like The Matrix, but funnier", thread_id="f1", k=3)
    assert funnier.recommendations
    assert all("Comedy" in catalog.get(r.item_id).genres for r in funnier.recommendations)
    plain = recommender.reply("something like The Matrix", thread_id="f2", k=3)
    assert not all("Comedy" in catalog.get(r.item_id).genres for r in plain.recommendations)


def test_too_few_films_of_the_moods_genres_are_topped_up(recommender: Recommender) -> None:
    """Six comedies in the tiny catalog: after two lists of three, a third still has films
    (the mood ranks them; the person named no genre), and a 👎 still has a replacement."""
    catalog = recommender.deps.tools.catalog
    for text in ("something funny", "more please", "more please"):
        reply = recommender.reply(text, thread_id="f3", k=3)
        assert len(reply.recommendations) == 3, text
    assert not all("Comedy" in catalog.get(r.item_id).genres for r in reply.recommendations)
    rejected = reply.recommendations[0].item_id
    replacement = asyncio.run(recommender.afeedback("f3", rejected, "rejected"))
    assert replacement is not None and replacement.item_id != rejected


def test_a_rare_subject_is_a_name_and_its_films_come_in_and_lead() -> None:
    """A subject few films have (a person, a studio) lifts them more than a common topic, and
    they are candidates even when the text search did not find them."""
    from agent.ranking import (
        RARE_SUBJECT_BONUS,
        RARE_SUBJECT_ITEMS,
        SUBJECT_BONUS,
        subject_adjustments,
        subject_candidates,
    )
    from catalog.domain import Catalog, Item

    common = [Item(i, f"Film {i}", 2000, ("Drama",), ("dogs",), "") for i in range(1, 30)]
    rare = [Item(100, "Ricki", 2015, ("Comedy",), ("meryl streep",), "A rock singer.")]
    catalog = Catalog([*common, *rare])
    assert len(common) > RARE_SUBJECT_ITEMS
    assert subject_candidates("meryl streep", catalog) == [100]
    lifted = subject_adjustments("meryl streep dogs", [100, 1, 50], catalog).tolist()
    assert lifted == [RARE_SUBJECT_BONUS, SUBJECT_BONUS, 0.0]
