"""The replicas' chaos scenario, for `ampp serve` on one PostgreSQL and for Alertmanager 0.25
peers gossiping on loopback (tests/integration/test_cluster_chaos.py, benchmarks/cluster_bench.py).

Three replicas; ``alerts`` alerts, each in a group of its own, flap: firing for ``phase``
seconds, resolved for ``phase``, again and again, each alert's schedule shifted so the changes
spread over time. Every second the sender posts every alert's current state (as Prometheus
does: the firing ones without an end, the resolved ones with their end), to all three
replicas (``mode="all"``) or each alert to one of them in turn (``mode="spread"``, as through
a load-balanced Service; a refused post goes to the next one). Every ``kill_every`` seconds one
replica is killed with SIGKILL and started again at once. After ``chaos_s`` no episode starts,
the firing ones run to their end, and the receiver gets the time to hear the last ones.

One window no notifier without an idempotent receiver can close is counted apart: a replica
killed after the receiver accepted a notification and before the transaction recording it
committed sends it again after the takeover (or its restart). A duplicate whose first copy
arrived less than ``KILL_WINDOW_S`` before a kill, and its second after that kill, is counted
in ``in_kill_window`` as well as in ``duplicates``.

The oracle needs no timing tolerance: with ``repeat_interval`` longer than the run and
``send_resolved``, each episode (an alert and its startsAt) is told exactly once firing and
exactly once resolved, since ``phase`` is longer than any notification's delay (group_wait,
group_interval and a takeover). So the expected notifications are computed from the schedule
alone; a local receiver counts what arrives: duplicates (an episode's firing or resolved told
twice), lost (expected, never told), unexpected (told, not in the schedule).
"""

from __future__ import annotations

import collections
import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from tests.support.capture import CaptureServer
from tests.support.servers import REFERENCE_BINARY, ampp_command, free_port

CONFIG = """
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 500ms
  group_interval: 1s
  repeat_interval: 24h
receivers:
  - name: hook
    webhook_configs: [{{url: "{url}/hook", send_resolved: true}}]
"""

KILL_WINDOW_S = 1.0
"""How long before a kill a notification's first copy may have arrived for its second to be
put down to the kill (the commit after the receiver's answer, on a loaded 2-core machine)."""

Told = tuple[str, str, int]
"""(alertname, "firing" or "resolved", startsAt in Unix milliseconds): one episode's news."""


@dataclass
class ChaosResult:
    kind: str
    mode: str
    expected: int
    received: int
    duplicates: int
    lost: int
    unexpected: int
    kills: int
    seconds: float
    in_kill_window: int = 0
    """Of the duplicates, those whose first copy arrived just before a kill -9 (module doc)."""
    examples: dict[str, list[Told]] = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"{self.kind}/{self.mode}: {self.expected} expected, {self.received} received, "
            f"{self.duplicates} duplicates ({self.in_kill_window} in a kill's window), "
            f"{self.lost} lost, {self.unexpected} unexpected "
            f"({self.kills} kills in {self.seconds:.0f}s) {self.examples}"
        )


def _ms(text: str) -> int:
    """RFC 3339 (any fraction, Go's nanoseconds included) -> Unix milliseconds."""
    head, _, frac = text.rstrip("Z").partition(".")
    t = datetime.fromisoformat(head).replace(tzinfo=UTC)
    return int(t.timestamp()) * 1000 + int((frac + "000")[:3])


def _rfc3339(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


class Replica:
    def __init__(self, kind: str, index: int, workdir: Path, config: Path, storage_url: str | None) -> None:
        self.kind, self.index = kind, index
        self.port, self.cluster_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = workdir / f"r{index}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.config, self.storage_url = config, storage_url
        self.peers: list[Replica] = []
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.dir / "server.log"

    def command(self) -> list[str]:
        common = [
            f"--config.file={self.config}",
            f"--storage.path={self.dir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            f"--cluster.listen-address=127.0.0.1:{self.cluster_port}",
            "--log.level=info",
        ]
        if self.kind == "ampp":
            assert self.storage_url is not None
            return [
                *ampp_command(), *common, f"--storage.url={self.storage_url}",
                "--cluster.probe-interval=250ms", "--cluster.probe-timeout=250ms",
            ]  # fmt: skip
        peers = [f"--cluster.peer=127.0.0.1:{p.cluster_port}" for p in self.peers if p is not self]
        # peer-timeout: how long the n-th peer waits for the first one's notification; 15 s by
        # default, 2 s here so that its failover is as quick as the phases need.
        return [REFERENCE_BINARY, *common, *peers, "--cluster.peer-timeout=2s", "--cluster.settle-timeout=5s"]

    def start(self) -> None:
        (self.dir / "data").mkdir(exist_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ)
            )

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def peers_known(self) -> int:
        try:
            return len(httpx.get(f"{self.url}/api/v2/status", timeout=1).json()["cluster"]["peers"] or [])
        except (httpx.HTTPError, ValueError, KeyError):
            return 0

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False


