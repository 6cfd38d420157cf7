"""The recorder buffers while storage fails, drops (and counts) beyond its bound, and catches up."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from ampp.history.query import BadParameter, max_changes, parse_history_query
from ampp.history.recorder import HistoryRecorder
from ampp.model.timefmt import NS
from ampp.store.base import HistoryEvent
from prometheus_client import CollectorRegistry


class FlakyStorage:
    def __init__(self) -> None:
        self.fail = True
        self.rows: list[HistoryEvent] = []

    async def append_history(self, events: Sequence[HistoryEvent]) -> None:
        if self.fail:
            raise OSError("database down")
        self.rows.extend(events)

    async def delete_history_before(self, cutoff: int, limit: int) -> int:
        gone = [e for e in self.rows if e.at < cutoff][:limit]
        self.rows = [e for e in self.rows if e not in gone]
        return len(gone)


def test_buffers_drops_and_catches_up() -> None:
    async def run() -> None:
        storage = FlakyStorage()
        registry = CollectorRegistry()
        rec = HistoryRecorder(storage, registry, max_buffer=3, batch_size=2, cleanup_batch=1)  # type: ignore[arg-type]
        for i in range(5):
            rec.record(HistoryEvent(i, "alert.firing", f"{i:016x}"))
        assert not await rec.flush()
        assert not rec.healthy and registry.get_sample_value("ampp_history_events_dropped_total") == 2
        storage.fail = False
        assert await rec.flush()
        assert [e.at for e in storage.rows] == [2, 3, 4] and rec.healthy and rec.version == 2
        rec.retention_s = 1
        assert await rec.cleanup(now=4 + NS) == 2  # in batches of one
        assert [e.at for e in storage.rows] == [4]

    asyncio.run(run())


def test_flapping_window_and_bad_parameters() -> None:
    assert max_changes([0, NS, 2 * NS, 10 * NS], 2) == 3
    assert max_changes([], 60) == 0
    for params, name in (({"sort": ["x"]}, "sort"), ({"limit": ["5000"]}, "limit"), ({"to": ["?"]}, "to")):
        try:
            parse_history_query(params)
        except BadParameter as e:
            assert str(e).startswith(name + ":")
        else:
            raise AssertionError(name)
    a = parse_history_query({"severity": ["b,a"], "filter": ['x="1"']})
    b = parse_history_query({"filter": ['x="1"'], "severity": ["b,a"]})
    assert a.normalized == b.normalized and a.labels == {"severity": ["a", "b"]}
