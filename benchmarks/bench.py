#!/usr/bin/env python3
"""Side-by-side benchmark: the real Alertmanager 0.25 (reference) and `ampp serve`.

    python benchmarks/bench.py [--quick] [--servers reference,ampp] [--connections 8]

Runs each server in turn on this machine, with the same config and the same load, and prints
one table with both and the ratio ampp/reference:

- alerts/s posted in batches of 100 (distinct alerts, then the same batches again: updates),
  and the p50/p99 latency of one such POST, over several concurrent connections;
- single-alert POSTs per second and their p50/p99 latency;
- resident memory (VmRSS, process and its children) while holding the alerts of the batch
  run (100,000 distinct active alerts in a full run), after a settle;
- POST -> webhook latency with group_wait 0 (median, p99), measured by a capture server.

Each measurement starts a fresh server. The load generator runs in a separate process (this
same file with --loadgen) with pre-serialised payloads, so its CPU does not share a Python
interpreter with anything else; its CPU time and the server's are printed, to show which side
was the bottleneck. Every load is bounded by a request count and a time cap; only 127.0.0.1 is
ever contacted. If `ampp` is not importable, the reference runs alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import platform
import selectors
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "engine"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from tests.support.capture import CaptureServer  # noqa: E402
from tests.support.servers import REFERENCE_BINARY, ampp_command, free_port, stop, wait_ready  # noqa: E402
from tests.support.soak import realistic_alert  # noqa: E402

BATCH = 100

CONFIG = """\
global:
  resolve_timeout: 1h
route:
  receiver: blackhole
  group_by: [alertname, team]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: ['bench="latency"']
      receiver: hook
      group_by: [bench_group]
      group_wait: 0s
      group_interval: 1m
receivers:
  - name: blackhole
  - name: hook
    webhook_configs:
      - url: {hook}/latency
"""


BENCH_KEY = "ampp_bench-operator-key-0123456789abcdef"
AUTH_SECTIONS = f"""\
auth:
  api_keys: [{{name: bench, role: operator, key: {BENCH_KEY}, machine: true}}]
security:
  rate_limits:  # on and counted (3 limits per request), high enough never to refuse the load
    ingest: {{per_ip: 1000000, per_identity: 1000000, global: 1000000}}
"""


def as_config_yaml(config: str, sections: str = "") -> str:
    """An alertmanager.yml as config.yaml (below ``alerting:``), with more ``sections``."""
    return "alerting:\n" + "".join(f"  {line}\n" for line in config.splitlines()) + sections


def with_tracing(config: str, endpoint: str) -> str:
    """The same config as config.yaml with tracing on, every trace kept, exported over OTLP/gRPC."""
    return as_config_yaml(config, f"tracing: {{enabled: true, sample_rate: 1.0, endpoint: '{endpoint}'}}\n")


@dataclass(frozen=True)
class Sizes:
    batch_alerts: int  # distinct alerts posted in batches of 100 (then held for the RSS reading)
    single_requests: int
    latency_alerts: int
    settle_s: float
    time_cap_s: float  # per load run


FULL = Sizes(batch_alerts=100_000, single_requests=20_000, latency_alerts=50, settle_s=10, time_cap_s=120)
QUICK = Sizes(batch_alerts=5_000, single_requests=2_000, latency_alerts=10, settle_s=2, time_cap_s=15)


# --- payloads --------------------------------------------------------------------------------


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def make_alert(n: int, starts: str, ends: str, **extra_labels: str) -> dict[str, Any]:
    """A realistic alert: 7 labels, 2 annotations (node-exporter style), 100 alertnames."""
    return realistic_alert(n, f"BenchAlert{n % 100}", starts, ends, **extra_labels)


def payloads(kind: str, count: int, offset: int) -> list[bytes]:
    now = datetime.now(UTC)
    starts, ends = _ts(now), _ts(now + timedelta(hours=2))
    if kind == "batch":
        return [
            json.dumps([make_alert(offset + b * BATCH + i, starts, ends) for i in range(BATCH)]).encode()
            for b in range(count // BATCH)
        ]
    return [json.dumps([make_alert(offset + i, starts, ends)]).encode() for i in range(count)]


# --- load generator (child process) ----------------------------------------------------------


async def _load(
    url: str, bodies: list[bytes], connections: int, time_cap: float, extra: dict[str, str]
) -> dict[str, Any]:
    import aiohttp

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    next_index = 0
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    headers = {"Content-Type": "application/json", **extra}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        # Warm up every connection (not counted).
        async def warm() -> None:
            async with session.get(url.rsplit("/api/", 1)[0] + "/-/ready") as r:
                await r.read()

        await asyncio.gather(*(warm() for _ in range(connections)))
        deadline = time.perf_counter() + time_cap

        async def worker() -> None:
            nonlocal next_index
            while next_index < len(bodies) and time.perf_counter() < deadline:
                body = bodies[next_index]
                next_index += 1
                t = time.perf_counter()
                async with session.post(url, data=body) as r:
                    await r.read()
                    statuses[r.status] = statuses.get(r.status, 0) + 1
                latencies.append(time.perf_counter() - t)

        start, cpu0 = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu0
    return {
        "loadgen_cpu": cpu,  # the load itself, without the start of the interpreter
        "requests": len(latencies),
        "elapsed": elapsed,
        "ok": statuses.get(200, 0),
        "statuses": {str(k): v for k, v in statuses.items()},
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
    }


def loadgen_main(spec: dict[str, Any]) -> None:
    bodies = Path(spec["bodies"]).read_bytes().splitlines()
    ready = sys.stdin.readline()  # wait until the parent has read the CPU counters
    assert ready.strip() == "go"
    result = asyncio.run(_load(spec["url"], bodies, spec["connections"], spec["time_cap"], spec["headers"]))
    print(json.dumps(result))


# --- wrk (C, far lighter than any Python client: preferred when installed) ------------------

WRK_SCRIPT = """\
-- Posts each line of the bodies file once (cycling if wrk asks for more), then says so.
function init(args)
  bodies = {}
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  idx, done_count = 0, 0
  headers = {["Content-Type"] = "application/json"}
  if args[2] then headers["Authorization"] = args[2] end
