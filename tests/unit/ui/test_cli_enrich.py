"""`recbot enrich` from the command line: by rules, and with the real client against the stub."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.fakes import BagOfWordsEmbedder
from ui.cli import main

if TYPE_CHECKING:
    from tests.llm_stub import LLMStub

ANSWER = "Tone: warm\nThemes: toys, friendship\nAudience: families\nPace: brisk\nIf you liked: Cars"


@pytest.fixture
def built(
    movielens_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Path:
    monkeypatch.setenv("RECBOT_DATA_DIR", str(movielens_dir))
    home = tmp_path / "home"
    monkeypatch.setenv("RECBOT_HOME", str(home))
    assert main(["build", "--quiet"], embedder=BagOfWordsEmbedder()) == 0
    capsys.readouterr()
    return home


def test_enrich_needs_a_build(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["enrich"]) == 1
    assert "recbot build" in capsys.readouterr().err


def test_limit_must_be_positive(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["enrich", "--limit", "0"]) == 2
    assert "--limit" in capsys.readouterr().err


def test_rules_without_an_llm_then_build_embeds_them(
    built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["enrich", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "rules (rules-1): 16 described now, 0 unchanged, 0 remaining of 16 items" in out
    assert "Run `recbot build`" in out and "llm " not in out

    embedder = BagOfWordsEmbedder()
    assert main(["build", "--quiet"], embedder=embedder) == 0
    assert "(16 items with enriched text)" in capsys.readouterr().out
    # items whose rules said nothing keep their vectors (item texts and descriptions: 2 per item)
    assert 0 < embedder.embedded_count <= 2 * 16

    assert main(["enrich", "--quiet"]) == 0
    assert "0 described now, 16 unchanged" in capsys.readouterr().out
    again = BagOfWordsEmbedder()
    assert main(["build", "--quiet"], embedder=again) == 0
    assert again.calls == []  # the same descriptions: up to date


def test_llm_with_a_limit_then_a_failure(
    built: Path,
    llm_stub: LLMStub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RECBOT_LLM_BASE_URL", llm_stub.base_url)
    monkeypatch.setenv("RECBOT_LLM_MAX_RETRIES", "0")
    monkeypatch.setenv("RECBOT_ENRICH_CONCURRENCY", "1")
    monkeypatch.setenv("RECBOT_LLM_PRICE_INPUT_PER_MILLION", "1000")
    monkeypatch.setenv("RECBOT_LLM_PRICE_OUTPUT_PER_MILLION", "2000")
    llm_stub.enqueue(ANSWER, usage=(200, 50))
    llm_stub.enqueue(ANSWER, usage=(100, 50))
    assert main(["enrich", "--limit", "2", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "llm (enrich-1): 2 described now, 0 already done, 14 remaining of 16 items" in out
    assert "2 calls, 300 input + 100 output tokens, $0.5000" in out
    titles = [r["messages"][1]["content"].splitlines()[0] for r in llm_stub.requests]
    assert titles == ["Title: Toy Story (1995)", "Title: Jumanji (1995)"]

    llm_stub.enqueue(status=503)
    assert main(["enrich", "--limit", "1", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "0 described now, 2 already done, 14 remaining" in out
    assert "failed        item 3:" in out

    embedder = BagOfWordsEmbedder()
    assert main(["build", "--quiet"], embedder=embedder) == 0
    assert embedder.embedded_count == 2 * 2  # two items: their texts and descriptions
    assert all("If you liked: Cars." in text for text in embedder.calls[0])
    capsys.readouterr()
    assert main(["info", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["enriched"] == 2


def test_rules_flag_skips_the_llm(
    built: Path,
    llm_stub: LLMStub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RECBOT_LLM_BASE_URL", llm_stub.base_url)
    assert main(["enrich", "--rules", "--limit", "3"]) == 0
    assert "rules (rules-1): 3 described now" in capsys.readouterr().out
    assert llm_stub.requests == []
