"""Planners read one user message in its dialog context and return a :class:`~agent.plan.Plan`.

:class:`OfflinePlanner` is rule-based and needs no key; the LLM planner implements the same
:class:`Planner` protocol.
"""

from agent.planner.base import Planner, PlannerContext, ShownItem
from agent.planner.offline import OfflinePlanner

__all__ = ["OfflinePlanner", "Planner", "PlannerContext", "ShownItem"]
