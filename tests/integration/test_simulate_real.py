"""Simulated users on the real catalog: 32 sessions per system, offline (the independent
rule-based users, every persona)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.wiring import build_deps
from simulations.metrics import summarize
from simulations.report import write_report
from simulations.runner import SimConfig, Simulation, run
from simulations.simulator import make_user
from simulations.types import PERSONAS, SessionRecord
from tests.real_catalog import RealCatalog


@pytest.fixture(scope="module")
def records(real: RealCatalog, tmp_path_factory: pytest.TempPathFactory) -> list[SessionRecord]:
    deps = build_deps(real.settings, embedder=real.artifacts.retriever.embedder)
    simulation = Simulation(
        deps,
        SimConfig(sessions=32, max_turns=5, seed=0),
        llm_configured=False,
        make_user=lambda target, catalog, seed, similar, persona: make_user(
            "rules", target, catalog, seed, similar=similar, persona=persona
        ),
    )
    return run(simulation, tmp_path_factory.mktemp("simulate"), progress=False)


def test_the_agent_never_shows_an_unknown_or_excluded_item(
    records: list[SessionRecord], real: RealCatalog
) -> None:
    """Checked against the simulator's own read of the catalog and what the user excluded
    (rejected, seen) — not against the agent's candidates — so it can fail."""
    summaries = {s.system: s for s in _summaries(records, real)}
    assert summaries["agent"].overall.sessions == 32
    assert summaries["agent"].overall.errors == 0
    for system in ("agent", "one-shot"):
        assert summaries[system].overall.hallucination_rate == 0.0
    shown = [t for r in records if r.system == "agent" for t in r.turns if t.recommended]
    assert sum(bool(r.excluded_shown) for r in shown) == 0 and len(shown) >= 40


def test_every_persona_is_played_and_the_users_words_rarely_identify_the_film(
    records: list[SessionRecord], real: RealCatalog
) -> None:
    agent = {s.system: s for s in _summaries(records, real)}["agent"]
    assert set(agent.by_persona) == set(PERSONAS)
    assert agent.overall.leak_rate is not None and agent.overall.leak_rate <= 0.07  # ≤ 2 of 32
    impatient = [r for r in records if r.system == "agent" and r.persona == "impatient"]
    assert all(r.success or len(r.turns) <= 3 for r in impatient)  # gone after two lists


def test_conversation_beats_popularity_and_one_shot_in_the_same_run(
    records: list[SessionRecord], real: RealCatalog
) -> None:
    summaries = {s.system: s.overall for s in _summaries(records, real)}
    agent, popularity = summaries["agent"], summaries["popularity"]
    assert agent.success_rate is not None and popularity.success_rate is not None
    assert agent.success_rate >= popularity.success_rate + 0.12, (agent, popularity)
    assert agent.success_rate >= (summaries["one-shot"].success_rate or 0.0)
    assert agent.repeat_rate == 0.0  # a passed-over pick never comes back


def test_the_report_is_written(
    records: list[SessionRecord], real: RealCatalog, tmp_path: Path
) -> None:
    catalog = real.artifacts.catalog
    paths = write_report(
        records,
        tmp_path,
        genres={i.id: i.genres for i in catalog},
        popularity={i.id: i.popularity for i in catalog},
        catalog_size=len(catalog),
        price=None,
    )
    text = paths.markdown.read_text()
    assert "| agent |" in text and "| popularity |" in text
    assert all(p.stat().st_size > 1000 for p in paths.plots)


def _summaries(records: list[SessionRecord], real: RealCatalog) -> list:
    catalog = real.artifacts.catalog
    return summarize(
        records,
        genres={i.id: i.genres for i in catalog},
        popularity={i.id: i.popularity for i in catalog},
        catalog_size=len(catalog),
    )
