#!/usr/bin/env python3
"""History at scale: 1,000,000 events in PostgreSQL, /history and /report through `ampp serve`.

    python benchmarks/history_bench.py [--events 1000000] [--refill] [--cold 60] [--cached 300]

1. Fills a dedicated database (``ampp_bench_history`` on the PostgreSQL that
   scripts/services.sh runs, or on ``--pg-url``) with ``--events`` history events of realistic
   cardinality: 200 alertnames, 30 namespaces, 5 clusters, 3 severities, ~50,000 fingerprints
   (a few flap a lot, most fire once or twice), notifications from 10 receivers (some failing
   and retried), alerts silenced and inhibited, silences created by 20 people, over 14 days.
   Events go in with COPY; the summary tables are then built by the engine's own migration
   backfill (ampp.store.postgres.history.write.prepare), and the result is VACUUM ANALYZEd. A database
   that already holds the same fill is reused (``--refill`` forces a new one).
2. Starts `ampp serve` on that database with Redis as its L2 cache (a Redis database of its
   own, flushed first) and measures, over HTTP from this process, typical queries:
   - cold: each request has parameters never asked before (another namespace, alertname,
     instant, window...), so it misses both cache levels and runs in PostgreSQL;
   - cached: the same request again and again (answered from the in-process L1).
3. Prints p50 and p95 per query with the targets (/history p95 < 50 ms cold and < 6.5 ms
   cached; /report p95 < 85 ms), the fill statistics and the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "engine"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from tests.integration.services import start_services  # noqa: E402
from tests.support.servers import ampp_command, free_port, stop, wait_ready  # noqa: E402

NS = 1_000_000_000
DATABASE = "ampp_bench_history"
FILL_VERSION = 1
"""Bump when the generator changes: a database filled by another version is refilled."""
DAYS = 14
TARGETS = {"history": (50.0, 6.5), "report": (85.0, None)}

CONFIG = """\
storage:
  retention: 3650d   # keep the generated past: the cleanup job must not eat the fill
alerting:
  route: {receiver: default}
  receivers: [{name: default}]
