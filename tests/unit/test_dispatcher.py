"""Aggregation-group timing: group_wait, group_interval, no overlapping flushes, cleanup.

The dispatcher runs on a FakeClock: time moves only by ``clock.advance``, so each flush is
checked at the instant Alertmanager's timers give it, not within a window of wall-clock time.
"""

from __future__ import annotations

import pytest
import yaml
from ampp.config.model import RouteConfig
from ampp.dispatch.dispatcher import Dispatcher
from ampp.dispatch.route import Route, build_route
from ampp.model.alert import Alert
from ampp.model.timefmt import NS, ZERO
from ampp.notify.stage import FlushContext
from hypothesis import given
from hypothesis import strategies as st

from tests.support.clock import FakeClock

pytestmark = pytest.mark.unit

MS = NS // 1000


class Recorder:
    """The pipeline: records each flush (its instant relative to the clock's start, group key,
    alert names) and takes ``delay`` seconds of the clock's time to finish."""

    def __init__(self, clock: FakeClock, delay: float = 0.0) -> None:
        self.clock = clock
        self.start = clock.now()
        self.flushes: list[tuple[int, str, list[str]]] = []
        self.delay = delay
        self.running = 0
        self.max_running = 0

    async def exec(self, ctx: FlushContext, alerts: list[Alert]) -> tuple[FlushContext, list[Alert]]:
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        self.flushes.append(
            ((ctx.now - self.start) // MS, ctx.group_key, [a.labels["alertname"] for a in alerts])
        )
        if self.delay:
            await self.clock.sleep(self.delay)
        self.running -= 1
        return ctx, alerts

    def at_ms(self) -> list[int]:
        return [t for t, _, _ in self.flushes]


def route(text: str) -> Route:
    return build_route(RouteConfig.model_validate(yaml.safe_load(text)))


def firing(clock: FakeClock, name: str, **labels: str) -> Alert:
    now = clock.now()
    return Alert({"alertname": name, **labels}, {}, now, ZERO, "", now)


async def test_group_wait_then_group_interval() -> None:
    clock = FakeClock()
    rec = Recorder(clock)
    d = Dispatcher(
        route("{receiver: r, group_by: [g], group_wait: 300ms, group_interval: 400ms}"), rec, clock
    )
    d.process(firing(clock, "A", g="1"))
    d.process(firing(clock, "B", g="1"))
    d.process(firing(clock, "C", g="2"))
    await clock.advance(0.299)
    assert rec.flushes == []
    await clock.advance(0.001)
    assert sorted((t, k, names) for t, k, names in rec.flushes) == [
        (300, '{}:{g="1"}', ["A", "B"]),
        (300, '{}:{g="2"}', ["C"]),
    ]
    await clock.advance(0.399)
    assert len(rec.flushes) == 2
    await clock.advance(0.001)
    assert rec.at_ms() == [300, 300, 700, 700]  # every group again after group_interval
    d.stop()


async def test_an_alert_older_than_group_wait_flushes_at_once() -> None:
    clock = FakeClock()
    rec = Recorder(clock)
    d = Dispatcher(route("{receiver: r, group_wait: 10s, group_interval: 10s}"), rec, clock)
    old = firing(clock, "Old")
    old.starts_at -= 60 * NS
    d.process(old)
    await clock.advance(0)
    assert rec.flushes == [(0, "{}:{}", ["Old"])]
    d.stop()


async def test_flushes_of_one_group_never_overlap() -> None:
    """A flush still running when the next is due delays it (Go's timer channel holds one tick),
    and the group interval counts from each flush's start."""
    clock = FakeClock()
    rec = Recorder(clock, delay=0.35)
    d = Dispatcher(route("{receiver: r, group_wait: 0s, group_interval: 100ms}"), rec, clock)
    d.process(firing(clock, "A"))
    await clock.advance(0.8)
    assert rec.max_running == 1
    assert rec.at_ms() == [0, 350, 700]
    d.stop()


async def test_resolved_alerts_leave_the_group_after_a_successful_flush() -> None:
    clock = FakeClock()
    rec = Recorder(clock)
    d = Dispatcher(route("{receiver: r, group_wait: 0s, group_interval: 100ms}"), rec, clock)
    a = firing(clock, "A")
    a.ends_at = clock.now() - NS
    d.process(a)
    await clock.advance(0)
    (group,) = d.groups.values()
    assert rec.flushes == [(0, "{}:{}", ["A"])]
    assert group.empty()
    d.stop()


async def test_a_flush_lists_the_alerts_in_alertmanagers_order_as_they_join_and_leave() -> None:
    """The group keeps its notification order (types.AlertSlice: job, instance, labels) between
    flushes and redoes it when an alert joins or leaves; an update keeps its place."""
    clock = FakeClock()
    rec = Recorder(clock)
    d = Dispatcher(route("{receiver: r, group_wait: 0s, group_interval: 100ms}"), rec, clock)
    for name, instance in (("B", "h2"), ("C", "h3")):
        d.process(firing(clock, name, job="node", instance=instance))
    await clock.advance(0)
    d.process(firing(clock, "A", job="node", instance="h1"))  # joins: sorts first
    gone = firing(clock, "C", job="node", instance="h3")
    gone.ends_at = clock.now() + 50 * MS  # resolves before the next flush, then leaves
    d.process(gone)
    await clock.advance(0.1)
    d.process(firing(clock, "B", job="node", instance="h2"))  # an update: same place
    d.process(firing(clock, "Z", job="api"))  # joins: job api sorts before node
    await clock.advance(0.1)
    assert [names for _, _, names in rec.flushes] == [["B", "C"], ["A", "B", "C"], ["Z", "A", "B"]]
    d.stop()


_TREE = """
receiver: default
routes:
  - matchers: ['team="a"', 'severity=~"crit.*"']
    receiver: a-crit
    continue: true
  - matchers: ['team="a"']
    receiver: a
    routes:
      - matchers: ['env!="prod"']
        receiver: a-nonprod
  - matchers: ['team=~"|b"', 'env=""']
    receiver: b-or-none
"""


@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["team", "severity", "env", "instance"]),
            st.sampled_from(["", "a", "b", "prod", "critical", "crit", "x"]),
            max_size=4,
        ),
        min_size=1,
        max_size=40,
    )
)
async def test_remembered_routes_are_the_trees_own_answer(label_sets: list[dict[str, str]]) -> None:
    tree = route(_TREE)
    d = Dispatcher(tree, Recorder(FakeClock()))
    for labels in label_sets + label_sets:  # the second pass answers from memory
        got = [r.opts.receiver for r in d.routes(labels)]
        want = [r.opts.receiver for r in tree.match(labels)]
        assert got == want, f"{labels}: routed to {got}, the tree says {want}"
    d.stop()


async def test_remembered_routes_are_bounded() -> None:
    from ampp.dispatch import dispatcher as mod

    d = Dispatcher(route(_TREE), Recorder(FakeClock()))
    for i in range(mod.ROUTES_CACHED + 10):
        d.routes({"team": f"t{i}"})
    assert len(d._routes) <= mod.ROUTES_CACHED
    d.stop()
