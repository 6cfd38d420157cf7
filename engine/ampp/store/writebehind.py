"""Group commit of alert changes: many puts, one transaction, every caller told when durable."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from ..model.alert import Alert
from .base import AlertStorage

log = logging.getLogger(__name__)


class StorageUnavailable(RuntimeError):
    """What was asked could not be made durable (storage failing, full, or too slow): the
    caller must say so, so that the sender tries again (the API's 503 with Retry-After)."""

    retry_after_s = 5
    """How long the sender is asked to wait before trying again (the writer retries every second)."""


MAX_BUFFERED = 200_000
"""Alert changes kept in memory while storage fails, for routing and notifying from there (as
many distinct alerts: a hot alert is one change); beyond, new alerts are refused outright."""


class AlertWriteBehind:
    """Collects alert upserts and deletions and writes them in batches.

    A caller that needs durability awaits ``durable()``: it resolves after the batch holding
    everything queued so far is committed, and fails with :class:`StorageUnavailable` if that
    write failed (the changes stay queued and are written once storage takes them). Later
    versions of one alert replace earlier ones in the queue, so a hot alert costs one row per
    batch.
    """

    def __init__(self, storage: AlertStorage) -> None:
        self.storage = storage
        self._upserts: dict[int, Alert] = {}
        self._deletes: set[int] = set()
        self._waiters: list[asyncio.Future[None]] = []
        self._inflight: list[asyncio.Future[None]] | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.healthy = True

    def alerts_changed(self, upserts: Sequence[Alert], deletes: Sequence[int]) -> None:
        """The alert store's sink: queue the stored alerts and the deleted fingerprints."""
        for a in upserts:
            self._upserts[a.fingerprint] = a
            self._deletes.discard(a.fingerprint)
        for fp in deletes:
            self._upserts.pop(fp, None)
            self._deletes.add(fp)
        self._wake.set()

    def pending(self) -> int:
        return len(self._upserts) + len(self._deletes)

    def full(self) -> bool:
        """Whether the changes buffered while storage fails reached :data:`MAX_BUFFERED`."""
        return not self.healthy and self.pending() >= MAX_BUFFERED

    def durable(self) -> asyncio.Future[None]:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if not self._upserts and not self._deletes:
            if self._inflight is None:
                fut.set_result(None)
            else:  # the write in progress holds what the caller queued
                self._inflight.append(fut)
        else:
            self._waiters.append(fut)
            self._wake.set()
        return fut

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="alert-write-behind")

    async def stop(self) -> None:
        await self.flush()
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def flush(self) -> None:
        while self._upserts or self._deletes:
            upserts, deletes = list(self._upserts.values()), list(self._deletes)
            waiters = self._waiters
            self._upserts, self._deletes, self._waiters = {}, set(), []
            self._inflight = waiters
            try:
                await self.storage.write_alerts(upserts, deletes)
                self.healthy = True
            except Exception as e:
                # Keep what was not written and try again; nothing is dropped. Whoever waits
                # for it is told now: an acknowledgement means durable.
                if self.healthy:
                    log.error("writing alerts to storage failed; will retry: %s", e)  # an outage, not a bug
                self.healthy = False
                for a in upserts:
                    self._upserts.setdefault(a.fingerprint, a)
                for fp in deletes:
                    if fp not in self._upserts:
                        self._deletes.add(fp)
                self._inflight = None
                failure = StorageUnavailable(f"writing alerts to storage failed: {e}")
                for w in waiters + self._waiters:
                    if not w.done():
                        w.set_exception(failure)
                self._waiters = []
                await asyncio.sleep(1)
                continue
            if not self.healthy:
                log.info("writing alerts to storage works again")
            self._inflight = None
            for w in waiters:
                if not w.done():
                    w.set_result(None)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            # One turn of the loop first: the requests read in the same turn as the one that
            # woke us put their alerts too and share this commit (single-alert POSTs over 8
            # connections: 4.9 -> 7 alerts a commit, +23 % requests/s).
            await asyncio.sleep(0)
            self._wake.clear()
            await self.flush()
