"""The circuit breaker's cycle: closed -> open after N failures -> one half-open trial -> closed or open again."""

from __future__ import annotations

from startref.citations.remote.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_consecutive_failures_and_recovers_through_one_trial() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures_to_open=2, cooldown_s=30, clock=clock)
    assert breaker.allow() and breaker.state == CLOSED
    assert breaker.record_failure("refused") is True  # the first failure of an outage: the caller logs it
    assert breaker.state == CLOSED
    assert breaker.record_failure("refused") is False  # the second opens the circuit, and is not logged again
    assert breaker.state == OPEN and not breaker.allow()
    assert breaker.retry_in_s() == 30
    clock.now += 30
    assert breaker.state == HALF_OPEN
    assert breaker.allow() is True and breaker.allow() is False  # exactly one trial at a time
    assert breaker.record_success() is True  # it was open: the caller logs "back"
    assert breaker.state == CLOSED and breaker.allow()


def test_a_failed_trial_reopens_for_a_full_cooldown() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures_to_open=1, cooldown_s=10, clock=clock)
    breaker.record_failure("down")
    clock.now += 10
    assert breaker.allow()
    assert breaker.record_failure("still down") is False  # same outage: no second log line
    assert breaker.state == OPEN and breaker.retry_in_s() == 10


def test_a_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker(failures_to_open=2, cooldown_s=10, clock=Clock())
    breaker.record_failure("x")
    breaker.record_success()
    assert breaker.record_failure("y") is True and breaker.state == CLOSED  # a new outage
