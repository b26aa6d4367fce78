"""The simulation runner on a generated catalog: targets, systems, transcripts, resuming, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.context import Deps
from agent.persistence import UserData
from agent.settings import Settings
from agent.wiring import assemble_deps, llm_parts
from catalog.artifacts import open_artifacts
from catalog.build import BuildConfig, build
from catalog.domain import Interaction
from catalog.store import Store
from ranker.baselines import PopularityScorer
from ranker.protocol import leave_last_out
from simulations.profiles import SimulatedProfiles
from simulations.runner import TRANSCRIPTS, SimConfig, Simulation, load_records, run
from simulations.simulator import make_user
from simulations.targets import LeakError, held_out_targets, replay, verify_unseen
from simulations.types import SessionRecord, Target
from tests.conftest import write_busy_movielens
from tests.fakes import BagOfWordsEmbedder
from tools.deps import ToolDeps

BUCKETS = ["0", "1-5", "6-20"]


@pytest.fixture(scope="module")
def deps(tmp_path_factory: pytest.TempPathFactory) -> Deps:
    root = tmp_path_factory.mktemp("sim")
    home = root / "home"
    config = BuildConfig(
        home=home,
        database_url=f"sqlite:///{home / 'app.db'}",
        data_dir=write_busy_movielens(root / "ml"),
    )
    embedder = BagOfWordsEmbedder()
    build(config, embedder, progress=False, log=lambda _msg: None)
    artifacts = open_artifacts(config, embedder)
    store = Store(config.database_url)
    return assemble_deps(
        Settings(k=3),
        tools=ToolDeps(
            artifacts.catalog, artifacts.retriever, PopularityScorer.fit(store.interactions())
        ),
        users=UserData(store),
    )


def rules_user(
    target: Target, catalog: object, seed: int, similar: object, persona: str = "cooperative"
) -> object:
    return make_user(
        "rules",
        target,
        catalog,  # type: ignore[arg-type]
        seed,
        similar=similar,  # type: ignore[arg-type]
        persona=persona,  # type: ignore[arg-type]
    )


def simulation(deps: Deps, **overrides: object) -> Simulation:
    values: dict[str, object] = {"sessions": 6, "max_turns": 3, "k": 3, "buckets": BUCKETS}
    values.update(overrides)
    return Simulation(deps, SimConfig(**values), llm_configured=False, make_user=rules_user)  # type: ignore[arg-type]


def test_targets_are_held_out_items_and_the_training_split_never_holds_them(deps: Deps) -> None:
    split = leave_last_out(deps.users.store.interactions())
    targets = held_out_targets(split, deps.tools.catalog, count=5, seed=1, min_history=6)
    assert len(targets) == 5 and len({t.user_id for t in targets}) == 5
    for target in targets:
        assert target.item_id == split.test[target.user_id]
        assert target.history[0] == split.valid[target.user_id]  # newest first
        assert target.item_id not in target.history
    verify_unseen(targets, split.train)
    leaky = {targets[0].user_id: [Interaction(targets[0].user_id, targets[0].item_id, 4.0, 1)]}
    with pytest.raises(LeakError):
        verify_unseen(targets, leaky)


def test_buckets_replay_each_target_with_a_history_of_their_size(deps: Deps) -> None:
    split = leave_last_out(deps.users.store.interactions())
    targets = held_out_targets(split, deps.tools.catalog, count=2, seed=0, min_history=6)
    plan = replay(targets, BUCKETS, seed=0)
    assert [t.bucket for t in plan] == BUCKETS * 2
    assert all(t.item_id == plan[0].item_id for t in plan[:3])
    with pytest.raises(ValueError, match="buckets"):
        replay(targets, ["lots"], seed=0)


def test_simulated_profiles_reveal_only_the_given_history() -> None:
    profiles = SimulatedProfiles()
    target = Target(
        user_id=5, item_id=9, title="Toy Story 3 (2010)", history=[1, 5], ratings=[4, 5]
    )
    assert profiles.register(target.model_copy(update={"history": [], "ratings": []})) is None
    uid = profiles.register(target)
    assert uid is not None
    profile = profiles.profile(uid)
    assert profile.history == (1, 5) and 9 not in profile.rated
    profiles.record_feedback(uid, 7, "rejected")
    profiles.record_feedback(uid, 7, "seen")
    assert profiles.feedback(uid)["seen"] == [7] and profiles.feedback(uid)["rejected"] == []


def test_every_system_gets_the_same_targets_and_the_records_are_complete(
    deps: Deps, tmp_path: Path
) -> None:
    records = run(simulation(deps), tmp_path, progress=False)
    by_system: dict[str, list[SessionRecord]] = {}
    for record in records:
        by_system.setdefault(record.system, []).append(record)
    assert set(by_system) == {"agent", "one-shot", "popularity"}
    targets = {s: [(r.target.item_id, r.bucket) for r in rs] for s, rs in by_system.items()}
    assert targets["agent"] == targets["one-shot"] == targets["popularity"]
    for record in records:
        assert not record.error
        assert 1 <= len(record.turns) <= record.max_turns
        assert record.max_turns == (1 if record.system == "one-shot" else 3)
        for turn in record.turns:
            assert turn.user and record.target.title not in turn.user
            assert turn.outside_catalog == [] and turn.outside_candidates == []
            contrary = record.persona == "contrarian" and turn.turn == 1  # rejects it anyway
            assert turn.hit == (record.target.item_id in turn.recommended and not contrary)
            assert turn.excluded_shown == [] and turn.unknown_titles == []
        if record.success:
            assert record.turns[-1].hit and record.hit_turn == len(record.turns)
    popular = by_system["popularity"][0]
    assert not set(popular.turns[0].recommended) & set(popular.target.history)


def test_an_interrupted_run_resumes_where_it_stopped(deps: Deps, tmp_path: Path) -> None:
    first = run(simulation(deps), tmp_path, progress=False)
    path = tmp_path / TRANSCRIPTS
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:5]) + "\n")  # as if killed after five sessions
    again = run(simulation(deps), tmp_path, progress=False)
    assert [r.session_id for r in again] == [r.session_id for r in first]
    assert len(load_records(path)) == len(first)
    assert [r.model_dump() for r in again[:5]] == [r.model_dump() for r in first[:5]]
    with pytest.raises(ValueError, match="other settings"):
        run(simulation(deps, max_turns=2), tmp_path, progress=False)
    assert len(run(simulation(deps, max_turns=2), tmp_path, fresh=True, progress=False)) == len(
        first
    )


def test_same_seed_same_conversations(deps: Deps, tmp_path: Path) -> None:
    a = run(simulation(deps, systems=["agent"]), tmp_path / "a", progress=False)
    b = run(simulation(deps, systems=["agent"], workers=2), tmp_path / "b", progress=False)
    assert [[t.user for t in r.turns] for r in a] == [[t.user for t in r.turns] for r in b]


def test_unknown_systems_are_refused(deps: Deps) -> None:
    with pytest.raises(ValueError, match="agent\\+llm-rerank"):
        simulation(deps, systems=["agent+llm-rerank"])  # no LLM configured


def test_recbot_simulate_writes_the_report_and_prints_the_table(
    deps: Deps, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ui import cli

    monkeypatch.setattr("agent.wiring.build_deps", lambda settings, embedder=None: deps)
    scenario = tmp_path / "scenario.toml"
    scenario.write_text('[simulate]\nsessions = 3\nk = 3\nbuckets = ["0", "1-5", "6-20"]\n')
    out = tmp_path / "report"
    code = cli.main(
        ["simulate", "--config", str(scenario), "--max-turns", "2", "--out", str(out), "--quiet"],
        embedder=BagOfWordsEmbedder(),
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "agent" in printed and "popularity" in printed and "success" in printed
    report = json.loads((out / "report.json").read_text())
    assert json.loads((out / "run.json").read_text())["max_turns"] == 2
    assert (out / "report.md").read_text().startswith("# ")
    assert (out / "hit_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert report  # the summaries, read back
    bad = cli.main(["simulate", "--config", str(tmp_path / "missing.toml")])
    assert bad == 2


def test_llm_users_and_the_llm_rerank_system_through_the_real_client(
    deps: Deps, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, llm_stub: object
) -> None:
    """--llm: the simulated user is the configured LLM (here the loopback stub). The first
    request is the opening message; everything after it fails, and every part falls back
    (planner → rules, rerank → ranker order, simulated user → rules) without losing a session."""

    from agent.settings import Settings
    from simulations.main import load_scenario, simulate

    settings = Settings(
        llm_base_url=llm_stub.base_url,  # type: ignore[attr-defined]
        llm_api_key="test",
        llm_max_retries=0,
        llm_timeout_s=5,
    )
    with_llm = assemble_deps(
        Settings(k=3),
        tools=deps.tools,
        users=deps.users,
        llm=llm_parts(settings, deps.tools.catalog.genres),
    )
    monkeypatch.setattr("agent.wiring.build_deps", lambda settings, embedder=None: with_llm)
    llm_stub.enqueue("Something funny with toys that come alive, please.")  # type: ignore[attr-defined]
    config = load_scenario(
        None, sessions=2, max_turns=2, k=3, buckets=["0", "1-5"], simulator="llm"
    )
    records, table = simulate(settings, config, tmp_path, progress=False)

    assert {r.system for r in records} == {"agent", "agent+llm-rerank", "one-shot", "popularity"}
    assert all(r.simulator == "llm" and not r.error for r in records)
    first = records[0].turns[0]
    assert first.user == "Something funny with toys that come alive, please."
    assert first.simulator_llm.calls == 1
    later = [t.user for r in records for t in r.turns][1:]
    assert all(later), "fallback messages from the rules"
    assert "agent+llm-rerank" in table


def test_cost_levers_run_as_extra_systems_and_the_report_weighs_quality_against_tokens(
    deps: Deps, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, llm_stub: object
) -> None:
    from agent.settings import Settings
    from simulations.main import load_scenario, simulate

    settings = Settings(
        home=tmp_path / "home",
        llm_base_url=llm_stub.base_url,  # type: ignore[attr-defined]
        llm_api_key="test",
        llm_max_retries=0,
        llm_rerank_warm=True,
    )
    llm_stub.always("2, 1, 3", usage=(50, 5))  # type: ignore[attr-defined]
    monkeypatch.setattr("agent.wiring.build_deps", lambda settings, embedder=None: deps)
    levers = ["cache=on", "history=0", "rerank_top=5", "rerank_warm=off", "mode=verbalizer"]
    config = load_scenario(
        None, sessions=3, max_turns=2, k=3, buckets=["0", "1-5", "6-20"], levers=levers
    )
    records, _table = simulate(settings, config, tmp_path / "out", progress=False)

    systems = {r.system for r in records}
    assert {f"agent+llm-rerank[{lever}]" for lever in levers} <= systems
    assert all(not r.error for r in records)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    rows = {row["lever"]: row for row in report["levers"]}
    assert set(rows) == {"(reference)", *levers}
    assert rows["cache=on"]["tokens_per_session"] > 0
    assert (tmp_path / "out" / "levers.png").read_bytes()[:4] == b"\x89PNG"
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert "## Cost levers: quality against tokens" in markdown
    with pytest.raises(ValueError, match="unknown lever"):
        load_scenario(None, levers=["turbo=on"])
