"""Tool tests run over the small agent of tests/agent_fixtures.py."""

from tests.agent_fixtures import agent_deps

__all__ = ["agent_deps"]
