"""A real PostgreSQL server for the tests, started in a temporary directory and stopped after.

The Debian server (``/usr/lib/postgresql/<version>/bin``; `.ci/run` installs it where missing) is
initialised with ``initdb`` in a temp dir and listens on a free loopback port; nothing is mocked.
Each test gets a database of its own (``postgres_url``). Postgres refuses to run as root, so as
root the server runs as the ``postgres`` system user the Debian package creates.

Without the binaries the Postgres tests skip, except where ``RECBOT_REQUIRE_INTEGRATION=1``
(CI), where they fail.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

USER = "recbot"


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    if found:
        return Path(found[0]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def free_port() -> int:
    """A loopback port nobody listens on now (the servers the tests start take one each)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    """One running server: ``url(database)`` gives a SQLAlchemy URL on the psycopg driver."""

    bin_dir: Path
    data_dir: Path
    port: int
    run_as: str | None

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{USER}@127.0.0.1:{self.port}/{database}"

    def command(self, *args: str) -> list[str]:
        prefix = ["runuser", "-u", self.run_as, "--"] if self.run_as else []
        return [*prefix, *args]

    def run(self, *args: str) -> None:
        subprocess.run(self.command(*args), check=True, capture_output=True, timeout=120)

    def psql(self, sql: str) -> None:
        psql = str(self.bin_dir / "psql")
        self.run(
            psql,
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            USER,
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        )

    def stop(self) -> None:
        subprocess.run(
            self.command(
                str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "stop"
            ),
            capture_output=True,
            timeout=60,
        )


def start_postgres(base: Path) -> PostgresServer:
    """initdb + pg_ctl start in ``base``; trust auth on loopback only, fsync off (tests)."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise FileNotFoundError("no PostgreSQL server binaries (install Debian's postgresql)")
    run_as = None
    if os.geteuid() == 0:
        run_as = "postgres"
        owner = pwd.getpwnam(run_as)
        os.chown(base, owner.pw_uid, owner.pw_gid)
        os.chmod(base, 0o700)
    data_dir, port = base / "data", free_port()
    server = PostgresServer(bin_dir, data_dir, port, run_as)
    server.run(
        str(bin_dir / "initdb"),
        "-D",
        str(data_dir),
        "-U",
        USER,
        "--auth=trust",
        "-E",
        "UTF8",
        "--no-sync",
    )
    options = f"-p {port} -h 127.0.0.1 -k {base} -c fsync=off -c max_connections=300"
    server.run(
        str(bin_dir / "pg_ctl"),
        "-D",
        str(data_dir),
        "-o",
        options,
        "-l",
        str(base / "server.log"),
        "-w",
        "-t",
        "60",
        "start",
    )
    return server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    # a directory of its own under /tmp: pytest's (0700, root's) is closed to the postgres user
    base = Path(tempfile.mkdtemp(prefix="recbot-postgres-"))
    try:
        server = start_postgres(base)
    except (FileNotFoundError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", b"") or b""
        message = f"PostgreSQL could not start: {error} {detail.decode(errors='replace')}"
        shutil.rmtree(base, ignore_errors=True)
        if os.environ.get("RECBOT_REQUIRE_INTEGRATION") == "1":
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database on the test server, dropped after the test."""
    name = "t_" + uuid.uuid4().hex[:16]
    postgres_server.psql(f"CREATE DATABASE {name}")
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The app database's URL, once on an SQLite file and once on the test Postgres server:
    a test taking it runs on both, so the two backends pass the same suite."""
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'app.db'}"
