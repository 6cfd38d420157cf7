"""What `ampp serve` keeps across a kill -9 and a reload: alerts, silences, the notification log.

Alertmanager 0.25 loses every alert (and recent silences) on kill -9; these tests hold the
engine to the opposite.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.support.capture import CaptureServer
from tests.support.eventually import eventually
from tests.support.servers import free_port, run_server

pytestmark = pytest.mark.integration


def config(webhook: str, group_wait: str = "0s", receiver: str = "hook") -> str:
    return f"""
route:
  receiver: {receiver}
  group_by: [alertname]
  group_wait: {group_wait}
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs: [{{url: "{webhook}/hook"}}]
  - name: other
    webhook_configs: [{{url: "{webhook}/other"}}]
"""


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def post_alert(url: str, name: str) -> None:
    r = httpx.post(f"{url}/api/v2/alerts", json=[{"labels": {"alertname": name}, "annotations": {"a": name}}])
    assert r.status_code == 200, r.text


def post_silence(url: str, name: str) -> str:
    now = datetime.now(UTC)
    r = httpx.post(
        f"{url}/api/v2/silences",
        json={
            "matchers": [{"name": "alertname", "value": name, "isRegex": False}],
            "startsAt": iso(now),
            "endsAt": iso(now + timedelta(hours=1)),
            "createdBy": "test",
            "comment": "kept across restarts",
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["silenceID"])


def test_kill_9_loses_no_alert_silence_or_notification(tmp_path: Path) -> None:
    storage = tmp_path / "data"
    port = free_port()
    with CaptureServer() as hook:
        with run_server("ampp", config(hook.url), tmp_path / "a", storage_path=storage, port=port) as s:
            post_alert(s.url, "Firing1")
            sid = post_silence(s.url, "Silenced1")
            post_alert(s.url, "Silenced1")
            hook.wait_for(1)
            time.sleep(0.3)  # let the notification log entry land
            before = httpx.get(f"{s.url}/api/v2/alerts").json()
            os.kill(s.process.pid, signal.SIGKILL)
            s.process.wait()
        sent_before = len(hook.requests)
        assert sent_before == 1, [r.json() for r in hook.requests]

        with run_server("ampp", config(hook.url), tmp_path / "b", storage_path=storage, port=port) as s:
            after = httpx.get(f"{s.url}/api/v2/alerts").json()
            assert sorted(a["fingerprint"] for a in after) == sorted(a["fingerprint"] for a in before)
            silenced = [a for a in after if a["labels"]["alertname"] == "Silenced1"]
            assert silenced and silenced[0]["status"]["silencedBy"] == [sid]
            sil = httpx.get(f"{s.url}/api/v2/silence/{sid}").json()
            assert sil["comment"] == "kept across restarts" and sil["status"]["state"] == "active"
            # The group flushes again after the restart; the notification log says the receiver
            # already knows, so nothing is sent twice.
            time.sleep(2.5)
            assert len(hook.requests) == sent_before, [r.json() for r in hook.requests]


def test_reload_keeps_alerts_and_refuses_a_bad_config(tmp_path: Path) -> None:
    with CaptureServer() as hook:
        with run_server("ampp", config(hook.url), tmp_path) as s:
            post_alert(s.url, "Kept")
            alerts = httpx.get(f"{s.url}/api/v2/alerts").json()
            assert alerts[0]["receivers"] == [{"name": "hook"}]

            s.config_path.write_text(config(hook.url, receiver="other"))
            r = s.reload()
            assert r.status_code == 200, r.text
            alerts = httpx.get(f"{s.url}/api/v2/alerts").json()
            assert [a["labels"]["alertname"] for a in alerts] == ["Kept"]
            assert alerts[0]["receivers"] == [{"name": "other"}]

            s.config_path.write_text(config(hook.url, receiver="missing"))
            r = s.reload()
            assert r.status_code == 500
            assert 'undefined receiver "missing" used in route' in r.text
            assert f"{s.config_path}:3: route.receiver" in r.text
            metrics = httpx.get(f"{s.url}/metrics").text
            assert "alertmanager_config_last_reload_successful 0.0" in metrics
            # the old config keeps running
            alerts = httpx.get(f"{s.url}/api/v2/alerts").json()
            assert alerts[0]["receivers"] == [{"name": "other"}]

            # SIGHUP reloads too
            s.config_path.write_text(config(hook.url, receiver="hook"))
            os.kill(s.process.pid, signal.SIGHUP)
            eventually(
                lambda: httpx.get(f"{s.url}/api/v2/alerts").json()[0]["receivers"] == [{"name": "hook"}],
                "the alert routed to the reloaded receiver",
            )
            assert "alertmanager_config_last_reload_successful 1.0" in httpx.get(f"{s.url}/metrics").text


def test_partly_invalid_batch_stores_the_valid_alerts(tmp_path: Path) -> None:
    with run_server("ampp", config("http://127.0.0.1:1"), tmp_path) as s:
        r = httpx.post(
            f"{s.url}/api/v2/alerts",
            json=[
                {"labels": {"alertname": "Good"}},
                {"labels": {"0bad": "x"}},
                {
                    "labels": {"alertname": "Late"},
                    "startsAt": "2030-01-01T00:00:00Z",
                    "endsAt": "2029-01-01T00:00:00Z",
                },
                {"annotations": {}},
            ],
        )
        assert r.status_code == 400
        msg = r.json()
        assert 'invalid label set: invalid name "0bad" (alert 2 of 4' in msg
        assert "start time must be before end time (alert 3 of 4" in msg
        assert "alert 4 of 4: labels in body is required" in msg
        names = [a["labels"]["alertname"] for a in httpx.get(f"{s.url}/api/v2/alerts").json()]
        assert names == ["Good"]
        # A NUL (JSON's \u0000 escape) in a label or an annotation is refused, and only there.
        r = httpx.post(
            f"{s.url}/api/v2/alerts",
            json=[
                {"labels": {"alertname": "Nul\x00Label"}},
                {"labels": {"alertname": "NulNote"}, "annotations": {"x": "a\x00b"}},
                {"labels": {"alertname": "Backslash"}, "annotations": {"x": "\\u0000 is fine"}},
            ],
        )
        assert r.status_code == 400
        msg = r.json()
        assert "alert 1 of 3: labels must not contain NUL characters" in msg
        assert "alert 2 of 3: annotations must not contain NUL characters" in msg
        assert "alert 3 of 3" not in msg
        names = [a["labels"]["alertname"] for a in httpx.get(f"{s.url}/api/v2/alerts").json()]
        assert sorted(names) == ["Backslash", "Good"]
        metrics = httpx.get(f"{s.url}/metrics").text
        for name in (
            "alertmanager_alerts{",
            "alertmanager_alerts_received_total",
            "alertmanager_alerts_invalid_total 5.0",
            "alertmanager_notifications_total",
            "alertmanager_notifications_failed_total",
            "alertmanager_notification_latency_seconds",
            "alertmanager_silences{",
            "alertmanager_nflog_",
            "alertmanager_config_last_reload_successful",
            "alertmanager_config_hash",
        ):
            assert name in metrics, name
