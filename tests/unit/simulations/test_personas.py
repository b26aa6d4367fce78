"""Personas, typos, reading replies as a person would, and words that never single a film out."""

from __future__ import annotations

import random

import pytest

from catalog.domain import Catalog
from catalog.loaders import load_directory
from simulations import rule_user
from simulations.attributes import common_words, plan_attributes, similar_by_genres
from simulations.rule_user import RuleBasedUser, asked_question
from simulations.templates import TERSE, T, typo
from simulations.types import PERSONAS, Target
from tests.conftest import write_movielens


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return load_directory(write_movielens(tmp_path_factory.mktemp("ml") / "ml")).catalog


def target(catalog: Catalog, item_id: int, history: list[int] | None = None) -> Target:
    title = catalog.get(item_id).display_title
    return Target(user_id=7, item_id=item_id, title=title, history=history or [])


def user(catalog: Catalog, persona: str, seed: int = 0, history: list[int] | None = None):
    return RuleBasedUser(target(catalog, 8, history or [4, 15]), catalog, seed, persona=persona)  # type: ignore[arg-type]


def test_every_persona_talks(catalog: Catalog) -> None:
    for persona in PERSONAS:
        person = user(catalog, persona)
        assert person.opening().strip()
        assert person.reply("recommend", "Here you go.", [2, 15]).strip()


def test_impatient_leaves_after_two_lists_without_the_film(catalog: Catalog) -> None:
    person = user(catalog, "impatient")
    person.opening()
    person.reply("recommend", "Try these.", [2])
    assert not person.left
    assert person.reply("clarify", "Which genre?", []) and not person.left  # a question is no miss
    leaving = person.reply("recommend", "Or these.", [15])
    assert person.left and leaving in T["leave"]


def test_contrarian_rejects_the_first_list_even_with_the_film(catalog: Catalog) -> None:
    person = user(catalog, "contrarian")
    person.opening()
    assert not person.accepts([8, 2])
    assert person.reply("recommend", "Here.", [8, 2]) not in T["accept"]
    assert person.accepts([8])  # the second list may win them over
    assert 8 not in person.excluded  # the film itself is never "excluded"


def test_terse_says_the_bare_phrase(catalog: Catalog) -> None:
    for seed in range(10):
        person = user(catalog, "terse", seed)
        messages = [person.opening(), person.reply("recommend", "Here.", [2])]
        assert all(len(m.split()) <= 8 for m in messages), messages


def test_target_free_talks_only_about_its_history(catalog: Catalog) -> None:
    said = " ".join(
        m
        for seed in range(10)
        for person in [user(catalog, "target-free", seed, history=[4, 15])]
        for m in [person.opening(), person.reply("recommend", "Here.", [2])]
    )
    assert "The Matrix" in said or "Casablanca" in said  # its liked films
    assert "2010" not in said and "10s" not in said  # never the held-out film's decade


def test_unknown_persona_is_refused(catalog: Catalog) -> None:
    with pytest.raises(ValueError):
        user(catalog, "grumpy")


def test_rejected_and_seen_items_are_excluded(catalog: Catalog, monkeypatch) -> None:
    monkeypatch.setattr(rule_user, "SEEN_SHARE", 1.0)
    person = user(catalog, "cooperative")
    person.opening()
    message = person.reply("recommend", "Here.", [2, 15])
    assert "seen" in message.lower() or "watched" in message.lower()
    assert person.excluded == {2, 15}


def test_a_question_is_a_sentence_ending_with_a_question_mark() -> None:
    assert asked_question("Got it. Which decade do you like?") == "which decade do you like?"
    assert asked_question("Here are some picks.\n1. Heat (1995)") == ""
    assert asked_question("Sure! Any film you loved? Or a genre?") == "or a genre?"


def test_era_questions_are_answered_in_any_wording(catalog: Catalog, monkeypatch) -> None:
    monkeypatch.setattr(rule_user, "DEFAULT_TYPO_SHARE", 0.0)
    for question in ("From which period?", "Older or newer stuff?", "Any decade in mind?"):
        person = RuleBasedUser(target(catalog, 4), catalog, 1)
        person.opening()
        answer = person.reply("answer", question, [])
        assert "90s" in answer or "1990s" in answer, (question, answer)


def test_typos_change_one_lowercase_word_only() -> None:
    rng = random.Random(0)
    slipped = {typo("Something scary from the 80s, please.", rng) for _ in range(30)}
    assert len(slipped) > 3
    assert all(s.startswith("Something") and "80s" in s for s in slipped)
    assert typo("Up", rng) == "Up"
    assert TERSE["reject"]


def test_rare_words_and_names_are_never_planned(catalog: Catalog) -> None:
    for item in catalog:
        for seed in range(5):
            plan = plan_attributes(
                target(catalog, item.id), catalog, random.Random(seed), similar_by_genres(catalog)
            )
            for attr in plan:
                if attr.kind in ("tag", "plot"):
                    words = attr.phrase.replace(",", " ").replace(" and ", " ").split()
                    assert all(common_words(catalog, w) for w in words), attr
