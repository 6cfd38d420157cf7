"""The sustained-load scenario of issue 21, run against any Alertmanager-compatible server.

20 POSTs a second of 100 alerts each, open loop (on schedule, whatever the answers take), out of
a cycle of 100,000 alerts over 50 alertnames, one of the 100 a new alert each time;
``group_by: [alertname]``, ``group_wait: 1s``, ``group_interval: 5s``, one webhook receiver;
about 20 silences created or expired every 0.5 s. An SRE's bad day: Prometheus pushing every
firing alert while notifications flow and people silence what pages them.

The driver runs in a process of its own (``python -m tests.support.soak``), so that its CPU
is not the caller's: it serves the webhook receiver (counting notifications per 10 s), posts
the alerts and the silences, and prints one JSON result. ``benchmarks/bench.py --soak`` runs it
against both servers and prints the figures; ``tests/integration/test_soak.py`` runs 30 s of
it against ``ampp serve`` and checks that every acknowledged alert survives a kill -9.

Only 127.0.0.1 is contacted; every loop is bounded by the scenario's duration.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent

CONFIG = """\
global:
  resolve_timeout: 5m
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 5s
  repeat_interval: 4h
receivers:
  - name: hook
    webhook_configs:
      - url: {hook}/hook
"""


@dataclass(frozen=True)
class Scenario:
    duration_s: float = 300.0
    posts_per_s: float = 20.0
    batch: int = 100
    cycle: int = 100_000
    """Known alerts resent in a cycle; each batch also carries ``new_per_batch`` new ones."""
    new_per_batch: int = 1
    alertnames: int = 50
    silence_period_s: float = 0.5
    silences_per_period: int = 10
    """Created each period; as many of the oldest are expired once ``silences_live`` exist."""
    silences_live: int = 100
    request_timeout_s: float = 30.0
    drain_s: float = 30.0
    """How long the receiver keeps counting after the last POST (the catch-up)."""


def batch_alerts(scenario: Scenario, b: int) -> list[int]:
    """The alert numbers of batch ``b``: the next slice of the cycle, then the new ones
    (numbered past the cycle)."""
    known = scenario.batch - scenario.new_per_batch
    start = b * known
    out = [(start + i) % scenario.cycle for i in range(known)]
    out += [scenario.cycle + b * scenario.new_per_batch + i for i in range(scenario.new_per_batch)]
    return out


def acknowledged_alerts(scenario: Scenario, batches: list[int]) -> set[int]:
    return {n for b in batches for n in batch_alerts(scenario, b)}


def alertname(scenario: Scenario, n: int) -> str:
    return f"Soak{n % scenario.alertnames}"


def instance(n: int) -> str:
    return f"host-{n}.example.internal:9100"


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def realistic_alert(n: int, name: str, starts: str, ends: str, **extra_labels: str) -> dict[str, Any]:
    """Alert ``n`` as node-exporter rules make them: 7 labels, 2 annotations, a generator URL."""
    return {
        "labels": {
            "alertname": name,
            "instance": instance(n),
            "job": "node",
            "severity": "critical" if n % 7 == 0 else "warning",
            "env": "prod",
            "team": f"team-{n % 10}",
            "region": f"region-{n % 3}",
            **extra_labels,
        },
        "annotations": {
            "summary": f"Instance host-{n} is under pressure",
            "description": f"{instance(n)} has been above the threshold for 5m.",
        },
        "startsAt": starts,
        "endsAt": ends,
        "generatorURL": f"http://prometheus.example.internal:9090/graph?g0.expr=up%7Bn%3D{n}%7D",
    }


@dataclass
class SoakResult:
    posts: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    acknowledged_batches: list[int] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    """Of every POST that got an answer (any status)."""
    late_posts: int = 0
    """POSTs the driver sent more than 100 ms after their time (its own CPU was short)."""
    silence_ops: int = 0
    silence_errors: int = 0
    notifications: list[int] = field(default_factory=list)
    """Webhook requests received per 10 s since the load started (the drain included)."""
    notified_alerts: list[int] = field(default_factory=list)
    """Alerts carried by those requests, per 10 s."""
    load_elapsed_s: float = 0.0


# -- the driver (child process) ----------------------------------------------------------------


async def _drive(scenario: Scenario, lines: asyncio.StreamReader | None) -> SoakResult:
    import aiohttp
    import orjson
    from aiohttp import web

    res = SoakResult()
    t0 = 0.0
    buckets: dict[int, list[int]] = {}

    async def hook(request: web.Request) -> web.Response:
        try:
            body = await request.read()
        except ConnectionError:  # the server was killed mid-send
            return web.Response(status=499)
        count = body.count(b'"fingerprint"')  # the webhook payload's alerts, without parsing
        slot = buckets.setdefault(int((time.monotonic() - t0) // 10) if t0 else 0, [0, 0])
        slot[0] += 1
        slot[1] += count
        return web.Response(text="ok")

    app = web.Application(client_max_size=1 << 30)
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(json.dumps({"hook": f"http://127.0.0.1:{port}"}), flush=True)
    go = (await lines.readline()).decode().split() if lines else []
    assert go and go[0] == "go", f"expected 'go URL', got {go!r}"
    url = go[1]

    rng = random.Random(21)
    now = datetime.now(UTC)
    starts = _ts(now - timedelta(minutes=1))
    timeout = aiohttp.ClientTimeout(total=scenario.request_timeout_s)
    connector = aiohttp.TCPConnector(limit=0)
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, headers=headers) as session:

        async def post(b: int) -> None:
            ends = _ts(datetime.now(UTC) + timedelta(hours=1))
            body = orjson.dumps(
                [realistic_alert(n, alertname(scenario, n), starts, ends) for n in batch_alerts(scenario, b)]
            )
            t = time.perf_counter()
            try:
                async with session.post(f"{url}/api/v2/alerts", data=body) as r:
                    await r.read()
                    status = str(r.status)
            except (aiohttp.ClientError, TimeoutError) as e:
                status = type(e).__name__
            else:
                res.latencies_ms.append((time.perf_counter() - t) * 1000)
            res.statuses[status] = res.statuses.get(status, 0) + 1
            if status == "200":
                res.acknowledged_batches.append(b)

        live: list[str] = []

        async def silence_round() -> None:
            ends = _ts(datetime.now(UTC) + timedelta(hours=1))
            for _ in range(scenario.silences_per_period):
                n = rng.randrange(scenario.cycle)
                body = {
                    "matchers": [{"name": "instance", "value": instance(n), "isRegex": False}],
                    "startsAt": _ts(datetime.now(UTC)),
                    "endsAt": ends,
                    "createdBy": "soak",
                    "comment": "silenced under load",
                }
                try:
                    async with session.post(f"{url}/api/v2/silences", json=body) as r:
                        data = await r.json(content_type=None)
                        if r.status == 200:
                            live.append(data["silenceID"])
                        else:
                            res.silence_errors += 1
                except (aiohttp.ClientError, TimeoutError, ValueError):
                    res.silence_errors += 1
                res.silence_ops += 1
            while len(live) > scenario.silences_live:
                sid = live.pop(0)
                try:
                    async with session.delete(f"{url}/api/v2/silence/{sid}") as r:
                        await r.read()
                        if r.status != 200:
                            res.silence_errors += 1
                except (aiohttp.ClientError, TimeoutError):
                    res.silence_errors += 1
                res.silence_ops += 1

        tasks: set[asyncio.Task[None]] = set()

        def spawn(coro: Any) -> None:
            task = asyncio.ensure_future(coro)
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        t0 = time.monotonic()
        total = int(scenario.duration_s * scenario.posts_per_s)
        next_silence = t0
        for b in range(total):
            due = t0 + b / scenario.posts_per_s
            while next_silence <= due:
                await asyncio.sleep(max(0.0, next_silence - time.monotonic()))
                spawn(silence_round())
                next_silence += scenario.silence_period_s
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.1:
                res.late_posts += 1
            spawn(post(b))
            res.posts += 1
        res.load_elapsed_s = time.monotonic() - t0
        print(json.dumps({"load_done": res.load_elapsed_s}), flush=True)
        if tasks:
            await asyncio.wait(set(tasks), timeout=scenario.request_timeout_s + 5)
        await asyncio.sleep(max(0.0, t0 + scenario.duration_s + scenario.drain_s - time.monotonic()))
    await runner.cleanup()
    last = max(buckets, default=-1)
    res.notifications = [buckets.get(i, [0, 0])[0] for i in range(last + 1)]
    res.notified_alerts = [buckets.get(i, [0, 0])[1] for i in range(last + 1)]
    return res


async def _child_main(scenario: Scenario) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    res = await _drive(scenario, reader)
    print(json.dumps({"result": asdict(res)}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", help="the Scenario's fields as JSON")
    args = parser.parse_args()
    scenario = Scenario(**json.loads(args.scenario))
    try:
        import uvloop

        uvloop.run(_child_main(scenario))
    except ImportError:
        asyncio.run(_child_main(scenario))


# -- the caller's side -------------------------------------------------------------------------


class Driver:
    """The driver process: ``hook`` is its receiver's URL; ``start(url)`` begins the load."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        cmd = [sys.executable, "-m", "tests.support.soak", json.dumps(asdict(scenario))]
        self.process = subprocess.Popen(
            cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        self.hook = self._read("hook")
        self.started_at = 0.0
        self.load_done_at = 0.0

    def _read(self, key: str) -> Any:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with contextlib.suppress(ValueError):
                data = json.loads(line)
                if key in data:
                    return data[key]
        raise RuntimeError(f"the soak driver exited (code {self.process.wait()}) before it said {key!r}")

    def start(self, url: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"go {url}\n")
        self.process.stdin.flush()
        self.started_at = time.monotonic()

    def wait_load_done(self) -> float:
        """Block until the last POST is sent; the load's length in seconds."""
        elapsed = float(self._read("load_done"))
        self.load_done_at = time.monotonic()
        return elapsed

    def result(self) -> SoakResult:
        data = self._read("result")
        self.process.wait(timeout=60)
        return SoakResult(**data)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()


@contextlib.contextmanager
def driver(scenario: Scenario) -> Iterator[Driver]:
    d = Driver(scenario)
    try:
        yield d
    finally:
        d.close()


if __name__ == "__main__":
    main()
