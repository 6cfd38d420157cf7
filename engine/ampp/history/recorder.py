"""Records history events off the request path and writes them in batches.

``record()`` only appends to an in-memory buffer; a background task writes the buffer every
``flush_interval`` seconds (sooner once ``batch_size`` events wait). While storage fails the
buffer is kept (bounded by ``max_buffer``, oldest dropped first and counted) and retried.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge

from ..model.alert import Alert
from ..model.silence import Silence
from ..model.timefmt import NS, now_ns
from ..mute.marker import MuteChange
from ..notify.stage import FlushContext
from ..store.base import HistoryLog
from ..store.records import HistoryEvent

log = logging.getLogger("ampp.history")


def fp_hex(fp: int) -> str:
    return f"{fp:016x}"


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def storable(ns: int) -> int:
    """A time as the history keeps it: Unix nanoseconds within 64 bits (1677 to 2262), the
    range of both stores' integer columns and of JSON integers. The v2 API accepts any RFC 3339
    time (endsAt 9999-12-31, Go's zero time as startsAt), which the alert itself keeps exactly;
    its history says "before 1677" or "after 2262" instead of failing to be written."""
    return _INT64_MIN if ns < _INT64_MIN else _INT64_MAX if ns > _INT64_MAX else ns


ISOLATE_ATTEMPTS = 26
"""Failed writes, with none succeeding, after which isolating a batch's poison events gives up:
twice the halvings of a full batch (4096), enough for a few poison events; storage that is down
fails them all and is retried as a whole later."""


ISOLATE_EVERY_S = 30.0
"""While storage fails, how often a batch is split to look for poison events anyway."""


class _NothingWritten(Exception):
    """Isolating poison events found storage refusing everything."""


class _Described(Protocol):
    """An enrichment, as the history keeps it (ampp.enrich.model.Enrichment)."""

    def to_json(self) -> dict[str, Any]: ...


class _AlertChange:
    """An alert's firing or resolved event while it waits in the buffer.

    A burst of new alerts can buffer 100,000 events while the history catches up; as
    HistoryEvents (hex fingerprint, details dict) they held ~420 bytes each, and the process
    kept that peak for good. This holds 56: the event is built from the alert when its batch
    is written. Stored alerts are never changed in place (a merge makes a new one), so the
    event is the same as if it had been built at once.
    """

    __slots__ = ("alert", "at", "kind")

    def __init__(self, kind: str, alert: Alert, at: int) -> None:
        self.kind = kind
        self.alert = alert
        self.at = at

    def event(self) -> HistoryEvent:
        a = self.alert
        return HistoryEvent(
            self.at, self.kind, fp_hex(a.fingerprint), a.labels, a.annotations,  # never mutated: shared
            details={"startsAt": storable(a.starts_at), "endsAt": storable(a.ends_at)},
        )  # fmt: skip


class HistoryRecorder:
    def __init__(
        self,
        storage: HistoryLog,
        registry: CollectorRegistry,
        *,
        retention_s: float = 30 * 86400,
        cleanup_interval_s: float = 3600,
        flush_interval_s: float = 0.2,
        batch_size: int = 4096,  # big batches: each random-key index page is written once for many rows
        max_buffer: int = 1_000_000,  # alert changes wait as 56 bytes: 56 MB at most for those
        cleanup_batch: int = 10_000,
        stop_timeout_s: float = 20.0,  # inside Kubernetes' default grace period of 30 s
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self.storage = storage
        self.retention_s = retention_s
        self.cleanup_interval_s = cleanup_interval_s
        self.flush_interval_s = flush_interval_s
        self.batch_size = batch_size
        self.cleanup_batch = cleanup_batch
        self.stop_timeout_s = stop_timeout_s
        """How long shutdown waits for the buffered events to be written."""
        self._buffer: deque[HistoryEvent | _AlertChange] = deque(maxlen=max_buffer)
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._firing: dict[int, Alert] = {}
        self._flushing = asyncio.Lock()
        self._dropped_oldest = 0
        self._due: list[tuple[int, int]] = []
        """(ends_at, fingerprint) of firing alerts, a heap: timeouts are found without a scan."""
        """Alerts last seen firing, by fingerprint; resolution by timeout is noticed by the flusher."""
        self._known: dict[int, Alert] = {}
        self._isolated_at = 0.0
        self.version = 0
        """Moves on every committed batch: the query cache keys on it."""
        self.healthy = True
        self.dropped = Counter(
            "ampp_history_events_dropped",
            "History events dropped because the buffer was full.",
            registry=registry,
        )
        self.written = Counter("ampp_history_events_written", "History events written.", registry=registry)
        self.dead_lettered = Counter(
            "ampp_history_events_dead_lettered",
            "History events storage refused while it took the rest of their batch (logged, dropped).",
            registry=registry,
        )
        self.buffered = Gauge(
            "ampp_history_events_buffered", "History events waiting to be written.", registry=registry
        )
        self._recorded = 0
        """Events ever recorded: a flush that has written (or dropped) this many has caught up."""
        self._caught_up = clock()
        Gauge(
            "ampp_history_lag_seconds",
            "How long the oldest event waiting to be written may have waited (0: none waits).",
            registry=registry,
        ).set_function(self._lag)

    # -- recording (never blocks, never raises) -------------------------------------------
    def record(self, event: HistoryEvent | _AlertChange) -> None:
        self._recorded += 1
        if len(self._buffer) == self._buffer.maxlen:
            self.dropped.inc()
            self._dropped_oldest += 1  # the deque drops its oldest event to take this one
        self._buffer.append(event)
        if len(self._buffer) >= self.batch_size:
            self._wake.set()

    def prime(self, alerts: Sequence[Alert]) -> None:
        """Alerts restored from storage: known already, so no new firing event for them."""
        now = now_ns()
        for a in alerts:
            self._known[a.fingerprint] = a
            if not a.resolved_at(now):
                self._set_firing(a.fingerprint, a)

    def alerts_changed(self, stored: Sequence[Alert], deleted: Sequence[int]) -> None:
        """AlertStore sink: firing and resolved transitions of the stored alerts, and the
        alerts garbage-collected."""
        for alert in stored:
            self._observe(alert)
        for fp in deleted:
            self._forget(fp)

    def _observe(self, alert: Alert) -> None:
        """Firing (new or re-firing) and resolved transitions."""
        now = now_ns()
        fp = alert.fingerprint
        prev = self._known.get(fp)
        self._known[fp] = alert
        resolved = alert.resolved_at(now)
        new_occurrence = prev is None or prev.starts_at != alert.starts_at
        if new_occurrence or (fp not in self._firing and not resolved):
            if new_occurrence or not resolved:
                self._alert_event("alert.firing", alert, max(min(alert.starts_at, now), 0))
            if not resolved:
                self._set_firing(fp, alert)
        if resolved:
            if fp in self._firing or new_occurrence:
                self._alert_event("alert.resolved", alert, alert.ends_at)
            self._firing.pop(fp, None)
        elif fp in self._firing:
            self._set_firing(fp, alert)

    def _set_firing(self, fp: int, alert: Alert) -> None:
        prev = self._firing.get(fp)
        self._firing[fp] = alert
        if alert.ends_at and (prev is None or prev.ends_at != alert.ends_at):
            heapq.heappush(self._due, (alert.ends_at, fp))
            if len(self._due) > 2 * len(self._firing) + 1024:  # drop superseded entries
                self._due = [(a.ends_at, f) for f, a in self._firing.items() if a.ends_at]
                heapq.heapify(self._due)

    def _forget(self, fp: int) -> None:
        """The alert was garbage-collected (resolved and gone)."""
        self._known.pop(fp, None)
        a = self._firing.pop(fp, None)
        if a is not None:
            self._alert_event("alert.resolved", a, min(a.ends_at, now_ns()))

    def _alert_event(self, kind: str, a: Alert, at: int) -> None:
        self.record(_AlertChange(kind, a, storable(at)))

    def _check_timeouts(self) -> None:
        """Firing alerts whose endsAt has passed resolved silently: record that they did."""
        now = now_ns()
        due = self._due
        while due and due[0][0] <= now:
            ends, fp = heapq.heappop(due)
            a = self._firing.get(fp)
            if a is not None and a.ends_at == ends:
                del self._firing[fp]
                self._alert_event("alert.resolved", a, a.ends_at)

    def mute_changed(self, fp: int, change: MuteChange, by: Sequence[str]) -> None:
        """Marker sink: silenced/inhibited transitions."""
        a = self._known.get(fp)
        self.record(
            HistoryEvent(
                now_ns(), f"alert.{change}", fp_hex(fp), dict(a.labels) if a else {},
                dict(a.annotations) if a else {},
                details={"by": list(by), "startsAt": storable(a.starts_at) if a else None},
            )
        )  # fmt: skip

    def notify_attempted(
        self,
        ctx: FlushContext,
        integration: str,
        alerts: Sequence[Alert],
        latency_s: float,
        error: str | None,
    ) -> None:
        """Attempt sink: one event per notification attempt."""
        self.record(
            HistoryEvent(
                now_ns(), "notify.failed" if error else "notify.sent", group_key=ctx.group_key,
                receiver=ctx.receiver, integration=integration, outcome="failed" if error else "sent",
                latency_ms=latency_s * 1000, error=error,
                details={
                    "fingerprints": [fp_hex(a.fingerprint) for a in alerts],
                    "startsAt": [storable(a.starts_at) for a in alerts],
                },
            )
        )  # fmt: skip

    def alerts_enriched(self, alerts: Sequence[Alert], enrichment: _Described) -> None:
        """Enricher sink: an ``alert.enriched`` event per alert, in its timeline."""
        at = now_ns()
        details = enrichment.to_json()
        for a in alerts:
            self.record(
                HistoryEvent(
                    at, "alert.enriched", fp_hex(a.fingerprint), a.labels, a.annotations, details=details
                )
            )

    def alerts_not_enriched(self, alerts: Sequence[Alert], reason: str) -> None:
        """Enricher sink: an ``alert.not_enriched`` event per alert notified without one."""
        at = now_ns()
        for a in alerts:
            self.record(
                HistoryEvent(
                    at, "alert.not_enriched", fp_hex(a.fingerprint), a.labels, a.annotations,
                    details={"reason": reason},
                )
            )  # fmt: skip

    async def silence_changed(self, event: str, sil: Silence, prev: Silence | None) -> None:
        """Silences sink: created, updated, replaced, expired."""
        self.record(
            HistoryEvent(
                now_ns(), f"silence.{event}", silence_id=sil.id, actor=sil.created_by, comment=sil.comment,
                details={
                    "matchers": [str(m) for m in sil.matchers],
                    "startsAt": storable(sil.starts_at),
                    "endsAt": storable(sil.ends_at),
                },
            )
        )  # fmt: skip

    # -- writing --------------------------------------------------------------------------
    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._run(), name="history-writer"))
        self._tasks.append(asyncio.create_task(self._cleanup_loop(), name="history-cleanup"))

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            try:
                await t
            except asyncio.CancelledError:
                pass
        try:
            await asyncio.wait_for(self.flush(), self.stop_timeout_s)
        except Exception:
            log.warning("history: %d events not written at shutdown", len(self._buffer))

    async def flush(self) -> bool:
        """Write what is buffered; False (buffer kept) if storage failed.

        One flush at a time: the writer task, a query wanting its own writes and shutdown may
        all ask at once, and two would write the same buffered events twice.
        """
        async with self._flushing:
            return await self._flush()

    def _lag(self) -> float:
        """Since the writer last caught up, while events wait: an upper bound of the oldest
        waiting event's age, without a timestamp kept per event."""
        return max(0.0, self._clock() - self._caught_up) if self._buffer else 0.0

    async def _flush(self) -> bool:
        self._check_timeouts()
        began, target = self._clock(), self._recorded  # caught up once these events are gone
        while self._buffer:
            self.buffered.set(len(self._buffer))
            batch = self._batch()
            dropped_before = self._dropped_oldest
            refused: list[HistoryEvent] = []
            try:
                await self.storage.append_history(batch)
            except Exception as e:
                isolated = await self._isolate(batch) if self._may_isolate(batch) else None
                if isolated is None:
                    if self.healthy:
                        log.warning("writing history failed; buffering %d events: %s", len(self._buffer), e)
                    self.healthy = False
                    return False
                refused = isolated
                self._dead_letter(refused, e)
            # A full buffer dropped its oldest events while the batch was written: those were
            # the batch's own first events, already gone from the deque.
            for _ in range(max(0, len(batch) - (self._dropped_oldest - dropped_before))):
                self._buffer.popleft()
            self.written.inc(len(batch) - len(refused))
            self.version += 1
            self.healthy = True
            if self._recorded - len(self._buffer) >= target:
                self._caught_up = began
        self._caught_up = began
        self.buffered.set(len(self._buffer))
        return True

    def _may_isolate(self, batch: list[HistoryEvent]) -> bool:
        """At once when storage took the last batch; while it fails, once in a while (it may be
        a poison event that failed alone, now with company)."""
        if len(batch) < 2:
            return False
        now = time.monotonic()
        if not self.healthy and now - self._isolated_at < ISOLATE_EVERY_S:
            return False
        self._isolated_at = now
        return True

    async def _isolate(self, batch: list[HistoryEvent]) -> list[HistoryEvent] | None:
        """Write the batch in halves, and halves of the halves that fail: the events refused
        while others are written are poison (a value no retry can store), and must not hold
        the events behind them for ever. Returns them; None if nothing could be written at all
        (storage itself fails: everything waits for it)."""
        written = failed = 0
        refused: list[HistoryEvent] = []

        async def split(events: list[HistoryEvent]) -> None:
            nonlocal written, failed
            if len(events) == 1:
                refused.extend(events)
                return
            mid = len(events) // 2
            for half in (events[:mid], events[mid:]):
                if not written and failed >= ISOLATE_ATTEMPTS:
                    raise _NothingWritten
                try:
                    await self.storage.append_history(half)
                    written += len(half)
                except Exception:
                    failed += 1
                    await split(half)

        try:
            await split(batch)
        except _NothingWritten:
            return None
        return refused if written else None

    def _dead_letter(self, events: list[HistoryEvent], error: Exception) -> None:
        self.dead_lettered.inc(len(events))
        for e in events:
            log.error(
                "history: dropped an event storage refuses while it takes the others (%s): %s",
                error,
                json.dumps(event_json(e), default=str),  # not orjson: it may be why it was refused
            )

    def _batch(self) -> list[HistoryEvent]:
        """The next batch, its events built once and kept: a retry sends the same objects."""
        buf, batch = self._buffer, []
        for i in range(min(self.batch_size, len(buf))):
            e = buf[i]
            if isinstance(e, _AlertChange):
                e = buf[i] = e.event()
            batch.append(e)
        return batch

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.flush_interval_s)
            except TimeoutError:
                pass
            self._wake.clear()
            if not await self.flush():
                await asyncio.sleep(1)

    async def cleanup(self, now: int | None = None) -> int:
        cutoff = (now or now_ns()) - int(self.retention_s * NS)
        total = 0
        while True:
            n = await self.storage.delete_history_before(cutoff, self.cleanup_batch)
            total += n
            if n < self.cleanup_batch:
                break
            await asyncio.sleep(0)  # let others at the database between batches
        if total:
            await self.storage.prune_label_values()
            self.version += 1
        return total

    async def _cleanup_loop(self) -> None:
        while True:
            start = time.monotonic()
            try:
                n = await self.cleanup()
                if n:
                    log.info("history retention: deleted %d events in %.2fs", n, time.monotonic() - start)
            except Exception:
                log.exception("history cleanup failed")
            await asyncio.sleep(self.cleanup_interval_s)


def event_json(e: HistoryEvent) -> dict[str, Any]:
    from ..model.timefmt import format_rfc3339nano

    out: dict[str, Any] = {"at": format_rfc3339nano(e.at), "kind": e.kind}
    for name in ("fingerprint", "group_key", "receiver", "integration", "outcome", "latency_ms", "error",
                 "silence_id", "actor", "comment"):  # fmt: skip
        v = getattr(e, name)
        if v is not None:
            out[name] = v
    if e.labels:
        out["labels"] = e.labels
    if e.annotations:
        out["annotations"] = e.annotations
    if e.details:
        out["details"] = e.details
    return out
