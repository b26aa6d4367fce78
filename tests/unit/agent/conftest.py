"""Agent fixtures: see tests/agent_fixtures.py."""

from tests.agent_fixtures import agent_deps, recommender

__all__ = ["agent_deps", "recommender"]
