"""Alertmanager's HTTP histograms: one series per route pattern and method, prefix stripped."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.support.servers import run_server

pytestmark = pytest.mark.integration

CONFIG = "route: {receiver: r}\nreceivers: [{name: r}]\n"


def count(text: str, family: str, handler: str, method: str) -> float:
    m = re.search(rf'^{family}_count{{handler="{re.escape(handler)}",method="{method}"}} (\S+)$', text, re.M)
    return float(m.group(1)) if m else 0.0


def test_requests_are_counted_per_route_pattern(tmp_path: Path) -> None:
    with run_server("ampp", CONFIG, tmp_path, route_prefix="/am") as s:
        base = s.url
        alerts = [{"labels": {"alertname": "A"}}]
        assert httpx.post(f"{base}/api/v2/alerts", json=alerts).status_code == 200
        assert httpx.post(f"{base}/api/v2/alerts", json=alerts).status_code == 200
        missing = "00000000-0000-0000-0000-000000000000"
        assert httpx.get(f"{base}/api/v2/silence/{missing}").status_code == 404
        assert httpx.get(f"{base}/no/such/path/{missing}").status_code == 404
        text = httpx.get(f"{base}/metrics").text

    family = "alertmanager_http_request_duration_seconds"
    assert count(text, family, "/api/v2/alerts", "post") == 2, text
    # The silence id is a path parameter: one series for every id, even on a 404.
    assert count(text, family, "/api/v2/silence/{id}", "get") == 1, text
    assert count(text, "alertmanager_http_response_size_bytes", "/api/v2/silence/{id}", "get") == 1, text
    assert "/no/such/path" not in text, "an unmatched path became a label value"
