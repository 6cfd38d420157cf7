"""history.db's writer process: it survives its own crash without losing or doubling a batch,
reports a failed request without dying, and ends with the storage."""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from ampp import logs
from ampp.model.timefmt import NS
from ampp.store.records import HistoryEvent
from ampp.store.sqlite.history_writer import HistoryWriterError, HistoryWriterLost
from ampp.store.sqlite.storage import SQLiteStorage

from tests.support.servers import process_running

pytestmark = pytest.mark.integration

T0 = 1_700_000_000 * NS


def events(prefix: str, n: int) -> list[HistoryEvent]:
    return [
        HistoryEvent(
            T0 + i * NS, "alert.firing", f"{i:016x}", {"alertname": f"{prefix}{i}"}, {},
            details={"startsAt": T0 + i * NS, "endsAt": 0},
        )
        for i in range(n)
    ]  # fmt: skip


def stored(path: Path) -> list[str]:
    with sqlite3.connect(path / "history.db") as c:
        return [r[0] for r in c.execute("SELECT labels->>'alertname' FROM history_events ORDER BY id")]


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SQLiteStorage]:
    s = SQLiteStorage(str(tmp_path))
    await s.open()
    yield s
    await s.close()


async def test_a_killed_writer_is_restarted_and_the_retried_batch_is_written_once(
    storage: SQLiteStorage, tmp_path: Path
) -> None:
    await storage.append_history(events("a", 3))
    first = storage._writer.pid
    assert first is not None and process_running(first)
    os.kill(first, signal.SIGKILL)
    batch = events("b", 4)
    for _ in range(3):  # what HistoryRecorder does: keep the batch and try again
        try:
            await storage.append_history(batch)
            break
        except HistoryWriterLost:
            pass
    assert storage._writer.pid not in (None, first)
    assert stored(tmp_path) == ["a0", "a1", "a2", "b0", "b1", "b2", "b3"]


async def test_a_batch_in_doubt_is_not_written_again_when_it_was_committed(
    storage: SQLiteStorage, tmp_path: Path
) -> None:
    """The writer can die after its commit and before its reply. That moment cannot be hit
    from outside, so the batch is committed through the real process and the storage is then
    told, as HistoryWriterLost would leave it, that the answer was lost."""
    doubtful = events("a", 3)
    await storage._writer.call("append", "lost-reply", [(e.at, e.kind, e.fingerprint, e.labels, {},
        None, None, None, None, None, None, None, None, None, e.details) for e in doubtful])  # fmt: skip
    storage._in_doubt = ("lost-reply", doubtful)
    await storage.append_history([*doubtful, *events("b", 2)])  # the recorder's retry, grown
    assert stored(tmp_path) == ["a0", "a1", "a2", "b0", "b1"]
    assert storage._in_doubt is None


async def test_a_batch_in_doubt_is_written_when_it_was_not_committed(
    storage: SQLiteStorage, tmp_path: Path
) -> None:
    doubtful = events("a", 2)
    storage._in_doubt = ("never-arrived", doubtful)
    await storage.append_history(doubtful)
    assert stored(tmp_path) == ["a0", "a1"]


async def test_a_failed_request_is_rolled_back_and_the_writer_goes_on(
    storage: SQLiteStorage, tmp_path: Path
) -> None:
    await storage._writer.call("committed", "")  # started (open() does not wait for it)
    pid = storage._writer.pid
    with pytest.raises(HistoryWriterError, match="append failed") as e:
        await storage._writer.call("append", "bad", [(T0, "alert.firing"), (T0, None)])  # kind NOT NULL
    assert not isinstance(e.value, HistoryWriterLost)
    await storage.append_history(events("a", 2))
    assert stored(tmp_path) == ["a0", "a1"]
    assert storage._writer.pid == pid


@pytest.fixture
def json_logs() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    logs.setup("info", "json")
    yield
    logs.setup("info", "logfmt")
    root.handlers[:], root.level = handlers, level


async def test_the_writer_logs_in_the_engine_format(
    json_logs: None, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Its failures reach the engine's stderr as the engine's own lines, here JSON."""
    s = SQLiteStorage(str(tmp_path))
    await s.open()
    try:
        with pytest.raises(HistoryWriterError):
            await s._writer.call("append", "bad", [(T0, None)])
    finally:
        await s.close()
    lines = [line for line in capfd.readouterr().err.splitlines() if "history_worker" in line]
    assert lines, "the worker logged nothing about the failed request"
    assert lines[0].startswith("{"), f"not in the engine's JSON format: {lines[0]}"
    first = json.loads(lines[0])
    assert first["level"] == "error" and first["caller"] == "ampp.history_worker", first
    assert "append failed" in first["msg"], first


async def test_the_writer_ends_with_the_storage(tmp_path: Path) -> None:
    s = SQLiteStorage(str(tmp_path))
    await s.open()
    await s.append_history(events("a", 1))
    pid = s._writer.pid
    assert pid is not None and process_running(pid)
    await s.close()
    assert not process_running(pid)
    assert stored(tmp_path) == ["a0"]


async def test_a_batch_failing_in_its_last_chunk_leaves_nothing_behind(
    storage: SQLiteStorage, tmp_path: Path
) -> None:
    """A batch larger than one chunk is still one transaction, and the label values its
    first chunks inserted are not remembered as stored once it rolls back."""
    from ampp.store.sqlite.history_worker import CHUNK

    good = events("a", CHUNK + 5)
    rows: list[tuple[object, ...]] = [
        (e.at, e.kind, e.fingerprint, e.labels, {}, None, None, None, None, None, None, None, None, None,
         e.details) for e in good]  # fmt: skip
    with pytest.raises(HistoryWriterError):
        await storage._writer.call("append", "fails-late", [*rows, (T0, None)])
    assert stored(tmp_path) == []
    await storage.append_history(good)
    assert len(stored(tmp_path)) == CHUNK + 5
    with sqlite3.connect(tmp_path / "history.db") as c:
        names = {r[0] for r in c.execute("SELECT value FROM alert_label_values WHERE name = 'alertname'")}
    assert names == {f"a{i}" for i in range(CHUNK + 5)}


async def test_a_storage_closed_at_once_ends_the_writer_it_was_starting(tmp_path: Path) -> None:
    """open() starts the writer in the background; close() right after must not leave it."""
    s = SQLiteStorage(str(tmp_path))
    await s.open()
    await s.close()
    assert s._writer.pid is None
    assert not [p for p in os.listdir("/proc") if p.isdigit() and _is_writer_of(int(p), tmp_path)]


def _is_writer_of(pid: int, tmp_path: Path) -> bool:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"history_worker" in cmd and str(tmp_path).encode() in cmd and process_running(pid)
