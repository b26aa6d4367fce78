"""The layering of ../shared/DESIGN.md §1 and the lint rules are checked by CI, outside pytest.

ruff, mypy and import-linter run from `.ci/run` after the README's test command (mypy alone took
longer than the rest of the unit suite). This checks that `.ci/run` still runs each of them as a
command of its own, in a script that stops at the first failure.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKS = (".venv/bin/ruff check .", ".venv/bin/mypy", ".venv/bin/lint-imports")


def _commands(text: str) -> list[str]:
    """The lines of a shell script that run something (no blanks, no comments)."""
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _readme_test_command() -> str:
    (command,) = [
        line
        for line in (ROOT / "README.md").read_text().splitlines()
        if line.startswith("python3 -m venv") and line.endswith("-m pytest")
    ]
    return command


def test_ci_runs_the_readme_test_command_then_ruff_mypy_and_import_linter() -> None:
    commands = _commands((ROOT / ".ci" / "run").read_text())
    assert "set -euo pipefail" in commands  # a failing check fails the run
    assert _readme_test_command() in commands
    for check in CHECKS:
        assert check in commands, f".ci/run no longer runs `{check}` on a line of its own"
