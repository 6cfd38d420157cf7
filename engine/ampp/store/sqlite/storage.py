"""SQLite (WAL) storage under --storage.path: the embedded default, nothing to install.

Two files: ``ampp.db`` (alerts, silences, notification log, delivery queue) and ``history.db``
(the append-only history), each with one connection on its own thread that serializes its
statements; the event loop only awaits. WAL with synchronous=NORMAL makes each commit survive a
kill -9 of the process. Their schemas are sqlite.schema's; the delivery queue is written in
sqlite.delivery, the alerts through sqlite.alert_journal, the history by a process of its own
(sqlite.history_writer) and read here through sqlite.history.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import threading
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

import orjson

from ...auth.apikeys import ApiKey
from ...auth.audit import AuditEvent, AuditQuery
from ...model.alert import Alert
from ...model.silence import Silence
from ...model.timefmt import now_ns
from ..codec import alert_from_row, alert_row, silence_from_row, silence_row
from ..delivery_common import (
    Claim,
    ClaimAtEnqueue,
    Delivery,
    DeliveryPolicy,
    EnqueueResult,
    NewDelivery,
    RedriveResult,
)
from ..history_query import HistoryPage, HistoryQuery, Report, Timeline
from ..records import HistoryEvent, NflogEntry
from . import access, alert_journal, delivery
from .batch import transaction
from .history import read as history_read
from .history import report as history_report
from .history_writer import HistoryWriter, HistoryWriterLost
from .schema import HISTORY_MIGRATIONS, STATE_MIGRATIONS, migrate

T = TypeVar("T")
log = logging.getLogger(__name__)

FOLD_QUIET_S = 0.2
"""The journal is folded into ``alerts`` once no alert was written for this long..."""
FOLD_BACKLOG = 100_000
"""...or, under sustained load, as soon as it holds this many changes."""
FOLD_CHUNK = 4096
"""Changes folded per transaction: an alert commit waits behind one chunk at most."""


HISTORY_NICE = 10
"""The history writer process's niceness. Its SQLite work (the events and the summary: most of
the cost of a new alert) is background work: when the cores are busy, the event loop and the
alert commits a POST waits for run first, and the history catches up once load drops (its
recorder buffers meanwhile)."""


class _Worker:
    """One thread that runs calls one at a time, those a request waits for first.

    Under sustained load the state database's thread is busy with the delivery queue
    (megabyte-sized notification payloads) and the journal fold; in FIFO order an alert commit,
    which a POST is answered after, queued behind all of them (hundreds of ms in issue 21's
    soak). Urgent calls keep their order among themselves, as the others do."""

    def __init__(self, name: str) -> None:
        self._queues: tuple[deque[_Call], deque[_Call]] = (deque(), deque())
        self._ready = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[], T], urgent: bool) -> Future[T]:
        fut: Future[T] = Future()
        with self._ready:
            if self._closed:
                raise RuntimeError("the database is closed")
            self._queues[0 if urgent else 1].append((fut, fn))
            self._ready.notify()
        return fut

    def _loop(self) -> None:
        urgent, normal = self._queues
        while True:
            with self._ready:
                while not (urgent or normal or self._closed):
                    self._ready.wait()
                if not (urgent or normal):
                    return  # closed, and everything submitted has run
                fut, fn = (urgent or normal).popleft()
            if not fut.set_running_or_notify_cancel():
                continue  # its caller was cancelled before it started
            try:
                result = fn()
            except BaseException as e:
                fut.set_exception(e)
            else:
                fut.set_result(result)

    def shutdown(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify()
        self._thread.join()


_Call = tuple[Future[Any], Callable[[], Any]]


class _Database:
    """One SQLite file with one connection on one dedicated thread, which serializes its
    statements; the event loop only awaits."""

    def __init__(self, path: str, migrations: list[str], name: str) -> None:
        self.path = path
        self.migrations = migrations
        self._worker = _Worker(name)
        self._conn: sqlite3.Connection | None = None

    async def run(self, fn: Callable[[sqlite3.Connection], T], urgent: bool = False) -> T:
        """``fn`` on the connection's thread; ``urgent``: before every call not urgent that
        waits (what a request's answer waits for: alert commits, silences)."""

        def call() -> T:
            assert self._conn is not None, f"{self.path} is not open"
            return fn(self._conn)

        return await asyncio.wrap_future(self._worker.submit(call, urgent))

    async def open(self) -> None:
        self._conn = await asyncio.wrap_future(self._worker.submit(self.connect, True))

    def connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=5000")
        migrate(conn, self.migrations)
        return conn

    async def close(self) -> None:
        if self._conn is not None:
            await self.run(lambda c: c.close())
            self._conn = None
        self._worker.shutdown()


class SQLiteStorage:
    """The engine's state in ``ampp.db``, its history in ``history.db``, both under one folder."""

    def __init__(self, directory: str) -> None:
        self.path = os.path.join(directory, "ampp.db")
        self.history_path = os.path.join(directory, "history.db")
        self._directory = directory
        self._state = _Database(self.path, STATE_MIGRATIONS, "sqlite")
        self._history = _Database(self.history_path, HISTORY_MIGRATIONS, "sqlite-history")
        """history.db's reader (queries); its writer is a process, ``_writer``."""
        self._writer = HistoryWriter(self.history_path, HISTORY_NICE)
        self._run = self._state.run
        self._hrun = self._history.run
        self._batch_prefix = f"{os.getpid()}-{uuid.uuid4().hex}:"
        self._batches = 0
        self._in_doubt: tuple[str, list[HistoryEvent]] | None = None
        """A history batch whose writer process ended before it answered, and its events."""
        self._journal_changes = 0
        """Alert changes appended to the journal and not folded yet (as the loop knows it)."""
        self._last_write = 0.0
        self._folder: asyncio.Task[None] | None = None
        self._backlog = asyncio.Event()
        """Set when the journal reaches FOLD_BACKLOG: the folder stops waiting for quiet."""

    async def open(self) -> None:
        os.makedirs(self._directory, exist_ok=True)
        await self._state.open()
        await self._history.open()  # applies history.db's migrations before the writer starts
        await self._hrun(history_read.configure_reader)
        self._writer.start()  # in the background; it summarizes what a migration left pending

    async def close(self) -> None:
        if self._folder is not None:
            self._folder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._folder
        # The journal is not folded here: it is durable as it is, and the next start folds it
        # before loading (a shutdown after a burst would otherwise fold 100,000 changes first).
        await self._state.close()
        await self._writer.close()
        await self._history.close()

    async def load_alerts(self) -> list[Alert]:
        def load(c: sqlite3.Connection) -> list[Any]:
            alert_journal.fold(c)
            return c.execute("SELECT * FROM alerts").fetchall()

        rows = await self._run(load)
        self._journal_changes = 0
        return [alert_from_row(r) for r in rows]

    async def write_alerts(self, upserts: Sequence[Alert], deletes: Sequence[int]) -> None:
        """Append the changes to the journal (see alert_journal); folded later, when quiet."""
        rows = [alert_row(a) for a in upserts]
        gone = [f"{fp:016x}" for fp in deletes]
        await self._run(lambda c: alert_journal.append(c, rows, gone), urgent=True)
        self._journal_changes += len(rows) + len(gone)
        self._last_write = asyncio.get_running_loop().time()
        if self._journal_changes >= FOLD_BACKLOG:
            self._backlog.set()
        if self._folder is None:
            self._folder = asyncio.create_task(self._fold_journal(), name="alert-journal-fold")

    async def _fold_journal(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._journal_changes > 0:
                quiet = loop.time() - self._last_write
                if quiet < FOLD_QUIET_S and self._journal_changes < FOLD_BACKLOG:
                    self._backlog.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._backlog.wait(), FOLD_QUIET_S - quiet)
                    continue
                try:
                    folded = await self._run(lambda c: alert_journal.fold(c, FOLD_CHUNK))
                except Exception:  # the journal keeps it all: try again later
                    log.exception("folding the alert journal failed; will retry")
                    await asyncio.sleep(1)
                    continue
                self._journal_changes = self._journal_changes - folded if folded else 0
        finally:
            self._folder = None

    async def load_silences(self) -> list[Silence]:
        rows = await self._run(lambda c: c.execute("SELECT * FROM silences").fetchall())
        return [silence_from_row(r) for r in rows]

    async def save_silence(self, silence: Silence) -> None:
        row = silence_row(silence)
        await self._run(
            lambda c: _commit(c, "INSERT OR REPLACE INTO silences VALUES (?,?,?,?,?,?,?)", [row]), urgent=True
        )

    async def delete_silences(self, ids: Sequence[str]) -> None:
        await self._run(
            lambda c: _commit(c, "DELETE FROM silences WHERE id = ?", [(i,) for i in ids]), urgent=True
        )

    async def load_nflog(self) -> list[NflogEntry]:
        rows = await self._run(lambda c: c.execute("SELECT * FROM nflog").fetchall())
        return [
            NflogEntry(gk, r, i, idx, frozenset(orjson.loads(f)), frozenset(orjson.loads(rs)), ts, exp)
            for gk, r, i, idx, f, rs, ts, exp in rows
        ]

    async def save_nflog(self, entry: NflogEntry) -> None:
        row = delivery.nflog_row(entry)
        await self._run(lambda c: _commit(c, delivery.NFLOG_UPSERT, [row]))

    async def delete_nflog(self, keys: Sequence[tuple[str, str, str, int]]) -> None:
        await self._run(
            lambda c: _commit(
                c,
                "DELETE FROM nflog WHERE group_key=? AND receiver=? AND integration=? AND idx=?",
                list(keys),
            )
        )

    # -- delivery queue (ampp.notify.queue; the SQL and its rules in sqlite.delivery) ----
    async def _queue(self, fn: Callable[..., T], *args: Any) -> T:
        def run(c: sqlite3.Connection) -> T:
            with transaction(c):
                return fn(c, *args)

        return await self._run(run)

    async def enqueue_deliveries(
        self,
        jobs: Sequence[NewDelivery],
        policy: DeliveryPolicy,
        now: int,
        claim: ClaimAtEnqueue | None = None,
    ) -> list[EnqueueResult]:
        return await self._queue(delivery.enqueue, jobs, policy, now, claim)

    async def claim_deliveries(self, replica: str, lease_s: float, limit: int) -> Claim:
        def run(c: sqlite3.Connection) -> Claim:
            now = now_ns()
            empty = delivery.idle(c, now)
            if empty is not None:
                return empty
            with transaction(c):
                return delivery.claim(c, replica, int(lease_s * 1e9), limit, now)

        return await self._run(run)

    async def complete_delivery(self, id_: int, entry: NflogEntry | None, outcome: str) -> None:
        await self._queue(delivery.complete, id_, entry, outcome, now_ns())

    async def retry_delivery(self, id_: int, error: str, delay_s: float, policy: DeliveryPolicy) -> str:
        return await self._queue(delivery.retry, id_, error, int(delay_s * 1e9), policy, now_ns())

    async def fail_delivery(self, id_: int, error: str) -> None:
        await self._queue(delivery.fail, id_, error, now_ns())

    async def release_deliveries(self, replica: str, ids: Sequence[int] | None = None) -> int:
        return await self._queue(delivery.release, ids, now_ns())

    async def list_deliveries(
        self, state: str | None, receiver: str | None, limit: int, before_id: int | None = None
    ) -> list[Delivery]:
        return await self._run(lambda c: delivery.list_(c, state, receiver, limit, before_id))

    async def get_delivery(self, id_: int) -> Delivery | None:
        return await self._run(lambda c: delivery.get(c, id_))

    async def redrive_delivery(self, id_: int) -> RedriveResult:
        return await self._queue(delivery.redrive, id_, now_ns())

    async def redrive_deliveries(self, receiver: str | None) -> tuple[int, int]:
        return await self._queue(delivery.redrive_all, receiver, now_ns())

    async def count_deliveries(self) -> dict[str, int]:
        return await self._run(delivery.counts)

    async def purge_deliveries(self, before: int, limit: int = 10_000) -> int:
        return await self._queue(delivery.purge, before, limit)

    # -- history (ampp.history) -----------------------------------------------------------
    async def append_history(self, events: Sequence[HistoryEvent]) -> None:
        if self._in_doubt is not None:  # the recorder retries what failed: skip what was written
            doubt_id, doubt = self._in_doubt
            if await self._writer.call("committed", doubt_id):
                written = {id(e) for e in doubt}
                events = [e for e in events if id(e) not in written]
            self._in_doubt = None
        if not events:
            return
        rows = [
            (
                e.at, e.kind, e.fingerprint, e.labels or {},
                e.annotations or {}, e.group_key, e.receiver, e.integration,
                e.outcome, e.latency_ms, e.error, e.silence_id, e.actor, e.comment,
                e.details,
            )
            for e in events
        ]  # fmt: skip
        self._batches += 1
        batch_id = f"{self._batch_prefix}{self._batches}"
        try:
            await self._writer.call("append", batch_id, rows)
        except HistoryWriterLost:
            self._in_doubt = (batch_id, list(events))
            raise

    async def delete_history_before(self, cutoff: int, limit: int) -> int:
        n: int = await self._writer.call("delete_before", cutoff, limit)
        return n

    async def prune_label_values(self) -> int:
        n: int = await self._writer.call("prune_label_values")
        return n

    # The reads wait for the writer to be up: at its start it summarizes what a migration left.
    async def query_history(self, query: HistoryQuery, now: int) -> HistoryPage:
        await self._writer.ready()
        return await self._hrun(lambda c: history_read.history(c, query, now))

    async def history_report(
        self, from_: int | None, to: int | None, flap_threshold: int, flap_window_s: float
    ) -> Report:
        await self._writer.ready()
        return await self._hrun(lambda c: history_report.report(c, from_, to, flap_threshold, flap_window_s))

    async def history_timeline(self, fingerprint: str, limit: int) -> Timeline | None:
        await self._writer.ready()
        return await self._hrun(lambda c: history_read.timeline(c, fingerprint, limit))

    # -- API keys and the audit log (ampp.auth) ------------------------------------------
    async def insert_api_key(self, key: ApiKey) -> None:
        await self._run(lambda c: access.insert_key(c, key))

    async def api_key_by_digest(self, digest: str) -> ApiKey | None:
        return await self._run(lambda c: access.key_by_digest(c, digest))

    async def list_api_keys(self) -> list[ApiKey]:
        return await self._run(access.list_keys)

    async def revoke_api_key(self, key_id: str, at: float) -> ApiKey | None:
        return await self._run(lambda c: access.revoke_key(c, key_id, at))

    async def touch_api_key(self, key_id: str, at: float) -> None:
        await self._run(lambda c: access.touch_key(c, key_id, at))

    async def append_audit(self, events: Sequence[AuditEvent]) -> None:
        await self._run(lambda c: access.append_audit(c, events))

    async def query_audit(self, query: AuditQuery) -> list[AuditEvent]:
        return await self._run(lambda c: access.query_audit(c, query))

    async def delete_audit_before(self, cutoff: float, limit: int) -> int:
        return await self._run(lambda c: access.delete_audit_before(c, cutoff, limit))


def _commit(conn: sqlite3.Connection, sql: str, rows: list[Any]) -> None:
    with transaction(conn):
        conn.executemany(sql, rows)