@dataclass(frozen=True)
class Schedule:
    """When each alert's episodes start: alert i's k-th at ``t0 + shift_i + k * 2 * phase``."""

    t0: int  # Unix ms
    alerts: int
    phase_ms: int
    last_start_ms: int  # no episode starts after t0 + last_start_ms

    def shift(self, i: int) -> int:
        return i * 2 * self.phase_ms // self.alerts

    def episodes(self, i: int) -> Iterator[int]:
        start = self.t0 + self.shift(i)
        while start <= self.t0 + self.last_start_ms:
            yield start
            start += 2 * self.phase_ms

    def state(self, i: int, now: int) -> dict[str, Any] | None:
        """What the sender posts for alert i at ``now``: its current (or last) episode."""
        current = None
        for start in self.episodes(i):
            if start <= now:
                current = start
        if current is None:
            return None
        alert: dict[str, Any] = {"labels": {"alertname": f"Chaos{i:03d}"}, "startsAt": _rfc3339(current)}
        if now >= current + self.phase_ms:
            alert["endsAt"] = _rfc3339(current + self.phase_ms)
        return alert

    def expected(self) -> set[Told]:
        return {
            (f"Chaos{i:03d}", status, start)
            for i in range(self.alerts)
            for start in self.episodes(i)
            for status in ("firing", "resolved")
        }

    def end_ms(self) -> int:
        return max(max(self.episodes(i), default=self.t0) for i in range(self.alerts)) + self.phase_ms


def _post(client: httpx.Client, r: Replica, alerts: list[dict[str, Any]]) -> bool:
    try:
        return client.post(f"{r.url}/api/v2/alerts", json=alerts, timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def run_chaos(
    kind: str,
    mode: str,
    workdir: Path,
    *,
    storage_url: str | None = None,
    alerts: int = 24,
    phase: float = 6.0,
    chaos_s: float = 40.0,
    kill_every: float = 10.0,
    drain_s: float = 6.0,
) -> ChaosResult:
    """Run the scenario against three ``kind`` replicas ("ampp" or "reference") and count."""
    assert mode in ("all", "spread")
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    with CaptureServer() as hook, contextlib.ExitStack() as stack:
        config = workdir / "alertmanager.yml"
        config.write_text(CONFIG.format(url=hook.url))
        replicas = [Replica(kind, i, workdir, config, storage_url) for i in range(3)]
        for r in replicas:
            r.peers = replicas
            r.start()
            stack.callback(r.stop)
        deadline = time.monotonic() + 30
        while not all(r.ready() for r in replicas):
            if time.monotonic() > deadline:
                raise RuntimeError(
                    "replicas not ready:\n" + "\n".join(r.log.read_text()[-2000:] for r in replicas)
                )
            time.sleep(0.2)
        time.sleep(2)  # settled: the peers know each other
        t0 = int(time.time() * 1000) + 500
        schedule = Schedule(t0, alerts, int(phase * 1000), int(chaos_s * 1000))
        done = threading.Event()
        errors: list[str] = []

        def send() -> None:
            tick = 0
            with httpx.Client() as client:
                while not done.is_set():
                    now = int(time.time() * 1000)
                    states = [(i, schedule.state(i, now)) for i in range(alerts)]
                    batch = [(i, a) for i, a in states if a is not None]
                    if mode == "all":
                        for r in replicas:
                            _post(client, r, [a for _, a in batch])
                    else:
                        for k in range(3):
                            mine = [a for i, a in batch if (i + tick) % 3 == k]
                            if mine and not any(_post(client, replicas[(k + j) % 3], mine) for j in range(3)):
                                errors.append(f"tick {tick}: no replica took {len(mine)} alerts")
                    tick += 1
                    time.sleep(max(0.0, 1.0 - (time.time() * 1000 - now) / 1000))

        sender = threading.Thread(target=send, daemon=True)
        started = time.monotonic()
        sender.start()
        kills: list[float] = []
        try:
            while time.monotonic() - started < chaos_s:
                time.sleep(kill_every)
                victim = replicas[len(kills) % 3]
                killed_at = time.time()
                victim.kill()
                kills.append(killed_at)
                victim.start()
            while time.time() * 1000 < schedule.end_ms() + drain_s * 1000:
                time.sleep(0.2)
        finally:
            done.set()
            sender.join(10)
        told: list[Told] = []
        arrivals: dict[Told, list[float]] = collections.defaultdict(list)
        for req in list(hook.requests):
            body = req.json()
            for a in body["alerts"]:
                t = (a["labels"]["alertname"], a["status"], _ms(a["startsAt"]))
                told.append(t)
                arrivals[t].append(req.received_at)
    counts = collections.Counter(told)
    in_window = 0
    for times in arrivals.values():
        first = min(times)
        for later in sorted(times)[1:]:
            if any(first <= k < later and k - first < KILL_WINDOW_S for k in kills):
                in_window += 1
    expected = schedule.expected()
    dups = [t for t, n in counts.items() if n > 1]
    lost = sorted(expected - set(counts))
    unexpected = sorted(set(counts) - expected)
    return ChaosResult(
        kind,
        mode,
        len(expected),
        len(told),
        sum(n - 1 for n in counts.values()),
        len(lost),
        len(unexpected),
        len(kills),
        time.monotonic() - started,
        in_window,
        {"duplicates": dups[:5], "lost": lost[:5], "unexpected": unexpected[:5], "errors": errors[:3]},  # type: ignore[dict-item]
    )
