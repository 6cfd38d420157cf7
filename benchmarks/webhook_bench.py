#!/usr/bin/env python3
"""Webhook ingestion and AI enrichment, measured on this machine in one run.

    python benchmarks/webhook_bench.py [--quick] [--json FILE]

Prints one table:

- ingest: the same alerts (batches of 100, 8 connections) posted to ``/api/v2/alerts`` and, as
  Alertmanager webhook payloads, to ``/webhook`` of one ``ampp serve``; alerts/s and p50/p99 per
  request, and the ratio webhook/v2 (format detection and mapping on top of the same ingest);
- POST -> notification latency with an LLM stand-in that takes 2 s to answer and
  ``ai.timeout: 1s``, through the routing tree (``POST /webhook``, a new group each time,
  ``group_wait: 0s``, the enrichment stage of the notification pipeline) and through the
  enrichment proxy (``/webhook/proxy``): the median and max, against ``ai.timeout`` (a
  notification must never wait longer than it, plus the send);
- enrichment throughput with a warm cache: enrichments/s of one ``Enricher`` answering groups it
  has seen (L1 hits), and with an L2 Redis when ``--redis-url`` is given.

Only 127.0.0.1 is contacted; every load is bounded by a count.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "engine"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from tests.support.capture import CaptureServer  # noqa: E402
from tests.support.llm_standins import Reply, llm_standin  # noqa: E402
from tests.support.servers import run_server  # noqa: E402

BATCH = 100


def _alerts(start: int, count: int, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "labels": {
                "alertname": "BenchAlert",
                "instance": f"host-{start + i}",
                "job": "bench",
                "severity": "warning",
            },
            "annotations": {"summary": f"host-{start + i} is slow"},
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(hours=1)).isoformat(),
            "generatorURL": "http://prometheus:9090/graph",
        }
        for i in range(count)
    ]


def _webhook_body(alerts: list[dict[str, Any]]) -> dict[str, Any]:
    """Alertmanager's webhook payload (version 4) around the same alerts."""
    return {
        "receiver": "bench",
        "status": "firing",
        "alerts": [{**a, "status": "firing", "fingerprint": ""} for a in alerts],
        "groupLabels": {"alertname": "BenchAlert"},
        "commonLabels": {"alertname": "BenchAlert", "job": "bench"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "version": "4",
        "groupKey": '{}:{alertname="BenchAlert"}',
        "truncatedAlerts": 0,
    }


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))]


async def _post_all(url: str, bodies: list[bytes], connections: int) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    queue = list(bodies)

    async def worker(client: httpx.AsyncClient) -> None:
        while queue:
            body = queue.pop()
            t = time.perf_counter()
            r = await client.post(url, content=body, headers={"Content-Type": "application/json"})
            latencies.append((time.perf_counter() - t) * 1000)
            if r.status_code != 200:
                raise RuntimeError(f"{url}: {r.status_code} {r.text[:200]}")

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(connections)))
    elapsed = time.perf_counter() - started
    return {
        "alerts_per_s": len(bodies) * BATCH / elapsed,
        "p50_ms": statistics.median(latencies),
        "p99_ms": _pct(latencies, 99),
    }


def ingest(work: Path, batches: int, connections: int) -> dict[str, dict[str, Any]]:
    config = "global: {resolve_timeout: 1h}\nroute: {receiver: blackhole}\nreceivers: [{name: blackhole}]\n"
    now = datetime.now(UTC)
    out: dict[str, dict[str, Any]] = {}
    with run_server("ampp", config, work / "ingest") as srv:
        v2 = [json.dumps(_alerts(i * BATCH, BATCH, now)).encode() for i in range(batches)]
        hook = [
            json.dumps(_webhook_body(_alerts((batches + i) * BATCH, BATCH, now))).encode()
            for i in range(batches)
        ]
        warm = [json.dumps(_alerts(10**7, BATCH, now)).encode()]
        asyncio.run(_post_all(f"{srv.url}/api/v2/alerts", warm, 1))
        # interleaved halves, so neither side gets the warmer half of the run
        half = batches // 2
        results = {"v2": [], "webhook": []}  # type: dict[str, list[dict[str, Any]]]
        for part in (slice(0, half), slice(half, batches)):
            results["v2"].append(asyncio.run(_post_all(f"{srv.url}/api/v2/alerts", v2[part], connections)))
            results["webhook"].append(asyncio.run(_post_all(f"{srv.url}/webhook", hook[part], connections)))
        for kind, runs in results.items():
            out[kind] = {k: statistics.mean(r[k] for r in runs) for k in runs[0]}
    return out


