"""The enqueue decision (store.delivery_common.plan_enqueue) on its own, without a database:
each backend applies exactly this, so its rules are checked once here (the backends'
application of it: test_delivery_queue for SQLite, test_delivery_claims for PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from ampp.model.alert import Alert
from ampp.model.timefmt import NS, ZERO
from ampp.notify.delivery import FlushPolicy, new_delivery
from ampp.notify.stage import FlushContext
from ampp.store.delivery_common import LiveRow, NewDelivery, merge_into_newer, plan_enqueue

pytestmark = pytest.mark.unit

NOW = 1_700_000_000 * NS
POLICY = FlushPolicy(3600 * NS)


@dataclass
class Target:
    """The integration a flush is for (what new_delivery reads of one)."""

    send_resolved: bool = True
    name: str = "webhook"
    index: int = 0


def alert(name: str, resolved: bool = False) -> Alert:
    return Alert({"alertname": name}, {}, NOW - 60 * NS, NOW - NS if resolved else ZERO, "", NOW)


def flush(
    firing: Sequence[str] = ("A",), resolved: Sequence[str] = (), send_resolved: bool = True
) -> NewDelivery:
    alerts = [alert(n) for n in firing] + [alert(n, resolved=True) for n in resolved]
    ctx = FlushContext(
        "{}:{}",
        {},
        "r",
        repeat_interval=3600,
        now=NOW,
        firing=tuple(a.fingerprint for a in alerts[: len(firing)]),
        resolved=tuple(a.fingerprint for a in alerts[len(firing) :]),
    )
    return new_delivery(ctx, Target(send_resolved), "r", alerts)  # type: ignore[arg-type]


def pending(id_: int, job: NewDelivery) -> LiveRow:
    return LiveRow(id_, job.key, "pending", job.payload)


def inflight(id_: int, job: NewDelivery) -> LiveRow:
    return LiveRow(id_, job.key, "inflight", None)


def names(job: NewDelivery) -> list[str]:
    return [a["labels"]["alertname"] for a in job.payload["alerts"]]


def test_a_new_flush_is_queued() -> None:
    plan = plan_enqueue(flush(), [], None, POLICY, NOW)
    assert (plan.outcome, plan.insert, plan.supersede) == ("queued", ("pending", None), ())
    assert plan.result(7).id == 7


def test_a_flush_the_log_says_was_sent_is_deduplicated() -> None:
    job = flush()
    logged = POLICY.nflog_entry(job, NOW - NS)
    plan = plan_enqueue(job, [], logged, POLICY, NOW)
    assert (plan.outcome, plan.insert, plan.entry) == ("deduplicated", None, logged)


def test_the_same_content_waiting_is_refreshed_and_older_content_superseded() -> None:
    older, same = flush(["A"]), flush(["A", "B"])
    plan = plan_enqueue(flush(["A", "B"]), [pending(1, older), pending(2, same)], None, POLICY, NOW)
    assert (plan.outcome, plan.id, plan.supersede, plan.insert) == ("refreshed", 2, (1,), None)
    assert plan.result().superseded == 1


def test_the_same_content_being_sent_is_busy_and_supersedes_nothing() -> None:
    job = flush()
    plan = plan_enqueue(flush(), [inflight(1, job), pending(2, flush(["B"]))], None, POLICY, NOW)
    assert (plan.outcome, plan.id, plan.supersede) == ("busy", 1, ())


def test_newer_content_supersedes_what_waits_and_carries_its_resolved_alerts() -> None:
    waiting = flush(["A"], resolved=["B"])
    plan = plan_enqueue(
        flush(["A", "C"]), [inflight(1, flush(["Z"])), pending(2, waiting)], None, POLICY, NOW
    )
    assert (plan.outcome, plan.supersede) == ("queued", (2,))
    assert sorted(names(plan.job)) == ["A", "B", "C"]  # B resolved while waiting: still told
    assert plan.job.key != flush(["A", "C"]).key


def test_nothing_to_send_is_recorded_and_supersedes_every_waiting_row() -> None:
    job = flush([], resolved=["A"], send_resolved=False)
    logged = POLICY.nflog_entry(flush(["A"]), NOW - NS)  # the receiver heard A fire
    plan = plan_enqueue(job, [pending(3, flush(["A"])), pending(4, flush(["A", "B"]))], logged, POLICY, NOW)
    assert (plan.outcome, plan.insert, plan.supersede) == ("recorded", ("done", "recorded"), (3, 4))
    assert plan.entry == POLICY.nflog_entry(plan.job, NOW)


def test_a_failed_row_is_merged_into_the_newer_one() -> None:
    failed, newer = flush(["A"], resolved=["B"]), flush(["A"])
    merged = merge_into_newer(failed.payload, newer.payload, POLICY)
    assert sorted(names(merged)) == ["A", "B"] and merged.resolved == failed.resolved
