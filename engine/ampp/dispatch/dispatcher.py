"""The dispatcher: routes every alert into aggregation groups and flushes them on their timers.

Timing follows Alertmanager's aggrGroup exactly: the first flush after group_wait (at once when
an alert arrives whose group_wait is already over), then every group_interval; a flush that is
still running when the next one is due delays it, never overlaps it. After a successful flush
resolved alerts that did not change meanwhile leave the group.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from .. import tracing
from ..model.alert import Alert, sort_alerts
from ..model.labels import labelset_before, labelset_string
from ..model.timefmt import NS, ZERO
from ..notify.stage import FlushContext, Stage
from .clock import Clock, LoopClock, Timer
from .route import Route

log = logging.getLogger("ampp.dispatch")

MIN_TIMEOUT = 10.0  # notify.MinTimeout: the least time a flush gets to finish
ROUTES_CACHED = 4096
"""Distinct label-value combinations whose routes are remembered (then the memory starts over)."""


class FlushDeferred(Exception):
    """Raised by the pipeline when another replica flushes this group (ampp.cluster): the group
    keeps its alerts, since it may be handed this group, except the resolved ones older than
    ``keep_s`` past the group interval (the owner has flushed them by then)."""

    def __init__(self, keep_s: float) -> None:
        super().__init__("another replica flushes this group")
        self.keep_s = keep_s


class AggregationGroup:
    def __init__(
        self,
        route: Route,
        labels: dict[str, str],
        pipeline: Stage,
        loop: asyncio.AbstractEventLoop,
        clock: Clock,
    ) -> None:
        self.route = route
        self.labels = labels
        self.group_key = f"{route.key()}:{labelset_string(labels)}"
        self.alerts: dict[int, Alert] = {}
        self._order: list[int] | None = None
        """The fingerprints in notification order, kept until an alert joins or leaves: a
        2,000-alert group flushed every 5 s would otherwise be sorted anew each time."""
        self.pipeline = pipeline
        self.loop = loop
        self.clock = clock
        self.has_flushed = False
        self.flushing = False
        self.due = False
        self.stopped = False
        self._handle: Timer | None = clock.call_later(route.opts.group_wait, self._fire)
        self._task: asyncio.Task[None] | None = None
        self._batches: list[tracing.Parent] = []
        """The traced batches (ingest spans) that brought alerts since the last flush."""

    def insert(self, alert: Alert) -> None:
        if alert.fingerprint not in self.alerts:
            self._order = None
        self.alerts[alert.fingerprint] = alert
        batch = tracing.current()
        if batch is not None and (not self._batches or self._batches[-1] != batch):
            self._batches.append(batch)
            del self._batches[: -tracing.MAX_BATCHES]
        if not self.has_flushed and alert.starts_at + int(self.route.opts.group_wait * NS) < self.clock.now():
            self._reset(0)

    def sorted_alerts(self) -> list[Alert]:
        """The group's alerts in types.AlertSlice order (an alert's labels never change)."""
        alerts = self.alerts
        if self._order is None:
            self._order = [a.fingerprint for a in sort_alerts(alerts.values())]
        return [alerts[fp] for fp in self._order]

    def _reset(self, delay: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle = self.clock.call_later(delay, self._fire) if not self.stopped else None

    def _fire(self) -> None:
        self._handle = None
        if self.stopped:
            return
        if self.flushing:
            self.due = True  # Go's timer channel holds one tick: flush right after this one
            return
        self._start_flush()

    def _start_flush(self) -> None:
        self.due = False
        self.has_flushed = True
        self._reset(self.route.opts.group_interval)
        self.flushing = True
        self._task = self.loop.create_task(self._flush(self.clock.now()), name=f"flush {self.group_key}")

    async def _flush(self, now: int) -> None:
        try:
            if not self.alerts:
                return
            alerts = []
            for a in self.sorted_alerts():
                c = a.copy()
                if not c.resolved_at(now):
                    c.ends_at = ZERO  # an alert must not resolve by time passing in flight
                alerts.append(c)
            opts = self.route.opts
            ctx = FlushContext(
                group_key=self.group_key,
                group_labels=self.labels,
                receiver=opts.receiver,
                repeat_interval=opts.repeat_interval,
                now=now,
                mute_time_intervals=opts.mute_time_intervals,
                active_time_intervals=opts.active_time_intervals,
            )
            timeout = max(opts.group_interval, MIN_TIMEOUT)
            batches, self._batches = self._batches, []
            attributes: tracing.Attributes = {
                "ampp.receiver": opts.receiver,
                "ampp.group_key": self.group_key,
                "ampp.alerts": len(alerts),
            }
            try:
                async with asyncio.timeout(timeout):
                    with tracing.within("dispatch", batches, attributes):
                        await self.pipeline.exec(ctx, alerts)
            except asyncio.CancelledError:
                raise
            except FlushDeferred as d:  # only what the owner has flushed by now leaves the group
                check = now - int((opts.group_interval + d.keep_s) * NS)
            except Exception as e:  # a failed flush is retried at the next interval
                log.error("Notify for alerts failed num_alerts=%d err=%s", len(alerts), e or type(e).__name__)
                return
            else:
                check = self.clock.now()
            for a in alerts:
                got = self.alerts.get(a.fingerprint)
                if got is not None and a.resolved_at(check) and got.updated_at == a.updated_at:
                    del self.alerts[a.fingerprint]
                    self._order = None
        finally:
            self.flushing = False
            if self.due and not self.stopped:
                self._start_flush()

    def flush_soon(self) -> None:
        """Flush now if the group has flushed before (its group_wait is over): a replica that
        takes the group over from a dead one does not wait for its next interval."""
        if self.has_flushed and not self.stopped:
            self._reset(0)

    def empty(self) -> bool:
        return not self.alerts

    def stop(self) -> None:
        self.stopped = True
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._task is not None and not self._task.done():
            self._task.cancel()


@dataclass
class AlertGroupView:
    labels: dict[str, str]
    receiver: str
    alerts: list[Alert]


class Dispatcher:
    def __init__(self, route: Route, pipeline: Stage, clock: Clock | None = None) -> None:
        self.route = route
        self.pipeline = pipeline
        self.groups: dict[tuple[int, frozenset[tuple[str, str]]], AggregationGroup] = {}
        self._listed: list[AggregationGroup] | None = None
        """The groups in the API's order, kept until one is made or dropped."""
        self.loop = asyncio.get_running_loop()
        self.clock = clock or LoopClock(self.loop)
        names: set[str] = set()
        route.walk(lambda r: names.update(m.name for m in r.matchers))
        self._matched_names = sorted(names)
        self._routes: dict[tuple[str, ...], list[Route]] = {}
        self._maintenance: asyncio.Task[None] | None = None

    def start(self, maintenance_interval: float = 30.0) -> None:
        self._maintenance = self.loop.create_task(self._maintain(maintenance_interval))

    def routes(self, labels: dict[str, str]) -> list[Route]:
        """The routes an alert goes to, remembered by the values of the label names the tree's
        matchers read: matching depends on nothing else (a missing label reads as "")."""
        key = tuple([labels.get(name, "") for name in self._matched_names])
        found = self._routes.get(key)
        if found is None:
            found = self.route.match(labels)
            if len(self._routes) >= ROUTES_CACHED:
                self._routes.clear()
            self._routes[key] = found
        return found

    def process(self, alert: Alert) -> None:
        """Route one alert (the alert store's subscriber callback)."""
        for route in self.routes(alert.labels):
            labels = route.group_labels(alert.labels)
            key = (id(route), frozenset(labels.items()))
            group = self.groups.get(key)
            if group is None:
                group = AggregationGroup(route, labels, self.pipeline, self.loop, self.clock)
                self.groups[key] = group
                self._listed = None
            group.insert(alert)

    async def _maintain(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            for key in [k for k, g in self.groups.items() if g.empty() and not g.flushing]:
                self.groups.pop(key).stop()
                self._listed = None

    def stop(self) -> None:
        if self._maintenance is not None:
            self._maintenance.cancel()
        for g in self.groups.values():
            g.stop()
        self.groups.clear()
        self._listed = None

    def alert_groups(
        self, route_filter: Callable[[Route], bool], alert_filter: Callable[[Alert, int], bool]
    ) -> tuple[list[AlertGroupView], dict[int, list[str]]]:
        """Dispatcher.Groups: the groups and, per alert, every receiver it is grouped for."""
        now = self.clock.now()
        if self._listed is None:
            self._listed = sorted(self.groups.values(), key=functools.cmp_to_key(_group_cmp))
        views: list[AlertGroupView] = []
        receivers: dict[int, list[str]] = {}
        for g in self._listed:
            if not route_filter(g.route):
                continue
            receiver = g.route.opts.receiver
            alerts = [a for a in g.sorted_alerts() if alert_filter(a, now)]
            for a in alerts:
                receivers.setdefault(a.fingerprint, []).append(receiver)
            if alerts:
                views.append(AlertGroupView(g.labels, receiver, alerts))
        for r in receivers.values():
            if len(r) > 1:
                r.sort()
        return views, receivers


def _group_cmp(x: AggregationGroup, y: AggregationGroup) -> int:
    """The API's order of groups: by label set (LabelSet.Before), then by receiver."""
    if x.labels == y.labels:
        a, b = x.route.opts.receiver, y.route.opts.receiver
        return (a > b) - (a < b)
    return -1 if labelset_before(x.labels, y.labels) else 1
