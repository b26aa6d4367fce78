"""The dialogue benchmark on a slice of the real ReDial dialogues (RECBOT_DIALOGUES_DIR).

Bands, not exact values (STYLE §8): on the first 150 conversations recbot, cross-validated by
conversation, must beat every floor at Recall@50 and never answer with an empty list.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.dialogue_systems import run_dialogue_benchmark
from tests.real_catalog import RealCatalog, required_folder


@pytest.fixture(scope="module")
def dialogues_dir() -> Path:
    return required_folder(
        "RECBOT_DIALOGUES_DIR", "dialogues.jsonl", "the ReDial dialogues (dialogue benchmark)"
    )


@pytest.mark.integration
def test_dialogue_benchmark_slice(real: RealCatalog, dialogues_dir: Path, tmp_path: Path) -> None:
    payload = run_dialogue_benchmark(
        real.settings,
        dialogues_dir,
        tmp_path,
        limit=150,
        systems=["recbot", "recbot-untrained", "popularity", "dialogue-popularity", "content"],
        embedder=real.artifacts.retriever.embedder,
        progress=False,
        log=lambda _msg: None,
    )
    systems = payload["systems"]
    recbot = systems["recbot"]
    assert payload["protocol"]["samples"] > 250
    assert recbot["empty"] == 0.0
    assert systems["recbot-untrained"]["empty"] == 0.0
    assert 0.05 <= recbot["recall@10"] <= 0.4
    assert recbot["recall@50"] >= 0.18
    for floor in ("popularity", "dialogue-popularity", "content"):
        assert recbot["recall@50"] > systems[floor]["recall@50"], floor
    assert len(payload["fold_weights"]) == 5
    assert (tmp_path / "dialogues.md").exists()
