"""The durable delivery queue: every notification is a job in storage, sent by a worker pool.

The pipeline's EnqueueStage hands each flush (one job per integration) to :meth:`enqueue`,
which commits it (jobs queued together share one transaction): while a worker is free and
nothing of its target is in flight, the job is claimed in that same transaction and its first
attempt starts at once, from the flush in memory. Otherwise the claimer, woken, claims due
jobs, never more than ``workers`` in flight. Each is sent in a task of its own, so one
receiver's integrations are sent in parallel and a slow endpoint holds only the workers sending
to it (for ``attempt_timeout`` at most); a refusing one costs nothing per attempt (the HTTP
sender's circuit breaker). Each attempt renders from the job's payload, sends with a timeout,
then:

- **success**: the job is marked done and the notification-log entry written in one
  transaction;
- **retryable failure** (5xx, 429, connection errors, timeouts): pending again after a backoff
  (0.5 s, x1.5 up to 60 s, +-50 % jitter, at least a 429's Retry-After up to 5 min);
- **permanent failure** (the vendor refused it), **retry budget spent** (``max_attempts``),
  or an integration the running config no longer has: a dead letter, listed by the API and
  re-driven from there.

Delivery guarantee: a notification is sent until one attempt succeeds, and that success is
recorded in the notification log in the same transaction that finishes the job.
Only a crash in the window between the endpoint's answer and that commit (milliseconds)
makes it go out a second time, after the restart; with the endpoint down when the process
dies, every queued notification arrives exactly once. Jobs a killed process left ``inflight``
are pending again when it starts (SQLite: all of them; PostgreSQL: its own, identified by the
replica name; another replica's wait for their lease to run out).

Ordering: one job per target (group, receiver, integration) is in flight at a time, oldest
first; a newer flush supersedes a job still waiting (store.delivery_common has the rules).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence

from ..config.settings import NotifySettings
from ..metrics import Metrics
from ..model.alert import Alert
from ..model.timefmt import NS, now_ns
from ..store.base import DeliveryStorage
from ..store.delivery_common import ClaimAtEnqueue, Delivery, EnqueueResult, NewDelivery, RedriveResult
from ..store.records import NflogEntry
from .attempt import Attempts, Target, alerts_to_send
from .delivery import FlushPolicy, decode
from .nflog import NotificationLog
from .stage import FlushContext, Integration

Decoded = tuple[FlushContext, list[Alert]]
"""A job's flush as the worker renders it (``delivery.decode``, ``delivery.as_decoded``)."""
Held = tuple[NewDelivery, FlushContext, list[Alert]]
"""A job as this process queued it, with its flush: what its payload says, without parsing it."""

log = logging.getLogger("ampp.notify.queue")

SHUTDOWN_GRACE_S = 1.0
"""How long a shutdown waits for the sends in flight to be answered: those answered are
recorded, those cut off are sent again after the restart. Long enough for an endpoint in good
health, short enough for an exit well within Kubernetes' grace period."""
RECORD_GRACE_S = 5.0
"""How long a shutdown waits for answered sends to be recorded (storage writes)."""

GAUGE_INTERVAL = 5.0
"""How often the queue depth is counted in storage for ampp_delivery_queue_depth."""

ENQUEUE_CHUNK = 4
"""Jobs queued in one transaction at most. Groups created together flush together (issue 21's
50 groups of 2,000 alerts every 5 s): one transaction for all of them held the state database's
one thread for 400-600 ms, and the alert commits the POSTs wait for queued behind it."""


