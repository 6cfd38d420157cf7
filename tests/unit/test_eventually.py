"""eventually(): what passes, what it returns, and how it fails."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from tests.support.eventually import eventually, eventually_async

pytestmark = pytest.mark.unit


def test_returns_the_first_truthy_value() -> None:
    counter = itertools.count()
    assert eventually(lambda: [n] if (n := next(counter)) >= 3 else [], interval=0) == [3]


def test_a_check_made_of_asserts_passes_once_they_hold() -> None:
    counter = itertools.count()

    def check() -> bool:
        assert next(counter) >= 2, "not yet"
        return True

    eventually(check, interval=0)
    assert next(counter) == 3


def test_none_is_not_yet() -> None:
    found: dict[str, str] = {}
    with pytest.raises(AssertionError, match=r"still None after 0\.05s: the key"):
        eventually(lambda: found.get("key"), "the key", within=0.05, interval=0.01)


def test_times_out_with_the_last_assertion_or_the_last_value() -> None:
    def check() -> None:
        raise AssertionError("the answer never came")

    with pytest.raises(AssertionError, match="the answer never came"):
        eventually(check, within=0.05, interval=0.01)
    with pytest.raises(AssertionError, match=r"still \[\] after 0.05s: the queue to fill"):
        eventually(list, "the queue to fill", within=0.05, interval=0.01)


def test_other_errors_stop_at_once() -> None:
    calls = itertools.count()

    def check() -> bool:
        next(calls)
        raise RuntimeError("the server died")

    with pytest.raises(RuntimeError, match="the server died"):
        eventually(check, within=5)
    assert next(calls) == 1


async def test_async_lets_the_loop_run_and_awaits_coroutine_checks() -> None:
    done = asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, done.set)
    await eventually_async(done.is_set, "the timer to fire", within=2)

    async def answer() -> str:
        await asyncio.sleep(0)
        return "42"

    assert await eventually_async(answer) == "42"
    with pytest.raises(AssertionError, match="still False"):
        await eventually_async(lambda: False, within=0.05)