end
function request()
  idx = idx % #bodies + 1
  return wrk.format("POST", "/api/v2/alerts", headers, bodies[idx])
end
function response(status, hdrs, body)
  done_count = done_count + 1
  if done_count == #bodies then
    -- wrk itself only stops at -d; the parent sends SIGINT on this line.
    io.write("WRKDONE\\n"); io.flush(); wrk.thread:stop()
  end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "elapsed_us": %d, "non2xx": %d, "socket_errors": %d, '
    .. '"p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _wrk(url: str, bodies_file: Path, connections: int, time_cap: float, authorization: str) -> list[str]:
    script = bodies_file.with_suffix(".lua")
    script.write_text(WRK_SCRIPT)
    return ["wrk", "-t1", f"-c{connections}", f"-d{int(time_cap)}s", "--timeout", "10s",
            "-s", str(script), url, "--", str(bodies_file),
            *([authorization] if authorization else [])]  # fmt: skip


def _parse_wrk(out: str) -> dict[str, Any]:
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    w = json.loads(line.removeprefix("WRKJSON "))
    ok = w["requests"] - w["non2xx"] - w["socket_errors"]
    return {
        "requests": w["requests"],
        "elapsed": w["elapsed_us"] / 1e6,
        "ok": ok,
        "statuses": {"2xx": ok, "non-2xx": w["non2xx"], "socket errors": w["socket_errors"]},
        "p50_ms": w["p50_us"] / 1000,
        "p99_ms": w["p99_us"] / 1000,
    }


# --- server handling -------------------------------------------------------------------------


def process_tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def rss_by_process(pid: int) -> list[tuple[str, int, int]]:
    """(name, VmRSS, VmHWM in KiB) of the process and each of its descendants."""
    out = []
    for p in process_tree(pid):
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{p}/status").read_text().splitlines()
            fields = dict(line.split(":", 1) for line in status if ":" in line)
            cmd = Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")
            named = (a.decode() for a in cmd if a.startswith(b"ampp.") or a == b"serve")
            name = next(named, fields["Name"].strip())
            out.append((f"{p} {name}", int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])))
    return out


def rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in KiB, summed over the process and its descendants."""
    procs = rss_by_process(pid)
    return sum(r for _, r, _ in procs), sum(h for _, _, h in procs)


def cpu_seconds(pid: int) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in process_tree(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


@dataclass
class Running:
    kind: str
    url: str
    process: subprocess.Popen[bytes]


@contextlib.contextmanager
def start_server(kind: str, config: str, workdir: Path) -> Iterator[Running]:
    """Like tests.support.servers.run_server, but logging at info (debug logs every alert)."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "alertmanager.yml").write_text(config)
    (workdir / "data").mkdir(exist_ok=True)
    port = free_port()
    cmd = [REFERENCE_BINARY] if kind == "reference" else ampp_command()
    cmd += [
        f"--config.file={workdir / 'alertmanager.yml'}",
        f"--storage.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
        "--log.level=info",
    ]
    log_path = workdir / f"{kind}.log"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "engine"), str(ROOT), *filter(None, [env.get("PYTHONPATH")])]
    )
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc, log_path)
        yield Running(kind, url, proc)
    finally:
        stop(proc)