class DeliveryQueue:
    def __init__(
        self,
        storage: DeliveryStorage,
        nflog: NotificationLog,
        attempts: Attempts,
        replica: str,
        settings: NotifySettings | None = None,
    ) -> None:
        self.storage = storage
        self.nflog = nflog
        self.attempts = attempts
        self.metrics: Metrics = attempts.metrics
        self.replica = replica
        """Who claims (``claimed_by``): stable across restarts of one instance, unique among
        the replicas sharing a database."""
        self.settings = settings or NotifySettings()
        self.policy = FlushPolicy(nflog.retention_ns)
        self.integrations: Mapping[str, Sequence[Integration]] = {}
        self.healthy = True
        self.sending = True
        """Whether jobs are claimed; off while the engine is not ready (the operator's config is
        not merged yet: its receivers' jobs would look like ones a reload removed)."""
        self._wake = asyncio.Event()
        self._batch: list[tuple[NewDelivery, Decoded | None, asyncio.Future[EnqueueResult]]] = []
        self._reserved = 0
        """Workers promised to the enqueue being committed (what it may claim)."""
        self._batch_ready = asyncio.Event()
        self._sending: dict[int, asyncio.Task[None]] = {}
        self._interrupted: list[int] = []
        self._recording: set[asyncio.Task[None]] = set()
        self._writer: asyncio.Task[None] | None = None
        self._claimer: asyncio.Task[None] | None = None
        self._gauges: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------------------
    def configure(self, settings: NotifySettings, integrations: Mapping[str, Sequence[Integration]]) -> None:
        """Take a new config's settings and integrations (a reload); jobs already queued are
        sent with the new integrations, or dead-lettered if theirs is gone."""
        self.settings = settings
        self.integrations = integrations
        self.metrics.delivery_workers.set(settings.workers)
        self._wake.set()

    async def start(self) -> None:
        released = await self.storage.release_deliveries(self.replica)
        if released:
            log.info(
                "delivery queue: %d notifications interrupted by the last run are pending again", released
            )
        loop = asyncio.get_running_loop()
        self._writer = loop.create_task(self._write_loop(), name="delivery-enqueue")
        self._claimer = loop.create_task(self._claim_loop(), name="delivery-claim")
        self._gauges = loop.create_task(self._gauge_loop(), name="delivery-gauges")

    async def stop(self, grace: float = SHUTDOWN_GRACE_S) -> None:
        """Claim nothing more, give the sends in flight ``grace`` seconds, hand the rest back.

        A send cut off here is pending again and sent after the restart (at least once: the
        endpoint may have had it already); one the endpoint answered is always recorded first,
        so it is never sent again. What is queued is durable already and needs no waiting."""
        self.sending = False  # nor claimed as it is queued
        for t in (self._claimer, self._gauges):
            if t is not None:
                t.cancel()
        if self._sending:
            await asyncio.wait(list(self._sending.values()), timeout=grace)
        for t in list(self._sending.values()):
            t.cancel()
        await asyncio.gather(*self._sending.values(), return_exceptions=True)
        if self._recording:  # answers being recorded when their send was cut off
            await asyncio.wait(self._recording, timeout=RECORD_GRACE_S)
        if self._writer is not None:
            self._writer.cancel()
        await asyncio.gather(
            *(t for t in (self._writer, self._claimer, self._gauges) if t is not None), return_exceptions=True
        )
        self._writer = self._claimer = self._gauges = None
        for _, _, fut in self._batch:  # flushes whose commit had not started: they fall back
            if not fut.done():
                fut.set_exception(RuntimeError("delivery queue stopped"))
        self._batch = []
        if self._interrupted:
            try:
                await self.storage.release_deliveries(self.replica, self._interrupted)
            except Exception:  # the next start-up releases them
                log.warning(
                    "delivery queue: could not hand back %d interrupted sends", len(self._interrupted)
                )
            self._interrupted = []

    def wake(self) -> None:
        self._wake.set()

    # -- enqueue (group commit) ----------------------------------------------------------
    async def enqueue(self, job: NewDelivery, flush: Decoded | None = None) -> EnqueueResult:
        """Return once the job is durable (or known not to be needed).

        ``flush``: the context and alerts the job was made of (``delivery.as_decoded``). A job
        claimed in the transaction that queues it (a worker free, nothing of its target in
        flight) starts its first attempt at once, from these rather than from its payload."""
        fut: asyncio.Future[EnqueueResult] = asyncio.get_running_loop().create_future()
        self._batch.append((job, flush, fut))
        self._batch_ready.set()
        return await fut

    def _free(self) -> int:
        """Workers not sending and not promised to an enqueue (none while not ready)."""
        return self.settings.workers - len(self._sending) - self._reserved if self.sending else 0

    async def _write_loop(self) -> None:
        while True:
            await self._batch_ready.wait()
            self._batch_ready.clear()
            batch, self._batch = self._batch[:ENQUEUE_CHUNK], self._batch[ENQUEUE_CHUNK:]
            if self._batch:  # the rest in the next transaction, after what waits meanwhile
                self._batch_ready.set()
            if not batch:
                continue
            free = self._free()
            claim = ClaimAtEnqueue(self.replica, self.lease(), free) if free > 0 else None
            self._reserved += max(free, 0)
            try:
                results = await self.storage.enqueue_deliveries(
                    [j for j, _, _ in batch], self.policy, now_ns(), claim
                )
            except Exception as e:
                self.healthy = False
                for _, _, fut in batch:
                    if not fut.done():
                        fut.set_exception(e)
                continue
            finally:
                self._reserved -= max(free, 0)
            self.healthy = True
            for (job, flush, fut), result in zip(batch, results, strict=True):
                self.metrics.delivery_enqueued.labels(job.integration, result.outcome).inc()
                if result.superseded:
                    self.metrics.delivery_superseded.labels(job.integration).inc(result.superseded)
                if result.entry is not None:
                    self.nflog.remember(result.entry)
                if result.claimed is not None:
                    # The stored payload is the job's own unless older flushes were merged in.
                    held = (
                        (job, *flush) if flush is not None and result.claimed.payload is job.payload else None
                    )
                    self._start(result.claimed, held)
                if not fut.done():
                    fut.set_result(result)
            self._wake.set()

    # -- claims and workers --------------------------------------------------------------
    def lease(self) -> float:
        return self.settings.lease or self.settings.attempt_timeout + 30

    async def _claim_loop(self) -> None:
        failing = False
        while True:
            self._wake.clear()
            timeout = self.settings.poll_interval
            free = self._free()
            if free > 0:
                try:
                    claim = await self.storage.claim_deliveries(self.replica, self.lease(), free)
                except Exception as e:
                    if not failing:
                        log.error("delivery queue: claiming from storage failed, will retry: %s", e)
                    failing = True
                else:
                    failing = False
                    for job in claim.jobs:
                        self._start(job)
                    if claim.next_due_in is not None:
                        timeout = min(timeout, max(claim.next_due_in, 0.001))
            try:
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            except TimeoutError:
                pass

    def _start(self, job: Delivery, held: Held | None = None) -> None:
        self._sending[job.id] = asyncio.get_running_loop().create_task(
            self._deliver(job, held), name=f"delivery {job.id}"
        )

    async def _deliver(self, job: Delivery, held: Held | None = None) -> None:
        try:
            await self._attempt(job, held)
        except asyncio.CancelledError:
            self._interrupted.append(job.id)
            raise
        except Exception:  # storage failed: the lease runs out and the job is claimed again
            log.exception("delivery %d: recording the attempt failed", job.id)
        finally:
            self._sending.pop(job.id, None)
            self._wake.set()

    def _integration(self, job: Delivery) -> Integration | None:
        for i in self.integrations.get(job.receiver or "", ()):
            if i.name == job.integration and i.index == job.idx:
                return i
        return None

    async def _attempt(self, job: Delivery, held: Held | None = None) -> None:
        """One attempt at ``job``: rendered from ``held`` (the job as this process queued it and
        its flush, see :meth:`enqueue`), else from the payload."""
        where = Target(job.receiver or "", job.integration or "", job.idx or 0)
        if held is not None:
            flush, ctx, alerts = held
        else:
            try:
                flush = self.policy.parse(job.payload)
                ctx, alerts = decode(job.payload)
            except (KeyError, ValueError, TypeError) as e:
                await self._dead(job, f"{where}: unreadable job payload: {e}", "invalid")
                return
        integration = self._integration(job)
        if integration is None:
            await self._dead(
                job,
                f"{where}: no such integration in the running configuration (removed by a reload?)",
                "config",
            )
            return
        sent = alerts_to_send(integration, ctx, alerts)
        if not sent:  # send_resolved was turned off since it was queued: nothing left to tell
            await self._complete(job, self.policy.nflog_entry(flush, now_ns()), "recorded")
            return
        # The job keeps the flush's trace: its attempts continue it, on whichever replica.
        traceparent = job.payload.get("traceparent")
        error = await self.attempts.send(integration, ctx, sent, self.settings, job.attempts, traceparent)
        m, name = self.metrics, integration.name
        if error is None:
            await self._complete(job, self.policy.nflog_entry(flush, now_ns()), "sent")
            m.delivery_seconds.labels(name).observe(max(0, now_ns() - job.created_at) / NS)
            self.attempts.succeeded(where, job.attempts)
            return
        failure = self.attempts.failed(error, job.attempts, self.settings, where, job.last_error)
        if failure.given_up is not None:
            await self._dead(job, failure.reason, failure.given_up)
            return
        outcome = await self.storage.retry_delivery(job.id, str(error), failure.delay, self.policy)
        m.delivery_retries.labels(name).inc()
        if outcome == "superseded":
            m.delivery_superseded.labels(name).inc()

    async def _complete(self, job: Delivery, entry: NflogEntry, outcome: str) -> None:
        """Record the delivery, even if this send is cancelled meanwhile (a shutdown): it was
        answered, and a record cut short would send it again after the restart."""
        self.nflog.remember(entry)
        task = asyncio.get_running_loop().create_task(self._record(job, entry, outcome))
        self._recording.add(task)
        task.add_done_callback(self._recording.discard)
        await asyncio.shield(task)

    async def _record(self, job: Delivery, entry: NflogEntry, outcome: str) -> None:
        """Keep trying while storage fails, since the send cannot be undone (this process's
        own dedup already knows: the entry is remembered first)."""
        delay = 0.5
        while True:
            try:
                await self.storage.complete_delivery(job.id, entry, outcome)
                return
            except Exception as e:
                log.error("delivery %d: recording it as sent failed, will retry: %s", job.id, e)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _dead(self, job: Delivery, reason: str, kind: str) -> None:
        await self.storage.fail_delivery(job.id, reason)
        self.metrics.delivery_dead_letters.labels(job.integration or "", kind).inc()
        log.error("Notify failed, now a dead letter delivery=%d %s", job.id, reason)

    # -- gauges --------------------------------------------------------------------------
    async def _gauge_loop(self) -> None:
        while True:
            try:
                counts = await self.storage.count_deliveries()
            except Exception:
                counts = None
            if counts is not None:
                for state, n in counts.items():
                    self.metrics.delivery_queue_depth.labels(state).set(n)
            await asyncio.sleep(GAUGE_INTERVAL)

    def update_gauges(self) -> None:
        self.metrics.delivery_inflight.set(len(self._sending))

    # -- the API's side ------------------------------------------------------------------
    async def list_deliveries(
        self, state: str | None, receiver: str | None, limit: int, before_id: int | None = None
    ) -> list[Delivery]:
        return await self.storage.list_deliveries(state, receiver, limit, before_id)

    async def get_delivery(self, id_: int) -> Delivery | None:
        return await self.storage.get_delivery(id_)

    async def redrive(self, id_: int) -> RedriveResult:
        result = await self.storage.redrive_delivery(id_)
        if result.outcome == "redriven":
            self.metrics.delivery_redriven.inc()
            self._wake.set()
        return result

    async def redrive_all(self, receiver: str | None) -> tuple[int, int]:
        done, skipped = await self.storage.redrive_deliveries(receiver)
        if done:
            self.metrics.delivery_redriven.inc(done)
            self._wake.set()
        return done, skipped
