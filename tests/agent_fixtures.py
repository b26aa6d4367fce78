"""A small agent over a generated catalog: fake embedder, popularity ranker, offline planner.

Shared by tests/unit/agent, tools and ui (a plugin of tests/conftest.py). The
catalog, its FAISS index, the scorer and the planner are read-only, so they are built once per
session (``agent_parts``); every test gets its own copy of the app database, which it may write.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.context import Deps
from agent.persistence import UserData
from agent.planner.offline import OfflinePlanner
from agent.recommender import Recommender
from agent.settings import Settings
from agent.wiring import LLMParts, assemble_deps
from catalog.artifacts import open_artifacts
from catalog.build import BuildConfig, build
from catalog.store import Store
from ranker.baselines import PopularityScorer
from tests.conftest import write_movielens
from tests.fakes import BagOfWordsEmbedder
from tools.deps import ToolDeps


@dataclass(frozen=True)
class AgentParts:
    """What every agent test shares: built once, never written. ``database`` is the template
    each test copies (read-only on disk, so a write that reaches it fails loudly)."""

    tools: ToolDeps
    planner: OfflinePlanner
    database: Path


@pytest.fixture(scope="session")
def agent_parts(tmp_path_factory: pytest.TempPathFactory) -> AgentParts:
    root = tmp_path_factory.mktemp("agent-parts")
    home = root / "agent-home"
    config = BuildConfig(
        home=home,
        database_url=f"sqlite:///{home / 'app.db'}",
        data_dir=write_movielens(root / "ml"),
    )
    embedder = BagOfWordsEmbedder()
    build(config, embedder, progress=False, log=lambda _msg: None)
    artifacts = open_artifacts(config, embedder)
    store = Store(config.database_url)
    scorer = PopularityScorer.fit(store.interactions())
    store.close()
    database = home / "app.db"
    database.chmod(0o444)
    return AgentParts(
        tools=ToolDeps(artifacts.catalog, artifacts.retriever, scorer),
        planner=OfflinePlanner(artifacts.catalog),
        database=database,
    )


def fresh_database(template: Path, target: Path) -> str:
    """A private copy of the template database at ``target``; its SQLAlchemy URL."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        closing(sqlite3.connect(f"file:{template}?mode=ro", uri=True)) as source,
        closing(sqlite3.connect(target)) as copy,
    ):
        source.backup(copy)
    return f"sqlite:///{target}"


@pytest.fixture
def agent_deps(
    agent_parts: AgentParts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Deps]:
    monkeypatch.setenv("LANGGRAPH_STRICT_MSGPACK", "true")
    store = Store(fresh_database(agent_parts.database, tmp_path / "agent-home" / "app.db"))
    yield assemble_deps(
        Settings(k=3, warm_threshold=5),
        tools=agent_parts.tools,
        users=UserData(store),
        offline_planner=agent_parts.planner,
    )
    store.close()


@pytest.fixture
def recommender(agent_deps: Deps) -> Recommender:
    return Recommender(agent_deps)


def with_llm(deps: Deps, settings: Settings, llm: LLMParts) -> Recommender:
    """An agent over ``deps``' small catalog with these LLM parts and settings."""
    return Recommender(
        assemble_deps(
            settings,
            tools=deps.tools,
            users=deps.users,
            llm=llm,
            offline_planner=deps.offline_planner,
        )
    )
