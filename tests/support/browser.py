"""What the browser tier uses: Debian's Chromium, the seeded dashboard server, page helpers.

The server's config routes one receiver to an endpoint that refuses everything, so that dead
letters exist; ``open_page`` records a page's console errors and uncaught exceptions.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

from tests.support.capture import CaptureServer
from tests.support.servers import Server

CHROMIUM = os.environ.get("AMPP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("AMPP_TEST_ARTIFACTS", ROOT / "build" / "test-artifacts")) / "browser"

CONFIG = """
route:
  receiver: ok
  group_by: [alertname, namespace]
  group_wait: 0s
  group_interval: 1h
  repeat_interval: 1h
  routes:
    - matchers: ['team="broken"']
      receiver: broken
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [alertname, namespace]
receivers:
  - name: ok
    webhook_configs: [{{url: "{ok}/hook"}}]
  - name: broken
    webhook_configs: [{{url: "{bad}/hook"}}]
"""

HISTORY_ALERTS = 60
"""Alerts seeded beyond the visible ones, so that history has three pages of 25."""


def seed_alerts() -> list[dict[str, Any]]:
    alerts: list[dict[str, Any]] = [
        {
            "labels": {
                "alertname": "DiskFull",
                "namespace": "prod",
                "severity": "critical",
                "instance": "db1",
            },
            "annotations": {
                "summary": "Disk /var is 97% full on db1",
                "runbook": "https://runbooks.example/disk",
            },
            "generatorURL": "http://prometheus.example/graph?g0.expr=disk",
        },
        {
            "labels": {
                "alertname": "DiskFull",
                "namespace": "prod",
                "severity": "warning",
                "instance": "db2",
            },
            "annotations": {"summary": "Disk /var is 85% full on db2"},
        },
        {
            "labels": {
                "alertname": "HighLatency",
                "namespace": "staging",
                "severity": "warning",
                "service": "api",
            },
            "annotations": {"summary": "p99 latency above 2s"},
        },
        {
            "labels": {"alertname": "PagerRefused", "namespace": "ops", "severity": "info", "team": "broken"},
            "annotations": {"summary": "routed to an endpoint that answers 400"},
        },
    ]
    for i in range(HISTORY_ALERTS):
        alerts.append(
            {
                "labels": {
                    "alertname": "BatchLate",
                    "namespace": "batch",
                    "severity": "info",
                    "job": f"job{i:02d}",
                },
                "annotations": {"summary": f"batch job {i} late"},
            }
        )
    return alerts


class Dashboard:
    """The server under test and what the tests need to reach it."""

    def __init__(self, server: Server, ok: CaptureServer, bad: CaptureServer) -> None:
        self.server = server
        self.url = server.url
        self.ok = ok
        self.bad = bad

    def api(self, path: str, **params: Any) -> Any:
        r = httpx.get(f"{self.url}/{path}", params=params, timeout=10)
        r.raise_for_status()
        return r.json()

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        assert httpx.post(f"{self.url}/api/v2/alerts", json=alerts, timeout=10).status_code == 200

    def fingerprint(self, alertname: str, **labels: str) -> str:
        for a in self.api("api/v2/alerts", filter=f'alertname="{alertname}"'):
            if all(a["labels"].get(k) == v for k, v in labels.items()):
                return str(a["fingerprint"])
        raise AssertionError(f"no alert {alertname} {labels}")


class PageProblems(list[str]):
    """Console errors and uncaught exceptions seen by a page."""


def open_page(
    browser: Any, theme: str = "light", width: int = 1280, **context: Any
) -> tuple[Any, Any, PageProblems]:
    ctx = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=theme, **context)
    page = ctx.new_page()
    page.set_default_timeout(10_000)
    problems = PageProblems()
    page.on(
        "console", lambda m: problems.append(f"console.{m.type}: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
    return ctx, page, problems
