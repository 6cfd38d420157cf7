#!/usr/bin/env python3
"""The dashboard with many alerts: 10,000 active alerts in 2,000 groups, in Debian's Chromium.

    python benchmarks/dashboard_bench.py [--alerts 10000] [--groups 2000] [--repeat 3]

Measures, with a fresh browser context each run:

- interactive: from the navigation to the alerts page having every group counted and the
  first page of groups drawn (target: under 2 s);
- filtering: from pressing Enter on a matcher in the filter bar to the next frame painted,
  for an equality, a regex and a negative regex matcher, and from clearing it (target: under
  200 ms each);
- the API the page reads, GET /api/v2/alerts/groups, on `ampp serve` and on the reference
  Alertmanager 0.25 holding the same alerts, side by side (Debian's Alertmanager ships no web
  UI, so the page itself has no reference to compare with).

Only 127.0.0.1 is contacted; every wait is bounded.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.support.servers import REFERENCE_BINARY, run_server  # noqa: E402

CONFIG = """
route:
  receiver: default
  group_by: [alertname, cluster]
  group_wait: 1h
  group_interval: 1h
  repeat_interval: 1h
receivers: [{name: default}]
"""

FILTERS = ['severity="critical"', 'alertname=~"Alert00[0-4].*"', 'instance!~"host-[0-9]*1"']


def alerts(count: int, groups: int) -> list[dict[str, Any]]:
    clusters = 10
    names = groups // clusters
    out = []
    for i in range(count):
        g = i % groups
        out.append(
            {
                "labels": {
                    "alertname": f"Alert{g // clusters:04d}",
                    "cluster": f"cluster-{g % clusters}",
                    "instance": f"host-{i}",
                    "severity": ("critical", "warning", "info")[i % 3],
                    "team": f"team-{(g // clusters) % 20}",
                    "namespace": f"ns-{i % 50}",
                },
                "annotations": {"summary": f"Alert{g // clusters:04d} firing on host-{i}", "runbook": "r"},
            }
        )
    assert len({(a["labels"]["alertname"], a["labels"]["cluster"]) for a in out}) == groups, names
    return out


def post(url: str, items: list[dict[str, Any]]) -> None:
    with httpx.Client(timeout=60) as c:
        for i in range(0, len(items), 1000):
            c.post(f"{url}/api/v2/alerts", json=items[i : i + 1000]).raise_for_status()


def time_groups_api(url: str, repeat: int) -> tuple[float, int]:
    times = []
    size = 0
    with httpx.Client(timeout=60) as c:
        for _ in range(repeat):
            t = time.perf_counter()
            r = c.get(f"{url}/api/v2/alerts/groups")
            r.raise_for_status()
            times.append(time.perf_counter() - t)
            size = len(r.content)
    return statistics.median(times) * 1000, size


MEASURE_FILTER = """async (text) => {
  const input = document.querySelector("[role=combobox]");
  const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  input.focus();
  input.value = text;
  const t = performance.now();
  input.dispatchEvent(new KeyboardEvent("keydown", {key: "Enter", bubbles: true}));
  await frame();
  const added = performance.now() - t;
  const shown = document.querySelector(".counts strong").textContent;
  const t2 = performance.now();
  input.dispatchEvent(new KeyboardEvent("keydown", {key: "Backspace", bubbles: true}));
  await frame();
  return [added, performance.now() - t2, shown];
}"""


def measure_page(browser: Any, url: str, total: int) -> tuple[float, dict[str, tuple[float, float, str]]]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = ctx.new_page()
    try:
        t = time.perf_counter()
        page.goto(f"{url}/#/alerts")
        page.wait_for_function(
            f"document.querySelector('.counts strong')?.textContent === '{total}'", timeout=30_000
        )
        page.evaluate("() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)))")
        interactive = (time.perf_counter() - t) * 1000
        filters = {f: page.evaluate(MEASURE_FILTER, f) for f in FILTERS}
    finally:
        ctx.close()
    return interactive, filters


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--alerts", type=int, default=10_000)
    ap.add_argument("--groups", type=int, default=2_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    items = alerts(args.alerts, args.groups)
    print(f"dashboard: {args.alerts:,} active alerts in {args.groups:,} groups, median of {args.repeat} runs")

    api: dict[str, tuple[float, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if Path(REFERENCE_BINARY).exists():
            with run_server("reference", CONFIG, Path(tmp) / "reference") as ref:
                post(ref.url, items)
                api["reference"] = time_groups_api(ref.url, args.repeat)
        with run_server("ampp", CONFIG, Path(tmp) / "ampp") as server:
            post(server.url, items)
            api["ampp"] = time_groups_api(server.url, args.repeat)
            from playwright.sync_api import sync_playwright

            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                measure_page(browser, server.url, args.alerts)  # warm: the server's first answers
                runs = [measure_page(browser, server.url, args.alerts) for _ in range(args.repeat)]
                browser.close()

    print()
    print("| GET /api/v2/alerts/groups | Alertmanager 0.25 | ampp | ampp/AM |")
    print("|---|---:|---:|---:|")
    ref_ms = api.get("reference", (float("nan"), 0))[0]
    amp_ms, size = api["ampp"]
    print(f"| median ms ({size / 1e6:.1f} MB) | {ref_ms:.0f} | {amp_ms:.0f} | {amp_ms / ref_ms:.2f} |")
    print()
    interactive = statistics.median(r[0] for r in runs)
    print("| the alerts page | ms | target |")
    print("|---|---:|---:|")
    print(f"| interactive (all {args.groups:,} groups counted, first drawn) | {interactive:.0f} | 2000 |")
    worst = 0.0
    for f in FILTERS:
        add = statistics.median(r[1][f][0] for r in runs)
        rem = statistics.median(r[1][f][1] for r in runs)
        shown = runs[-1][1][f][2]
        worst = max(worst, add, rem)
        print(f"| filter `{f}` ({shown} alerts) | {add:.0f} | 200 |")
        print(f"| clear `{f}` | {rem:.0f} | 200 |")
    ok = interactive < 2000 and worst < 200
    print()
    print("targets met" if ok else "TARGETS MISSED")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
