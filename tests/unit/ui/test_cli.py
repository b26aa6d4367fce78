from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes import BagOfWordsEmbedder
from ui.cli import main


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
    return home


def test_build_prints_what_it_built(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = capsys.readouterr().out
    assert "items         16" in out and str(built) in out
    assert (built / "manifest.json").exists() and (built / "recbot.db").exists()


def test_second_build_says_up_to_date(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["build"], embedder=BagOfWordsEmbedder()) == 0
    assert "Up to date" in capsys.readouterr().out


def test_info_text_and_json(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "index         flat over 16 items" in out
    assert "(16 items, below the HNSW threshold 100000)" in out  # why this kind
    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["counts"]["items"] == 16 and info["home"] == str(built)


def test_search_by_text_with_filters(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    args = ["search", "toys", "--min-year", "2000", "--exclude-genre", "Horror", "--json"]
    assert main(args, embedder=BagOfWordsEmbedder()) == 0
    results = json.loads(capsys.readouterr().out)
    assert results, "expected some results"
    assert all("Horror" not in r["genres"] for r in results)
    assert all(int(r["title"][-5:-1]) >= 2000 for r in results)


def test_search_like_a_title_excludes_it(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["search", "--like", "toy story", "-k", "3"], embedder=BagOfWordsEmbedder()) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 3 and "(id 1)" not in out


def test_search_unknown_title_fails_clearly(
    built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["search", "--like", "zzzzqqqq xxyy"], embedder=BagOfWordsEmbedder()) == 1
    assert "No title in the catalog matches" in capsys.readouterr().err


def test_search_before_build_says_what_to_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "anything"], embedder=BagOfWordsEmbedder()) == 1
    assert "recbot build" in capsys.readouterr().err


def test_search_needs_a_query() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["search"])
    assert exit_info.value.code == 2


def test_missing_data_dir_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RECBOT_DATA_DIR", str(tmp_path / "nowhere"))
    assert main(["build", "--quiet"], embedder=BagOfWordsEmbedder()) == 1
    assert "nowhere" in capsys.readouterr().err
