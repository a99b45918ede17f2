"""A circuit breaker for a dependency a request can do without (the cache, the broker)."""

import time


class CircuitBreaker:
    """Remembers, in this process, that a dependency was just found unreachable, so that for
    `rest_seconds` callers skip it instead of each waiting for its timeout; afterwards the next
    caller tries it again. Callers log when they `trip` it: one line per rest, not per call."""

    def __init__(self, rest_seconds: float) -> None:
        self.rest_seconds = rest_seconds
        self.resting_until = 0.0

    def may_try(self) -> bool:
        return time.monotonic() >= self.resting_until

    def trip(self) -> None:
        self.resting_until = time.monotonic() + self.rest_seconds

    def reset(self) -> None:
        self.resting_until = 0.0
