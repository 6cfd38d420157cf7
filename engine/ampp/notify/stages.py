"""The pipeline stages, one concept each, as in Alertmanager's notify package."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Protocol

from ..config.timeinterval import TimeIntervalSpec, intervals_contain
from ..metrics import Metrics
from ..model.alert import Alert
from ..model.timefmt import NS, now_ns
from ..store.delivery_common import EnqueueResult, NewDelivery
from .nflog import NotificationLog, needs_update
from .stage import FlushContext, NotifyError, Stage

log = logging.getLogger("ampp.notify")

MAX_RETRY_AFTER = 300.0  # a vendor's Retry-After is honoured up to five minutes

# -- history hook (ampp.history): told of every notification attempt ----------------------------
AttemptListener = Callable[[FlushContext, str, Sequence[Alert], float, str | None], None]
ATTEMPT_LISTENERS: list[AttemptListener] = []


def _report_attempt(
    ctx: FlushContext, name: str, alerts: Sequence[Alert], latency: float, error: str | None
) -> None:
    for listener in ATTEMPT_LISTENERS:
        try:
            listener(ctx, name, alerts, latency, error)
        except Exception:
            log.exception("history listener failed")


# -- end history hook ---------------------------------------------------------------------------


class Muter(Protocol):
    def mutes(self, labels: dict[str, str], fp: int | None = None) -> bool: ...


class Integration(Protocol):
    """One configured notifier of a receiver (e.g. its second webhook_config)."""

    name: str
    index: int

    @property
    def send_resolved(self) -> bool: ...

    async def notify(self, ctx: FlushContext, alerts: Sequence[Alert]) -> None: ...


class MuteStage:
    """Drops the alerts a muter (the inhibitor or the silencer) mutes."""

    def __init__(self, muter: Muter) -> None:
        self.muter = muter

    async def exec(self, ctx: FlushContext, alerts: list[Alert]) -> tuple[FlushContext, list[Alert]]:
        return ctx, [a for a in alerts if not self.muter.mutes(a.labels, a.fingerprint)]


def _in_intervals(names: Sequence[str], intervals: Mapping[str, list[TimeIntervalSpec]], now: int) -> bool:
    t = datetime.fromtimestamp(now / NS, tz=UTC)
    return any(intervals_contain(intervals.get(n, []), t) for n in names)


class TimeMuteStage:
    """Mutes the whole flush while one of the route's mute_time_intervals holds."""

    def __init__(self, intervals: Mapping[str, list[TimeIntervalSpec]]) -> None:
        self.intervals = intervals

    async def exec(self, ctx: FlushContext, alerts: list[Alert]) -> tuple[FlushContext, list[Alert]]:
        if ctx.mute_time_intervals and _in_intervals(ctx.mute_time_intervals, self.intervals, ctx.now):
            return ctx, []
        return ctx, alerts


class TimeActiveStage:
    """Mutes the whole flush unless one of the route's active_time_intervals holds."""

    def __init__(self, intervals: Mapping[str, list[TimeIntervalSpec]]) -> None:
        self.intervals = intervals

    async def exec(self, ctx: FlushContext, alerts: list[Alert]) -> tuple[FlushContext, list[Alert]]:
        if ctx.active_time_intervals and not _in_intervals(
            ctx.active_time_intervals, self.intervals, ctx.now
        ):
            return ctx, []
        return ctx, alerts


class DedupStage:
    """Lets a flush through only when the receiver needs to hear about it (nflog decisions)."""

    def __init__(
        self, integration: Integration, nflog: NotificationLog, receiver: str, now: Callable[[], int] = now_ns
    ) -> None:
        self.integration = integration
        self.nflog = nflog
        self.receiver = receiver
        self.now = now

    async def exec(self, ctx: FlushContext, alerts: list[Alert]) -> tuple[FlushContext, list[Alert]]:
        now = self.now()
        firing = tuple(a.fingerprint for a in alerts if not a.resolved_at(now))
        resolved = tuple(a.fingerprint for a in alerts if a.resolved_at(now))
        ctx = ctx.with_(firing=firing, resolved=resolved)
        entry = self.nflog.query(ctx.group_key, self.receiver, self.integration.name, self.integration.index)
        send_resolved = self.integration.send_resolved
        if needs_update(entry, set(firing), set(resolved), send_resolved, int(ctx.repeat_interval * NS), now):
            return ctx, alerts
        return ctx, []


class Enqueuer(Protocol):
    """The durable delivery queue, as the pipeline sees it (ampp.notify.queue.DeliveryQueue)."""

    async def enqueue(self, job: NewDelivery) -> EnqueueResult: ...


