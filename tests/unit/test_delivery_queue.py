"""The durable delivery queue against SQLite: backoff, retries, dead letters, supersede, redrive.

A scripted integration stands in for the vendor; the queue, its policy and the SQLite store
are the real ones (PostgreSQL and several replicas: tests/integration/test_delivery_claims.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ampp.config.settings import NotifySettings
from ampp.metrics import Metrics
from ampp.model.alert import Alert
from ampp.model.timefmt import NS, ZERO, now_ns
from ampp.notify.attempt import Attempts, backoff_delay
from ampp.notify.delivery import FlushPolicy, as_decoded, decode, new_delivery
from ampp.notify.nflog import NotificationLog
from ampp.notify.queue import DeliveryQueue
from ampp.notify.stage import FlushContext, MultiStage, NotifyError
from ampp.notify.stages import EnqueueStage, RetryStage
from ampp.store.delivery_common import Delivery, EnqueueResult, NewDelivery
from ampp.store.sqlite.storage import SQLiteStorage

from tests.support.eventually import eventually_async

pytestmark = pytest.mark.unit

GROUP = '{}:{alertname="A"}'


def settings(**over: Any) -> NotifySettings:
    base: dict[str, Any] = {
        "initial_backoff": "10ms",
        "max_backoff": "50ms",
        "poll_interval": "50ms",
        "max_attempts": 4,
        "attempt_timeout": "2s",
    }
    return NotifySettings.model_validate({**base, **over})


@dataclass
class Hook:
    """A scripted integration: each call pops the next outcome (None: success)."""

    index: int = 0
    resolved: bool = True
    outcomes: list[NotifyError | None] = field(default_factory=list)
    fail_always: NotifyError | None = None
    gate: asyncio.Event | None = None
    calls: list[tuple[float, FlushContext, list[Alert]]] = field(default_factory=list)
    name: str = "webhook"

    @property
    def send_resolved(self) -> bool:
        return self.resolved

    async def notify(self, ctx: FlushContext, alerts: Sequence[Alert]) -> None:
        self.calls.append((time.monotonic(), ctx, list(alerts)))
        if self.gate is not None:
            await self.gate.wait()
        if self.outcomes:
            outcome = self.outcomes.pop(0)
            if outcome is not None:
                raise outcome
            return
        if self.fail_always is not None:
            raise self.fail_always

    def names(self, call: int) -> list[str]:
        return [a.labels["alertname"] for a in self.calls[call][2]]


@dataclass
class Env:
    storage: SQLiteStorage
    queue: DeliveryQueue
    hook: Hook
    metrics: Metrics
    nflog: NotificationLog

    async def row(self, id_: int) -> Delivery:
        d = await self.storage.get_delivery(id_)
        assert d is not None
        return d


def alert(name: str, resolved: bool = False) -> Alert:
    now = now_ns()
    return Alert(
        {"alertname": name}, {"summary": f"{name} ü"}, now - 60 * NS, now - NS if resolved else ZERO, "", now
    )


def job(
    hook: Hook, firing: Sequence[str] = ("A",), resolved: Sequence[str] = (), receiver: str = "r"
) -> NewDelivery:
    alerts = [alert(n) for n in firing] + [alert(n, resolved=True) for n in resolved]
    ctx = FlushContext(
        GROUP,
        {"alertname": "A"},
        receiver,
        repeat_interval=3600,
        now=now_ns(),
        firing=tuple(a.fingerprint for a in alerts[: len(firing)]),
        resolved=tuple(a.fingerprint for a in alerts[len(firing) :]),
    )
    return new_delivery(ctx, hook, receiver, alerts)


async def make_env(path: Path, hook: Hook, s: NotifySettings) -> Env:
    storage = SQLiteStorage(str(path))
    await storage.open()
    metrics = Metrics()
    nflog = NotificationLog(storage, 3600, metrics)
    queue = DeliveryQueue(storage, nflog, Attempts(metrics, rand=lambda: 0.5), "test", s)
    queue.configure(s, {"r": [hook]})
    await queue.start()
    return Env(storage, queue, hook, metrics, nflog)


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    e = await make_env(tmp_path, Hook(), settings())
    yield e
    await e.queue.stop()
    await e.storage.close()


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


# -- backoff -------------------------------------------------------------------------------
def test_backoff_is_alertmanagers_with_jitter_and_retry_after() -> None:
    s = NotifySettings()
    mid = [round(backoff_delay(n, None, s, lambda: 0.5), 4) for n in range(1, 6)]
    assert mid == [0.5, 0.75, 1.125, 1.6875, 2.5312]
    assert backoff_delay(30, None, s, lambda: 0.5) == 60  # capped
    assert backoff_delay(1, None, s, lambda: 0.0) == 0.25  # -50 %
    assert backoff_delay(1, None, s, lambda: 1.0) == 0.75  # +50 %
    assert backoff_delay(1, 10, s, lambda: 0.5) == 10  # Retry-After honoured
    assert backoff_delay(1, 3600, s, lambda: 0.5) == 300  # ... up to five minutes
    assert backoff_delay(30, 1, s, lambda: 0.5) == 60  # never sooner than the backoff


def test_payload_round_trips_what_the_worker_renders() -> None:
    j = job(Hook(), firing=["A", "B"], resolved=["C"])
    ctx, alerts = decode(j.payload)
    assert (ctx.group_key, ctx.receiver, ctx.repeat_interval) == (GROUP, "r", 3600)
    assert [a.labels["alertname"] for a in alerts] == ["A", "B", "C"]
    assert alerts[0].ends_at == ZERO and alerts[2].resolved_at(ctx.now)
    assert alerts[0].annotations == {"summary": "A ü"}
    assert set(ctx.firing) == set(j.firing) and set(ctx.resolved) == set(j.resolved)
    assert FlushPolicy(0).parse(j.payload) == j


def test_a_flush_sent_from_memory_is_what_its_payload_decodes_to() -> None:
    """as_decoded (a job claimed as it is queued) gives the worker what decode gives from the
    payload: the context (enrichment included, by the flush's alerts) and the alerts."""
    alerts = [alert("A"), alert("B"), alert("C", resolved=True)]
    for enrichment in (None, {alerts[0].fingerprint: {"summary": "disk"}, 12345: {"summary": "other"}}):
        ctx = FlushContext(
            GROUP, {"alertname": "A"}, "r", repeat_interval=3600, now=now_ns(),
            firing=(alerts[0].fingerprint, alerts[1].fingerprint), resolved=(alerts[2].fingerprint,),
            enrichment=enrichment,
        )  # fmt: skip
        (mem_ctx, mem_alerts), (ctx2, alerts2) = (
            as_decoded(ctx, alerts),
            decode(new_delivery(ctx, Hook(), "r", alerts).payload),
        )
        assert mem_ctx == ctx2
        assert [(a.fingerprint, a.labels, a.annotations, a.starts_at, a.ends_at) for a in mem_alerts] == [
            (a.fingerprint, a.labels, a.annotations, a.starts_at, a.ends_at) for a in alerts2
        ]


def test_merge_carries_resolved_alerts_only_the_older_flush_holds() -> None:
    policy = FlushPolicy(0)
    old = job(Hook(), firing=["A"], resolved=["B"])
    new = job(Hook(), firing=["A", "C"])
    merged = policy.merge(new, [old.payload])
    assert merged.firing == new.firing
    assert merged.resolved == old.resolved
    assert merged.key not in (old.key, new.key)
    assert [a["labels"]["alertname"] for a in merged.payload["alerts"]] == ["A", "B", "C"]
    assert policy.merge(old, [old.payload]) == old  # nothing to carry
    refired = job(Hook(), firing=["A", "B"])
    assert policy.merge(refired, [old.payload]) == refired  # B fires again: not resolved


# -- the queue -----------------------------------------------------------------------------
async def test_a_notification_is_sent_and_logged_in_one_step(env: Env) -> None:
    result = await env.queue.enqueue(job(env.hook, firing=["A", "B"]))
    assert result.outcome == "queued" and result.id is not None
    await eventually_async(lambda: len(env.hook.calls) == 1)
    await eventually_async(lambda: _state(env, result.id or 0, "done"))
    d = await env.row(result.id)
    assert (d.state, d.outcome, d.attempts) == ("done", "sent", 1)
    [entry] = await env.storage.load_nflog()
    assert entry.key == (GROUP, "r", "webhook", 0)
    assert entry.firing == frozenset(a.fingerprint for a in env.hook.calls[0][2])
    assert env.nflog.query(*entry.key) is not None
    assert sample(env.metrics, "alertmanager_notifications_total", integration="webhook") == 1


async def test_a_flush_claimed_as_it_is_queued_is_sent_from_memory(env: Env) -> None:
    """With a worker free, the job is claimed in its enqueue transaction and its first attempt
    renders the flush's own alerts: no claim round trip, no payload decoded. A job that waits
    (its target busy) is claimed and decoded as before."""
    gate = env.hook.gate = asyncio.Event()
    alerts = [alert("A"), alert("B")]
    ctx = FlushContext(
        GROUP, {"alertname": "A"}, "r", 3600, now_ns(), firing=tuple(a.fingerprint for a in alerts)
    )
    result = await env.queue.enqueue(new_delivery(ctx, env.hook, "r", alerts), as_decoded(ctx, alerts))
    assert result.claimed is not None and result.claimed.id == result.id
    assert (await env.row(result.claimed.id)).state == "inflight"
    await eventually_async(lambda: len(env.hook.calls) == 1)
    sent_ctx, sent = env.hook.calls[0][1:]
    assert all(x is y for x, y in zip(sent, alerts, strict=True)), "the alerts were decoded again"
    assert sent_ctx == decode(result.claimed.payload)[0]
    later = [alert("A"), alert("C")]
    ctx2 = FlushContext(
        GROUP, {"alertname": "A"}, "r", 3600, now_ns(), firing=tuple(a.fingerprint for a in later)
    )
    waiting = await env.queue.enqueue(new_delivery(ctx2, env.hook, "r", later), as_decoded(ctx2, later))
    assert (waiting.outcome, waiting.claimed) == ("queued", None)  # the first one is in flight
    gate.set()
    await eventually_async(lambda: len(env.hook.calls) == 2)
    assert [a.labels for a in env.hook.calls[1][2]] == [a.labels for a in later]
    assert not any(x is y for x, y in zip(env.hook.calls[1][2], later, strict=True))
    await eventually_async(lambda: _state(env, waiting.id or 0, "done"))


async def _state(env: Env, id_: int, state: str) -> bool:
    return (await env.row(id_)).state == state


async def test_jobs_queued_together_are_committed_a_few_at_a_time(env: Env) -> None:
    """A wave of flushes is queued in small transactions, so that the alert commits waiting
    for the same database thread get in between; every job is queued and sent all the same."""
    from ampp.notify.queue import ENQUEUE_CHUNK

    sizes: list[int] = []
    enqueue = env.storage.enqueue_deliveries

    async def recording(jobs: Sequence[NewDelivery], *args: Any) -> list[EnqueueResult]:
        sizes.append(len(jobs))
        return await enqueue(jobs, *args)

    env.storage.enqueue_deliveries = recording  # type: ignore[method-assign,assignment]
    receivers = [f"r{i}" for i in range(3 * ENQUEUE_CHUNK + 1)]
    env.queue.configure(settings(), {r: [env.hook] for r in receivers})
    results = await asyncio.gather(*(env.queue.enqueue(job(env.hook, receiver=r)) for r in receivers))
    assert [r.outcome for r in results] == ["queued"] * len(receivers)
    assert max(sizes) <= ENQUEUE_CHUNK and sum(sizes) == len(receivers)
    await eventually_async(lambda: len(env.hook.calls) == len(receivers))


async def test_retryable_failures_are_retried_with_backoff(env: Env) -> None:
    env.hook.outcomes = [NotifyError("503"), NotifyError("503"), None]
    result = await env.queue.enqueue(job(env.hook))
    assert result.id is not None
    await eventually_async(lambda: _state(env, result.id or 0, "done"))
    d = await env.row(result.id)
    assert (d.attempts, d.outcome, d.last_error) == (3, "sent", "503")
    assert len(env.hook.calls) == 3
    gaps = [b[0] - a[0] for a, b in zip(env.hook.calls, env.hook.calls[1:], strict=False)]
    assert gaps[0] >= 0.009 and gaps[1] >= 0.014  # 10 ms, then 15 ms
    assert sample(env.metrics, "ampp_delivery_retries_total", integration="webhook") == 2
    assert sample(env.metrics, "alertmanager_notifications_failed_total", integration="webhook") == 2


async def test_a_permanent_error_is_a_dead_letter_at_once(env: Env) -> None:
    env.hook.fail_always = NotifyError("unexpected status code 400: bad payload", retry=False)
    result = await env.queue.enqueue(job(env.hook))
    assert result.id is not None
    await eventually_async(lambda: _state(env, result.id or 0, "dead"))
    d = await env.row(result.id)
    assert d.attempts == 1 and len(env.hook.calls) == 1
    assert d.last_error == (
        "r/webhook[0]: notify retry canceled due to unrecoverable error after 1 attempts: "
        "unexpected status code 400: bad payload"
    )
    assert (
        sample(env.metrics, "ampp_delivery_dead_letters_total", integration="webhook", reason="permanent")
        == 1
    )


async def test_the_retry_budget_ends_in_a_dead_letter(env: Env) -> None:
    env.hook.fail_always = NotifyError("connection refused")
    result = await env.queue.enqueue(job(env.hook))
    assert result.id is not None
    await eventually_async(lambda: _state(env, result.id or 0, "dead"))
    d = await env.row(result.id)
    assert d.attempts == 4 and len(env.hook.calls) == 4
    assert d.last_error == "r/webhook[0]: retry budget spent after 4 attempts: connection refused"


async def test_retry_after_is_honoured(env: Env) -> None:
    env.hook.outcomes = [NotifyError("unexpected status code 429", retry_after=0.4), None]
    result = await env.queue.enqueue(job(env.hook))
    assert result.id is not None
    await eventually_async(lambda: _state(env, result.id or 0, "done"))
    assert env.hook.calls[1][0] - env.hook.calls[0][0] >= 0.39


async def test_the_same_flush_twice_is_one_notification(tmp_path: Path) -> None:
    e = await make_env(tmp_path, Hook(fail_always=NotifyError("503")), settings(initial_backoff="10s"))
    try:
        first = await e.queue.enqueue(job(e.hook))
        await eventually_async(lambda: len(e.hook.calls) == 1)
        await eventually_async(lambda: _state(e, first.id or 0, "pending"))
        again = await e.queue.enqueue(job(e.hook))  # the next group interval, same alerts
        assert (again.outcome, again.id) == ("refreshed", first.id)
        assert len(await e.storage.list_deliveries(None, None, 10)) == 1
    finally:
        await e.queue.stop()
        await e.storage.close()


async def test_a_sent_flush_is_not_queued_again(env: Env) -> None:
    first = await env.queue.enqueue(job(env.hook))
    await eventually_async(lambda: _state(env, first.id or 0, "done"))
    assert (await env.queue.enqueue(job(env.hook))).outcome == "deduplicated"


async def test_a_newer_flush_supersedes_a_waiting_one_and_keeps_its_resolved_alerts(tmp_path: Path) -> None:
    e = await make_env(tmp_path, Hook(outcomes=[NotifyError("503")]), settings(initial_backoff="10s"))
    try:
        old = await e.queue.enqueue(job(e.hook, firing=["A"], resolved=["B"]))
        await eventually_async(lambda: _state(e, old.id or 0, "pending"))  # failed once, waits 10 s
        new = await e.queue.enqueue(job(e.hook, firing=["A", "C"]))  # B left the group
        assert (new.outcome, new.superseded) == ("queued", 1)
        await eventually_async(lambda: _state(e, new.id or 0, "done"))
        d = await e.row(old.id or 0)
        assert (d.state, d.outcome, d.last_error) == (
            "done",
            "superseded",
            f"superseded by delivery {new.id}",
        )
        assert [e.hook.names(0), e.hook.names(1)] == [["A", "B"], ["A", "B", "C"]]
        assert {a.labels["alertname"]: a.status() for a in e.hook.calls[1][2]}["B"] == "resolved"
        assert sample(e.metrics, "ampp_delivery_superseded_total", integration="webhook") == 1
    finally:
        await e.queue.stop()
        await e.storage.close()


async def test_a_failure_while_a_newer_flush_waits_is_merged_into_it(tmp_path: Path) -> None:
    gate = asyncio.Event()
    e = await make_env(tmp_path, Hook(gate=gate, outcomes=[NotifyError("503")]), settings())
    try:
        old = await e.queue.enqueue(job(e.hook, firing=["A"], resolved=["B"]))
        await eventually_async(lambda: len(e.hook.calls) == 1)  # in flight, held at the gate
        new = await e.queue.enqueue(job(e.hook, firing=["A", "C"]))
        assert (new.outcome, new.superseded) == ("queued", 0)
        await asyncio.sleep(0.2)
        assert len(e.hook.calls) == 1, "a newer notification overtook the one in flight"
        gate.set()
        await eventually_async(lambda: _state(e, new.id or 0, "done"))
        assert (await e.row(old.id or 0)).outcome == "superseded"
        assert e.hook.names(1) == ["A", "B", "C"]
        assert len(e.hook.calls) == 2
    finally:
        await e.queue.stop()
        await e.storage.close()


async def test_an_integration_gone_after_a_reload_is_a_dead_letter(env: Env) -> None:
    result = await env.queue.enqueue(job(env.hook, receiver="removed"))
    assert result.id is not None
    await eventually_async(lambda: _state(env, result.id or 0, "dead"))
    d = await env.row(result.id)
    assert (
        d.last_error
        == "removed/webhook[0]: no such integration in the running configuration (removed by a reload?)"
    )
    assert env.hook.calls == []


async def test_dead_letters_are_redriven(env: Env) -> None:
    env.hook.fail_always = NotifyError("unexpected status code 404", retry=False)
    dead = await env.queue.enqueue(job(env.hook))
    assert dead.id is not None
    await eventually_async(lambda: _state(env, dead.id or 0, "dead"))
    assert (await env.queue.redrive(dead.id + 100)).outcome == "not_found"
    env.hook.fail_always = None
    result = await env.queue.redrive(dead.id)
    assert result.outcome == "redriven" and result.delivery is not None
    assert (result.delivery.state, result.delivery.attempts) == ("pending", 0)
    await eventually_async(lambda: _state(env, dead.id or 0, "done"))
    assert (await env.queue.redrive(dead.id)).outcome == "not_dead"
    assert len(env.hook.calls) == 2
    assert sample(env.metrics, "ampp_delivery_redriven_total") == 1


async def test_a_dead_letter_with_a_newer_notification_is_not_redriven(env: Env) -> None:
    env.hook.fail_always = NotifyError("400", retry=False)
    first = await env.queue.enqueue(job(env.hook, firing=["A"]))
    await eventually_async(lambda: _state(env, first.id or 0, "dead"))
    second = await env.queue.enqueue(job(env.hook, firing=["A", "B"]))
    await eventually_async(lambda: _state(env, second.id or 0, "dead"))
    result = await env.queue.redrive(first.id or 0)
    assert (result.outcome, result.newer_id) == ("superseded", second.id)
    assert await env.queue.redrive_all("r") == (1, 1)
    env.hook.fail_always = None
    await eventually_async(lambda: _state(env, second.id or 0, "done"))


async def test_start_takes_back_what_a_killed_run_was_sending(tmp_path: Path) -> None:
    storage = SQLiteStorage(str(tmp_path))
    await storage.open()
    hook = Hook()
    policy = FlushPolicy(3600 * NS)
    [queued] = await storage.enqueue_deliveries([job(hook)], policy, now_ns())
    claim = await storage.claim_deliveries("before-the-crash", 3600, 10)
    assert [d.id for d in claim.jobs] == [queued.id]
    await storage.close()  # ... and the process died mid-send
    e = await make_env(tmp_path, hook, settings())
    try:
        await eventually_async(lambda: _state(e, queued.id or 0, "done"))
        assert len(hook.calls) == 1 and (await e.row(queued.id or 0)).attempts == 2
    finally:
        await e.queue.stop()
        await e.storage.close()


async def test_payloads_are_stored_compressed_and_text_ones_still_read(tmp_path: Path) -> None:
    """A payload is JSON compressed into a BLOB; a row queued by a version that wrote JSON
    text (before compression) is claimed and sent all the same after the upgrade."""
    import sqlite3

    import orjson

    storage = SQLiteStorage(str(tmp_path))
    await storage.open()
    hook = Hook()
    policy = FlushPolicy(3600 * NS)
    new, old = job(hook, firing=("New",)), job(hook, firing=("Old",), receiver="r2")
    [queued] = await storage.enqueue_deliveries([new], policy, now_ns())
    await storage.close()
    with sqlite3.connect(tmp_path / "ampp.db") as db:
        [(stored,)] = db.execute("SELECT payload FROM delivery_queue WHERE id = ?", (queued.id,)).fetchall()
        assert isinstance(stored, bytes) and len(stored) < len(orjson.dumps(new.payload))
        db.execute(
            "INSERT INTO delivery_queue (key, payload, next_attempt_at, created_at, updated_at, group_key,"
            " receiver, integration, idx) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (old.key, orjson.dumps(old.payload).decode(), now_ns(), now_ns(), now_ns(), *old.target),
        )
    e = await make_env(tmp_path, hook, settings())
    try:
        e.queue.configure(settings(), {"r": [hook], "r2": [hook]})
        await eventually_async(lambda: len(hook.calls) == 2)
        assert sorted(hook.names(0) + hook.names(1)) == ["New", "Old"]
        rows = await e.storage.list_deliveries(None, None, 10)
        assert sorted(d.payload["receiver"] for d in rows) == ["r", "r2"]
    finally:
        await e.queue.stop()
        await e.storage.close()


async def test_without_send_resolved_a_resolution_is_only_logged(tmp_path: Path) -> None:
    e = await make_env(tmp_path, Hook(resolved=False), settings())
    try:
        sent = await e.queue.enqueue(job(e.hook, firing=["A"]))
        await eventually_async(lambda: _state(e, sent.id or 0, "done"))
        result = await e.queue.enqueue(job(e.hook, firing=[], resolved=["A"]))
        assert result.outcome == "recorded"
        [entry] = await e.storage.load_nflog()
        assert entry.firing == frozenset() and len(entry.resolved) == 1
        assert e.nflog.query(*entry.key) == entry
        await asyncio.sleep(0.1)
        assert len(e.hook.calls) == 1
    finally:
        await e.queue.stop()
        await e.storage.close()


async def test_stop_hands_back_the_sends_in_flight(tmp_path: Path) -> None:
    e = await make_env(tmp_path, Hook(gate=asyncio.Event()), settings())
    result = await e.queue.enqueue(job(e.hook))
    await eventually_async(lambda: len(e.hook.calls) == 1)
    await e.queue.stop(grace=0.05)
    assert (await e.row(result.id or 0)).state == "pending"
    await e.storage.close()


async def test_the_enqueue_stage_falls_back_to_sending_inline() -> None:
    class Broken:
        async def enqueue(self, job: NewDelivery, flush: object = None) -> EnqueueResult:
            raise OSError("database is locked")

    class Inline:
        def __init__(self) -> None:
            self.ran = False

        async def exec(self, ctx: FlushContext, alerts: list[Alert]) -> tuple[FlushContext, list[Alert]]:
            self.ran = True
            return ctx, alerts

    inline = Inline()
    hook = Hook()
    stage = MultiStage(EnqueueStage(hook, "r", Broken(), fallback=inline))
    ctx = FlushContext(GROUP, {}, "r", 3600, now_ns(), firing=(1,))
    await stage.exec(ctx, [alert("A")])
    assert inline.ran
    with pytest.raises(OSError):
        await EnqueueStage(hook, "r", Broken()).exec(ctx, [alert("A")])


@dataclass
class Attempted:
    """An attempt sink: what the history is told."""

    errors: list[str | None] = field(default_factory=list)

    def notify_attempted(
        self,
        ctx: FlushContext,
        integration: str,
        alerts: Sequence[Alert],
        latency_s: float,
        error: str | None,
    ) -> None:
        self.errors.append(error)


async def test_the_inline_fallback_attempts_as_the_queue_does() -> None:
    """Timeout, retry budget, backoff and Retry-After come from the notify settings."""
    metrics, sink = Metrics(), Attempted()
    attempts = Attempts(metrics, [sink], rand=lambda: 0.5)
    s = settings(attempt_timeout="50ms", max_attempts=3, initial_backoff="1ms", max_retry_after="100ms")
    ctx = FlushContext(GROUP, {}, "r", 3600, now_ns(), firing=(alert("A").fingerprint,))
    hook = Hook(gate=asyncio.Event())  # never answers
    with pytest.raises(NotifyError) as e:
        await RetryStage(hook, "r", attempts, s).exec(ctx, [alert("A")])
    assert str(e.value) == "r/webhook[0]: retry budget spent after 3 attempts: notify timed out after 50ms"
    assert not e.value.retry and len(hook.calls) == 3
    assert sink.errors == ["notify timed out after 50ms"] * 3
    assert sample(metrics, "alertmanager_notifications_failed_total", integration="webhook") == 3

    hook = Hook(outcomes=[NotifyError("slow down", retry_after=3600), None])
    await RetryStage(hook, "r", attempts, s).exec(ctx, [alert("A")])
    assert hook.calls[1][0] - hook.calls[0][0] >= 0.1  # the Retry-After, capped by max_retry_after
    assert sink.errors[3:] == ["slow down", None]

    hook = Hook(outcomes=[NotifyError("gone", retry=False)])
    with pytest.raises(NotifyError) as e:
        await RetryStage(hook, "r", attempts, s).exec(ctx, [alert("A")])
    assert (
        str(e.value)
        == "r/webhook[0]: notify retry canceled due to unrecoverable error after 1 attempts: gone"
    )

    hook = Hook(resolved=False)
    resolved_only = ctx.with_(firing=(), resolved=(alert("A").fingerprint,))
    await RetryStage(hook, "r", attempts, s).exec(resolved_only, [alert("A", resolved=True)])
    assert hook.calls == []  # without send_resolved a resolution is not sent


# -- configuration and metrics -------------------------------------------------------------
def test_the_notify_section_of_config_yaml() -> None:
    from ampp.config.errors import ConfigError
    from ampp.config.loader import load_text

    doc = "notify: {{{}}}\nalerting:\n  route: {{receiver: r}}\n  receivers: [{{name: r}}]\n"
    cfg = load_text(doc.format("workers: 3, max_attempts: 5, initial_backoff: 1s, lease: 2m"))
    n = cfg.notify
    assert (n.workers, n.max_attempts, n.initial_backoff, n.lease, n.max_backoff) == (3, 5, 1.0, 120.0, 60.0)
    assert load_text(doc.format("")).notify == NotifySettings()
    with pytest.raises(ConfigError) as e:
        load_text(doc.format("workers: 0"))
    assert "notify.workers" in str(e.value)
    with pytest.raises(ConfigError) as e:
        load_text(doc.format("attempt_timeout: 0s"))
    assert "notify.attempt_timeout" in str(e.value)
    with pytest.raises(ConfigError) as e:
        load_text(doc.format("attempt_timeout: 2m, lease: 1m"))
    assert "lease must be longer than attempt_timeout" in str(e.value)


def test_circuit_state_is_exported_per_target(monkeypatch: pytest.MonkeyPatch) -> None:
    from ampp.notify import http

    breaker = http.CircuitBreaker(threshold=2, cooldown=0.05)
    monkeypatch.setattr(http, "BREAKER", breaker)
    metrics = Metrics()
    metrics.registry.register(http.CircuitCollector())

    def state(target: str) -> float | None:
        return metrics.registry.get_sample_value("ampp_notify_circuit_state", {"target": target})

    t = "http://hooks:80"
    assert state(t) is None
    breaker.failure(t)
    assert state(t) == 0  # closed: one failure is below the threshold
    breaker.failure(t)
    assert state(t) == 1  # open
    with pytest.raises(NotifyError, match="circuit open"):
        breaker.check(t)
    time.sleep(0.06)
    assert state(t) == 2  # half-open: the next attempt probes
    breaker.success(t)
    assert state(t) == 0
