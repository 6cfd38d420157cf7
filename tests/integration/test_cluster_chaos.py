"""The replicas' chaos test (tests/support/chaos.py has the scenario and its oracle): three
`ampp serve` on one PostgreSQL, flapping alerts posted to all of them and then spread across
them, one replica killed with -9 and started again every 10 s, a local receiver counting.
Each run takes about a minute.

Duplicates are allowed only in the one window a notifier cannot close without an idempotent
receiver (a kill between the receiver's answer and the commit that records it: chaos.py), and
at most one per notification in flight at a kill."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.chaos import run_chaos

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("mode", ["all", "spread"])
def test_kill_9_every_10s_loses_and_duplicates_nothing(pg_url: str, tmp_path: Path, mode: str) -> None:
    result = run_chaos("ampp", mode, tmp_path / mode, storage_url=pg_url)
    assert result.kills >= 4
    assert result.expected >= 100  # the scenario told something
    outside = result.duplicates - result.in_kill_window
    assert (outside, result.lost, result.unexpected) == (0, 0, 0), result.summary()
    assert result.in_kill_window <= 10 * result.kills, result.summary()  # the workers in flight at a kill
    print(result.summary())
