"""The pipeline stages, one concept each, as in Alertmanager's notify package."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Protocol

from ..config.settings import NotifySettings
from ..config.timeinterval import TimeIntervalSpec, intervals_contain
from ..model.alert import Alert
from ..model.timefmt import NS, now_ns
from ..store.delivery_common import EnqueueResult, NewDelivery
from .attempt import Attempts, Target, alerts_to_send
from .delivery import as_decoded, new_delivery
from .nflog import NotificationLog, needs_update
from .stage import FlushContext, Integration, NotifyError, Stage

log = logging.getLogger("ampp.notify")


class Muter(Protocol):
    def mutes(self, labels: dict[str, str], fp: int | None = None) -> bool: ...


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
        return ctx, alerts if self._needed(ctx, set(firing), set(resolved), now) else []

    def needed(self, ctx: FlushContext, alerts: Sequence[Alert]) -> bool:
        """Whether :meth:`exec` would let this flush through."""
        now = self.now()
        firing = {a.fingerprint for a in alerts if not a.resolved_at(now)}
        return self._needed(ctx, firing, {a.fingerprint for a in alerts} - firing, now)

    def _needed(self, ctx: FlushContext, firing: set[int], resolved: set[int], now: int) -> bool:
        entry = self.nflog.query(ctx.group_key, self.receiver, self.integration.name, self.integration.index)
        send_resolved = self.integration.send_resolved
        return needs_update(entry, firing, resolved, send_resolved, int(ctx.repeat_interval * NS), now)


class WhenNeededStage:
    """Runs ``stage`` only for a flush one of the receiver's integrations will send (its
    DedupStage would let it through): the enrichment spends no tokens on repeats nobody gets."""

    def __init__(self, stage: Stage, dedups: Sequence[DedupStage]) -> None:
        self.stage = stage
        self.dedups = list(dedups)

    async def exec(self, ctx: FlushContext, alerts: list[Alert]) -> tuple[FlushContext, list[Alert]]:
        if any(d.needed(ctx, alerts) for d in self.dedups):
            return await self.stage.exec(ctx, alerts)
        return ctx, alerts


class Enqueuer(Protocol):
    """The durable delivery queue, as the pipeline sees it (ampp.notify.queue.DeliveryQueue)."""

    async def enqueue(
        self, job: NewDelivery, flush: tuple[FlushContext, list[Alert]] | None = None
    ) -> EnqueueResult: ...


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
        job = new_delivery(ctx, self.integration, self.receiver, alerts)
        try:
            await self.queue.enqueue(job, as_decoded(ctx, alerts))
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
    """Sends inline, retrying until it is sent or given up: the delivery queue's attempts and
    backoff (ampp.notify.attempt), without the queue's durability."""

    def __init__(
        self, integration: Integration, receiver: str, attempts: Attempts, settings: NotifySettings
    ) -> None:
        self.integration = integration
        self.receiver = receiver
        self.attempts = attempts
        self.settings = settings

    async def exec(self, ctx: FlushContext, alerts: list[Alert]) -> tuple[FlushContext, list[Alert]]:
        sent = alerts_to_send(self.integration, ctx, alerts)
        if not sent:
            return ctx, alerts
        target = Target.of(self.receiver, self.integration)
        attempt, last_error = 0, None
        while True:
            attempt += 1
            error = await self.attempts.send(self.integration, ctx, sent, self.settings, attempt)
            if error is None:
                self.attempts.succeeded(target, attempt)
                return ctx, alerts
            failure = self.attempts.failed(error, attempt, self.settings, target, last_error)
            if failure.given_up is not None:
                raise NotifyError(failure.reason, retry=False)
            last_error = str(error)
            await asyncio.sleep(failure.delay)


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