async def _latency(work: Path, count: int, proxy: bool) -> dict[str, Any]:
    """POST -> notification with an LLM that takes 2 s and ``ai.timeout: 1s``, each alert a new
    group: through the routing tree (``POST /webhook``, the enrichment stage of the pipeline) or
    the enrichment proxy. Every notification must carry the fallback's enrichment, made at
    ai.timeout: none may have waited for the provider."""
    import httpx

    async with llm_standin() as standin:
        standin.then(Reply(delay=2.0))
        with CaptureServer() as capture:
            config = f"""
ai: {{enabled: true, provider: openai, base_url: "{standin.url}/v1", api_key: bench, timeout: 1s}}
webhook: {{proxy: {{targets: [hook]}}}}
alerting:
  route: {{receiver: hook, group_by: [run], group_wait: 0s, group_interval: 1h}}
  receivers: [{{name: hook, webhook_configs: [{{url: "{capture.url}/hook"}}]}}]
"""
            loop = asyncio.get_running_loop()
            with run_server("ampp", config, work / ("proxy" if proxy else "routed")) as srv:
                latencies = []
                async with httpx.AsyncClient(timeout=30) as client:
                    for i in range(count):
                        alert = _alerts(i, 1, datetime.now(UTC))[0]
                        alert["labels"]["run"] = str(i)
                        sent = time.time()
                        if proxy:
                            r = await client.post(f"{srv.url}/webhook/proxy", json=[alert])
                        else:
                            r = await client.post(f"{srv.url}/webhook", json=_webhook_body([alert]))
                        r.raise_for_status()
                        await loop.run_in_executor(None, capture.wait_for, i + 1, 30)
                        got = capture.requests[i]
                        enrichment = got.json()["alerts"][0]["enrichment"]
                        if enrichment is None or enrichment.get("error") != "timeout":
                            raise RuntimeError(f"not the fallback's enrichment at ai.timeout: {enrichment}")
                        latencies.append((got.received_at - sent) * 1000)
    return {"p50_ms": statistics.median(latencies), "max_ms": max(latencies), "timeout_ms": 1000.0}


async def _warm_cache(count: int, redis_url: str | None) -> dict[str, Any]:
    from ampp.config.settings import AISettings
    from ampp.enrich import Enricher, EnrichMetrics
    from ampp.model.alert import Alert
    from ampp.model.timefmt import now_ns
    from prometheus_client import CollectorRegistry

    async with llm_standin() as standin:
        settings = AISettings.model_validate(
            {
                "enabled": True,
                "provider": "openai",
                "base_url": f"{standin.url}/v1",
                "model": f"bench-{time.time_ns()}",
            }
        )
        enricher = Enricher(settings, EnrichMetrics(CollectorRegistry()), redis_url, api_key="bench")
        labels = {"alertname": "BenchAlert", "severity": "warning"}
        groups = [
            [Alert({**labels, "instance": f"host-{g}-{i}"}, {"summary": "slow"}) for i in range(5)]
            for g in range(50)
        ]
        try:
            for g in groups:  # fill the cache
                await enricher.enrich(g, now_ns())
            calls = len(standin.requests)
            started = time.perf_counter()
            for i in range(count):
                await enricher.enrich(groups[i % len(groups)], now_ns())
            elapsed = time.perf_counter() - started
            assert len(standin.requests) == calls, "a warm-cache enrichment called the provider"
        finally:
            await enricher.close()
    return {"per_s": count / elapsed, "us_each": elapsed / count * 1e6}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--redis-url", help="also measure the warm cache with this Redis as L2")
    parser.add_argument("--json", type=Path, help="also write the raw results to this file")
    args = parser.parse_args()
    batches = 40 if args.quick else 400
    with tempfile.TemporaryDirectory(prefix="ampp-webhook-bench-") as tmp:
        work = Path(tmp)
        results: dict[str, Any] = {"ingest": ingest(work, batches, args.connections)}
        results["routed"] = asyncio.run(_latency(work, 5 if args.quick else 20, proxy=False))
        results["proxy"] = asyncio.run(_latency(work, 5 if args.quick else 20, proxy=True))
    results["warm_cache"] = asyncio.run(_warm_cache(2_000 if args.quick else 20_000, None))
    if args.redis_url:
        results["warm_cache_redis"] = asyncio.run(
            _warm_cache(2_000 if args.quick else 20_000, args.redis_url)
        )
    v2, hook = results["ingest"]["v2"], results["ingest"]["webhook"]
    print(f"\n{'measure':58} {'value':>12} {'ratio':>8}")
    print(
        f"{'ingest /api/v2/alerts, alerts/s (p50 / p99 ms per 100)':58} {v2['alerts_per_s']:12,.0f}"
        f" {'':>8}  {v2['p50_ms']:.1f} / {v2['p99_ms']:.1f}"
    )
    print(
        f"{'ingest /webhook (Alertmanager payload), alerts/s':58} {hook['alerts_per_s']:12,.0f}"
        f" {hook['alerts_per_s'] / v2['alerts_per_s']:8.2f}  {hook['p50_ms']:.1f} / {hook['p99_ms']:.1f}"
    )
    rt = results["routed"]
    print(
        f"{'POST /webhook -> routed notification, LLM takes 2 s, p50 ms':58} {rt['p50_ms']:12.0f}"
        f" {rt['p50_ms'] / rt['timeout_ms']:8.2f}  (x ai.timeout 1s; max {rt['max_ms']:.0f} ms)"
    )
    px = results["proxy"]
    print(
        f"{'POST /webhook/proxy -> notification, LLM takes 2 s, p50 ms':58} {px['p50_ms']:12.0f}"
        f" {px['p50_ms'] / px['timeout_ms']:8.2f}  (x ai.timeout 1s; max {px['max_ms']:.0f} ms)"
    )
    wc = results["warm_cache"]
    print(
        f"{'enrichment, warm cache (L1), groups/s':58} {wc['per_s']:12,.0f} {'':>8}"
        f"  {wc['us_each']:.0f} us each"
    )
    if "warm_cache_redis" in results:
        wr = results["warm_cache_redis"]
        print(f"{'enrichment, warm cache (L1 + Redis L2), groups/s':58} {wr['per_s']:12,.0f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