class EnqueueStage:
    """Queues the flush for one integration in the durable delivery queue, which sends it,
    retries it and records it in the notification log: Alertmanager's RetryStage and
    SetNotifiesStage, made to survive a restart and shared by replicas.

    The flush is done once the job is committed, so the aggregation group moves on at once;
    the job carries its own alert snapshot. When the queue cannot take it (storage down), the
    ``fallback`` (RetryStage + SetNotifiesStage) sends it inline as Alertmanager does, so
    notifications keep flowing while storage is out, without the durability.
    """

    def __init__(
        self, integration: Integration, receiver: str, queue: Enqueuer, fallback: Stage | None = None
    ) -> None:
        self.integration = integration
        self.receiver = receiver
        self.queue = queue
        self.fallback = fallback

    async def exec(self, ctx: FlushContext, alerts: list[Alert]) -> tuple[FlushContext, list[Alert]]:
        from .delivery import new_delivery

        job = new_delivery(ctx, self.integration, self.receiver, alerts)
        try:
            await self.queue.enqueue(job)
        except Exception as e:
            if self.fallback is None:
                raise
            i = self.integration
            log.warning(
                "delivery queue unavailable, sending without it receiver=%s integration=%s[%d] err=%s",
                self.receiver,
                i.name,
                i.index,
                e,
            )
            return await self.fallback.exec(ctx, alerts)
        return ctx, alerts


class RetryStage:
    """Sends through the integration, retrying with exponential backoff until the flush's deadline."""

    def __init__(self, integration: Integration, receiver: str, metrics: Metrics) -> None:
        self.integration = integration
        self.receiver = receiver
        self.metrics = metrics

    async def exec(self, ctx: FlushContext, alerts: list[Alert]) -> tuple[FlushContext, list[Alert]]:
        sent = alerts
        if not self.integration.send_resolved:
            if not ctx.firing:
                return ctx, alerts
            now = now_ns()
            sent = [a for a in alerts if not a.resolved_at(now)]
        name = self.integration.name
        interval, attempt, last_error, retry_after = 0.5, 0, "", 0.0
        while True:
            attempt += 1
            start = time.monotonic()
            try:
                await self.integration.notify(ctx, sent)
            except NotifyError as e:
                self.metrics.notification_latency.labels(name).observe(time.monotonic() - start)
                _report_attempt(ctx, name, sent, time.monotonic() - start, str(e))  # history hook
                self.metrics.notifications.labels(name).inc()
                self.metrics.notifications_failed.labels(name).inc()
                if not e.retry:
                    raise NotifyError(
                        f"{self.receiver}/{name}[{self.integration.index}]: notify retry canceled due to "
                        f"unrecoverable error after {attempt} attempts: {e}",
                        retry=False,
                    ) from None
                if str(e) != last_error:
                    log.warning(
                        "Notify attempt failed, will retry later "
                        "receiver=%s integration=%s[%d] attempts=%d err=%s",
                        self.receiver,
                        name,
                        self.integration.index,
                        attempt,
                        e,
                    )
                last_error = str(e)
                retry_after = e.retry_after or 0.0
            else:
                self.metrics.notification_latency.labels(name).observe(time.monotonic() - start)
                _report_attempt(ctx, name, sent, time.monotonic() - start, None)  # history hook
                self.metrics.notifications.labels(name).inc()
                (log.info if attempt > 1 else log.debug)(
                    "Notify success receiver=%s integration=%s[%d] attempts=%d",
                    self.receiver,
                    name,
                    self.integration.index,
                    attempt,
                )
                return ctx, alerts
            # Exponential backoff with jitter (initial 0.5 s, x1.5, max 60 s), as backoff/v4 does.
            delay = max(interval * random.uniform(0.5, 1.5), min(retry_after, MAX_RETRY_AFTER))
            interval = min(interval * 1.5, 60.0)
            await asyncio.sleep(delay)


class SetNotifiesStage:
    """Records in the notification log what was just sent, once it was sent."""

    def __init__(self, integration: Integration, nflog: NotificationLog, receiver: str) -> None:
        self.integration = integration
        self.nflog = nflog
        self.receiver = receiver

    async def exec(self, ctx: FlushContext, alerts: list[Alert]) -> tuple[FlushContext, list[Alert]]:
        await self.nflog.log(
            ctx.group_key,
            self.receiver,
            self.integration.name,
            self.integration.index,
            ctx.firing,
            ctx.resolved,
        )
        return ctx, alerts
