"""Sessions seeded from real conversations: the seeker's first turn opens, a liked film is hidden."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.domain import Catalog
from catalog.loaders import load_directory
from simulations.dialogue_seeds import dialogue_targets
from simulations.rule_user import RuleBasedUser
from tests.conftest import write_movielens
from tests.unit.catalog.test_redial import dialogue, write_redial

LIKED = {"suggested": 1, "seen": 0, "liked": 1}


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return load_directory(write_movielens(tmp_path_factory.mktemp("ml") / "ml")).catalog


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_redial(
        tmp_path / "redial",
        [
            dialogue(
                "c1",
                [(1, "Hi! I loved @100, something fun please"), (2, "Try @101"), (1, "Yes!")],
                {"100": {"liked": 1}, "101": LIKED},
            ),
            dialogue("c2", [(1, "Hello"), (2, "Try @100")], {}),  # nothing liked: no session
            dialogue("c3", [(1, "I only like @100")], {"100": {"liked": 1}}),  # named: none left
        ],
    )


def test_the_first_seeker_turn_opens_and_a_liked_unnamed_film_is_hidden(
    catalog: Catalog, folder: Path
) -> None:
    targets = dialogue_targets(folder, catalog, count=5, seed=0)
    assert len(targets) == 1
    target = targets[0]
    assert target.item_id == 8 and target.history == []  # Inception, liked and not yet named
    assert target.opening.startswith("Hi! I loved Toy Story") and target.source == "redial:c1"
    assert target.user_id < 0  # never a MovieLens user's id
    user = RuleBasedUser(target, catalog, 0)
    assert user.opening() == target.opening
    assert user.reply("recommend", "How about these?", [1]) != target.opening


def test_a_first_turn_that_names_the_film_is_not_used(catalog: Catalog, folder: Path) -> None:
    target = dialogue_targets(folder, catalog, count=1, seed=0)[0]
    leaking = target.model_copy(update={"opening": "Something like Inception please"})
    assert "Inception" not in RuleBasedUser(leaking, catalog, 0).opening()
