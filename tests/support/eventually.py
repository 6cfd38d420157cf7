"""The tests' one way to wait for what the system under test does in its own time.

``eventually(check)`` calls ``check`` until it passes, and returns what it returned: it passes
when it raises no AssertionError and returns a truthy value (a predicate's True, or the thing
waited for: ``[dead] = eventually(lambda: dead_letters(url))``; a check made of asserts ends
with ``return True``, so that None, as from a lookup that found nothing yet, never passes).
After ``within`` seconds the test fails with the last AssertionError, or with ``what`` and the
last value. ``eventually_async`` is the same inside a test on the event loop: it sleeps with
asyncio.sleep, so the tasks under test run meanwhile, and ``check`` may be a coroutine function.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar, overload

T = TypeVar("T")

TIMEOUT = 15.0


class _Tries:
    """One wait's deadline, and its verdict on each try."""

    def __init__(self, what: str, within: float) -> None:
        self.what, self.within = what, within
        self.deadline = time.monotonic() + within
        self.last = False

    def begin(self) -> None:
        self.last = time.monotonic() >= self.deadline

    def passes(self, value: object) -> bool:
        if value:
            return True
        if self.last:
            raise AssertionError(f"still {value!r} after {self.within:g}s: {self.what}")
        return False

    def failed(self, error: AssertionError) -> None:
        if self.last:
            raise error


def eventually(
    check: Callable[[], T], what: str = "the condition", *, within: float = TIMEOUT, interval: float = 0.05
) -> T:
    tries = _Tries(what, within)
    while True:
        tries.begin()
        try:
            if tries.passes(value := check()):
                return value
        except AssertionError as e:
            tries.failed(e)
        time.sleep(interval)


@overload
async def eventually_async(
    check: Callable[[], Awaitable[T]], what: str = ..., *, within: float = ..., interval: float = ...
) -> T: ...


@overload
async def eventually_async(
    check: Callable[[], T], what: str = ..., *, within: float = ..., interval: float = ...
) -> T: ...


async def eventually_async(
    check: Callable[[], object],
    what: str = "the condition",
    *,
    within: float = TIMEOUT,
    interval: float = 0.02,
) -> object:
    tries = _Tries(what, within)
    while True:
        tries.begin()
        try:
            value = check()
            if tries.passes(value := await value if inspect.isawaitable(value) else value):
                return value
        except AssertionError as e:
            tries.failed(e)
        await asyncio.sleep(interval)
