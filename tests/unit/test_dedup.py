"""The notification log's dedup decisions (notify.DedupStage.needsUpdate)."""

from __future__ import annotations

import pytest
from ampp.model.alert import Alert
from ampp.model.timefmt import NS, ZERO
from ampp.notify.nflog import NotificationLog
from ampp.notify.stage import FlushContext
from ampp.notify.stages import DedupStage

pytestmark = pytest.mark.unit

NOW = 1_700_000_000 * NS


class FakeIntegration:
    name = "webhook"
    index = 0

    def __init__(self, send_resolved: bool) -> None:
        self._send_resolved = send_resolved

    @property
    def send_resolved(self) -> bool:
        return self._send_resolved

    async def notify(self, ctx: FlushContext, alerts: object) -> None:
        raise AssertionError("not called")


def firing(name: str) -> Alert:
    return Alert({"alertname": name}, {}, NOW - 60 * NS, ZERO, "", NOW)


def resolved(name: str) -> Alert:
    return Alert({"alertname": name}, {}, NOW - 60 * NS, NOW - NS, "", NOW)


def ctx() -> FlushContext:
    return FlushContext("{}:{}", {}, "r", repeat_interval=3600, now=NOW)


async def decide(
    log: NotificationLog, alerts: list[Alert], send_resolved: bool = True, now: int = NOW
) -> bool:
    stage = DedupStage(FakeIntegration(send_resolved), log, "r", now=lambda: now)
    _, out = await stage.exec(ctx(), alerts)
    return bool(out)


async def record(log: NotificationLog, firing_fps: list[int], resolved_fps: list[int], at: int) -> None:
    await log.log("{}:{}", "r", "webhook", 0, firing_fps, resolved_fps)
    entry = log.query("{}:{}", "r", "webhook", 0)
    assert entry is not None
    entry.timestamp = at


async def test_first_notification_only_with_firing_alerts() -> None:
    log = NotificationLog(None)
    assert await decide(log, [firing("a")])
    assert not await decide(log, [resolved("a")])


async def test_nothing_new_waits_for_repeat_interval() -> None:
    log = NotificationLog(None)
    a = firing("a")
    await record(log, [a.fingerprint], [], NOW - 60 * NS)
    assert not await decide(log, [a])
    assert await decide(log, [a], now=NOW + 3600 * NS)


async def test_new_firing_alert_notifies() -> None:
    log = NotificationLog(None)
    a, b = firing("a"), firing("b")
    await record(log, [a.fingerprint], [], NOW - 60 * NS)
    assert await decide(log, [a, b])


async def test_resolution_notifies_only_with_send_resolved() -> None:
    log = NotificationLog(None)
    a, b = firing("a"), firing("b")
    await record(log, [a.fingerprint, b.fingerprint], [], NOW - 60 * NS)
    rb = resolved("b")
    # b resolved while a still fires: a subset of what was firing, so only send_resolved tells
    assert await decide(log, [a, rb], send_resolved=True)
    assert not await decide(log, [a, rb], send_resolved=False)


async def test_all_resolved_always_notifies_to_clear_the_log() -> None:
    log = NotificationLog(None)
    a = firing("a")
    await record(log, [a.fingerprint], [], NOW - 60 * NS)
    assert await decide(log, [resolved("a")], send_resolved=False)
    await record(log, [], [a.fingerprint], NOW - 30 * NS)
    assert not await decide(log, [resolved("a")], send_resolved=True)
