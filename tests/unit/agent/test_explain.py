"""Reasons: grounded in the item's data, in plain words, varied along a list, never claiming a
like the person did not state, never citing noise, unwanted moods or pseudo-genres."""

from __future__ import annotations

from dataclasses import replace

import pytest

from agent.context import Deps
from agent.explain import MAX_TAG_USES, ReasonContext, describing, explain, overview_phrase
from agent.state import Preferences
from catalog.domain import Catalog, Item

TAGS = {
    4: ("philosophy", "alternate reality", "cyberpunk"),
    8: ("thought-provoking", "dreamlike", "philosophy", "alternate reality"),
    11: ("thought-provoking", "dreamlike", "bad dialogue", "ummarti2006"),
    14: ("dark comedy", "feel good", "sci-fi"),
    1: ("pixar", "heartwarming"),
    5: ("pixar", "heartwarming"),
    9: ("pixar", "heartwarming"),
    12: ("pixar", "heartwarming"),
    7: ("pixar", "heartwarming"),
}


@pytest.fixture
def catalog(agent_deps: Deps) -> Catalog:
    """The fixture catalog with tags chosen for these tests (ids match the index)."""
    base = agent_deps.tools.catalog
    return Catalog([replace(item, tags=TAGS.get(item.id, item.tags)) for item in base])


def reasons(ids: list[int], prefs: Preferences, catalog: Catalog, deps: Deps) -> list[str]:
    ctx = ReasonContext(prefs, catalog, deps.tools.retriever.index)
    return [explain(catalog.get(i), ctx, turn) for turn, i in enumerate(ids)]


def test_a_pick_names_what_it_shares_with_the_title_asked_about(
    catalog: Catalog, agent_deps: Deps
) -> None:
    [matrix] = reasons([4], Preferences(liked=[8]), catalog, agent_deps)
    assert "Inception" in matrix and "(2010)" not in matrix  # no year: not read as a shown title
    assert "“philosophy”" in matrix and "“alternate reality”" in matrix
    assert "liked" not in matrix.casefold()  # "something like X" is no statement of taste
    assert "Action" not in matrix and "Sci-Fi" not in matrix  # the chips show genres


def test_less_of_a_mood_than_the_named_title_is_said(catalog: Catalog, agent_deps: Deps) -> None:
    prefs = Preferences(liked=[8], avoid_moods=["depressing"])  # Inception is a Drama
    [matrix] = reasons([4], prefs, catalog, agent_deps)
    assert "lighter in tone" in matrix
    [plain] = reasons([4], Preferences(liked=[8]), catalog, agent_deps)
    assert "lighter" not in plain


def test_descriptions_read_as_words_and_noise_tags_are_never_cited(
    catalog: Catalog, agent_deps: Deps
) -> None:
    [interstellar] = reasons([11], Preferences(liked=[8]), catalog, agent_deps)
    assert interstellar.startswith("Thought-provoking and dreamlike, like Inception")
    assert "dialogue" not in interstellar and "ummarti" not in interstellar


def test_tags_of_an_unwanted_mood_and_genre_tags_are_never_cited(
    catalog: Catalog, agent_deps: Deps
) -> None:
    [mad_max] = reasons([14], Preferences(moods=["feel-good"]), catalog, agent_deps)
    assert "dark comedy" not in mad_max and "sci-fi" not in mad_max
    assert "feel good" in mad_max


def test_reasons_vary_along_a_list_and_a_tag_is_not_cited_on_every_card(
    catalog: Catalog, agent_deps: Deps
) -> None:
    ids = [5, 9, 12, 7]  # all tagged "pixar" and "heartwarming", like Toy Story
    texts = reasons(ids, Preferences(liked=[1]), catalog, agent_deps)
    assert len({text.split(" Toy Story")[0] for text in texts}) > 1  # not one template
    assert sum("pixar" in text for text in texts) <= MAX_TAG_USES
    assert all(text for text in texts)


def test_no_pseudo_genre_in_a_reason(catalog: Catalog, agent_deps: Deps) -> None:
    texts = reasons([9, 11, 16], Preferences(include_genres=["IMAX"]), catalog, agent_deps)
    assert not any("IMAX" in text or "no genres" in text for text in texts)


@pytest.mark.parametrize(
    ("tag", "plain"),
    [
        ("thought-provoking", True),
        ("atmospheric", True),
        ("visually appealing", True),
        ("funny", True),
        ("philosophy", False),
        ("twist ending", False),
        ("pixar", False),
        ("time travel", False),
    ],
)
def test_which_tags_read_as_descriptions(tag: str, plain: bool) -> None:
    assert describing(tag) is plain


def test_the_overview_phrase_does_not_stop_at_an_abbreviation() -> None:
    item = Item(1, "Shutter Island", 2010, overview="A U.S. Marshal investigates. He is lost.")
    assert overview_phrase(item) == "A U.S. Marshal investigates."
    jr = Item(
        2, "Catch Me", 2002, overview="A story about Frank Abagnale Jr. who cons people. Then."
    )
    assert overview_phrase(jr) == "A story about Frank Abagnale Jr. who cons people."
