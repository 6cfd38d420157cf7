"""What the browser tier uses: Debian's Chromium, the seeded dashboard server, page helpers.

The server's config routes one receiver to an endpoint that refuses everything, so that dead
letters exist; ``open_page`` records a page's console errors and uncaught exceptions.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.support.capture import CaptureServer
from tests.support.llm_standins import LLMStandIn, llm_standin
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


def config_yaml(ok: str, bad: str, *, llm: str = "", auth: str = "") -> str:
    """CONFIG as a config.yaml's ``alerting:``, with enrichment by the LLM stand-in at ``llm``
    (its OpenAI-compatible API) and an ``auth:`` section (its indented body) when given."""
    text = "alerting:\n" + "".join(
        f"  {line}\n" for line in CONFIG.format(ok=ok, bad=bad).strip().splitlines()
    )
    if llm:
        text += (
            f"ai: {{enabled: true, provider: openai, base_url: '{llm}/v1', api_key: sk-test, timeout: 5s}}\n"
        )
    if auth:
        text += f"auth:\n{auth}"
    return text


@contextlib.contextmanager
def llm_standin_thread() -> Iterator[LLMStandIn]:
    """The LLM stand-in served by a loop in a thread of its own (the browser tier is synchronous:
    Playwright's sync API owns the main thread's loop)."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    box: dict[str, Any] = {}

    async def serve() -> None:
        async with llm_standin() as standin:
            box["standin"], box["done"] = standin, asyncio.Event()
            started.set()
            await box["done"].wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("the LLM stand-in did not start")
    try:
        yield box["standin"]
    finally:
        loop.call_soon_threadsafe(box["done"].set)
        thread.join(10)
        loop.close()


ENRICHED: dict[str, Any] = {
    "labels": {
        "alertname": "CheckoutErrors",
        "namespace": "shop",
        "severity": "warning",
        "service": "checkout",
        "source": "prometheus",  # as /webhook/proxy labels it: the same alert, the same fingerprint
    },
    "annotations": {"summary": "5% of checkouts fail with HTTP 502"},
}
"""An active alert also sent through ``POST /webhook/proxy``, which enriches it (the LLM stand-in)."""

MAINTENANCE: dict[str, Any] = {
    "matchers": [{"name": "alertname", "value": "Maintenance", "isRegex": False}],
    "startsAt": "2020-01-01T00:00:00Z",
    "endsAt": "2099-01-01T00:00:00Z",
    "createdBy": "oncall@example.com",
    "comment": "the nightly maintenance job's own alert",
}
"""An active silence that mutes none of the seeded alerts (the silences page is not empty)."""

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
        ENRICHED,
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

    def __init__(
        self,
        server: Server,
        ok: CaptureServer,
        bad: CaptureServer,
        llm: LLMStandIn | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.server = server
        self.url = server.url
        self.ok = ok
        self.bad = bad
        self.llm = llm
        self.headers = headers or {}
        """Sent with every request (an admin's credential when the server has ``auth:``)."""

    def api(self, path: str, **params: Any) -> Any:
        r = httpx.get(f"{self.url}/{path}", params=params, headers=self.headers, timeout=10)
        r.raise_for_status()
        return r.json()

    def post(self, path: str, body: Any) -> Any:
        r = httpx.post(f"{self.url}/{path}", json=body, headers=self.headers, timeout=10)
        assert r.status_code == 200, r.text
        return r.json() if r.content else None

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        self.post("api/v2/alerts", alerts)

    def fingerprint(self, alertname: str, **labels: str) -> str:
        for a in self.api("api/v2/alerts", filter=f'alertname="{alertname}"'):
            if all(a["labels"].get(k) == v for k, v in labels.items()):
                return str(a["fingerprint"])
        raise AssertionError(f"no alert {alertname} {labels}")


def create_silence(page: Any, comment: str) -> str:
    """In the silence editor, its matchers set: who, why, Create; the new silence's id."""
    page.get_by_label("Created by").fill("oncall@example.com")
    page.get_by_label("Comment").fill(comment)
    page.get_by_role("button", name="Create").click()
    page.get_by_role("heading", name="Silence", exact=True).wait_for()
    return str(page.locator("dd.mono").first.inner_text())


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


class Network:
    """The page's requests in flight, but the event stream (it never ends, so Playwright's
    "networkidle" never comes while the page is live)."""

    STREAM = "api/ampp/v1/events"

    def __init__(self, page: Any) -> None:
        self.page = page
        self.inflight: set[Any] = set()
        page.on("request", lambda r: self.inflight.add(r) if self.STREAM not in r.url else None)
        page.on("requestfinished", lambda r: self.inflight.discard(r))
        page.on("requestfailed", lambda r: self.inflight.discard(r))

    def idle(self, quiet_ms: int = 500, timeout_s: float = 10.0) -> None:
        """Once no request has been in flight for ``quiet_ms``."""
        deadline = time.monotonic() + timeout_s
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            self.page.wait_for_timeout(50)
            if self.inflight:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= quiet_ms / 1000:
                return
        raise AssertionError(f"requests still in flight after {timeout_s}s: {[r.url for r in self.inflight]}")


AXE = ROOT / "tests" / "browser" / "vendor" / "axe-4.10.3.min.js"
AXE_SHA256 = "880970c081707360e64f34cea25ff91892f5bc95675b0776925b9709dd8a68bb"


def axe_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is. axe-core is injected as
    an inline script, which the page's own policy rightly refuses: open the page with
    ``bypass_csp=True``."""
    assert hashlib.sha256(AXE.read_bytes()).hexdigest() == AXE_SHA256, "the vendored axe-core changed"
    page.add_script_tag(content=AXE.read_text())
    found: list[str] = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
             .filter(v => v.impact === "serious" || v.impact === "critical")
             .map(v => `${v.id} (${v.impact}): ${v.help} at ` +
                       v.nodes.slice(0, 3).map(n => n.target.join(" ")).join("; "))"""
    )
    return found
