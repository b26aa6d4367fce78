"""What every suite that runs `recbot serve` shares: the built home, the server subprocess, and
the home whose state lives in the suite's Postgres server (issue 15).

A plugin of the root conftest, so that its session fixtures (``e2e_home``, ``widget_port``,
``postgres_home``) exist once per pytest session however many directories use them: defined in
tests/e2e/conftest.py and imported by name into tests/security and tests/llm, each directory got
its own copy — the home built three times and ``CREATE DATABASE`` run twice on one server (CI
failed on that).

The home is a copy of the real ml-latest-small build when RECBOT_DATA_DIR is set (CI), so the
browser sees real movies; otherwise the small generated catalog, built by `recbot build` with the
real embedding model. Server logs and screenshots go to test-artifacts/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from tests.conftest import write_movielens
from tests.postgres import free_port

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
AUTH_SECRET = "e2e-secret-" + "s" * 48
STARTUP_TIMEOUT_S = 240


@dataclass
class E2EHome:
    home: Path
    data_dir: Path
    real: bool

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RECBOT_", "CHAINLIT_"))}
        env.update(
            RECBOT_HOME=str(self.home),
            RECBOT_DATA_DIR=str(self.data_dir),
            CHAINLIT_AUTH_SECRET=AUTH_SECRET,
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
            PYTHONUNBUFFERED="1",
            **extra,
        )
        return env


@pytest.fixture(scope="session")
def e2e_home(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> E2EHome:
    home = tmp_path_factory.mktemp("e2e") / "home"
    data_dir = os.environ.get("RECBOT_DATA_DIR")
    if data_dir and (Path(data_dir) / "movies.csv").exists():
        real = request.getfixturevalue("real")  # tests/integration's build, reused
        shutil.copytree(  # not its app roots: those of servers run on it are no one's here
            real.settings.home, home, ignore=shutil.ignore_patterns("conversations.db*", "run")
        )
        return E2EHome(home, Path(data_dir).resolve(), real=True)
    data = write_movielens(tmp_path_factory.mktemp("e2e-data") / "ml")
    env = E2EHome(home, data, real=False).env()
    subprocess.run(
        [sys.executable, "-m", "ui.cli", "build", "--quiet"], env=env, cwd=ROOT, check=True
    )
    return E2EHome(home, data, real=False)


@dataclass
class Server:
    """`recbot serve` in a subprocess; ``restart()`` stops it and starts it again."""

    home: E2EHome
    port: int
    log_path: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    _log: BinaryIO | None = None

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = log = self.log_path.open("ab")
        command = [sys.executable, "-m", "ui.cli", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(
            command,
            env=self.home.env(**self.extra_env),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"recbot serve exited; see {self.log_path}")
            try:
                with urllib.request.urlopen(
                    self.url + "/project/settings?language=en-US", timeout=2
                ):
                    pass
            except OSError as error:
                if "401" in str(error) or "403" in str(error):
                    return  # up, and asking for a sign-in
                time.sleep(0.5)
                continue
            return
        raise RuntimeError(
            f"recbot serve did not start in {STARTUP_TIMEOUT_S} s; see {self.log_path}"
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def widget_port() -> int:
    """The widget example page's port, not the default: the server allows its origin because it
    is told the port (RECBOT_WIDGET_PORT), as `recbot widget-demo` reads it too."""
    return free_port()


@dataclass
class PostgresHome:
    """A copy of the e2e home whose app database, chat history and checkpoints are all in a
    Postgres database of the suite's own server (tests/postgres.py); built into it once."""

    home: E2EHome
    url: str

    def env(self) -> dict[str, str]:
        return {"RECBOT_DATABASE_URL": self.url}


def build_into_postgres(source: E2EHome, home: Path, url: str) -> PostgresHome:
    """A copy of ``source``'s built home at ``home`` (no SQLite files, no app roots) whose
    catalog `recbot build` writes into the Postgres database ``url``; the embeddings and the
    ranker are reused."""
    shutil.copytree(source.home, home, ignore=shutil.ignore_patterns("*.db*", "run"))
    shared = PostgresHome(E2EHome(home, source.data_dir, source.real), url)
    subprocess.run(
        [sys.executable, "-m", "ui.cli", "build", "--quiet"],
        env=shared.home.env(**shared.env()),
        cwd=ROOT,
        check=True,
        timeout=900,
    )
    return shared


@pytest.fixture(scope="session")
def postgres_home(
    e2e_home: E2EHome, postgres_server: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PostgresHome]:
    name = "e2e_" + uuid.uuid4().hex[:12]  # never a name an earlier run or suite left behind
    postgres_server.psql(f"CREATE DATABASE {name}")
    home = tmp_path_factory.mktemp("e2e-postgres") / "home"
    try:
        yield build_into_postgres(e2e_home, home, postgres_server.url(name))
    finally:
        postgres_server.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
