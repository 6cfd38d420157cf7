"""Aggregation-group timing: group_wait, group_interval, no overlapping flushes, cleanup."""

from __future__ import annotations

import asyncio
import time

import pytest
import yaml
from ampp.config.model import RouteConfig
from ampp.dispatch.dispatcher import Dispatcher
from ampp.dispatch.route import Route, build_route
from ampp.model.alert import Alert
from ampp.model.timefmt import NS, ZERO, now_ns
from ampp.notify.stage import FlushContext
from hypothesis import given
from hypothesis import strategies as st

pytestmark = pytest.mark.unit


class Recorder:
    def __init__(self, delay: float = 0.0) -> None:
        self.flushes: list[tuple[float, str, list[str]]] = []
        self.delay = delay
        self.running = 0
        self.max_running = 0

    async def exec(self, ctx: FlushContext, alerts: list[Alert]) -> tuple[FlushContext, list[Alert]]:
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        self.flushes.append((time.monotonic(), ctx.group_key, [a.labels["alertname"] for a in alerts]))
        await asyncio.sleep(self.delay)
        self.running -= 1
        return ctx, alerts


def route(text: str) -> Route:
    return build_route(RouteConfig.model_validate(yaml.safe_load(text)))


def firing(name: str, **labels: str) -> Alert:
    now = now_ns()
    return Alert({"alertname": name, **labels}, {}, now, ZERO, "", now)


async def test_group_wait_then_group_interval() -> None:
    rec = Recorder()
    d = Dispatcher(route("{receiver: r, group_by: [g], group_wait: 300ms, group_interval: 400ms}"), rec)
    start = time.monotonic()
    d.process(firing("A", g="1"))
    d.process(firing("B", g="1"))
    d.process(firing("C", g="2"))
    await asyncio.sleep(0.5)
    assert sorted(names for _, _, names in rec.flushes) == [["A", "B"], ["C"]]
    assert all(0.28 <= t - start <= 0.6 for t, _, _ in rec.flushes)
    assert {k for _, k, _ in rec.flushes} == {'{}:{g="1"}', '{}:{g="2"}'}
    await asyncio.sleep(0.4)
    assert len(rec.flushes) == 4  # every group again after group_interval
    d.stop()


async def test_old_alert_flushes_at_once() -> None:
    rec = Recorder()
    d = Dispatcher(route("{receiver: r, group_wait: 10s, group_interval: 10s}"), rec)
    old = firing("Old")
    old.starts_at -= 60 * NS
    d.process(old)
    await asyncio.sleep(0.1)
    assert [names for _, _, names in rec.flushes] == [["Old"]]
    d.stop()


async def test_flushes_of_one_group_never_overlap() -> None:
    rec = Recorder(delay=0.35)
    d = Dispatcher(route("{receiver: r, group_wait: 0s, group_interval: 100ms}"), rec)
    d.process(firing("A"))
    await asyncio.sleep(0.8)
    assert rec.max_running == 1
    assert 2 <= len(rec.flushes) <= 3
    d.stop()


async def test_resolved_alerts_leave_the_group_after_a_successful_flush() -> None:
    rec = Recorder()
    d = Dispatcher(route("{receiver: r, group_wait: 0s, group_interval: 100ms}"), rec)
    a = firing("A")
    a.ends_at = now_ns() - NS
    d.process(a)
    await asyncio.sleep(0.05)
    (group,) = d.groups.values()
    assert group.empty()
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
    d = Dispatcher(tree, Recorder())
    for labels in label_sets + label_sets:  # the second pass answers from memory
        got = [r.opts.receiver for r in d.routes(labels)]
        want = [r.opts.receiver for r in tree.match(labels)]
        assert got == want, f"{labels}: routed to {got}, the tree says {want}"
    d.stop()


async def test_remembered_routes_are_bounded() -> None:
    from ampp.dispatch import dispatcher as mod

    d = Dispatcher(route(_TREE), Recorder())
    for i in range(mod.ROUTES_CACHED + 10):
        d.routes({"team": f"t{i}"})
    assert len(d._routes) <= mod.ROUTES_CACHED
    d.stop()
