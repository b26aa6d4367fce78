"""The real ml-latest-small catalog, built once per test session (a plugin: tests/conftest.py).

Used by tests/integration and tests/e2e. Runs when RECBOT_DATA_DIR points at ml-latest-small
(CI sets it); skipped otherwise, unless RECBOT_REQUIRE_INTEGRATION=1 turns the skip into a failure
so CI cannot pass without them. RECBOT_TEST_HOME keeps the build between runs (embedding the
catalog takes minutes). ``real_stored`` is that build again in a home of its own, once per
backend (SQLite, Postgres), for the tests that read the store back or write to it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.recommender import Recommender
from agent.settings import Settings
from agent.wiring import build_deps
from catalog.artifacts import Artifacts, open_artifacts
from catalog.build import BuildConfig, build
from catalog.embeddings import Embedder, SentenceTransformerEmbedder
from ranker.pipeline import ensure_ranker


@dataclass
class RealCatalog:
    settings: Settings
    config: BuildConfig
    artifacts: Artifacts

    def recommender(self) -> Recommender:
        """A fresh agent over the real build: offline planner, trained ranker, memory checkpointer."""
        return Recommender(build_deps(self.settings, embedder=self.artifacts.retriever.embedder))


def required_folder(variable: str, marker: str, what: str) -> Path:
    """The folder ``variable`` names, holding ``marker``; else skip (fail under
    RECBOT_REQUIRE_INTEGRATION=1, so CI cannot pass without it)."""
    folder = os.environ.get(variable)
    if not folder or not (Path(folder) / marker).exists():
        reason = f"set {variable} to {what}"
        if os.environ.get("RECBOT_REQUIRE_INTEGRATION") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return Path(folder)


@pytest.fixture(scope="session")
def real(tmp_path_factory: pytest.TempPathFactory) -> RealCatalog:
    data_dir = required_folder(
        "RECBOT_DATA_DIR", "movies.csv", "ml-latest-small to run the integration tests"
    )
    home = Path(os.environ.get("RECBOT_TEST_HOME") or tmp_path_factory.mktemp("real-home"))
    settings = Settings(home=home, data_dir=Path(data_dir).resolve(), _env_file=None)
    return _built(settings, SentenceTransformerEmbedder(progress=False))


def _built(settings: Settings, embedder: Embedder) -> RealCatalog:
    """`recbot build` and the ranker in-process (each stage reused when its inputs are)."""
    config = settings.build_config()
    quiet = {"progress": False, "log": lambda _msg: None}
    build(config, embedder, **quiet)  # type: ignore[arg-type]
    ensure_ranker(config, settings.train_config(), **quiet)  # type: ignore[arg-type]
    return RealCatalog(settings, config, open_artifacts(config, embedder))


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def real_stored(
    request: pytest.FixtureRequest, real: RealCatalog, tmp_path_factory: pytest.TempPathFactory
) -> RealCatalog:
    """The real build in a home of its own, once with its SQLite files and once with the
    catalog built into a database of the suite's Postgres server (the artifacts reused): for
    the tests that read the store back or write state (a conversation's memory, its owner)."""
    home = tmp_path_factory.mktemp(f"real-{request.param}") / "home"
    skipped = "conversations.db*" if request.param == "sqlite" else "*.db*"
    shutil.copytree(real.settings.home, home, ignore=shutil.ignore_patterns(skipped, "run"))
    url = None
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        server.psql("CREATE DATABASE real_catalog")
        request.addfinalizer(lambda: server.psql("DROP DATABASE real_catalog WITH (FORCE)"))
        url = server.url("real_catalog")
    settings = real.settings.model_copy(update={"home": home, "database_url": url})
    return _built(settings, real.artifacts.retriever.embedder)