def busy_cpu_seconds() -> float:
    """CPU time spent by the whole machine (all processes), from /proc/stat."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def run_load(
    server: Running,
    bodies: list[bytes],
    connections: int,
    time_cap: float,
    tool: str,
    authorization: str = "",
) -> dict[str, Any]:
    """Post every body once over `connections` connections, in a separate process (with an
    Authorization header when given)."""
    url = f"{server.url}/api/v2/alerts"
    with tempfile.TemporaryDirectory(prefix="ampp-load-") as tmp:
        bodies_file = Path(tmp) / "bodies.jsonl"
        bodies_file.write_bytes(b"\n".join(bodies) + b"\n")
        if tool == "wrk":
            cmd = _wrk(url, bodies_file, connections, time_cap, authorization)
        else:
            headers = {"Authorization": authorization} if authorization else {}
            spec = {"url": url, "bodies": str(bodies_file), "connections": connections,
                    "time_cap": time_cap, "headers": headers}  # fmt: skip
            cmd = [sys.executable, __file__, "--loadgen", json.dumps(spec)]
        child = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if tool != "wrk":  # the Python child reads its bodies first; then we start counting
            time.sleep(0.5)
        children0 = os.times()
        server0, busy0, wall0 = cpu_seconds(server.process.pid), busy_cpu_seconds(), time.time()
        assert child.stdin is not None
        if tool != "wrk":
            child.stdin.write("go\n")
            child.stdin.flush()
        if tool == "wrk":
            assert child.stdout is not None
            lines = []
            for line in child.stdout:
                lines.append(line)
                if line.startswith("WRKDONE"):
                    child.send_signal(signal.SIGINT)  # wrk then prints its summary and exits
            child.wait(timeout=time_cap + 120)
            out = "".join(lines)
        else:
            out, _ = child.communicate(timeout=time_cap + 120)
        if child.returncode != 0:
            raise RuntimeError(f"{cmd[0]} exited with {child.returncode}: {out[-2000:]}")
        children1 = os.times()
    result: dict[str, Any] = _parse_wrk(out) if tool == "wrk" else json.loads(out)
    result["server_cpu"] = cpu_seconds(server.process.pid) - server0
    result.setdefault(
        "loadgen_cpu",
        (children1.children_user + children1.children_system)
        - (children0.children_user + children0.children_system),
    )
    result["other_cpu"] = max(0.0, busy_cpu_seconds() - busy0 - result["server_cpu"] - result["loadgen_cpu"])
    result["window"] = time.time() - wall0  # the span over which the CPU times were taken
    result["tool"] = tool
    return result


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[max(0, min(len(s) - 1, round(q / 100 * len(s) + 0.5) - 1))]


# --- measurements ----------------------------------------------------------------------------


def measure(kind: str, sizes: Sizes, connections: int, tool: str, workdir: Path) -> dict[str, Any]:
    res: dict[str, Any] = {}
    batches = payloads("batch", sizes.batch_alerts, 0)
    singles = payloads("single", sizes.single_requests, 0)
    with CaptureServer() as capture:
        config = CONFIG.format(hook=capture.url)

        # 1. Batches of 100 distinct alerts; hold them (RSS); the same batches again (updates).
        with start_server(kind, config, workdir / f"{kind}-batch") as srv:
            r = run_load(srv, batches, connections, sizes.time_cap_s, tool)
            res["batch_alerts_per_s"] = r["ok"] * BATCH / r["elapsed"]
            res["batch_p50_ms"], res["batch_p99_ms"] = r["p50_ms"], r["p99_ms"]
            res["batch_detail"] = _detail(r, BATCH)
            _note_disturbance(res, r)
            time.sleep(sizes.settle_s)
            # Before any GET: rendering 100,000 alerts as JSON grows a Go heap by hundreds of MiB.
            rss, hwm = rss_kib(srv.process.pid)
            res["rss_mib"], res["peak_rss_mib"] = rss / 1024, hwm / 1024
            procs = rss_by_process(srv.process.pid)
            by_process = ", ".join(f"{name} {kib / 1024:.0f} MiB" for name, kib, _ in procs)
            res["rss_detail"] = f"{_heap_detail(srv)}; VmRSS by process: {by_process}"
            r = run_load(srv, batches, connections, sizes.time_cap_s, tool)
            res["resend_alerts_per_s"] = r["ok"] * BATCH / r["elapsed"]
            res["resend_p50_ms"], res["resend_p99_ms"] = r["p50_ms"], r["p99_ms"]
            res["resend_detail"] = _detail(r, BATCH)
            _note_disturbance(res, r)
            res["held_alerts"] = len(_get_json(f"{srv.url}/api/v2/alerts"))

        # 2. Single-alert requests (distinct alerts).
        with start_server(kind, config, workdir / f"{kind}-single") as srv:
            r = run_load(srv, singles, connections, sizes.time_cap_s, tool)
            res["single_req_per_s"] = r["ok"] / r["elapsed"]
            res["single_p50_ms"], res["single_p99_ms"] = r["p50_ms"], r["p99_ms"]
            res["single_detail"] = _detail(r, 1)
            _note_disturbance(res, r)
        if tool == "wrk":  # beside wrk's figure, what a Python client (issue #2's ~4,000/s) gets
            with start_server(kind, config, workdir / f"{kind}-single-py") as srv:
                r = run_load(srv, singles, connections, sizes.time_cap_s, "aiohttp")
                res["single_py_req_per_s"] = r["ok"] / r["elapsed"]
                res["single_py_detail"] = _detail(r, 1)
                _note_disturbance(res, r)

        # 2b. What access control costs on the ingest path: the same config as config.yaml without
        # and with auth (an API key) and rate limits, in A-B-B-A order, so that a drift of the
        # machine's speed during the four runs cancels out of the ratio.
        if kind == "ampp":
            rates: dict[bool, list[float]] = {False: [], True: []}
            details = []
            for n, on in enumerate((False, True, True, False)):
                text = as_config_yaml(config, AUTH_SECTIONS if on else "")
                with start_server(kind, text, workdir / f"{kind}-single-auth-{n}") as srv:
                    r = run_load(
                        srv, singles, connections, sizes.time_cap_s, tool, f"Bearer {BENCH_KEY}" if on else ""
                    )
                rates[on].append(r["ok"] / r["elapsed"])
                cpu_us = r["server_cpu"] / max(r["requests"], 1) * 1e6
                details.append(
                    f"{'on' if on else 'off'}: {_detail(r, 1)}, {cpu_us:.0f} µs of server CPU a request"
                )
                _note_disturbance(res, r)
            res["single_auth_req_per_s"] = statistics.mean(rates[True])
            res["single_auth_ratio"] = sum(rates[True]) / sum(rates[False])
            res["single_auth_detail"] = "; ".join(details)

        # 3. POST -> webhook with group_wait 0, one new group per alert.
        with start_server(kind, config, workdir / f"{kind}-latency") as srv:
            res.update(_latency(srv, capture, sizes.latency_alerts))

        # 4. GET /api/v2/alerts/groups over many groups.
        with start_server(kind, config, workdir / f"{kind}-groups") as srv:
            res.update(_groups(srv, sizes.batch_alerts // 5))

    # 5. SIGTERM with many aggregation groups, an endpoint answering after 10 s mid-send.
    res.update(_sigterm(kind, sizes.batch_alerts // 10, workdir))

    # Last: tracing on (every trace kept, exported to a local OTLP receiver), against the runs
    # above, which had it off: what it costs on, and what its calls cost off.
    if kind == "ampp":
        res.update(_tracing(sizes, connections, tool, workdir))
    return res


def _tracing(sizes: Sizes, connections: int, tool: str, workdir: Path) -> dict[str, Any]:
    """Single-alert requests/s with tracing off and on (every trace kept), the same config.yaml
    otherwise, in A-B-B-A order like the auth row; POST -> webhook latency with it on. The OTLP
    receiver runs in this process: its CPU counts as other processes' and takes from the server's
    share of the two cores, so this is the worst case, not a collector on another machine."""
    from tests.support.otlp import otlp_receiver

    singles = payloads("single", sizes.single_requests, 0)
    res: dict[str, Any] = {}
    rates: dict[bool, list[float]] = {False: [], True: []}
    details = []
    with otlp_receiver() as receiver, CaptureServer() as capture:
        config = CONFIG.format(hook=capture.url)
        for n, on in enumerate((False, True, True, False)):
            text = with_tracing(config, receiver.grpc_endpoint) if on else as_config_yaml(config)
            before = len(receiver.spans)
            with start_server("ampp", text, workdir / f"ampp-traced-{n}") as srv:
                r = run_load(srv, singles, connections, sizes.time_cap_s, tool)
                if on and "traced_webhook_p50_ms" not in res:
                    res["traced_webhook_p50_ms"] = _latency(srv, capture, sizes.latency_alerts)[
                        "webhook_p50_ms"
                    ]
            rates[on].append(r["ok"] / r["elapsed"])
            cpu_us = r["server_cpu"] / max(r["requests"], 1) * 1e6
            spans = f", {len(receiver.spans) - before:,} spans exported" if on else ""
            details.append(
                f"{'on' if on else 'off'}: {_detail(r, 1)}, {cpu_us:.0f} µs of server CPU a request{spans}"
            )
    res["traced_req_per_s"] = statistics.mean(rates[True])
    res["traced_ratio"] = sum(rates[True]) / sum(rates[False])
    res["traced_detail"] = "; ".join(details) + f"; tracing off, {_off_cost()}"
    return res


def _off_cost() -> str:
    """What the tracing calls of one POST cost with tracing off: the request's check and the
    ingest span (the others run per flush and per attempt), timed in this interpreter."""
    import timeit

    from ampp import tracing

    def calls() -> None:
        tracing.enabled()
        with tracing.span("ingest") as span:
            span.set_attribute("ampp.alerts", 1)

    n = 200_000
    ns = min(timeit.repeat(calls, number=n, repeat=5)) / n * 1e9
    return f"the tracing calls of one POST take {ns:.0f} ns (timeit, best of 5 x {n:,})"


SHUTDOWN_CONFIG = """\
route:
  receiver: slow
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1h
receivers:
  - name: slow
    webhook_configs:
      - url: {hook}/slow
