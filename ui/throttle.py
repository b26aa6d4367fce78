"""The password sign-in throttle: after a few failures, further tries wait, unchecked.

At most ``max_failures`` failed sign-ins per name (whatever the address) and per client address
(whatever the name) within a sliding ``window_s``; a try beyond that is refused before the
password is looked at, and refused tries do not count. A try counts as a failure from the moment
it starts (so a burst of concurrent tries cannot all slip past the check) until it succeeds; a
success forgets the name's failures. State lives in this process's memory: each replica
throttles on its own, and a restart forgets.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

MAX_KEYS = 100_000  # names and addresses remembered at once; beyond it the oldest go


@dataclass(frozen=True)
class Attempt:
    """A try let through: its keys and when it started (to take it back if it succeeds)."""

    keys: tuple[str, str]
    at: float


class SignInThrottle:
    """Sliding-window failure counts per name and per address (see the module docstring)."""

    def __init__(
        self,
        max_failures: int,
        window_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.max_failures, self.window_s = max_failures, window_s
        self.clock, self.max_keys = clock, max_keys
        self._failures: dict[str, deque[float]] = {}

    @staticmethod
    def keys(name: str, address: str) -> tuple[str, str]:
        # "Alice " and "alice" are one name to the throttle, as close as a guesser can get
        return ("name:" + name.strip().casefold(), "addr:" + address)

    def begin(self, name: str, address: str) -> Attempt | float:
        """An :class:`Attempt` (counted as a failure until :meth:`succeeded`), or the seconds
        to wait when this name or this address has failed too often lately."""
        now = self.clock()
        keys = self.keys(name, address)
        queues = [self._recent(key, now) for key in keys]
        full = [q for q in queues if len(q) >= self.max_failures]
        if full:
            return max(q[len(q) - self.max_failures] + self.window_s - now for q in full)
        for key, queue in zip(keys, queues, strict=True):
            queue.append(now)
            self._failures[key] = queue
        self._forget_oldest()
        return Attempt(keys, now)

    def succeeded(self, attempt: Attempt) -> None:
        """The try was right: it was no failure, and the name's earlier failures are forgotten."""
        name_key, address_key = attempt.keys
        self._failures.pop(name_key, None)
        queue = self._failures.get(address_key)
        if queue is not None and attempt.at in queue:
            queue.remove(attempt.at)

    def _recent(self, key: str, now: float) -> deque[float]:
        queue = self._failures.pop(key, deque())
        while queue and queue[0] <= now - self.window_s:
            queue.popleft()
        if queue:
            self._failures[key] = queue  # re-inserted: the most recently seen key goes last
        return queue

    def _forget_oldest(self) -> None:
        """Bound the memory a flood of made-up names can take: the least recent keys go."""
        while len(self._failures) > self.max_keys:
            del self._failures[next(iter(self._failures))]
