"""``recbot eval --llm-rerank``: the command on a built generated catalog, the LLM the loopback
stub reached through ``RECBOT_LLM_BASE_URL`` (the composition root's own chat model)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import write_busy_movielens
from tests.fakes import BagOfWordsEmbedder
from ui.cli import main

if TYPE_CHECKING:
    from tests.llm_stub import LLMStub


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECBOT_DATA_DIR", str(write_busy_movielens(tmp_path / "ml")))
    monkeypatch.setenv("RECBOT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RECBOT_RANKER_EPOCHS", "2")
    assert main(["build", "--quiet"], embedder=BagOfWordsEmbedder()) == 0


def rerank_eval(out: Path, *flags: str) -> dict:
    args = ["eval", "--llm-rerank", "verbalizer", "--rerank-top", "5", "--quiet"]
    assert main([*args, "--out", str(out), *flags], embedder=BagOfWordsEmbedder()) == 0
    return json.loads((out / "llm-rerank" / "verbalizer.json").read_text())


def test_eval_llm_rerank_on_a_seeded_subset(
    built: None,
    llm_stub: LLMStub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RECBOT_LLM_BASE_URL", llm_stub.base_url)
    monkeypatch.setenv("RECBOT_LLM_MODEL", "stub-model")
    monkeypatch.setenv("RECBOT_TURN_DEADLINE_S", "0.01")  # a chat turn's; not the eval's
    llm_stub.always("B", logprobs=[{"B": -0.1, "A": -2.0}], usage=(80, 1), delay=0.05)
    capsys.readouterr()
    report = rerank_eval(tmp_path / "a", "--users", "3")
    printed = capsys.readouterr().out
    users = [row["user"] for row in report["per_user"]]
    assert len(users) == 3 == report["users"]["evaluated"] and users == sorted(users)
    assert report["users"]["of"] == 40 and report["config"]["top"] == 5
    assert report["llm"]["calls"] == report["llm"]["answered_calls"] == 3
    assert report["llm"]["fallbacks"] == 0 and report["llm"]["input_tokens_per_user"] == 80
    for row in report["per_user"]:
        assert row["reranked"][:2] == [row["candidates"][1], row["candidates"][0]]  # B, A
    assert "| dnn |" in printed and "| dnn+verbalizer |" in printed and "| × dnn |" in printed
    assert (tmp_path / "a" / "llm-rerank" / "verbalizer.md").exists()
    assert [r["user"] for r in rerank_eval(tmp_path / "b", "--users", "3")["per_user"]] == users
    again = rerank_eval(tmp_path / "c", "--users", "3", "--seed", "1")["per_user"]
    assert [row["user"] for row in again] != users


def test_eval_llm_rerank_needs_an_llm_and_its_flags_need_it(
    built: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RECBOT_LLM", "off")
    capsys.readouterr()
    assert main(["eval", "--users", "3"]) == 2
    assert "go with --llm-rerank" in capsys.readouterr().err
    assert main(["eval", "--llm-rerank", "verbalizer", "--rerank-top", "21"]) == 2
    assert "at most 20" in capsys.readouterr().err
    assert main(["eval", "--llm-rerank", "listwise", "--users", "2"]) == 1
    assert "needs an LLM" in capsys.readouterr().err