"""


def _sigterm(kind: str, groups: int, workdir: Path) -> dict[str, Any]:
    """Seconds from SIGTERM to the process's exit, with ``groups`` groups and sends in flight."""
    import httpx

    now = datetime.now(UTC)
    with CaptureServer(delay=10) as slow:
        with start_server(kind, SHUTDOWN_CONFIG.format(hook=slow.url), workdir / f"{kind}-sigterm") as srv:
            with httpx.Client(timeout=60) as client:
                for b in range(0, groups, BATCH):
                    body = [
                        make_alert(n, _ts(now), _ts(now + timedelta(hours=1)))
                        | {"labels": {"alertname": f"Stop{n}"}}
                        for n in range(b, min(b + BATCH, groups))
                    ]
                    client.post(f"{srv.url}/api/v2/alerts", json=body).raise_for_status()
            slow.wait_for(1, timeout=30)  # a send is in flight
            start = time.monotonic()
            srv.process.send_signal(signal.SIGTERM)
            srv.process.wait(60)
            took = time.monotonic() - start
    return {
        "sigterm_exit_s": took,
        "sigterm_detail": f"{groups:,} groups, {len(slow.requests)} notifications in flight or sent; "
        f"exit code {srv.process.returncode}",
    }


def _note_disturbance(res: dict[str, Any], r: dict[str, Any]) -> None:
    """Keep the worst share of the machine that other processes took during a load run."""
    share = r["other_cpu"] / max(r["window"] * (os.cpu_count() or 1), 1e-9)
    res["other_cpu_share"] = max(res.get("other_cpu_share", 0.0), share)


