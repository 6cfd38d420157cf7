"""What keeps a slow, failing or expensive provider from costing more than the enrichment:
a circuit breaker, the provider's Retry-After, and a token budget per hour."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

CLOSED, OPEN, HALF_OPEN = 0, 1, 2


class Guard:
    def __init__(
        self,
        failures: int,
        cooldown_s: float,
        tokens_per_hour: int | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures_to_open = failures
        self.cooldown_s = cooldown_s
        self.tokens_per_hour = tokens_per_hour
        self.clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self._not_before = 0.0
        self._spent: deque[tuple[float, int]] = deque()

    @property
    def state(self) -> int:
        if self._opened_at is None:
            return CLOSED
        return HALF_OPEN if self.clock() - self._opened_at >= self.cooldown_s else OPEN

    def tokens_spent(self) -> int:
        horizon = self.clock() - 3600
        while self._spent and self._spent[0][0] < horizon:
            self._spent.popleft()
        return sum(n for _, n in self._spent)

    def refusal(self) -> str | None:
        """Why no call should be made now (None: go ahead). A half-open breaker lets one probe
        through at a time."""
        now = self.clock()
        if now < self._not_before:
            return "rate_limited"
        state = self.state
        if state == OPEN or (state == HALF_OPEN and self._probing):
            return "circuit_open"
        if self.tokens_per_hour is not None and self.tokens_spent() >= self.tokens_per_hour:
            return "budget_exhausted"
        if state == HALF_OPEN:
            self._probing = True
        return None

    def succeeded(self, tokens: int) -> None:
        self._failures = 0
        self._opened_at = None
        self._probing = False
        if tokens:
            self._spent.append((self.clock(), tokens))

    def spent(self, tokens: int) -> None:
        """Tokens a call used although its answer was not usable (they are billed all the same)."""
        if tokens:
            self._spent.append((self.clock(), tokens))

    def failed(self, retry_after: float | None = None) -> None:
        now = self.clock()
        if retry_after:
            self._not_before = max(self._not_before, now + min(retry_after, 3600))
        self._failures += 1
        if self._probing or self._failures >= self.failures_to_open:
            self._opened_at = now
        self._probing = False
