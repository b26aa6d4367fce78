"""The simulator's own checks: titles a reply names, and whether the user's words give it away."""

from __future__ import annotations

import pytest

from catalog.domain import Catalog
from catalog.index import Candidate
from catalog.loaders import load_directory
from simulations.honesty import LEAK_TOP_K, ShownTitles, leak_rank
from simulations.metrics import kept, leak_rate
from simulations.types import SessionRecord, Target
from tests.conftest import write_movielens


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return load_directory(write_movielens(tmp_path_factory.mktemp("ml") / "ml")).catalog


@pytest.mark.parametrize(
    "reply",
    [
        "1. The Matrix (1999) — a classic.",
        "Because you liked **Matrix, The (1999)**, try these.",
        "Try Inception (2010) or The Matrix (1999).",
        "Nothing named here, and (1999) is just a year.",
    ],
)
def test_titles_the_catalog_holds_are_known(catalog: Catalog, reply: str) -> None:
    assert ShownTitles(catalog).unknown(reply) == []


def test_a_title_the_catalog_lacks_is_reported(catalog: Catalog) -> None:
    shown = ShownTitles(catalog)
    reply = "1. The Matrix (1999)\n2. The Matrix Rebooted (2003)"
    assert shown.unknown(reply) == ["2. The Matrix Rebooted (2003)"]
    assert shown.unknown("How about Inception (1999)?")  # the right title, the wrong year


class ScriptedRetriever:
    """Returns the scripted ids for any text and records the queries."""

    def __init__(self, ids: list[int]) -> None:
        self.ids, self.queries = ids, []

    def by_text(self, text: str, k: int) -> list[Candidate]:
        self.queries.append((text, k))
        return [Candidate(i, 1.0) for i in self.ids[:k]]


def test_leak_rank_is_the_targets_rank_in_the_top_k() -> None:
    retriever = ScriptedRetriever([*range(100, 100 + LEAK_TOP_K), 7])
    assert leak_rank(retriever, "a crime film", 102) == 3  # type: ignore[arg-type]
    assert leak_rank(retriever, "a crime film", 7) is None  # type: ignore[arg-type]
    assert retriever.queries == [("a crime film", LEAK_TOP_K)] * 2


def test_leak_rate_and_kept_sessions() -> None:
    target = Target(user_id=1, item_id=7, title="X (1999)")

    def record(rank: int | None, measured: bool = True) -> SessionRecord:
        return SessionRecord(
            session_id=f"a/{rank}/{measured}", system="agent", seed=0, target=target,
            bucket="0", max_turns=5, k=10, leak_rank=rank, leak_measured=measured,
        )  # fmt: skip

    records = [record(None), record(3), record(None), record(None, measured=False)]
    assert leak_rate(records) == pytest.approx(1 / 3)
    assert [r.leak_rank for r in kept(records)] == [None, None]
    assert leak_rate([]) is None