def _detail(r: dict[str, Any], per_request: int) -> str:
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items()))
    return (
        f"{r['requests']} requests x {per_request} alert(s) in {r['elapsed']:.2f}s ({statuses}) "
        f"by {r['tool']}; CPU seconds: server {r['server_cpu']:.1f}, "
        f"load generator {r['loadgen_cpu']:.1f}, other processes {r['other_cpu']:.1f} "
        f"(over {r['window']:.1f}s)"
    )


def _heap_detail(srv: Running) -> str:
    """What the server's own /metrics says about its memory, where it says it."""
    import httpx

    try:
        text = httpx.get(f"{srv.url}/metrics", timeout=10).text
    except httpx.HTTPError:
        return "no /metrics"
    wanted = ("go_memstats_heap_inuse_bytes", "go_memstats_heap_alloc_bytes",
              "process_resident_memory_bytes")  # fmt: skip
    found = []
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in wanted:
            found.append(f"{name} {float(value) / 2**20:.0f} MiB")
    return "; ".join(found) or "no memory metrics"


def _get_json(url: str) -> Any:
    import httpx

    return httpx.get(url, timeout=120).json()


def _latency(srv: Running, capture: CaptureServer, count: int) -> dict[str, Any]:
    import httpx

    capture.requests.clear()
    sent: dict[str, float] = {}
    now = datetime.now(UTC)
    with httpx.Client(timeout=10) as client:
        client.get(f"{srv.url}/-/ready")
        for i in range(count):
            group = f"g{i}"
            body = json.dumps(
                [make_alert(i, _ts(now), _ts(now + timedelta(hours=1)), bench="latency", bench_group=group)]
            ).encode()
            sent[group] = time.time()
            r = client.post(
                f"{srv.url}/api/v2/alerts", content=body, headers={"Content-Type": "application/json"}
            )
            r.raise_for_status()
            capture.wait_for(i + 1, timeout=30)
            time.sleep(0.05)
    lat = []
    for req in capture.requests:
        body = req.json()
        group = body["groupLabels"]["bench_group"]
        lat.append((req.received_at - sent[group]) * 1000)
    return {
        "webhook_p50_ms": statistics.median(lat),
        "webhook_p99_ms": percentile(lat, 99),
        "webhook_detail": f"{len(lat)} alerts, each a new group; max {max(lat):.1f} ms",
    }


GROUP_GETS = 7


def _groups(srv: Running, alerts: int) -> dict[str, Any]:
    """``alerts`` alerts in groups of 10 (1,000 alertnames x 10 teams under the bench's
    ``group_by: [alertname, team]``), then GET /api/v2/alerts/groups: the first answer and the
    median of the next ones."""
    import httpx

    now = datetime.now(UTC)
    starts, ends = _ts(now), _ts(now + timedelta(hours=2))
    with httpx.Client(timeout=120) as client:
        for b in range(0, alerts, BATCH):
            body = []
            for n in range(b, min(b + BATCH, alerts)):
                a = make_alert(n, starts, ends)
                a["labels"] |= {"alertname": f"BenchAlert{n % 1000}", "team": f"team-{n // 1000 % 10}"}
                body.append(a)
            client.post(f"{srv.url}/api/v2/alerts", json=body).raise_for_status()
        times, groups = [], 0
        for _ in range(GROUP_GETS):
            t = time.perf_counter()
            r = client.get(f"{srv.url}/api/v2/alerts/groups")
            r.raise_for_status()
            times.append((time.perf_counter() - t) * 1000)
            groups = len(r.json())
    return {
        "groups_first_ms": times[0],
        "groups_ms": statistics.median(times[1:]),
        "groups_detail": f"{groups:,} groups of {alerts:,} alerts; each GET, ms: "
        + " ".join(f"{t:.0f}" for t in times),
    }


def combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each number over the runs; the details of every run; the worst disturbance."""
    out: dict[str, Any] = {"runs": runs}
    for key, value in runs[0].items():
        if key == "other_cpu_share":
            out[key] = max(r[key] for r in runs)
        elif isinstance(value, int | float):
            out[key] = statistics.median(r[key] for r in runs)
        else:
            out[key] = [r[key] for r in runs]
    return out


# --- soak: the sustained-load scenario of issue 21 (tests.support.soak) ----------------------

SOAK_LOG_UNDURABLE = "acknowledged alerts before they were committed"


def soak(kind: str, scenario: Any, workdir: Path) -> dict[str, Any]:
    """Run the scenario against a fresh server, sampling its CPU and RSS every second."""
    from tests.support import soak as scenario_mod

    res: dict[str, Any] = {}
    samples: list[tuple[float, float, float]] = []  # (seconds since the load began, CPU s, RSS KiB)
    with scenario_mod.driver(scenario) as drv:
        config = scenario_mod.CONFIG.format(hook=drv.hook)
        with start_server(kind, config, workdir / f"{kind}-soak") as srv:
            pid = srv.process.pid
            busy0, cpu0, driver0 = busy_cpu_seconds(), cpu_seconds(pid), cpu_seconds(drv.process.pid)
            drv.start(srv.url)
            load_done = None
            end = drv.started_at + scenario.duration_s + scenario.drain_s
            assert drv.process.stdout is not None
            sel = selectors.DefaultSelector()
            sel.register(drv.process.stdout, selectors.EVENT_READ)
            next_sample = drv.started_at
            while time.monotonic() < end:
                now = time.monotonic()
                if now >= next_sample:
                    samples.append((now - drv.started_at, cpu_seconds(pid), rss_kib(pid)[0]))
                    next_sample += 1.0
                if load_done is None and sel.select(timeout=max(0.0, next_sample - time.monotonic())):
                    res["load_elapsed_s"] = drv.wait_load_done()
                    load_done = drv.load_done_at - drv.started_at
                elif load_done is not None:
                    time.sleep(max(0.0, next_sample - time.monotonic()))
            sel.close()
            driver_cpu = cpu_seconds(drv.process.pid) - driver0
            server_cpu = cpu_seconds(pid) - cpu0
            window = time.monotonic() - drv.started_at
            other = busy_cpu_seconds() - busy0 - server_cpu - driver_cpu
            res["other_cpu_share"] = max(0.0, other) / max(1e-9, window * (os.cpu_count() or 1))
            res["driver_cpu_s"] = driver_cpu
            result = drv.result()
            procs = rss_by_process(pid)
            res["rss_detail"] = "VmRSS by process at the end: " + ", ".join(
                f"{name} {kib / 1024:.0f} MiB" for name, kib, _ in procs
            )
        log_text = (workdir / f"{kind}-soak" / f"{kind}.log").read_text(errors="replace")
    res["undurable_acks_logged"] = log_text.count(SOAK_LOG_UNDURABLE)
    sent = result.posts * scenario.batch
    ok = result.statuses.get("200", 0)
    res["soak_alerts_accepted"] = ok * scenario.batch
    res["soak_alerts_sent"] = sent
    res["soak_p50_ms"] = percentile(result.latencies_ms, 50)
    res["soak_p99_ms"] = percentile(result.latencies_ms, 99)
    load_end = load_done if load_done is not None else scenario.duration_s
    during = [n for i, n in enumerate(result.notifications) if (i + 1) * 10 <= load_end]
    res["soak_notifications_per_10s"] = statistics.median(during) if during else 0
    res["soak_cpu_cores"] = _cpu_between(samples, 10, load_end)
    after = [s for s in samples if s[0] >= load_end]
    res["soak_cpu_after_s"] = (after[-1][1] - after[0][1]) if len(after) > 1 else float("nan")
    res["soak_catchup_s"] = _catch_up(samples, load_end)
    rss = [s[2] / 1024 for s in samples]
    res["soak_rss_max_mib"] = max(rss) if rss else float("nan")
    res["soak_rss_end_mib"] = rss[-1] if rss else float("nan")
    res["soak_detail"] = (
        f"{result.posts} POSTs x {scenario.batch} alerts over {res.get('load_elapsed_s', 0):.1f}s "
        f"({', '.join(f'{k}: {v}' for k, v in sorted(result.statuses.items()))}); "
        f"{result.late_posts} sent >100 ms late by the driver; {result.silence_ops} silence operations "
        f"({result.silence_errors} failed); '{SOAK_LOG_UNDURABLE}' logged "
        f"{res['undurable_acks_logged']} times"
    )
    res["soak_notify_detail"] = (
        "notifications per 10 s: "
        + " ".join(map(str, result.notifications))
        + ("; alerts in them per 10 s: " + " ".join(map(str, result.notified_alerts)))
    )
    res["soak_rss_over_time"] = "RSS MiB every 30 s: " + " ".join(
        f"{s[2] / 1024:.0f}" for s in samples if round(s[0]) % 30 == 0
    )
    res["soak_cpu_over_time"] = (
        "CPU cores per 10 s: "
        + " ".join(f"{_cpu_between(samples, t, t + 10):.2f}" for t in range(0, int(samples[-1][0]) - 9, 10))
        if samples
        else ""
    )
    return res


def _cpu_between(samples: list[tuple[float, float, float]], start: float, end: float) -> float:
    """Mean cores used by the server between ``start`` and ``end`` seconds into the load."""
    inside = [s for s in samples if start <= s[0] <= end]
    if len(inside) < 2:
        return float("nan")
    return (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0])


def _catch_up(samples: list[tuple[float, float, float]], load_end: float) -> float:
    """Seconds after the last POST until the server uses under a tenth of a core for 3 s."""
    after = [s for s in samples if s[0] >= load_end]
    for i in range(len(after) - 3):
        a, b = after[i], after[i + 3]
        if (b[1] - a[1]) / (b[0] - a[0]) < 0.1:
            return a[0] - load_end
    return float("inf")


SOAK_ROWS = [
    ("soak_alerts_accepted", "alerts accepted (200)", "{:,.0f}"),
    ("soak_alerts_sent", "alerts sent", "{:,.0f}"),
    ("soak_p50_ms", "POST p50 ms", "{:.1f}"),
    ("soak_p99_ms", "POST p99 ms", "{:.1f}"),
    ("soak_notifications_per_10s", "notifications per 10 s (median, during the load)", "{:.0f}"),
    ("soak_cpu_cores", "server CPU during the load, cores", "{:.2f}"),
    ("soak_rss_max_mib", "RSS max, MiB", "{:.0f}"),
    ("soak_rss_end_mib", "RSS at the end, MiB", "{:.0f}"),
    ("soak_cpu_after_s", "server CPU seconds after the load (drain)", "{:.1f}"),
    ("soak_catchup_s", "catch-up after the load, s (< 0.1 core for 3 s)", "{:.0f}"),
]


def soak_verdicts(results: dict[str, dict[str, Any]]) -> list[str]:
    """Issue 21's targets for the soak, each said to hold or not."""
    a, ref = results.get("ampp"), results.get("reference")
    if a is None:
        return []
    out = [
        ("ampp accepts every alert", a["soak_alerts_accepted"] == a["soak_alerts_sent"]),
        ("catch-up after the load under 10 s", a["soak_catchup_s"] < 10),
        ("no acknowledgement before the commit", a["undurable_acks_logged"] == 0),
    ]
    if ref is not None:
        out += [
            ("p99 <= 2 x Alertmanager's", a["soak_p99_ms"] <= 2 * ref["soak_p99_ms"]),
            ("memory <= Alertmanager's (max RSS)", a["soak_rss_max_mib"] <= ref["soak_rss_max_mib"]),
        ]
    return [f"{'holds' if ok else 'FAILS'}: {what}" for what, ok in out]


