"""The simulated user never imports the agent's vocabulary, planner or scorers (issue 13)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CONTRACT = "The simulated user is independent"
PACKAGES = ("catalog", "ranker", "tools", "agent", "ui", "simulations", "jobs")


def _contract() -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    return next(c for c in contracts if c["name"].startswith(CONTRACT))


def test_the_contract_forbids_the_lexicon_planner_and_scorers() -> None:
    contract = _contract()
    assert contract["type"] == "forbidden" and contract["source_modules"] == ["simulations"]
    assert {"agent.lexicon", "agent.planner", "tools.scoring", "agent.explain"} <= set(
        contract["forbidden_modules"]
    )


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    lint = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(lint), "--contract", _contract_id(tree)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _contract_id(tree: Path) -> str:
    """import-linter names a TOML contract by its position when it has no id."""
    contract = _contract()
    if "id" in contract:
        return str(contract["id"])
    raise AssertionError("give the contract an id so it can be run alone")


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tree")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    return root


def test_the_contract_holds_on_the_code_as_it_is(tree: Path) -> None:
    result = _lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_fails_when_the_simulator_imports_the_agents_lexicon(tree: Path) -> None:
    templates = tree / "simulations" / "templates.py"
    original = templates.read_text()
    templates.write_text(original + "\nfrom agent.lexicon import MOOD_SYNONYMS  # noqa\n")
    try:
        result = _lint(tree)
    finally:
        templates.write_text(original)
    assert result.returncode != 0
    assert "agent.lexicon" in result.stdout and "BROKEN" in result.stdout
