"""The simulated users over the generated 16-movie catalog: deterministic, varied, never leaking."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import (
    FakeListChatModel,
    GenericFakeChatModel,
)
from langchain_core.messages import AIMessage, BaseMessage
from pydantic import Field

from agent.llm import UsageCounter
from catalog.domain import Catalog, Item
from catalog.errors import ConfigurationError
from catalog.loaders import load_directory
from simulations import rule_user
from simulations.attributes import mood_of
from simulations.leak import leaks
from simulations.simulator import LLMUser, RuleBasedUser, make_user, similar_by_genres
from simulations.templates import MOODS, T
from simulations.types import Target
from tests.conftest import write_movielens

GENRE_QUESTION = "Which genre do you want?"
ERA_QUESTION = "Any particular decade or era?"
AGENT_QUESTION = (
    "What are you in the mood for: a film you loved, a genre, or a vibe you can describe?"
)


@pytest.fixture(autouse=True)
def no_slips(monkeypatch: pytest.MonkeyPatch) -> None:
    """Exact-word checks below: no typos and no "seen it" leads (their own tests turn them on)."""
    monkeypatch.setattr(rule_user, "DEFAULT_TYPO_SHARE", 0.0)
    monkeypatch.setattr(rule_user, "SEEN_SHARE", 0.0)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return load_directory(write_movielens(tmp_path_factory.mktemp("ml") / "ml")).catalog


def target(catalog: Catalog, item_id: int, history: list[int] | None = None, **kw: Any) -> Target:
    title = catalog.get(item_id).display_title
    return Target(user_id=7, item_id=item_id, title=title, history=history or [], **kw)


def session(user: Any, recommended: list[int], turns: int = 5) -> list[str]:
    """Opening, an answer to a clarifying question, then ``turns`` rejections."""
    messages = [user.opening(), user.reply("clarify", AGENT_QUESTION, [])]
    for _ in range(turns):
        messages.append(user.reply("recommend", "How about these?", recommended))
    return messages


def test_same_seed_same_conversation(catalog: Catalog) -> None:
    first = session(RuleBasedUser(target(catalog, 8, [4, 15]), catalog, seed=3), [10, 13])
    again = session(RuleBasedUser(target(catalog, 8, [4, 15]), catalog, seed=3), [10, 13])
    assert first == again


def test_openings_vary_across_seeds(catalog: Catalog) -> None:
    openings = {RuleBasedUser(target(catalog, 4, [8]), catalog, s).opening() for s in range(20)}
    assert len(openings) >= 5


def test_never_leaks_for_any_target_seed_or_turn(catalog: Catalog) -> None:
    every = [item.id for item in catalog]
    for item in catalog:
        history = [i for i in every if i != item.id][:6]  # sequels and their bases included
        others = [i for i in every if i != item.id]
        for seed in range(12):
            user = RuleBasedUser(target(catalog, item.id, history), catalog, seed)
            shown = others[seed % 5 :: 5][:3]
            messages = [*session(user, shown), user.accept_message()]
            for message in messages:
                assert message.strip()
                assert not leaks(message, item.display_title, strict=True), (item, message)
            assert all(a != b for a, b in itertools.pairwise(messages))


def test_sequels_in_history_are_never_named(catalog: Catalog) -> None:
    for seed in range(20):
        user = RuleBasedUser(target(catalog, 9, [5, 1], ratings=[5.0, 5.0]), catalog, seed)
        assert not any("toy story" in m.lower() for m in session(user, [10, 13]))


@pytest.mark.parametrize("item_id", [4, 8, 6, 1])
def test_answers_a_genre_question_with_a_genre(catalog: Catalog, item_id: int) -> None:
    genre_words = {"action", "sci-fi", "thriller", "crime", "drama", "mystery", "comedy"}
    genre_words |= {"romance", "animated", "animation", "family", "adventure", "fantasy"}
    genre_words |= {"science fiction"}
    for seed in range(10):
        user = RuleBasedUser(target(catalog, item_id), catalog, seed)
        user.opening()
        answer = user.reply("clarify", GENRE_QUESTION, []).lower()
        assert any(word in answer for word in genre_words), answer


def test_answers_an_era_question_with_the_era(catalog: Catalog) -> None:
    for seed in range(10):
        user = RuleBasedUser(target(catalog, 4), catalog, seed)
        user.opening()
        answer = user.reply("clarify", ERA_QUESTION, [])
        assert "90s" in answer or "1990s" in answer, answer


def test_each_rejection_reveals_something_new(catalog: Catalog) -> None:
    for seed in range(10):
        user = RuleBasedUser(target(catalog, 8, [4], ratings=[5.0]), catalog, seed)
        user.opening()
        bodies = []
        for _ in range(5):
            message = user.reply("recommend", "Try these.", [2, 15])
            lead = next(r for r in T["reject"] if message.startswith(r))
            bodies.append(message.removeprefix(lead).strip())
        assert len(set(bodies)) == len(bodies), bodies


def test_rejections_may_rule_out_a_genre_the_shown_films_had(catalog: Catalog) -> None:
    said = [
        m
        for s in range(10)
        for m in session(RuleBasedUser(target(catalog, 1), catalog, s), [10, 13])
    ]
    assert any("no horror" in m.lower() for m in said)
    assert not any(f"no {g}" in m.lower() for m in said for g in ("comedy", "animation", "fantasy"))


def test_names_a_liked_similar_film_from_history(catalog: Catalog) -> None:
    def said(ratings: list[float], **kw: Any) -> str:
        history = target(catalog, 8, [4, 15], ratings=ratings)
        return " ".join(
            m for s in range(10) for m in session(RuleBasedUser(history, catalog, s, **kw), [2])
        )

    assert "The Matrix" in said([5.0, 5.0])  # shares the most genres with Inception
    assert "The Matrix" not in said([1.0, 5.0])  # disliked films are not named
    assert "Casablanca" in said([5.0, 5.0], similar=lambda _target, _history: 15)


def test_similar_by_genres_prefers_overlap_then_recency(catalog: Catalog) -> None:
    similar = similar_by_genres(catalog)
    assert similar(8, [15, 4, 14]) == 4  # Matrix and Mad Max tie on three genres; Matrix is newer
    assert similar(13, [15, 6]) is None  # nothing shares a genre with It Follows
    assert similar(8, []) is None


def test_accept_message_and_target_in_recommendations(catalog: Catalog) -> None:
    user = RuleBasedUser(target(catalog, 4), catalog, 0)
    user.opening()
    assert user.reply("recommend", "Here!", [3, 4]) in T["accept"]
    assert user.accept_message() in T["accept"]


def test_moods_come_from_the_items_own_tags_and_genres() -> None:
    assert mood_of(("Horror",), ("creepy", "atmospheric")) == "fright"
    assert mood_of(("Comedy", "Romance"), ("hilarious",)) == "laughs"
    assert mood_of(("Drama",), ()) is None  # a genre alone says no mood
    assert all(len(mood.words) >= 3 for mood in MOODS.values())  # several ways to say each


def test_make_user(catalog: Catalog) -> None:
    assert isinstance(make_user("rules", target(catalog, 4), catalog, 1), RuleBasedUser)
    model = FakeListChatModel(responses=["Something with hackers."])
    assert isinstance(make_user("llm", target(catalog, 4), catalog, 1, model=model), LLMUser)
    with pytest.raises(ConfigurationError):
        make_user("llm", target(catalog, 4), catalog, 1)


# --- LLMUser ---------------------------------------------------------------------------------


class RaisingChatModel(FakeListChatModel):
    """A model that times out on every call."""

    def _call(self, *args: Any, **kwargs: Any) -> str:
        raise TimeoutError("the model timed out")


class RecordingChatModel(GenericFakeChatModel):
    """A scripted model that records every prompt it is sent."""

    prompts: list[list[BaseMessage]] = Field(default_factory=list)

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        self.prompts.append(list(messages))
        return super()._generate(messages, *args, **kwargs)


def test_llm_leak_is_reasked_and_the_clean_draft_used(catalog: Catalog) -> None:
    model = FakeListChatModel(responses=["I want The Matrix!", "Something about hackers, please."])
    user = LLMUser(target(catalog, 4), catalog, 1, model)
    assert user.opening() == "Something about hackers, please."
    assert (user.leak_retries, user.fallbacks, user.usage.calls) == (1, 0, 2)


def test_llm_that_always_leaks_falls_back_to_rules(catalog: Catalog) -> None:
    model = FakeListChatModel(responses=["the matrix, obviously"])
    user = LLMUser(target(catalog, 4), catalog, 1, model)
    expected = RuleBasedUser(target(catalog, 4), catalog, 1).opening()
    assert user.opening() == expected
    assert (user.leak_retries, user.fallbacks, user.usage.calls) == (3, 1, 3)


def test_llm_errors_fall_back_to_rules(catalog: Catalog) -> None:
    user = LLMUser(target(catalog, 4), catalog, 1, RaisingChatModel(responses=["unused"]))
    rules = RuleBasedUser(target(catalog, 4), catalog, 1)
    assert user.opening() == rules.opening()
    assert user.reply("recommend", "Try these", [10]) == rules.reply("recommend", "Try these", [10])
    assert (user.errors, user.fallbacks, user.usage.calls) == (2, 2, 0)


def test_llm_prompt_has_the_attributes_but_never_the_title(catalog: Catalog) -> None:
    answers = [
        AIMessage(
            "A sci-fi movie, please.",
            usage_metadata={"input_tokens": 50, "output_tokens": 6, "total_tokens": 56},
        ),
        AIMessage(
            "No horror. Something about hackers.",
            usage_metadata={"input_tokens": 70, "output_tokens": 8, "total_tokens": 78},
        ),
    ]
    model = RecordingChatModel(messages=iter(answers))
    counter = UsageCounter()
    user = LLMUser(target(catalog, 4, [8], ratings=[5.0]), catalog, 2, model, counter=counter)
    assert user.opening() == "A sci-fi movie, please."
    assert user.reply("recommend", "You might like these.", [10, 13]) == answers[1].text
    assert user.usage.as_dict() == {
        "calls": 2,
        "input_tokens": 120,
        "output_tokens": 14,
    }
    assert counter.calls == 2
    prompt = "\n".join(m.text for m in model.prompts[-1])
    assert "Sci-Fi" in prompt and "1999" in prompt
    assert "simulation" not in prompt  # a word of its overview no other film shares
    assert "How you behave:" in prompt  # the persona's instructions
    assert "Inception" in prompt  # the liked film from history
    assert "The Conjuring (2013)" in prompt  # what the recommender showed
    assert "You: A sci-fi movie, please." in prompt
    assert not leaks(prompt, "Matrix, The (1999)")


def test_titles_made_of_everyday_words_are_redone_not_said() -> None:
    tricky = [
        Item(1, "It", 2017, ("Horror",), ("clown", "stephen king"), "A clown haunts a town."),
        Item(2, "Movie 43", 2013, ("Comedy",), (), "A film made of short comic sketches."),
        Item(3, "Nope", 2022, ("Horror", "Sci-Fi"), ("ufo",), "Ranchers see something."),
        Item(4, "Something", 2020, ("Drama",), (), "A quiet film about grief."),
        Item(5, "Up", 2009, ("Animation", "Adventure"), ("pixar",), "An old man flies his house."),
        Item(6, "Heat", 1995, ("Action", "Crime"), ("heist",), "A thief and a detective."),
    ]
    small = Catalog(tricky)
    retries = 0
    for item in small:
        for seed in range(15):
            user = RuleBasedUser(target(small, item.id, [i.id for i in tricky]), small, seed)
            for message in [*session(user, [i.id for i in tricky if i.id != item.id][:2])]:
                assert not leaks(message, item.display_title, strict=True), (item, message)
            retries += user.leak_retries
    assert retries > 0


def test_llm_user_accepts_without_asking_the_model(catalog: Catalog) -> None:
    model = RecordingChatModel(messages=iter([AIMessage("Something about hackers.")]))
    user = LLMUser(target(catalog, 4), catalog, 1, model)
    user.opening()
    assert user.reply("recommend", "Try this", [4]) in T["accept"]
    assert user.usage.calls == 1 and len(model.prompts) == 1
