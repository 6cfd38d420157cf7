"""Cluster ownership (ampp.cluster.ownership) and the dispatcher's side of it (a deferred
flush keeps the group's alerts; a taken-over group flushes at once)."""

from __future__ import annotations

import collections

import pytest
import yaml
from ampp.cluster import Timing
from ampp.cluster.ownership import eligible, next_change, owner
from ampp.config.model import RouteConfig
from ampp.dispatch.dispatcher import Dispatcher, FlushDeferred
from ampp.dispatch.route import build_route
from ampp.model.alert import Alert
from ampp.model.timefmt import NS, ZERO
from ampp.notify.stage import FlushContext
from ampp.store.postgres.cluster import MemberRow

from tests.support.clock import FakeClock

pytestmark = pytest.mark.unit

S = 1_000_000  # microseconds
T = Timing(heartbeat=1.0, timeout=0.5)


def row(name: str, started: float, beat: float) -> MemberRow:
    return MemberRow(name, f"{name}:9094", "run", int(started * S), int(beat * S))


def test_the_timings_leave_no_overlap() -> None:
    """A replica stops flushing (fence) an interval and a timeout before anyone may count it
    dead; a new run waits until every live replica has read its row."""
    assert T.fence == 1.5 and T.dead_after == 3.0 and T.settle == 3.0
    assert T.dead_after >= T.fence + T.heartbeat + T.timeout


def test_eligible_from_settled_until_the_heartbeat_runs_out() -> None:
    rows = [row("a", 0, 100), row("b", 99, 100), row("c", 0, 96)]
    assert eligible(rows, 100 * S, T) == {"a"}  # b is settling, c's heartbeat is 4 s old
    assert eligible(rows, 102 * S, T) == {"a", "b"}
    assert eligible(rows, 103 * S, T) == set()  # a and b beat last at 100
    assert next_change(rows, 100 * S, T) == 102 * S
    assert next_change(rows, 103 * S, T) is None


def test_rendezvous_moves_only_the_dead_members_groups() -> None:
    keys = [f'{{}}:{{alertname="A{i}"}}' for i in range(3000)]
    three = {k: owner(k, frozenset({"a", "b", "c"})) for k in keys}
    share = collections.Counter(three.values())
    assert min(share.values()) > 900, share  # spread evenly
    two = {k: owner(k, frozenset({"a", "b"})) for k in keys}
    assert all(two[k] == three[k] for k in keys if three[k] != "c")
    assert owner(keys[0], frozenset()) is None
    # The same answer whatever the order the members are given in, in every process.
    assert owner(keys[0], ["c", "a", "b"]) == owner(keys[0], ["a", "b", "c"]) == three[keys[0]]


class Deferring:
    """A pipeline that another replica owns, until ``owned``."""

    def __init__(self) -> None:
        self.owned = False
        self.flushed: list[list[str]] = []

    async def exec(self, ctx: FlushContext, alerts: list[Alert]) -> tuple[FlushContext, list[Alert]]:
        if not self.owned:
            raise FlushDeferred(2.0)
        self.flushed.append([a.labels["alertname"] + ("-" if a.ends_at != ZERO else "") for a in alerts])
        return ctx, alerts


async def test_a_deferred_flush_keeps_the_alerts_until_the_group_is_taken_over() -> None:
    clock = FakeClock()
    pipeline = Deferring()
    d = Dispatcher(
        build_route(
            RouteConfig.model_validate(yaml.safe_load("{receiver: r, group_wait: 1s, group_interval: 10s}"))
        ),
        pipeline,
        clock,
    )
    now = clock.now()
    d.process(Alert({"alertname": "A"}, {}, now, ZERO, "", now))
    d.process(Alert({"alertname": "B"}, {}, now, now + NS, "", now))  # resolves in 1 s
    await clock.advance(1)
    [group] = d.groups.values()
    assert len(group.alerts) == 2 and pipeline.flushed == []
    await clock.advance(10)  # B resolved 10 s ago: kept (group interval + 2 s not over)
    assert len(group.alerts) == 2
    pipeline.owned = True
    group.flush_soon()  # taken over: flushed at once, not at the next interval
    await clock.advance(0)
    assert pipeline.flushed == [["A", "B-"]]
    pipeline.owned = False
    d.process(Alert({"alertname": "C"}, {}, clock.now(), clock.now() + NS, "", clock.now()))
    await clock.advance(10)
    await clock.advance(10)
    await clock.advance(10)  # C resolved 29 s ago: the owner has flushed it long since
    assert [a.labels["alertname"] for a in group.alerts.values()] == ["A"]
    d.stop()
