"""The time an aggregation group reads and schedules its flushes on, injected like the other
stages' ``now`` so that timing can be tested step by step instead of by waiting."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from ..model.timefmt import now_ns


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> int:
        """Wall-clock Unix nanoseconds: alert times, and the instant a flush runs at."""
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` on the event loop after ``delay`` seconds, unless cancelled."""
        ...


class LoopClock:
    """The engine's clock: the system's time, timers on the running event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def now(self) -> int:
        return now_ns()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return self._loop.call_later(delay, callback)
