"""What every planner sees besides the message, and the interface it implements (DESIGN §2).

The context is plain data the agent builds from its dialog state, so planners stay pure
functions of (message, context) and tests can build contexts by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from agent.plan import Plan


@dataclass(frozen=True)
class ShownItem:
    """One entry of the last recommendation list, as the person saw it (1-based position)."""

    position: int
    item_id: int
    title: str


@dataclass(frozen=True)
class PlannerContext:
    """The dialog state a planner needs to read one message.

    ``shown`` is the last recommendation list; ``has_preferences`` says the conversation already
    carries some signal (so "what should I watch?" can be answered without a question);
    ``focus_position`` is the shown item the conversation last talked about (a question or
    feedback on it), which "it" and "that one" refer to; without it they mean the top item.
    """

    shown: tuple[ShownItem, ...] = ()
    has_preferences: bool = False
    clarifications: int = 0
    last_action: str | None = None
    focus_position: int | None = None


class Planner(Protocol):
    """Reads one user message in its context and says what to do (a :class:`Plan`)."""

    def plan(self, message: str, context: PlannerContext) -> Plan:
        """The plan for ``message``; never raises on odd input (empty, huge, nonsense)."""
        ...
