"""The delivery queue's transactions on SQLite and on a real PostgreSQL: claims, leases, order,
dedup against the notification log, dead letters; and replicas sharing one PostgreSQL.

Each test gets a fresh SQLite folder or PostgreSQL database (scripts/services.sh); "another
replica" is another store instance on the same data, as a second process would have.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest
from ampp.model.alert import Alert
from ampp.model.timefmt import NS, ZERO, now_ns
from ampp.notify.delivery import FlushPolicy, new_delivery
from ampp.notify.stage import FlushContext
from ampp.store.base import Storage
from ampp.store.delivery_common import ClaimAtEnqueue, NewDelivery

from tests.integration.test_storage import Backend
from tests.support.capture import CaptureServer
from tests.support.servers import run_server

pytestmark = pytest.mark.integration

POLICY = FlushPolicy(3600 * NS)


class Hook:
    """The integration the jobs name; these tests claim jobs and never send them."""

    name = "webhook"
    index = 0
    send_resolved = True

    async def notify(self, ctx: FlushContext, alerts: Sequence[Alert]) -> None:
        raise AssertionError("the claim tests never send")


def job(group: str = "g", firing: tuple[str, ...] = ("A",), receiver: str = "hook") -> NewDelivery:
    now = now_ns()
    alerts = [
        Alert({"alertname": n, "ü": "日本"}, {"s": "é"}, now - NS, ZERO, "http://x/?a=1", now) for n in firing
    ]
    ctx = FlushContext(
        f'{{}}:{{g="{group}"}}',
        {"g": group},
        receiver,
        3600,
        now,
        firing=tuple(a.fingerprint for a in alerts),
    )
    return new_delivery(ctx, Hook(), receiver, alerts)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return Backend("sqlite", str(tmp_path / "data"))
    return Backend("postgres", request.getfixturevalue("pg_url"))


async def opened(backend: Backend) -> Storage:
    s = backend.new()
    await s.open()
    return s


async def test_enqueue_claim_complete_round_trip(backend: Backend) -> None:
    s = await opened(backend)
    try:
        j = job()
        [queued] = await s.enqueue_deliveries([j], POLICY, now_ns())
        assert queued.outcome == "queued" and queued.id is not None
        claim = await s.claim_deliveries("r1", 60, 10)
        [d] = claim.jobs
        assert (d.id, d.state, d.attempts, d.claimed_by) == (queued.id, "inflight", 1, "r1")
        assert d.payload == j.payload and d.key == j.key
        assert (d.group_key, d.receiver, d.integration, d.idx) == j.target
        assert d.claimed_until is not None and d.claimed_until > now_ns() + 50 * NS
        entry = POLICY.nflog_entry(j, now_ns())
        await s.complete_delivery(d.id, entry, "sent")
        assert [e.key for e in await s.load_nflog()] == [entry.key]
        done = await s.get_delivery(d.id)
        assert done is not None and (done.state, done.outcome, done.claimed_by) == ("done", "sent", None)
        assert (await s.enqueue_deliveries([job()], POLICY, now_ns()))[0].outcome == "deduplicated"
    finally:
        await s.close()


async def test_a_job_is_claimed_in_the_transaction_that_queues_it(backend: Backend) -> None:
    """The first attempt needs no claim round trip: up to ``limit`` new rows are inserted
    claimed, and only where nothing of their target is in flight (one at a time, in order)."""
    s, other = await opened(backend), await opened(backend)
    try:
        first, second = job("g1"), job("g2")
        results = await s.enqueue_deliveries([first, second], POLICY, now_ns(), ClaimAtEnqueue("r1", 60, 1))
        assert [r.outcome for r in results] == ["queued", "queued"]
        claimed = [r.claimed for r in results if r.claimed is not None]
        assert len(claimed) == 1, "claimed more than the free workers"
        [d] = claimed
        stored = await s.get_delivery(d.id)
        assert stored is not None
        for row in (d, stored):
            assert (row.state, row.attempts, row.claimed_by) == ("inflight", 1, "r1")
            assert row.claimed_until is not None and row.claimed_until > now_ns() + 50 * NS
        assert d.payload is first.payload or d.payload is second.payload, (
            "the job's own payload, not read back"
        )
        assert stored.payload == d.payload and stored.key == d.key
        # The other one waits for a claim; another replica's claim never gets the claimed one.
        [waiting] = (await other.claim_deliveries("r2", 60, 10)).jobs
        assert waiting.id != d.id
        # Something of the target in flight: the next flush of that target is queued, not claimed.
        newer = job("g1" if d.payload is first.payload else "g2", firing=("A", "B"))
        [r] = await s.enqueue_deliveries([newer], POLICY, now_ns(), ClaimAtEnqueue("r1", 60, 10))
        assert (r.outcome, r.claimed) == ("queued", None)
        assert (await s.claim_deliveries("r1", 60, 10)).jobs == []  # it waits behind the one in flight
    finally:
        await asyncio.gather(s.close(), other.close())


async def test_two_claimers_never_claim_the_same_job(backend: Backend) -> None:
    a, b = await opened(backend), await opened(backend)
    try:
        results = await a.enqueue_deliveries([job(f"g{i}") for i in range(40)], POLICY, now_ns())
        ids = {r.id for r in results}
        assert len(ids) == 40

        async def drain(s: Storage, name: str) -> list[int]:
            got: list[int] = []
            while True:
                claim = await s.claim_deliveries(name, 60, 3)
                if not claim.jobs:
                    return got
                got += [d.id for d in claim.jobs]
                await asyncio.sleep(0)

        one, two = await asyncio.gather(drain(a, "r1"), drain(b, "r2"))
        assert not set(one) & set(two)
        assert set(one) | set(two) == ids
    finally:
        await asyncio.gather(a.close(), b.close())


async def test_an_expired_lease_is_claimed_again(backend: Backend) -> None:
    a, b = await opened(backend), await opened(backend)
    try:
        await a.enqueue_deliveries([job()], POLICY, now_ns())
        [d] = (await a.claim_deliveries("dies", 0.3, 10)).jobs
        assert (await b.claim_deliveries("r2", 60, 10)).jobs == []
        await asyncio.sleep(0.4)
        [again] = (await b.claim_deliveries("r2", 60, 10)).jobs
        assert (again.id, again.attempts, again.claimed_by) == (d.id, 2, "r2")
    finally:
        await asyncio.gather(a.close(), b.close())


async def test_one_notification_per_target_at_a_time_in_order(backend: Backend) -> None:
    s = await opened(backend)
    try:
        [first] = await s.enqueue_deliveries([job(firing=("A",))], POLICY, now_ns())
        [d] = (await s.claim_deliveries("r1", 60, 10)).jobs
        [second] = await s.enqueue_deliveries([job(firing=("A", "B"))], POLICY, now_ns())
        assert second.outcome == "queued" and second.superseded == 0  # the first is in flight
        assert (await s.claim_deliveries("r1", 60, 10)).jobs == []  # waits for the first
        await s.complete_delivery(d.id, POLICY.nflog_entry(job(firing=("A",)), now_ns()), "sent")
        [d2] = (await s.claim_deliveries("r1", 60, 10)).jobs
        assert d2.id == second.id
        assert first.id is not None and d2.id > first.id
    finally:
        await s.close()


async def test_a_flush_another_replica_sent_is_not_queued_again(backend: Backend) -> None:
    a, b = await opened(backend), await opened(backend)
    try:
        [queued] = await a.enqueue_deliveries([job()], POLICY, now_ns())
        [d] = (await a.claim_deliveries("r1", 60, 10)).jobs
        # r2 queues the same flush while r1 sends it: nothing new
        assert (await b.enqueue_deliveries([job()], POLICY, now_ns()))[0].outcome == "busy"
        await a.complete_delivery(d.id, POLICY.nflog_entry(job(), now_ns()), "sent")
        # ... and after r1 recorded it: the log in storage says it was sent
        assert (await b.enqueue_deliveries([job()], POLICY, now_ns()))[0].outcome == "deduplicated"
        assert [x.id for x in await b.list_deliveries(None, None, 10)] == [queued.id]
    finally:
        await asyncio.gather(a.close(), b.close())


async def test_retry_dead_letter_redrive_and_listing(backend: Backend) -> None:
    s = await opened(backend)
    try:
        await s.enqueue_deliveries([job("g1"), job("g2", receiver="other")], POLICY, now_ns())
        claimed = (await s.claim_deliveries("r1", 60, 10)).jobs
        assert len(claimed) == 2
        one, two = claimed
        assert await s.retry_delivery(one.id, "503", 0.3, POLICY) == "pending"
        claim = await s.claim_deliveries("r1", 60, 10)
        assert claim.jobs == [] and claim.next_due_in is not None and 0 < claim.next_due_in <= 0.3
        await s.fail_delivery(two.id, "400 bad request")
        assert await s.count_deliveries() == {"pending": 1, "inflight": 0, "dead": 1}
        [dead] = await s.list_deliveries("dead", None, 10)
        assert (dead.id, dead.last_error, dead.receiver) == (two.id, "400 bad request", "other")
        assert await s.list_deliveries(None, "other", 10) == [dead]
        assert [d.id for d in await s.list_deliveries(None, None, 1, before_id=two.id)] == [one.id]
        result = await s.redrive_delivery(two.id)
        assert result.outcome == "redriven" and result.delivery is not None
        assert (result.delivery.state, result.delivery.attempts) == ("pending", 0)
        assert (await s.redrive_delivery(two.id)).outcome == "not_dead"
        assert (await s.redrive_delivery(10_000)).outcome == "not_found"
        await asyncio.sleep(0.35)
        again = {d.id: d.attempts for d in (await s.claim_deliveries("r1", 60, 10)).jobs}
        assert again == {one.id: 2, two.id: 1}
        assert await s.release_deliveries("r1") == 2
        assert await s.count_deliveries() == {"pending": 2, "inflight": 0, "dead": 0}
    finally:
        await s.close()


async def test_done_rows_are_purged_after_retention(backend: Backend) -> None:
    s = await opened(backend)
    try:
        await s.enqueue_deliveries([job()], POLICY, now_ns())
        [d] = (await s.claim_deliveries("r1", 60, 10)).jobs
        await s.complete_delivery(d.id, None, "sent")
        assert await s.purge_deliveries(now_ns() - 3600 * NS) == 0
        await asyncio.sleep(0.01)
        assert await s.purge_deliveries(now_ns()) == 1
        assert await s.list_deliveries(None, None, 10) == []
    finally:
        await s.close()


# -- PostgreSQL: replicas ------------------------------------------------------------------
async def test_postgres_replicas_queueing_one_flush_at_once_make_one_job(pg_url: str) -> None:
    stores = [Backend("postgres", pg_url).new() for _ in range(4)]
    await asyncio.gather(*(s.open() for s in stores))
    try:
        results = await asyncio.gather(*(s.enqueue_deliveries([job()], POLICY, now_ns()) for s in stores))
        outcomes = sorted(r[0].outcome for r in results)
        assert outcomes == ["queued", "refreshed", "refreshed", "refreshed"]
        assert len({r[0].id for r in results}) == 1
    finally:
        await asyncio.gather(*(s.close() for s in stores))


CONFIG = """
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 500ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs: [{{url: "{url}/hook"}}]
"""


def test_postgres_two_engines_sharing_the_queue_send_each_flush_once(pg_url: str, tmp_path: Path) -> None:
    """Two `ampp serve` on one database, every alert posted to both (as Prometheus does): each
    group is notified once, and not again at the following group intervals."""
    with CaptureServer() as hook:
        cfg = CONFIG.format(url=hook.url)
        args = [f"--storage.url={pg_url}"]
        with (
            run_server("ampp", cfg, tmp_path / "a", extra_args=args) as a,
            run_server("ampp", cfg, tmp_path / "b", extra_args=args) as b,
        ):
            alerts = [{"labels": {"alertname": f"Shared{i}"}} for i in range(5)]
            for s in (a, b):
                assert httpx.post(f"{s.url}/api/v2/alerts", json=alerts).status_code == 200
            hook.wait_for(5)
            time.sleep(3)  # three more group intervals on both engines
            listed = httpx.get(f"{a.url}/api/ampp/v1/deliveries", params={"state": "done"}).json()
            absorbed = sum(
                float(line.rsplit(" ", 1)[1])
                for s in (a, b)
                for line in httpx.get(f"{s.url}/metrics").text.splitlines()
                if line.startswith("ampp_delivery_enqueued_total")
                and any(f'outcome="{o}"' in line for o in ("busy", "deduplicated", "refreshed"))
            )
        got = sorted(r.json()["groupLabels"]["alertname"] for r in hook.requests)
        assert got == [f"Shared{i}" for i in range(5)], got
        assert {d["claimedBy"] for d in listed["deliveries"]} == {None}
        assert len(listed["deliveries"]) == 5
        assert absorbed >= 5, "the second engine's flushes never reached the shared queue"
