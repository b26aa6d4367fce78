"""Accent folding, shared by title search, the lexicon and the simulated user's leak check."""

from __future__ import annotations

import pytest

from catalog.folding import fold_accents


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Amélie", "Amelie"),
        ("Léon: The Professional", "Leon: The Professional"),
        ("Ørsted", "Orsted"),
        ("Æon Flux", "AEon Flux"),
        ("Łódź", "Lodz"),
        ("plain ascii", "plain ascii"),
        ("", ""),
    ],
)
def test_accents_fold_and_case_stays(text: str, folded: str) -> None:
    assert fold_accents(text) == folded