def print_soak(results: dict[str, dict[str, Any]]) -> None:
    kinds = list(results)
    header = ["metric", *kinds] + (["ampp/reference"] if len(kinds) == 2 else [])
    lines = []
    for key, label, fmt in SOAK_ROWS:
        row = [label] + [fmt.format(results[k][key]) for k in kinds]
        if len(kinds) == 2:
            x, y = results["ampp"][key], results["reference"][key]
            row.append(f"{x / y:.2f}" if y and y == y and x == x else "-")
        lines.append(row)
    print_rows(header, lines)
    for k in kinds:
        share = results[k].get("other_cpu_share", 0.0)
        if share > 0.15:
            print(f"\nWARNING: during the {k} soak other processes took {share:.0%} of the machine's CPU.")
    for k in kinds:
        print(f"\n{k}:")
        for d in (
            "soak_detail",
            "soak_notify_detail",
            "soak_rss_over_time",
            "soak_cpu_over_time",
            "rss_detail",
        ):
            print(f"  {results[k][d]}")
    verdicts = soak_verdicts(results)
    if verdicts:
        print("\nissue 21's targets:")
        for v in verdicts:
            print(f"  {v}")


# --- report ----------------------------------------------------------------------------------

ROWS = [
    ("batch_alerts_per_s", "alerts/s, batches of 100 (new alerts)", "{:,.0f}"),
    ("resend_alerts_per_s", "alerts/s, batches of 100 (re-sent)", "{:,.0f}"),
    ("batch_p50_ms", "POST batch of 100, p50 ms", "{:.1f}"),
    ("batch_p99_ms", "POST batch of 100, p99 ms", "{:.1f}"),
    ("resend_p99_ms", "POST batch of 100 (re-sent), p99 ms", "{:.1f}"),
    ("single_req_per_s", "single-alert requests/s", "{:,.0f}"),
    ("single_p50_ms", "POST single alert, p50 ms", "{:.2f}"),
    ("single_p99_ms", "POST single alert, p99 ms", "{:.2f}"),
    ("single_py_req_per_s", "  the same from a Python client (aiohttp, 8 connections)", "{:,.0f}"),
    ("single_auth_req_per_s", "single-alert requests/s, auth (API key) + rate limits on", "{:,.0f}"),
    ("single_auth_ratio", "  the same / same config.yaml without (target >= 0.90)", "{:.2f}"),
    ("traced_req_per_s", "single-alert requests/s, tracing on (all kept, OTLP/gRPC)", "{:,.0f}"),
    ("traced_ratio", "  the same / same config.yaml with tracing off", "{:.2f}"),
    ("traced_webhook_p50_ms", "POST -> webhook p50 ms, tracing on", "{:.1f}"),
    ("rss_mib", "RSS holding the new alerts, MiB", "{:.0f}"),
    ("peak_rss_mib", "peak RSS (VmHWM) by then, MiB", "{:.0f}"),
    ("held_alerts", "alerts held at the end (GET /api/v2/alerts)", "{:,.0f}"),
    ("webhook_p50_ms", "POST -> webhook, group_wait 0, p50 ms", "{:.1f}"),
    ("webhook_p99_ms", "POST -> webhook, group_wait 0, p99 ms", "{:.1f}"),
    ("groups_first_ms", "GET /api/v2/alerts/groups, first, ms", "{:.0f}"),
    ("groups_ms", "GET /api/v2/alerts/groups, median of the next, ms", "{:.0f}"),
    ("sigterm_exit_s", "SIGTERM to exit, groups and a slow send in flight, s", "{:.2f}"),
]


