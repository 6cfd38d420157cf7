"""A clock for the dispatcher's tests (ampp.dispatch.clock.Clock) whose time moves only when
the test says, so group_wait and group_interval are checked to the nanosecond, not by waiting."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from ampp.model.timefmt import NS

T0 = 1_700_000_000 * NS
"""Where every FakeClock starts: 2023-11-14T22:13:20Z."""

SETTLE_TURNS = 20
"""Event-loop turns given to the tasks a timer started before time moves on (a flush takes a
few: started, its pipeline run, its end starting the next one)."""


@dataclass(order=True)
class _Timer:
    at: int
    seq: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    def __init__(self, start: int = T0) -> None:
        self.time = start
        self._timers: list[_Timer] = []
        self._seq = itertools.count()

    def now(self) -> int:
        return self.time

    def call_later(self, delay: float, callback: Callable[[], None]) -> _Timer:
        timer = _Timer(self.time + round(delay * NS), next(self._seq), callback)
        heapq.heappush(self._timers, timer)
        return timer

    async def sleep(self, delay: float) -> None:
        """What a stage under test awaits to take ``delay`` seconds of this clock's time."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not done.done():  # cancelled with the task awaiting it
                done.set_result(None)

        self.call_later(delay, wake)
        await done

    async def advance(self, seconds: float) -> None:
        """Move time on by ``seconds``, firing each timer due on the way at its own instant and
        letting the tasks it starts run before the next one."""
        end = self.time + round(seconds * NS)
        await self._settle()
        while self._timers and self._timers[0].at <= end:
            timer = heapq.heappop(self._timers)
            if timer.cancelled:
                continue
            self.time = timer.at
            timer.callback()
            await self._settle()
        self.time = end

    @staticmethod
    async def _settle() -> None:
        for _ in range(SETTLE_TURNS):
            await asyncio.sleep(0)
