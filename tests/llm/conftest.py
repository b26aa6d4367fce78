"""Every LLM role against a real model server: llama.cpp on SmolLM2-135M (the local-llm extra).

The server is started once per session (``agent.local_llm``, as ``RECBOT_LLM=local`` does) and
every test here talks to it. What the tests assert is what must hold with ANY model, however
small: the structured answers parse, every shown item is in the catalog and among the
candidates, nothing the person excluded comes back, no LLM answer arrives after the turn's
deadline, tokens are counted from the server's usage, and every fallback is recorded. How good
the answers are is measured, not asserted (docs/llm.md).

Skipped without the extra, except under RECBOT_REQUIRE_INTEGRATION=1 (CI), where that fails.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent import local_llm
from agent.settings import Settings
from tests.served import E2EHome

HERE = Path(__file__).parent
DEADLINE_S = 8.0  # the shipped default


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.llm)


@pytest.fixture(scope="session")
def local_server() -> Iterator[local_llm.LocalServer]:
    """The llama.cpp server on the default model, for the whole session."""
    try:
        model = local_llm.default_model()
        ready = local_llm.server_installed()
    except Exception as error:  # the extra is not installed
        model, ready = None, False
        reason = str(error)
    else:
        reason = "install the local-llm extra (pip install -e '.[local-llm]')"
    if not ready or model is None:
        if os.environ.get("RECBOT_REQUIRE_INTEGRATION") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    server = local_llm.ensure_server(model)
    try:
        yield server
    finally:
        local_llm.stop_all()


@pytest.fixture(scope="session")
def llm_settings(local_server: local_llm.LocalServer) -> Settings:
    """Settings naming the running server, as any OpenAI-compatible endpoint."""
    return Settings(
        llm_base_url=local_server.base_url,
        llm_model=local_server.alias,
        llm_structured_method="json_object_schema",  # what RECBOT_LLM=local picks
        llm_planner_prompt="compact",
        # outside a turn (these tests call roles directly, `recbot enrich`) the per-call timeout
        # applies: generous, since a shared 2-core machine can take 20 s for a long prompt
        llm_timeout_s=60,
        llm_max_retries=0,
        llm_max_tokens=384,  # what RECBOT_LLM=local sets
        turn_deadline_s=DEADLINE_S,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture(scope="session")
def llm_home(e2e_home: E2EHome, tmp_path_factory: pytest.TempPathFactory) -> E2EHome:
    """A private copy of the built e2e home: `recbot enrich` writes to its database."""
    home = tmp_path_factory.mktemp("llm") / "home"
    shutil.copytree(e2e_home.home, home, ignore=shutil.ignore_patterns("conversations.db*"))
    return E2EHome(home, e2e_home.data_dir, real=e2e_home.real)