def machine_facts() -> list[str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kib / 1024 / 1024:.1f} GiB RAM"
    ref_version = subprocess.run([REFERENCE_BINARY, "--version"], capture_output=True, text=True)
    return [
        f"command: {shlex.join([Path(sys.executable).name, *sys.argv])}",
        f"machine: nproc={os.cpu_count()}, CPU: {cpu}{mem}, {platform.system()} {platform.release()}",
        f"python {platform.python_version()}; reference: "
        + (ref_version.stdout or ref_version.stderr).splitlines()[0],
    ]


def print_rows(header: list[str], lines: list[list[str]]) -> None:
    """A table: the first column left-aligned, the others right-aligned, a rule under the header."""
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    for n, r in enumerate([header, *lines]):
        cells = (c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        print("  ".join(cells))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def print_table(results: dict[str, dict[str, Any]]) -> None:
    kinds = list(results)
    header = ["metric", *kinds] + (["ampp/reference"] if len(kinds) == 2 else [])
    lines = []
    for key, label, fmt in ROWS:
        row = [label]
        for k in kinds:
            v = results[k].get(key)
            row.append(fmt.format(v) if v is not None else "-")
        if len(kinds) == 2:
            a, b = results["ampp"].get(key), results["reference"].get(key)
            row.append(f"{a / b:.2f}" if a is not None and b else "-")
        lines.append(row)
    print_rows(header, lines)
    for k in kinds:
        share = results[k].get("other_cpu_share", 0.0)
        if share > 0.15:
            print(
                f"\nWARNING: during the {k} runs other processes took up to {share:.0%} of the "
                "machine's CPU: its numbers are disturbed; rerun on a quiet machine."
            )
    for k in kinds:
        print(f"\n{k}:")
        for d in (
            "batch_detail",
            "resend_detail",
            "rss_detail",
            "single_detail",
            "single_py_detail",
            "single_auth_detail",
            "traced_detail",
            "webhook_detail",
            "groups_detail",
            "sigterm_detail",
        ):
            for n, text in enumerate(results[k].get(d, []), 1):
                run = f" (run {n})" if len(results[k][d]) > 1 else ""
                print(f"  {d.removesuffix('_detail')}{run}: {text}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run (< 1 minute)")
    parser.add_argument("--servers", default="reference,ampp", help="comma-separated: reference,ampp")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections")
    parser.add_argument(
        "--loadgen-tool",
        choices=["auto", "wrk", "aiohttp"],
        default="auto",
        help="wrk when installed (auto), else an aiohttp client in a separate process",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per server; the table shows their median")
    parser.add_argument("--json", type=Path, help="also write the raw results to this file")
    parser.add_argument(
        "--soak",
        action="store_true",
        help="instead: issue 21's sustained-load scenario (tests.support.soak) against each server",
    )
    parser.add_argument("--soak-duration", type=float, default=300.0, help="seconds of load (300)")
    parser.add_argument("--loadgen", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loadgen:
        loadgen_main(json.loads(args.loadgen))
        return 0
    if args.soak:
        return soak_main(args)

    sizes = QUICK if args.quick else FULL
    kinds = [k.strip() for k in args.servers.split(",") if k.strip()]
    for line in machine_facts():
        print(line)
    print(
        f"sizes: {sizes.batch_alerts:,} alerts in batches of {BATCH}, {sizes.single_requests:,} "
        f"single-alert requests, {args.connections} connections, {sizes.latency_alerts} latency "
        f"samples, settle {sizes.settle_s:g}s, cap {sizes.time_cap_s:g}s per load, "
        f"{args.repeat} run(s) per server (median)"
    )
    if "ampp" in kinds:
        try:
            available = importlib.util.find_spec("ampp.cli") is not None
        except ImportError:
            available = False
        if not available:
            print("ampp is not importable (ampp.cli not found): running the reference only")
            kinds.remove("ampp")
    tool = args.loadgen_tool
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "aiohttp"
    print(f"load generator: {tool}, separate process", flush=True)
    print(flush=True)

    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="ampp-bench-") as tmp:
        for kind in kinds:
            runs = []
            for i in range(args.repeat):
                print(f"running {kind} ({i + 1}/{args.repeat}) ...", flush=True)
                runs.append(measure(kind, sizes, args.connections, tool, Path(tmp) / str(i)))
            results[kind] = combine(runs)
    print()
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def soak_main(args: argparse.Namespace) -> int:
    from tests.support.soak import Scenario

    scenario = Scenario(duration_s=args.soak_duration)
    kinds = [k.strip() for k in args.servers.split(",") if k.strip()]
    for line in machine_facts():
        print(line)
    print(
        f"soak: {scenario.posts_per_s:g} POSTs/s of {scenario.batch} alerts ({scenario.new_per_batch} new, "
        f"the rest from a cycle of {scenario.cycle:,} over {scenario.alertnames} alertnames) for "
        f"{scenario.duration_s:g}s; {scenario.silences_per_period} silences created (and as many expired "
        f"past {scenario.silences_live}) every {scenario.silence_period_s:g}s; group_by [alertname], "
        f"group_wait 1s, group_interval 5s, one webhook; then {scenario.drain_s:g}s of drain",
        flush=True,
    )
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="ampp-soak-") as tmp:
        for kind in kinds:
            print(f"running {kind} ...", flush=True)
            results[kind] = soak(kind, scenario, Path(tmp))
    print()
    print_soak(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
