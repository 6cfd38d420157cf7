"""The alerts' group commit: callers are told "durable" only after a commit that holds their
alerts, callers of one moment share a commit, a failed commit loses nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from ampp.model.alert import Alert
from ampp.model.timefmt import NS, ZERO, now_ns
from ampp.store.sqlite.storage import SQLiteStorage
from ampp.store.writebehind import AlertWriteBehind, StorageUnavailable

pytestmark = pytest.mark.unit


class CountingStorage(SQLiteStorage):
    """The real SQLite storage, which remembers each commit it was given and can refuse some."""

    def __init__(self, directory: str) -> None:
        super().__init__(directory)
        self.commits: list[list[str]] = []
        self.refuse = 0

    async def write_alerts(self, upserts: Sequence[Alert], deletes: Sequence[int]) -> None:
        if self.refuse:
            self.refuse -= 1
            raise OSError("disk full")
        await super().write_alerts(upserts, deletes)
        self.commits.append(sorted(a.labels["alertname"] for a in upserts))


def alert(name: str, summary: str = "s") -> Alert:
    now = now_ns()
    return Alert({"alertname": name}, {"summary": summary}, now - NS, ZERO, "", now)


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[CountingStorage]:
    s = CountingStorage(str(tmp_path))
    await s.open()
    yield s
    await s.close()


async def stored(storage: SQLiteStorage) -> dict[str, str]:
    return {a.labels["alertname"]: a.annotations["summary"] for a in await storage.load_alerts()}


async def test_requests_read_a_loop_turn_apart_share_one_commit(storage: CountingStorage) -> None:
    """Like an HTTP server's requests: half put at once, half one loop turn later (the next
    connection's body parsed). All are answered after the same single commit."""
    writer = AlertWriteBehind(storage)
    writer.start()

    async def post(name: str, turns: int) -> None:
        for _ in range(turns):
            await asyncio.sleep(0)
        writer.alerts_changed([alert(name)], [])
        await writer.durable()
        assert name in await stored(storage), f"{name} was answered before it was committed"

    await asyncio.gather(*(post(f"A{i}", i % 2) for i in range(8)))
    await writer.stop()
    assert storage.commits == [[f"A{i}" for i in range(8)]], "the 8 alerts were not committed together"


async def test_a_failed_commit_is_retried_and_its_callers_told_at_once(storage: CountingStorage) -> None:
    """Whoever waits for a commit that failed hears so (the API's 503: try again), while what
    it queued stays queued and is written by the retry."""
    writer = AlertWriteBehind(storage)
    writer.start()
    storage.refuse = 1
    writer.alerts_changed([alert("A", "old")], [])
    durable = writer.durable()
    with pytest.raises(StorageUnavailable, match="disk full"):
        await asyncio.wait_for(durable, 5)
    assert not writer.healthy and writer.pending() == 1
    writer.alerts_changed([alert("A", "new"), alert("B")], [])  # while the retry waits: the newest wins
    await asyncio.wait_for(writer.durable(), 5)
    await writer.stop()
    assert writer.healthy
    assert await stored(storage) == {"A": "new", "B": "s"}
