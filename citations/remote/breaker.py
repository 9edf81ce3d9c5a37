"""A circuit breaker: after a few failed calls, stop asking a model server for a while.

Why: a suggestion is asked for on a keystroke. When the server is down, each call would otherwise spend its retries
and timeout before the engine falls back to the ranker; with the breaker open the fallback is immediate, and one
trial call after the cool-down finds out whether the server is back (the usual closed -> open -> half-open cycle).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["CircuitBreaker", "CLOSED", "OPEN", "HALF_OPEN"]

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"


class CircuitBreaker:
    """Thread-safe breaker; ``allow()`` before a call, then ``record_success()`` or ``record_failure()``."""

    def __init__(self, failures_to_open: int = 2, cooldown_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.failures_to_open = failures_to_open
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False
        self.last_error: str | None = None

    @property
    def state(self) -> str:
        with self._lock:
            return self._state()

    def _state(self) -> str:
        if self._opened_at is None:
            return CLOSED
        if self._clock() - self._opened_at >= self.cooldown_s:
            return HALF_OPEN
        return OPEN

    def retry_in_s(self) -> float:
        """Seconds until the next trial call is allowed (0 when closed or half-open)."""
        with self._lock:
            if self._opened_at is None:
                return 0.0
            return max(0.0, self.cooldown_s - (self._clock() - self._opened_at))

    def allow(self) -> bool:
        """Whether a call may go out now: always when closed; one trial at a time when half-open; never when open."""
        with self._lock:
            state = self._state()
            if state == CLOSED:
                return True
            if state == HALF_OPEN and not self._trial_running:
                self._trial_running = True
                return True
            return False

    def record_success(self) -> bool:
        """Close the circuit; returns True when it was open before (the server came back)."""
        with self._lock:
            was_open = self._opened_at is not None
            self._failures = 0
            self._opened_at = None
            self._trial_running = False
            self.last_error = None
            return was_open

    def record_failure(self, error: str) -> bool:
        """Count a failed call; returns True for the first failure since the last success (the one to log)."""
        with self._lock:
            self.last_error = error
            first = self._failures == 0
            self._failures += 1
            trial = self._trial_running
            self._trial_running = False
            if trial or self._failures >= self.failures_to_open:
                self._opened_at = self._clock()
            return first
