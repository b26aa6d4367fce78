"""A small agent over a generated catalog: fake embedder, popularity ranker, offline planner.

Shared by tests/unit/agent and tests/unit/tools (their conftests import these fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.context import AgentConfig, Deps
from agent.persistence import UserData
from agent.planner.offline import OfflinePlanner
from agent.recommender import Recommender
from catalog.artifacts import open_artifacts
from catalog.build import BuildConfig, build
from catalog.store import Store
from ranker.baselines import PopularityScorer
from tests.conftest import write_movielens
from tests.fakes import BagOfWordsEmbedder
from tools.deps import ToolDeps


@pytest.fixture
def agent_deps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Deps:
    monkeypatch.setenv("LANGGRAPH_STRICT_MSGPACK", "true")
    home = tmp_path / "agent-home"
    config = BuildConfig(
        home=home,
        database_url=f"sqlite:///{home / 'app.db'}",
        data_dir=write_movielens(tmp_path / "ml"),
    )
    embedder = BagOfWordsEmbedder()
    build(config, embedder, progress=False, log=lambda _msg: None)
    artifacts = open_artifacts(config, embedder)
    store = Store(config.database_url)
    scorer = PopularityScorer.fit(store.interactions())
    planner = OfflinePlanner(artifacts.catalog)
    return Deps(
        tools=ToolDeps(artifacts.catalog, artifacts.retriever, scorer),
        planner=planner,
        offline_planner=planner,
        users=UserData(store),
        config=AgentConfig(k=3, warm_threshold=5),
    )


@pytest.fixture
def recommender(agent_deps: Deps) -> Recommender:
    return Recommender(agent_deps)
