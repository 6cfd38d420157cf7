"""Any time the v2 API accepts is stored, on SQLite and on PostgreSQL, and none stops the history.

Issue 21, item 4: ``endsAt: 9999-12-31T23:59:59Z`` (2600-01-01 too) made the history writer fail
for ever (``Integer exceeds 64-bit range``), every event after it held and lost at restart.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest

from tests.support.eventually import eventually
from tests.support.servers import free_port, run_server

pytestmark = pytest.mark.integration

QUIET = "route: {receiver: blackhole, group_wait: 1h}\nreceivers: [{name: blackhole}]\n"

FAR = [
    ("FarFuture", "2026-01-01T00:00:00.000Z", "9999-12-31T23:59:59.000Z"),
    ("Year2600", "2026-01-01T00:00:00.000Z", "2600-01-01T00:00:00.000Z"),
    ("FarPast", "0001-01-01T00:00:01.000Z", "9999-12-31T23:59:59.000Z"),
    ("ResolvedLongAgo", "1500-01-01T00:00:00.000Z", "1600-01-01T00:00:00.000Z"),
]


@pytest.fixture(params=["sqlite", "postgres"])
def storage_args(request: pytest.FixtureRequest) -> list[str]:
    if request.param == "sqlite":
        return []
    return [f"--storage.url={request.getfixturevalue('pg_url')}"]


def history_names(url: str) -> set[str]:
    rows = httpx.get(f"{url}/history", params={"limit": "100"}, timeout=10).json()
    return {r["labels"]["alertname"] for r in rows["items"]}


def held(url: str) -> dict[str, tuple[str, str]]:
    return {
        a["labels"]["alertname"]: (a["startsAt"], a["endsAt"])
        for a in httpx.get(f"{url}/api/v2/alerts", timeout=10).json()
    }


def test_far_future_and_far_past_times_are_stored_and_the_history_goes_on(
    tmp_path: Path, storage_args: list[str]
) -> None:
    storage, port = tmp_path / "data", free_port()
    with run_server(
        "ampp", QUIET, tmp_path / "a", storage_path=storage, port=port, extra_args=storage_args
    ) as s:
        body = [{"labels": {"alertname": n}, "startsAt": st, "endsAt": en} for n, st, en in FAR]
        r = httpx.post(f"{s.url}/api/v2/alerts", json=body)
        assert r.status_code == 200, r.text
        r = httpx.post(f"{s.url}/api/v2/alerts", json=[{"labels": {"alertname": "After"}}])
        assert r.status_code == 200, r.text
        eventually(lambda: "After" in history_names(s.url), "the history to take the later alert")
        names = history_names(s.url)
        assert {"After", "FarFuture", "Year2600", "FarPast"} <= names, names
        assert "Integer exceeds 64-bit range" not in s.log()
        before = held(s.url)
        os.kill(s.process.pid, signal.SIGKILL)
        s.process.wait()
    for name, starts, ends in FAR[:3]:
        assert before[name] == (starts, ends), (name, before[name])
    with run_server(
        "ampp", QUIET, tmp_path / "b", storage_path=storage, port=port, extra_args=storage_args
    ) as s:
        after = held(s.url)
        assert {n: after[n] for n, _, _ in FAR[:3]} == {n: before[n] for n, _, _ in FAR[:3]}
        assert "After" in after
        assert "After" in history_names(s.url)
