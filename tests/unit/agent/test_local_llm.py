"""RECBOT_LLM=local: the llama.cpp server's lifecycle, on a stand-in for ``llama_cpp.server``.

The stand-in is a tiny package on PYTHONPATH that answers ``/v1/models`` like the real server,
so these tests need neither the local-llm extra nor a model: that the server starts on loopback,
is health-checked, is stopped with recbot, and dies with its parent even when the parent is
killed. The real server is exercised by tests/llm.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent import local_llm
from agent.settings import SMOLLM2_NAME, Settings
from catalog.errors import ConfigurationError

FAKE_SERVER = """
import argparse, json
from http.server import BaseHTTPRequestHandler, HTTPServer

parser = argparse.ArgumentParser()
for name in ("--model", "--model_alias", "--host", "--port", "--n_ctx", "--n_threads",
             "--n_threads_batch"):
    parser.add_argument(name)
args = parser.parse_args()

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        body = json.dumps({"data": [{"id": args.model_alias}]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):  # the warm-up answer: one token
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"choices": [{"message": {"content": "Hi"}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

HTTPServer((args.host, int(args.port)), Handler).serve_forever()
"""


@pytest.fixture
def fake_llama(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``llama_cpp.server`` stand-in importable here and in child processes; a model file."""
    package = tmp_path / "site" / "llama_cpp" / "server"
    package.mkdir(parents=True)
    (package.parent / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(FAKE_SERVER)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "site"))
    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF")
    return model


def gone(pid: int, wait_s: float = 20) -> bool:
    """Whether process ``pid`` has exited (reaped or a zombie) within ``wait_s``."""
    end = time.monotonic() + wait_s
    while time.monotonic() < end:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


def test_the_server_starts_on_loopback_answers_and_stops(fake_llama: Path) -> None:
    server = local_llm.LocalServer(fake_llama).start(timeout_s=60)
    try:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert server.alias == "tiny" and server.healthy()
        assert server.process is not None
        pid = server.process.pid
    finally:
        server.stop()
    assert gone(pid) and not server.healthy()


def test_one_server_per_model_shared_and_stopped_by_stop_all(fake_llama: Path) -> None:
    first = local_llm.ensure_server(fake_llama)
    try:
        assert local_llm.ensure_server(fake_llama) is first
        assert first.process is not None
        pid = first.process.pid
    finally:
        local_llm.stop_all()
    assert gone(pid)


def test_the_server_dies_with_its_parent_even_when_killed(fake_llama: Path) -> None:
    """A parent killed with SIGKILL runs no atexit handler: the watchdog ends the server."""
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from agent import local_llm;"
            "s = local_llm.LocalServer(Path(sys.argv[1])).start(timeout_s=60);"
            "print(s.process.pid, flush=True); time.sleep(600)",
            str(fake_llama),
        ],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), os.environ["PYTHONPATH"]])},
    )
    assert parent.stdout is not None
    with parent.stdout:
        child = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    assert gone(child)


def test_a_server_that_cannot_start_is_a_plain_configuration_error(
    fake_llama: Path, tmp_path: Path
) -> None:
    (fake_llama.parent / "site" / "llama_cpp" / "server" / "__main__.py").write_text(
        "raise SystemExit('no such model format')"
    )
    with pytest.raises(ConfigurationError, match=r"did not start: .*no such model format"):
        local_llm.LocalServer(fake_llama).start(timeout_s=60)
    with pytest.raises(ConfigurationError, match="no GGUF file"):
        local_llm.LocalServer(tmp_path / "missing.gguf").start()


def test_a_server_that_dies_on_its_first_answer_is_caught_at_start(fake_llama: Path) -> None:
    """A llama.cpp built for another CPU loads the model, then dies on the first token."""
    main = fake_llama.parent / "site" / "llama_cpp" / "server" / "__main__.py"
    main.write_text(
        FAKE_SERVER.replace(
            "    def do_POST(self):",
            "    def do_POST(self):\n        import os, signal; os.kill(os.getpid(), signal.SIGILL)",
            1,
        )
    )
    with pytest.raises(ConfigurationError, match="instruction this CPU lacks"):
        local_llm.LocalServer(fake_llama).start(timeout_s=60)


def test_without_the_extra_the_default_model_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_llm.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigurationError, match="local-llm extra"):
        local_llm.default_model()


def test_settings_name_the_local_model_after_its_file(tmp_path: Path) -> None:
    local = Settings(llm="local", _env_file=None)  # type: ignore[call-arg]
    assert local.llm_configured and local.llm_model == SMOLLM2_NAME
    assert local.llm_structured_method == "json_object_schema"
    assert (local.llm_max_tokens, local.enrich_concurrency) == (384, 1)
    own = Settings(llm="local", local_llm_model=tmp_path / "qwen-7b.gguf", _env_file=None)  # type: ignore[call-arg]
    assert own.llm_model == "qwen-7b"
    # the bundled 135M model plans and ranks only when asked (measured: docs/llm.md); any
    # other model does both by default
    assert (local.llm_planner, local.llm_rerank) == (False, False)
    assert (own.llm_planner, own.llm_rerank) == (True, True)
    asked = Settings(llm="local", llm_planner=True, llm_rerank=True, _env_file=None)  # type: ignore[call-arg]
    assert (asked.llm_planner, asked.llm_rerank) == (True, True)
    off = Settings(llm="off", llm_api_key="sk-x", _env_file=None)  # type: ignore[call-arg]
    assert not off.llm_configured
    assert SMOLLM2_NAME + ".gguf" == local_llm.SMOLLM2_FILE
