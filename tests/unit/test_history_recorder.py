"""The recorder buffers while storage fails, drops (and counts) beyond its bound, and catches up."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest
from ampp.history.query import BadParameter, max_changes, parse_history_query
from ampp.history.recorder import HistoryRecorder
from ampp.model.timefmt import NS
from ampp.store.records import HistoryEvent
from prometheus_client import CollectorRegistry

pytestmark = pytest.mark.unit


class FlakyStorage:
    def __init__(self) -> None:
        self.fail = True
        self.rows: list[HistoryEvent] = []
        self.pruned = 0

    async def append_history(self, events: Sequence[HistoryEvent]) -> None:
        if self.fail:
            raise OSError("database down")
        self.rows.extend(events)

    async def delete_history_before(self, cutoff: int, limit: int) -> int:
        gone = [e for e in self.rows if e.at < cutoff][:limit]
        self.rows = [e for e in self.rows if e not in gone]
        return len(gone)

    async def prune_label_values(self) -> int:
        self.pruned += 1
        return 0


def test_buffers_drops_and_catches_up() -> None:
    async def run() -> None:
        storage = FlakyStorage()
        registry = CollectorRegistry()
        rec = HistoryRecorder(storage, registry, max_buffer=3, batch_size=2, cleanup_batch=1)
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
        assert storage.pruned == 1, "label values are pruned once per cleanup that deleted events"
        assert await rec.cleanup(now=4 + NS) == 0 and storage.pruned == 1

    asyncio.run(run())


async def test_lag_grows_while_storage_fails_and_is_zero_once_caught_up() -> None:
    """ampp_history_lag_seconds: since the writer last caught up, while events wait."""
    now = [1000.0]
    storage = FlakyStorage()
    registry = CollectorRegistry()
    rec = HistoryRecorder(storage, registry, batch_size=2, clock=lambda: now[0])

    def lag() -> float | None:
        return registry.get_sample_value("ampp_history_lag_seconds")

    assert lag() == 0
    now[0] += 5
    assert await rec.flush() and lag() == 0, "nothing waits: no lag, however long since a write"
    for i in range(3):
        rec.record(HistoryEvent(i, "alert.firing", f"{i:016x}"))
    now[0] += 30
    assert not await rec.flush()
    assert lag() == 30, "the writer last caught up when the empty buffer was flushed"
    now[0] += 60
    assert lag() == 90
    storage.fail = False
    assert await rec.flush() and lag() == 0 and len(storage.rows) == 3


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


async def test_a_full_buffer_never_drops_unwritten_events_while_a_batch_is_written() -> None:
    """Events recorded while a batch is in flight push the oldest (the batch's, being written)
    out of a full buffer; what remains after the write is exactly the events not yet written."""
    from ampp.history.recorder import HistoryRecorder
    from ampp.store.records import HistoryEvent

    written: list[int] = []
    recorder: HistoryRecorder

    class SlowStore:
        async def append_history(self, events: list[HistoryEvent]) -> None:
            if not written:  # three more events arrive while the first batch is being written
                for i in range(3):
                    recorder.record(HistoryEvent(100 + i, "alert.firing"))
            written.extend(e.at for e in events)

    recorder = HistoryRecorder(SlowStore(), None, batch_size=4, max_buffer=4)  # type: ignore[arg-type]
    for i in range(4):
        recorder.record(HistoryEvent(i, "alert.firing"))
    assert await recorder.flush()
    assert written == [0, 1, 2, 3, 100, 101, 102], written  # nothing lost, nothing twice
    assert recorder.dropped._value.get() == 3


async def test_alert_events_are_built_as_when_recorded_and_a_retry_sends_the_same_objects() -> None:
    """Alert events wait in the buffer as (kind, alert, time) and become HistoryEvents when
    their batch is written; storage that failed must get the very same objects again (it
    recognises a batch whose outcome it could not learn by them)."""
    from ampp.model.alert import Alert
    from ampp.model.timefmt import now_ns

    storage = FlakyStorage()
    seen: list[list[int]] = []
    append = storage.append_history

    async def tracking(events: Sequence[HistoryEvent]) -> None:
        seen.append([id(e) for e in events])
        await append(events)

    storage.append_history = tracking  # type: ignore[method-assign]
    rec = HistoryRecorder(storage, CollectorRegistry())
    first = Alert({"alertname": "A"}, {"summary": "s"}, starts_at=10 * NS, ends_at=20 * NS, updated_at=5)
    rec.alerts_changed([first], ())
    later = now_ns() + 3600 * NS
    rec.alerts_changed(
        [Alert({"alertname": "A"}, {}, starts_at=30 * NS, ends_at=later, updated_at=6)], ()
    )  # anew
    assert not await rec.flush()
    storage.fail = False
    assert await rec.flush()
    assert seen[-1] == seen[0], "the retry built new event objects"
    assert all(set(ids) <= set(seen[0]) for ids in seen), "looking for poison events built new ones"
    got = [(e.kind, e.at, e.fingerprint, e.labels, e.annotations, e.details) for e in storage.rows]
    fp, labels = f"{first.fingerprint:016x}", {"alertname": "A"}
    first_span = {"startsAt": 10 * NS, "endsAt": 20 * NS}
    assert got == [
        ("alert.firing", 10 * NS, fp, labels, {"summary": "s"}, first_span),
        ("alert.resolved", 20 * NS, fp, labels, {"summary": "s"}, first_span),
        ("alert.firing", 30 * NS, fp, labels, {}, {"startsAt": 30 * NS, "endsAt": later}),
    ]


async def test_an_event_storage_refuses_is_dead_lettered_and_the_rest_written(tmp_path: Path) -> None:
    """A poison event (here an integer past 64 bits, which the SQLite writer process cannot
    encode: the shape of issue 21's endsAt 9999-12-31) is logged, counted and dropped; the
    events around it are written, and the history goes on."""
    from ampp.store.sqlite.storage import SQLiteStorage

    storage = SQLiteStorage(str(tmp_path))
    await storage.open()
    try:
        registry = CollectorRegistry()
        rec = HistoryRecorder(storage, registry)
        for i in range(10):
            details = {"n": 2**70} if i == 6 else {"n": i}
            rec.record(HistoryEvent(NS * (i + 1), "silence.created", silence_id=f"s{i}", details=details))
        assert await rec.flush() and rec.healthy
        assert registry.get_sample_value("ampp_history_events_dead_lettered_total") == 1
        assert registry.get_sample_value("ampp_history_events_written_total") == 9
        rec.record(HistoryEvent(NS * 20, "silence.created", silence_id="later"))
        assert await rec.flush()
        ids = [r[0] for r in sqlite3.connect(tmp_path / "history.db").execute(
            "SELECT silence_id FROM history_events ORDER BY at"
        )]  # fmt: skip
        assert ids == [f"s{i}" for i in range(10) if i != 6] + ["later"]
    finally:
        await storage.close()


async def test_storage_refusing_everything_dead_letters_nothing() -> None:
    storage = FlakyStorage()
    registry = CollectorRegistry()
    rec = HistoryRecorder(storage, registry, batch_size=64)
    for i in range(100):
        rec.record(HistoryEvent(i, "alert.firing", f"{i:016x}"))
    assert not await rec.flush()
    assert registry.get_sample_value("ampp_history_events_dead_lettered_total") == 0
    storage.fail = False
    assert await rec.flush()
    assert len(storage.rows) == 100
