"""`recbot ask` refuses bad input with a short, clear message and exit code 2, never a traceback."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from catalog.errors import RequestError
from ui.ask_request import QUOTE_CHARS, parse_request, read_request
from ui.cli import main


def _message(content: str, role: str = "user") -> dict[str, str]:
    return {"role": role, "content": content}


def _ask(
    payload: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, str]:
    monkeypatch.setenv("RECBOT_HOME", str(tmp_path / "home"))
    monkeypatch.setattr("sys.stdin", io.StringIO(payload))
    capsys.readouterr()
    code = main(["ask"])
    out = capsys.readouterr().out
    return code, json.loads(out)["error"]


def test_a_user_id_out_of_range_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = json.dumps({"messages": [_message("hi")], "user_id": 10**20})
    code, error = _ask(payload, tmp_path, monkeypatch, capsys)
    assert code == 2
    assert "user_id" in error and "less than or equal" in error


def test_invalid_json_is_quoted_only_briefly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, error = _ask("x" * 1_000_000, tmp_path, monkeypatch, capsys)
    assert code == 2
    assert "invalid request" in error and "Invalid JSON" in error
    assert len(error) < 300


def test_too_many_or_too_long_messages_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RECBOT_MAX_REQUEST_MESSAGES", "3")
    monkeypatch.setenv("RECBOT_MAX_REQUEST_MESSAGE_CHARS", "100")
    many = json.dumps({"messages": [_message("hi")] * 4})
    code, error = _ask(many, tmp_path, monkeypatch, capsys)
    assert code == 2 and "too many messages: 4" in error and "RECBOT_MAX_REQUEST_MESSAGES" in error
    long = json.dumps({"messages": [_message("a" * 101)]})
    code, error = _ask(long, tmp_path, monkeypatch, capsys)
    assert code == 2 and "101 characters" in error and "at most 100" in error


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_a_missing_file_or_a_directory_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setenv("RECBOT_HOME", str(tmp_path / "home"))
    target = tmp_path / ("nowhere.json" if kind == "missing" else "folder")
    if kind == "directory":
        target.mkdir()
    capsys.readouterr()
    assert main(["ask", str(target)]) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert str(target) in error
    assert ("no such file" if kind == "missing" else "is a directory") in error


def test_read_request_names_undecodable_files(tmp_path: Path) -> None:
    binary = tmp_path / "request.bin"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(RequestError, match="not UTF-8"):
        read_request(str(binary))


def test_many_validation_problems_are_summarised() -> None:
    payload = json.dumps({"messages": [{"role": "robot", "content": "z" * 500}] * 40})
    with pytest.raises(RequestError) as caught:
        parse_request(payload, max_messages=100, max_message_chars=1000)
    text = str(caught.value)
    assert "and 37 more" in text
    assert "z" * QUOTE_CHARS not in text
