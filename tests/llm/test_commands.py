"""The commands that use an LLM, run as a person would, against the real local model:
`recbot enrich` on a few items, a short `recbot simulate --llm`, and `recbot ask` with
RECBOT_LLM=local (recbot starting and stopping its own llama.cpp server).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from agent.settings import Settings
from tests.served import ROOT, E2EHome

TIMEOUT_S = 900


def recbot(
    home: E2EHome, *args: str, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", *args],
        input=stdin,
        env=home.env(**env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


def served_by(settings: Settings) -> dict[str, str]:
    """The environment that points recbot at the session's server."""
    return {
        "RECBOT_LLM_BASE_URL": str(settings.llm_base_url),
        "RECBOT_LLM_MODEL": settings.llm_model,
        "RECBOT_LLM_STRUCTURED_METHOD": settings.llm_structured_method,
        "RECBOT_LLM_PLANNER_PROMPT": settings.llm_planner_prompt,
        "RECBOT_LLM_TIMEOUT_S": str(settings.llm_timeout_s),
        "RECBOT_LLM_MAX_RETRIES": str(settings.llm_max_retries),
        "RECBOT_LLM_MAX_TOKENS": str(settings.llm_max_tokens),
        "RECBOT_ENRICH_CONCURRENCY": "1",
    }


def test_enrich_describes_a_few_items_and_counts_tokens(
    llm_home: E2EHome, llm_settings: Settings
) -> None:
    done = recbot(llm_home, "enrich", "--limit", "3", "--quiet", **served_by(llm_settings))
    # 1: some answers lacked three of the five fields; they are listed and left for later
    assert done.returncode in (0, 1), done.stderr
    assert "llm" in done.stdout.lower() and "tokens" in done.stdout.lower(), done.stdout
    with closing(sqlite3.connect(llm_home.home / "recbot.db")) as db:
        rows = db.execute("SELECT input_tokens FROM enrichments WHERE source = 'llm'").fetchall()
    assert len(rows) <= 3
    assert all(tokens > 0 for (tokens,) in rows), rows
    if done.returncode == 0:
        assert len(rows) == 3


def test_a_short_llm_simulation_keeps_every_guarantee(
    llm_home: E2EHome, llm_settings: Settings, tmp_path: Path
) -> None:
    if not llm_home.real:  # the 16 generated movies have no user with enough history
        pytest.skip("set RECBOT_DATA_DIR to ml-latest-small: simulated users need histories")
    out = tmp_path / "simulate"
    done = recbot(
        llm_home,
        "simulate",
        "--llm",
        "--sessions",
        "1",
        "--max-turns",
        "1",
        "--quiet",
        "--out",
        str(out),
        **served_by(llm_settings),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    sessions = [json.loads(line) for line in (out / "transcripts.jsonl").read_text().splitlines()]
    assert sessions and not any(s["error"] for s in sessions)
    turns = [turn for s in sessions for turn in s["turns"]]
    assert turns
    for turn in turns:
        assert turn["outside_catalog"] == [] and turn["outside_candidates"] == []
        assert turn["excluded_shown"] == []
    # the simulated users are the LLM (answers it could not give in time come from the rules)
    assert all(s["simulator"] == "llm" for s in sessions)
    llm_turns = [t for s in sessions if s["system"] == "agent+llm-rerank" for t in s["turns"]]
    assert llm_turns, "the LLM-reranked agent was simulated"
    for turn in llm_turns:
        if turn["llm"]["calls"]:
            assert turn["llm"]["input_tokens"] > 0


def test_ask_with_recbot_llm_local_runs_its_own_server(llm_home: E2EHome) -> None:
    request = {"messages": [{"role": "user", "content": "Something like Toy Story, no horror"}]}
    done = recbot(
        llm_home,
        "ask",
        "--must-recommend",
        stdin=json.dumps(request),
        RECBOT_LLM="local",
        RECBOT_LLM_PLANNER="true",  # with the bundled model both are off unless asked
        RECBOT_LLM_RERANK="true",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout)
    assert answer["action"] == "recommend" and answer["recommendations"]
    with closing(sqlite3.connect(llm_home.home / "recbot.db")) as db:
        known = {row[0] for row in db.execute("SELECT id FROM items")}
    assert {rec["item_id"] for rec in answer["recommendations"]} <= known
    if answer["llm"]["calls"]:  # none when the cold server missed the turn's deadline
        assert answer["llm"]["input_tokens"] > 0 and answer["llm"]["output_tokens"] > 0
