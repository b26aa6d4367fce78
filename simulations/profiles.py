"""What the recommender knows about a simulated user: only the profile the scenario gives it.

The app database holds every MovieLens interaction, the targets included, so a simulated user
must not be looked up there. ``SimulatedProfiles`` stands in for ``agent.persistence.UserData``:
each session registers the history it may reveal, and feedback stays in memory.
"""

from __future__ import annotations

import threading

from agent.persistence import FEEDBACK_KINDS, FeedbackKind, UserData, UserProfile
from simulations.types import Target

SIM_USER_BASE = 2_000_000_000  # simulated users' ids: clear of catalog users and accounts


class SimulatedProfiles(UserData):
    """In-memory profiles and feedback for simulated users (thread-safe)."""

    def __init__(self) -> None:  # no store: nothing is read from or written to the database
        self._lock = threading.Lock()
        self._targets: dict[int, Target] = {}
        self._feedback: dict[int, dict[str, list[int]]] = {}
        self._next = SIM_USER_BASE

    def register(self, target: Target) -> int | None:
        """A user id for this session's profile; None (anonymous) when it has no history."""
        if not target.history:
            return None
        with self._lock:
            self._next += 1
            self._targets[self._next] = target
            return self._next

    def profile(self, user_id: int | None, max_history: int = 200) -> UserProfile:
        if user_id is None or user_id not in self._targets:
            return UserProfile(user_id)
        target = self._targets[user_id]
        feedback = self.feedback(user_id)
        return UserProfile(
            user_id,
            tuple(target.history[:max_history]),
            tuple(target.ratings[:max_history]),
            tuple(feedback["liked"]),
            tuple(feedback["rejected"]),
            tuple(feedback["seen"]),
            frozenset(target.history),
        )

    def feedback(self, user_id: int) -> dict[str, list[int]]:
        with self._lock:
            stored = self._feedback.get(user_id, {})
            return {kind: list(stored.get(kind, [])) for kind in FEEDBACK_KINDS}

    def record_feedback(self, user_id: int, item_id: int, kind: FeedbackKind) -> None:
        with self._lock:
            stored = self._feedback.setdefault(user_id, {})
            for other in FEEDBACK_KINDS:
                if item_id in stored.get(other, []):
                    stored[other].remove(item_id)
            stored.setdefault(kind, []).append(item_id)

    def user_id_for(self, identifier: str) -> int:
        raise NotImplementedError("simulated users have no accounts")
