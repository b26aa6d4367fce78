from __future__ import annotations

import json
from pathlib import Path

from agent.llm import Usage
from simulations.metrics import Price, summarize
from simulations.report import ReportPaths, summary_table, write_report
from simulations.types import SessionRecord, Target, TurnRecord

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TARGET = 99
GENRES = {1: ["Action"], 2: ["Comedy"], 3: ["Action", "Drama"], TARGET: ["Drama"]}
POPULARITY = {item: 200 - item for item in range(1, 201)}
FACTS: dict = {"genres": GENRES, "popularity": POPULARITY, "catalog_size": 200}
PRICE = Price(input_per_million=0.5, output_per_million=1.5)


def session(system: str, index: int, hit_turn: int | None, latency_ms: float) -> SessionRecord:
    """A session that shows two fillers per turn and the target on ``hit_turn``."""
    last = hit_turn or 5
    turns = [
        TurnRecord(
            turn=n,
            user="something else",
            action="recommend",
            recommended=[1, 2, TARGET] if n == hit_turn else [1 + n % 2, 3],
            hit=n == hit_turn,
            latency_ms=latency_ms * n,
            llm=Usage(calls=1, input_tokens=800, output_tokens=120)
            if system == "agent"
            else Usage(),
        )
        for n in range(1, last + 1)
    ]
    return SessionRecord(
        session_id=f"{system}/7/{index}",
        system=system,
        seed=7,
        target=Target(user_id=index, item_id=TARGET, title="Target (2000)", history=[1] * index),
        bucket=("0", "1-5", "6-20", ">20")[index % 4],
        max_turns=5,
        k=3,
        turns=turns,
        hit_turn=hit_turn,
    )


def records() -> list[SessionRecord]:
    agent = [session("agent", i, (2, 3, None, 1)[i % 4], 120.0) for i in range(8)]
    one_shot = [session("one-shot", i, (1, None)[i % 2], 40.0) for i in range(8)]
    popularity = [session("popularity", i, None if i % 4 else 1, 2.0) for i in range(8)]
    return agent + one_shot + popularity


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 1000, path


def test_write_report_writes_markdown_json_and_plots(tmp_path: Path) -> None:
    meta = {"seed": 7, "max_turns": 5, "data_dir": tmp_path / "data"}  # a Path is written as str
    paths = write_report(records(), tmp_path / "out", **FACTS, price=PRICE, meta=meta)

    assert isinstance(paths, ReportPaths)
    for plot in paths.plots:
        assert_png(plot)
    markdown = paths.markdown.read_text()
    for heading in ("# recbot simulation", "## Results by system", "## Results by history bucket"):
        assert heading in markdown
    assert "| System | Sessions | Errors | Success@T | Avg turns |" in markdown
    assert "| System | Bucket | Sessions |" in markdown
    assert "| System | t=1 | t=2 | t=3 | t=4 | t=5 |" in markdown
    assert "| agent | 8 | 0 | 75.0% | 3.00 |" in markdown  # hits on 2, 3, -, 1: (2+3+6+1)/4
    assert "| one-shot | 1-5 | 2 | 0 | 0.0% |" in markdown
    for plot in paths.plots:
        assert f"]({plot.name})" in markdown
    assert "- **agent** vs one-shot: +25.0 pp (×1.50)" in markdown
    assert "- **agent** vs popularity: +50.0 pp (×3.00)" in markdown

    report = json.loads(paths.json.read_text())
    assert report["meta"] == {
        "seed": 7,
        "max_turns": 5,
        "data_dir": str(tmp_path / "data"),
        "simulator": "rules",  # which simulated user produced the numbers
    }
    assert report["counts"]["sessions"] == 24
    assert report["counts"]["systems"] == ["agent", "one-shot", "popularity"]
    expected = summarize(records(), **FACTS, price=PRICE)
    assert list(paths.summaries) == expected
    assert report["summaries"] == json.loads(json.dumps([s.to_dict() for s in expected]))
    assert report["summaries"][0]["overall"]["hallucination_rate"] == 0.0


def test_write_report_without_sessions_still_writes_every_file(tmp_path: Path) -> None:
    paths = write_report([], tmp_path, **FACTS, price=None, title="empty run")
    for plot in paths.plots:
        assert_png(plot)
    assert paths.markdown.read_text().startswith("# empty run")
    assert json.loads(paths.json.read_text())["summaries"] == []


def test_write_report_with_identical_latencies(tmp_path: Path) -> None:
    flat = [session("agent", 0, 1, 5.0), session("popularity", 1, 1, 5.0)]
    assert_png(write_report(flat, tmp_path, **FACTS, price=PRICE).latency_png)


def test_summary_table_is_fixed_width_with_one_row_per_system() -> None:
    table = summary_table(summarize(records(), **FACTS, price=PRICE))
    lines = table.splitlines()
    assert lines[0].split() == [
        "system", "n", "success", "avg", "turns", "halluc.", "leak", "kept", "succ.", "repeat", "p50", "ms", "p95", "ms", "cost/1k"
    ]  # fmt: skip
    assert [line.split()[0] for line in lines[1:]] == ["agent", "one-shot", "popularity"]
    assert len({len(line) for line in lines}) == 1
    assert "75.0%" in lines[1] and "$0.00" in lines[3]
    assert summary_table([]).split() == lines[0].split()
