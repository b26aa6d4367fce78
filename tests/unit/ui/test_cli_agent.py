from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tests.fakes import BagOfWordsEmbedder
from ui.cli import main


@pytest.fixture
def built(
    movielens_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> BagOfWordsEmbedder:
    monkeypatch.setenv("LANGGRAPH_STRICT_MSGPACK", "true")
    monkeypatch.setenv("RECBOT_DATA_DIR", str(movielens_dir))
    monkeypatch.setenv("RECBOT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RECBOT_RANKER_EPOCHS", "2")
    embedder = BagOfWordsEmbedder()
    assert main(["build", "--quiet"], embedder=embedder) == 0
    return embedder


def test_ask_answers_json_as_designed(
    built: BagOfWordsEmbedder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request = tmp_path / "request.json"
    request.write_text(
        json.dumps({"messages": [{"role": "user", "content": "I loved Toy Story"}], "k": 3})
    )
    capsys.readouterr()
    assert main(["ask", str(request)], embedder=built) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"action", "reply", "recommendations", "timings_ms", "llm"}
    assert out["action"] == "recommend" and len(out["recommendations"]) == 3
    assert set(out["recommendations"][0]) == {"item_id", "title", "score", "explanation"}
    assert out["llm"] == {
        "calls": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_hits": 0,
        "tokens_saved": 0,
    }


@pytest.mark.parametrize("text", ["hmm", "hi there!", "What are you watching this weekend?"])
def test_ask_must_recommend_and_stdin(
    built: BagOfWordsEmbedder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
) -> None:
    monkeypatch.setattr(
        "sys.stdin", io.StringIO(json.dumps({"messages": [{"role": "user", "content": text}]}))
    )
    capsys.readouterr()
    assert main(["ask", "--must-recommend"], embedder=built) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["action"] == "recommend"
    assert answer["recommendations"]  # a greeting or small talk still gets a list


@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        json.dumps({"messages": []}),
        json.dumps({"messages": [{"role": "assistant", "content": "hi"}]}),
    ],
)
def test_ask_rejects_bad_requests_clearly(
    built: BagOfWordsEmbedder, tmp_path: Path, capsys: pytest.CaptureFixture[str], payload: str
) -> None:
    request = tmp_path / "bad.json"
    request.write_text(payload)
    capsys.readouterr()
    assert main(["ask", str(request)], embedder=built) == 2
    assert "error" in json.loads(capsys.readouterr().out)


def test_chat_repl_with_feedback_and_resume(
    built: BagOfWordsEmbedder, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("I loved Toy Story\n/no 1\n/no 9\n/quit\n"))
    capsys.readouterr()
    assert main(["chat", "--thread", "abc", "-k", "3"], embedder=built) == 0
    out = capsys.readouterr().out
    assert "conversation abc" in out and "Close to Toy Story:" in out
    assert "Noted (rejected)" in out and "There is no item 9" in out
    # a new process on the same thread remembers the preferences
    monkeypatch.setattr("sys.stdin", io.StringIO("something older\n"))
    assert main(["chat", "--thread", "abc", "-k", "3"], embedder=built) == 0
    assert "Older ones, then:" in capsys.readouterr().out


def test_chat_keeps_everything_in_postgres_when_the_url_says_so(
    movielens_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    postgres_url: str,
) -> None:
    """RECBOT_DATABASE_URL=postgresql+psycopg://…: the catalog, the owners and the agent's
    memory all go to Postgres (tests/postgres.py), and a second process resumes from there."""
    monkeypatch.setenv("RECBOT_DATA_DIR", str(movielens_dir))
    monkeypatch.setenv("RECBOT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RECBOT_RANKER_EPOCHS", "2")
    monkeypatch.setenv("RECBOT_DATABASE_URL", postgres_url)
    embedder = BagOfWordsEmbedder()
    assert main(["build", "--quiet"], embedder=embedder) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("I loved Toy Story\n/no 1\n/quit\n"))
    assert main(["chat", "--thread", "pg", "-k", "3"], embedder=embedder) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("something older\n"))
    capsys.readouterr()
    assert main(["chat", "--thread", "pg", "-k", "3"], embedder=embedder) == 0
    assert "Older ones, then:" in capsys.readouterr().out
    assert not list((tmp_path / "home").glob("*.db")), "a SQLite file was written"