"""


# -- the data ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fill:
    events: int
    seed: int
    end_ns: int
    """The generated history ends here (the fill's "now")."""


RECEIVERS = [f"team-{n}" for n in ("infra", "db", "web", "payments", "search", "mobile", "data", "sec")]
RECEIVERS += ["pagerduty-critical", "slack-all"]
ACTORS = [f"user{i}@example.com" for i in range(20)]


def _zipf_weights(n: int, s: float = 1.1) -> list[float]:
    return [1 / (i + 1) ** s for i in range(n)]


def generate(fill: Fill) -> list[tuple[Any, ...]]:
    """Exactly ``fill.events`` history events as COPY records (columns ``COPY_COLUMNS``), in
    time order: a first pass measures how many events an alert's history makes, the second
    makes enough, and the oldest beyond the count are dropped (as retention would)."""
    histories = 20_000
    events = _generate(fill, histories)
    while len(events) < fill.events:
        histories = int(histories * fill.events / len(events) * 1.03) + 1000
        events = _generate(fill, histories)
    return events[len(events) - fill.events :]


def _generate(fill: Fill, histories: int) -> list[tuple[Any, ...]]:
    from ampp.model.fingerprint import fingerprint

    rng = random.Random(fill.seed)
    alertnames = [f"{w}{i}" for i, w in enumerate(
        ["KubePodCrashLooping", "HighLatency", "DiskWillFillIn4h", "TargetDown", "HighErrorRate",
         "CPUThrottling", "MemoryPressure", "CertificateExpiry", "NodeNotReady",
         "QueueBacklog"] * 20)]  # fmt: skip
    severity = {a: rng.choices(["critical", "warning", "info"], [2, 5, 3])[0] for a in alertnames}
    namespaces = [f"ns-{i:02d}" for i in range(30)]
    clusters = [f"cluster-{i}" for i in range(5)]
    services = [f"svc-{i:02d}" for i in range(60)]
    # ~50,000 alerts (label sets); alertnames by a Zipf law, as in real rule sets
    aweights = _zipf_weights(len(alertnames), 0.8)
    alerts: list[tuple[str, dict[str, str], dict[str, str]]] = []
    seen: set[str] = set()
    while len(alerts) < 50_000:
        name = rng.choices(alertnames, aweights)[0]
        svc = rng.choice(services)
        labels = {
            "alertname": name, "severity": severity[name], "namespace": rng.choice(namespaces),
            "cluster": rng.choice(clusters), "service": svc, "job": f"{svc}-exporter",
            "pod": f"{svc}-{rng.getrandbits(24):06x}",
            "team": rng.choice(RECEIVERS[:8]).removeprefix("team-"),
            "prometheus": "monitoring/k8s",
        }  # fmt: skip
        fp = f"{fingerprint(labels):016x}"
        if fp in seen:
            continue
        seen.add(fp)
        ann = {
            "summary": f"{name} on {labels['pod']} in {labels['namespace']}",
            "description": f"{name}: {rng.choice(['disk', 'cpu', 'memory', 'latency', 'errors'])}"
            " above threshold",
            "runbook_url": f"https://runbooks.example.com/{name}",
        }  # fmt: skip
        alerts.append((fp, labels, ann))
    # occurrences per alert: most fire once or twice, some often, 1% flap (short, many)
    start = fill.end_ns - DAYS * 86400 * NS
    events: list[tuple[Any, ...]] = []
    pending_notify: list[tuple[int, str, str, int, str]] = []  # (time, alertname, fp, startsAt, state)

    def ev(at: int, kind: str, fp: str | None, labels: Any, ann: Any, **kw: Any) -> None:
        us, rest = divmod(at, 1000)
        events.append((
            us, rest, kind, fp, labels or {}, ann or {}, kw.get("group_key"), kw.get("receiver"),
            kw.get("integration"), kw.get("outcome"), kw.get("latency_ms"), kw.get("error"),
            kw.get("silence_id"), kw.get("actor"),
            kw.get("comment"), kw.get("details"),
        ))  # fmt: skip

    for i in range(histories):
        fp, labels, ann = alerts[i % len(alerts)]
        r = rng.random()
        flappy = r < 0.01
        n = rng.randrange(20, 120) if flappy else (1 if r < 0.6 else rng.randrange(2, 6))
        t = start + rng.randrange(DAYS * 86400 * NS)
        stuck = not flappy and rng.random() < 0.03  # fires for days, still firing at the end
        if stuck:
            t = fill.end_ns - rng.randrange(1, 5 * 86400) * NS
        for _ in range(n):
            if t >= fill.end_ns:
                break
            dur = rng.randrange(60, 900) * NS if flappy else int(rng.lognormvariate(7.0, 1.3) * NS)
            if stuck:
                dur = 10 * 86400 * NS
            ends = t + dur
            still = ends >= fill.end_ns
            ev(t, "alert.firing", fp, labels, ann, details={"startsAt": t, "endsAt": 0})
            pending_notify.append((t + 30 * NS, labels["alertname"], fp, t, "firing"))
            muted = rng.random()
            if muted < 0.05:
                sid = f"sil-{rng.randrange(2000):04d}"
                ev(t + 40 * NS, "alert.silenced", fp, labels, ann, details={"by": [sid], "startsAt": t})
                if not still:
                    ev(ends - NS, "alert.unsilenced", fp, labels, ann, details={"by": [sid], "startsAt": t})
            elif muted < 0.10:
                ev(t + 40 * NS, "alert.inhibited", fp, labels, ann, details={"by": ["x"], "startsAt": t})
                if not still:
                    ev(ends - NS, "alert.uninhibited", fp, labels, ann, details={"by": ["x"], "startsAt": t})
            if not still:
                ev(ends, "alert.resolved", fp, labels, ann, details={"startsAt": t, "endsAt": ends})
                pending_notify.append((ends + 30 * NS, labels["alertname"], fp, t, "resolved"))
            t = ends + (rng.randrange(60, 1800) * NS if flappy else rng.randrange(3600, 3 * 86400) * NS)
    # notifications: per alertname, what happened within 5 minutes goes out together
    pending_notify.sort(key=lambda x: (x[1], x[0]))
    groups: list[list[tuple[int, str, str, int, str]]] = []
    for item in pending_notify:
        g = groups[-1] if groups else None
        if g and g[0][1] == item[1] and item[0] - g[0][0] < 300 * NS and len(g) < 20:
            g.append(item)
        else:
            groups.append([item])
    for g in groups:
        at = g[-1][0]
        name = g[0][1]
        receivers = [RECEIVERS[zlib.crc32(name.encode()) % 8]]
        if severity[name] == "critical":
            receivers.append("pagerduty-critical")
        if rng.random() < 0.3:
            receivers.append("slack-all")
        details = {"fingerprints": [x[2] for x in g], "startsAt": [x[3] for x in g]}
        for recv in receivers:
            key = f'{{}}:{{alertname="{name}"}}'
            if rng.random() < 0.04:
                ev(at, "notify.failed", None, None, None, group_key=key, receiver=recv, integration="webhook",
                   outcome="failed", latency_ms=rng.uniform(50, 5000), error="unexpected status code 503",
                   details=details)  # fmt: skip
                at += 10 * NS
            ev(at, "notify.sent", None, None, None, group_key=key, receiver=recv, integration="webhook",
               outcome="sent", latency_ms=rng.uniform(5, 300), details=details)  # fmt: skip
    # silences: created, most expired later
    for n in range(2000):
        at = start + rng.randrange(DAYS * 86400 * NS)
        sid = f"sil-{n:04d}"
        actor = rng.choice(ACTORS)
        matchers = [f'alertname="{rng.choice(alertnames)}"', f'namespace="{rng.choice(namespaces)}"']
        d = {"matchers": matchers, "startsAt": at, "endsAt": at + 7200 * NS}
        ev(
            at,
            "silence.created",
            None,
            None,
            None,
            silence_id=sid,
            actor=actor,
            comment="maintenance",
            details=d,
        )
        if at + 7200 * NS < fill.end_ns:
            ev(at + 7200 * NS, "silence.expired", None, None, None, silence_id=sid, actor=actor, details=d)
    events.sort(key=lambda e: (e[0], e[1]))
    return events


COPY_COLUMNS = [
    "at", "at_ns", "kind", "fingerprint", "labels", "annotations", "group_key", "receiver", "integration",
    "outcome", "latency_ms", "error", "silence_id", "actor", "comment", "details",
]  # fmt: skip


def _db_url(admin_url: str, name: str) -> str:
    return urlunsplit(urlsplit(admin_url)._replace(path="/" + name))


async def ensure_fill(admin_url: str, fill: Fill, refill: bool) -> tuple[str, Fill, dict[str, Any]]:
    """The benchmark database, filled; reused when it already holds the same fill."""
    from ampp.store.postgres.codec import init_connection
    from ampp.store.postgres.history import write as history_write
    from ampp.store.postgres.storage import PostgresStorage

    url = _db_url(admin_url, DATABASE)
    admin = await asyncpg.connect(admin_url)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE)
        if exists and not refill:
            conn = await asyncpg.connect(url)
            try:
                meta = (
                    await conn.fetchrow("SELECT version, events, seed, end_ns, stats FROM bench_meta")
                    if await conn.fetchval("SELECT to_regclass('bench_meta') IS NOT NULL")
                    else None
                )
            finally:
                await conn.close()
            if meta and (meta[0], meta[1], meta[2]) == (FILL_VERSION, fill.events, fill.seed):
                print(f"reusing {DATABASE}: {meta[1]:,} events (--refill to start over)", flush=True)
                return url, Fill(fill.events, fill.seed, meta[3]), json.loads(meta[4])
        if exists:
            await admin.execute(f'DROP DATABASE "{DATABASE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()

    stats: dict[str, Any] = {}
    storage = PostgresStorage(url)
    await storage.open()  # the engine's migrations: the schema, summary tables included
    await storage.close()
    t0 = time.monotonic()
    records = generate(fill)
    stats["generate_s"] = round(time.monotonic() - t0, 1)
    conn = await asyncpg.connect(url)
    try:
        await init_connection(conn)
        t0 = time.monotonic()
        for i in range(0, len(records), 100_000):
            await conn.copy_records_to_table(
                "history_events", records=records[i : i + 100_000], columns=COPY_COLUMNS
            )
            print(f"  copied {min(i + 100_000, len(records)):,} events", flush=True)
        stats["copy_s"] = round(time.monotonic() - t0, 1)
        del records
        # What a migration does for events stored before the summary existed, timed.
        t0 = time.monotonic()
        await conn.execute("INSERT INTO history_summary_pending SELECT max(id) FROM history_events")
        await history_write.prepare(conn)
        stats["summary_s"] = round(time.monotonic() - t0, 1)
        t0 = time.monotonic()
        await conn.execute("VACUUM ANALYZE")
        stats["vacuum_s"] = round(time.monotonic() - t0, 1)
        stats["events"] = await conn.fetchval("SELECT count(*) FROM history_events")
        stats["occurrences"] = await conn.fetchval("SELECT count(*) FROM alert_occurrences")
        stats["fingerprints"] = await conn.fetchval("SELECT count(*) FROM alert_fingerprints")
        stats["firing"] = await conn.fetchval("SELECT count(*) FROM alert_occurrences WHERE ends_at IS NULL")
        stats["size"] = await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
        await conn.execute(
            "CREATE TABLE bench_meta (version INT, events INT, seed INT, end_ns BIGINT, stats TEXT);"
        )
        await conn.execute(
            "INSERT INTO bench_meta VALUES ($1, $2, $3, $4, $5)",
            FILL_VERSION, fill.events, fill.seed, fill.end_ns, json.dumps(stats),
        )  # fmt: skip
    finally:
        await conn.close()
    return url, fill, stats


# -- the queries -------------------------------------------------------------------------------
@dataclass
class Query:
    name: str
    kind: str  # history or report
    make: Callable[[random.Random, int], tuple[str, dict[str, Any]]]
    """(path, params) for the i-th cold request; i = -1 is the one repeated for "cached"."""


async def pick_samples(url: str) -> dict[str, list[Any]]:
    conn = await asyncpg.connect(url)
    try:
        busy = await conn.fetch(
            "SELECT fingerprint FROM alert_occurrences GROUP BY fingerprint ORDER BY count(*) DESC LIMIT 200"
        )
        names = await conn.fetch("SELECT DISTINCT alertname FROM alert_occurrences ORDER BY 1")
        pods = await conn.fetch(
            "SELECT labels->>'pod' FROM alert_fingerprints ORDER BY fingerprint LIMIT 200"
        )
        return {
            "fps": [r[0] for r in busy],
            "alertnames": [r[0] for r in names],
            "pods": [r[0] for r in pods],
        }
    finally:
        await conn.close()


def rfc(ns: int) -> str:
    from ampp.model.timefmt import format_rfc3339nano

    return format_rfc3339nano(ns)


def queries(end: int, samples: dict[str, list[Any]]) -> list[Query]:
    H = 3600 * NS
    nss = [f"ns-{i:02d}" for i in range(30)]
    names = samples["alertnames"]
    fps = samples["fps"]
    pods = samples["pods"]

    def at(rng: random.Random, i: int, span: int) -> int:
        return end - (i + 1) * span if i >= 0 else end - span // 2

    def window(i: int, hours: int) -> dict[str, Any]:
        to = at(random.Random(), i, 13 * 60 * NS)
        return {"from": rfc(to - hours * H), "to": rfc(to)}

    def firing(r: random.Random, i: int) -> tuple[str, dict[str, Any]]:
        p = {"status": "firing", "severity": "critical", "namespace": nss[i % 30]}
        return "/history", {**p, **({"sort": "endsAt"} if i // 30 % 2 else {})}

    def flapping(r: random.Random, i: int) -> tuple[str, dict[str, Any]]:
        p = {"flapping": str(3 + i % 6), "direction": ["desc", "asc"][i // 6 % 2]}
        return "/history", {**p, "limit": str(100 - i // 12)}

    def matchers(r: random.Random, i: int) -> tuple[str, dict[str, Any]]:
        p = {"filter": [f'cluster="cluster-{i % 5}"', f'service=~"svc-{i % 6}.*"']}
        return "/history", {**p, "direction": ["desc", "asc"][i // 30 % 2]}  # 60 requests, none alike

    def text(r: random.Random, i: int) -> tuple[str, dict[str, Any]]:
        return "/history", {"q": pods[i % len(pods)].upper(), "from": rfc(end - 7 * 24 * H - i * NS)}

    return [
        Query("firing critical in a namespace", "history", firing),
        Query("one alertname, last 24 h", "history",
              lambda r, i: ("/history", {"alertname": names[i % len(names)], "from": rfc(end - 24 * H)})),
        Query("label matchers (=, =~)", "history", matchers),
        Query("active at an instant", "history",
              lambda r, i: ("/history", {"active_at": rfc(at(r, i, 97 * 60 * NS)), "limit": "50"})),
        Query("flapping (>N changes in 1 h)", "history", flapping),
        Query("annotation text (a pod), 7 d", "history", text),
        Query("one alert's timeline", "history", lambda r, i: (f"/history/{fps[i % len(fps)]}", {})),
        Query("report, 24 h", "report", lambda r, i: ("/report", window(i, 24))),
        Query("report, 7 d", "report", lambda r, i: ("/report", window(i, 168))),
    ]  # fmt: skip


def pct(values: list[float], p: float) -> float:
    """The p-th percentile, nearest rank."""
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def warm_up(client: httpx.Client, end: int) -> None:
    """What a server that has been running has: a grown connection pool and PostgreSQL's
    buffers warm. The parameters differ from every measured request's, so those still miss
    both caches."""
    day = 86400 * NS
    for k in range(12):
        for span in (1, 7):
            to = end - 4 * day - k * 3600 * NS
            r = client.get("/report", params={"from": rfc(to - span * day), "to": rfc(to)})
            assert r.status_code == 200, r.text[:300]
        r = client.get("/history", params={"limit": "3", "namespace": f"ns-{k:02d}", "status": "resolved"})
        assert r.status_code == 200, r.text[:300]


def measure(base: str, qs: list[Query], cold: int, cached: int, seed: int, end: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    with httpx.Client(base_url=base, timeout=30) as client:
        client.get("/-/ready")
        warm_up(client, end)
        for q in qs:
            colds: list[float] = []
            for i in range(cold):
                path, params = q.make(rng, i)
                t0 = time.perf_counter()
                r = client.get(path, params=params)
                colds.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, (q.name, params, r.status_code, r.text[:300])
            path, params = q.make(rng, -1)
            first = client.get(path, params=params)
            assert first.status_code == 200, first.text[:300]
            hits: list[float] = []
            for _ in range(cached):
                t0 = time.perf_counter()
                r = client.get(path, params=params)
                hits.append((time.perf_counter() - t0) * 1000)
                assert r.content == first.content
            body = first.json()
            if "total" in body:
                size = body["total"]
            elif "events" in body:
                size = len(body["events"])
            else:
                size = body["occurrences"]
            out.append({
                "query": q.name, "kind": q.kind,
                "path": str(client.build_request("GET", path, params=params).url)[len(base) :],
                "rows": size, "cold_p50": statistics.median(colds), "cold_p95": pct(colds, 95),
                "cached_p50": statistics.median(hits), "cached_p95": pct(hits, 95),
            })  # fmt: skip
            print(
                f"  {q.name}: cold p95 {pct(colds, 95):.1f} ms, cached p95 {pct(hits, 95):.2f} ms", flush=True
            )
    return out


def report_table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| query | matches | cold p50 | cold p95 | cached p50 | cached p95 | target (p95) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        cold_t, cached_t = TARGETS[r["kind"]]
        ok_cold = r["cold_p95"] < cold_t
        ok_cached = cached_t is None or r["cached_p95"] < cached_t
        target = f"cold < {cold_t:g} ms" + (f", cached < {cached_t:g} ms" if cached_t else "")
        verdict = "ok" if ok_cold and ok_cached else "MISSED"
        lines.append(
            f"| {r['query']} | {r['rows']:,} | {r['cold_p50']:.1f} | {r['cold_p95']:.1f} | "
            f"{r['cached_p50']:.2f} | {r['cached_p95']:.2f} | {target}: {verdict} |"
        )
    return "\n".join(lines)


def run_once(
    url: str, redis_url: str, fill: Fill, samples: dict[str, list[Any]], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """One measurement: Redis flushed, a fresh `ampp serve` (empty L1), warmed up, measured."""
    import redis

    r = redis.Redis.from_url(redis_url)
    r.flushdb()
    r.close()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="ampp-hbench-") as tmp:
        cfg = Path(tmp) / "config.yaml"
        cfg.write_text(CONFIG)
        log_path = Path(tmp) / "ampp.log"
        cmd = [
            *ampp_command(), f"--config.file={cfg}", f"--storage.path={tmp}/data", f"--storage.url={url}",
            f"--cache.url={redis_url}", f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
            "--log.level=warn",
        ]  # fmt: skip
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(base, proc, log_path, timeout=60)
            print(f"ampp serve on {base}, PostgreSQL {DATABASE}, Redis {redis_url}", flush=True)
            return measure(
                base, queries(fill.end_ns, samples), args.cold, args.cached, args.seed, fill.end_ns
            )
        finally:
            stop(proc)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg-url", help="an admin URL of the PostgreSQL server (default: scripts/services.sh's)")
    ap.add_argument(
        "--redis-url", help="Redis for the L2 cache (default: scripts/services.sh's, database 15)"
    )
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--refill", action="store_true", help="drop and refill the benchmark database")
    ap.add_argument("--cold", type=int, default=60, help="cold requests per query")
    ap.add_argument("--cached", type=int, default=300, help="cached requests per query")
    ap.add_argument(
        "--repeat", type=int, default=1, help="runs (fresh server each); figures are their median"
    )
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()

    admin: str = args.pg_url or ""
    redis_url: str = args.redis_url or ""
    if not admin or not redis_url:
        services = start_services()
        admin = admin or services.pg_url
        redis_url = redis_url or str(urlunsplit(urlsplit(services.redis_url)._replace(path="/15")))
    print(f"command: {' '.join([os.path.basename(sys.executable), *sys.argv])}")
    print(
        f"machine: nproc={os.cpu_count()}, {platform.processor() or platform.machine()},"
        f" Python {platform.python_version()}"
    )
    fill = Fill(args.events, args.seed, time.time_ns() // NS * NS)
    t0 = time.monotonic()
    url, fill, stats = asyncio.run(ensure_fill(admin, fill, args.refill))
    print(f"fill: {json.dumps(stats)} ({time.monotonic() - t0:.0f} s this run)", flush=True)
    samples = asyncio.run(pick_samples(url))

    runs = [run_once(url, redis_url, fill, samples, args) for _ in range(args.repeat)]
    results = runs[0]
    if len(runs) > 1:  # the median of each figure over the runs
        for i, r in enumerate(results):
            for k in ("cold_p50", "cold_p95", "cached_p50", "cached_p95"):
                r[k] = statistics.median(run[i][k] for run in runs)
    print()
    print(f"{stats.get('events', args.events):,} events, {stats.get('occurrences', 0):,} occurrences, "
          f"{stats.get('fingerprints', 0):,} alerts; {args.cold} cold and {args.cached} cached requests"
          " per query"
          f"{f', median of {args.repeat} runs' if args.repeat > 1 else ''}; ms")  # fmt: skip
    table = report_table(results)
    print(table)
    if args.json:
        Path(args.json).write_text(json.dumps({"fill": stats, "results": results}, indent=2))
    missed = [r["query"] for r in results if "MISSED" in report_table([r])]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
