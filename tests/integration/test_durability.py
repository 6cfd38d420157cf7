"""kill -9 during ingestion and during a failing notification: nothing lost, nothing twice."""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.capture import CaptureServer
from tests.support.eventually import eventually
from tests.support.servers import free_port, process_running, run_server

pytestmark = pytest.mark.integration


def config(url: str) -> str:
    return f"""
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs: [{{url: "{url}/hook"}}]
"""


QUIET = "route: {receiver: blackhole, group_wait: 1h}\nreceivers: [{name: blackhole}]\n"


def test_kill_9_during_ingestion_keeps_every_acknowledged_alert(tmp_path: Path) -> None:
    storage, port = tmp_path / "data", free_port()
    acked: list[str] = []
    with run_server("ampp", QUIET, tmp_path / "a", storage_path=storage, port=port) as s:
        stop = threading.Event()

        def load() -> None:
            with httpx.Client(base_url=s.url, timeout=5) as c:
                for b in range(10_000):
                    if stop.is_set():
                        return
                    names = [f"Load{b}-{i}" for i in range(50)]
                    try:
                        r = c.post("/api/v2/alerts", json=[{"labels": {"alertname": n}} for n in names])
                    except httpx.HTTPError:
                        return
                    if r.status_code == 200:
                        acked.extend(names)

        t = threading.Thread(target=load)
        t.start()
        time.sleep(1.5)
        children = Path(f"/proc/{s.process.pid}/task/{s.process.pid}/children").read_text().split()
        os.kill(s.process.pid, signal.SIGKILL)
        s.process.wait()
        stop.set()
        t.join()
    assert len(acked) > 500, "the load did not get going"
    assert children, "the history writer process was not running"

    def children_ended() -> bool:
        left = [c for c in children if process_running(int(c))]
        assert not left, f"processes {left} outlived the engine that started them"
        return True

    eventually(children_ended)
    with run_server("ampp", QUIET, tmp_path / "b", storage_path=storage, port=port) as s:
        held = {a["labels"]["alertname"] for a in httpx.get(f"{s.url}/api/v2/alerts").json()}
    missing = set(acked) - held
    assert not missing, f"{len(missing)} acknowledged alerts lost, e.g. {sorted(missing)[:5]}"


@pytest.fixture(params=["sqlite", "postgres"])
def storage_args(request: pytest.FixtureRequest) -> list[str]:
    """Extra `ampp serve` flags for the backend under test (SQLite under --storage.path)."""
    if request.param == "sqlite":
        return []
    return [f"--storage.url={request.getfixturevalue('pg_url')}"]


def deliveries(url: str, **params: str) -> list[dict[str, Any]]:
    body = httpx.get(f"{url}/api/ampp/v1/deliveries", params=params, timeout=5).json()
    return list(body["deliveries"])


@pytest.mark.parametrize("phase", ["between-retries", "mid-send"])
def test_kill_9_while_an_endpoint_is_down_delivers_each_notification_once(
    tmp_path: Path, storage_args: list[str], phase: str
) -> None:
    """The issue's acceptance test: notifications queued, the endpoint down, kill -9 (between
    retries, or mid-send with the endpoint hanging), restart, the endpoint back: every
    notification arrives exactly once."""
    storage, port = tmp_path / "data", free_port()
    with CaptureServer(status=503, delay=30 if phase == "mid-send" else 0) as hook:
        with run_server(
            "ampp", config(hook.url), tmp_path / "a", storage_path=storage, port=port, extra_args=storage_args
        ) as s:
            r = httpx.post(
                f"{s.url}/api/v2/alerts", json=[{"labels": {"alertname": f"G{i}"}} for i in range(3)]
            )
            assert r.status_code == 200
            if phase == "mid-send":
                hook.wait_for(3)  # every group's first attempt hangs on the endpoint
            else:
                hook.wait_for(6)  # every group tried, and retried, against the failing endpoint
            queued = deliveries(s.url)
            assert sorted(d["groupLabels"]["alertname"] for d in queued) == ["G0", "G1", "G2"]
            expected = {"inflight"} if phase == "mid-send" else {"pending", "inflight"}
            assert {d["state"] for d in queued} <= expected, queued
            os.kill(s.process.pid, signal.SIGKILL)
            s.process.wait()
        hook.status, hook.delay = 200, 0
        switched = time.time()
        with run_server(
            "ampp", config(hook.url), tmp_path / "b", storage_path=storage, port=port, extra_args=storage_args
        ) as s:
            eventually(
                lambda: len([r for r in hook.requests if r.received_at >= switched]) >= 3,
                "three notifications once the endpoint answers",
            )
            time.sleep(2.5)  # two more group intervals: nothing may come again
            after = deliveries(s.url)
        delivered = [r.json()["groupLabels"]["alertname"] for r in hook.requests if r.received_at >= switched]
        assert sorted(delivered) == ["G0", "G1", "G2"], delivered
        assert [(d["state"], d["outcome"]) for d in after] == [("done", "sent")] * 3, after


def test_dead_letters_are_listed_and_redriven_through_the_api(tmp_path: Path) -> None:
    """A permanent error (400) makes a dead letter at once; once the endpoint is fixed, a
    re-drive through the API delivers it, once."""
    with (
        CaptureServer(status=400) as hook,
        run_server(
            "ampp", config(hook.url).replace("group_interval: 1s", "group_interval: 1h"), tmp_path
        ) as s,
    ):
        httpx.post(f"{s.url}/api/v2/alerts", json=[{"labels": {"alertname": "Dead"}}])
        [dead] = eventually(lambda: deliveries(s.url, state="dead", receiver="hook"), "a dead letter")
        assert len(hook.requests) == 1 and dead["attempts"] == 1
        assert "unexpected status code 400" in dead["lastError"]
        detail = httpx.get(f"{s.url}/api/ampp/v1/deliveries/{dead['id']}").json()
        assert [a["labels"] for a in detail["alerts"]] == [{"alertname": "Dead"}]
        assert detail["alerts"][0]["status"] == "firing"
        assert 'ampp_delivery_dead_letters_total{integration="webhook",reason="permanent"} 1.0' in (
            httpx.get(f"{s.url}/metrics").text
        )

        hook.status = 200
        r = httpx.post(f"{s.url}/api/ampp/v1/deliveries/{dead['id']}/redrive")
        assert r.status_code == 200 and r.json()["state"] == "pending"
        hook.wait_for(2)
        eventually(lambda: deliveries(s.url)[0]["state"] == "done", "the re-driven notification done")
        [done] = deliveries(s.url)
        assert (done["id"], done["state"], done["outcome"]) == (dead["id"], "done", "sent")
        again = httpx.post(f"{s.url}/api/ampp/v1/deliveries/{dead['id']}/redrive")
        assert again.status_code == 409 and "not dead" in again.json()
        time.sleep(0.5)
        assert len(hook.requests) == 2
        assert hook.requests[1].json()["alerts"][0]["labels"] == {"alertname": "Dead"}


def test_a_dead_endpoint_does_not_slow_ingestion(tmp_path: Path) -> None:
    """Hundreds of groups retrying a refused connection: the circuit breaker opens, so retries
    fail at once instead of each opening a connection, and posting alerts goes on being
    acknowledged (how fast is the benchmark's business, not a test's)."""
    with run_server("ampp", config("http://127.0.0.1:1"), tmp_path) as s, httpx.Client(base_url=s.url) as c:
        for b in range(10):
            c.post("/api/v2/alerts", json=[{"labels": {"alertname": f"Dead{b}-{i}"}} for i in range(50)])
        time.sleep(2)  # 500 groups now retry against the dead endpoint
        for b in range(20):
            r = c.post("/api/v2/alerts", json=[{"labels": {"alertname": f"Live{b}-{i}"}} for i in range(50)])
            assert r.status_code == 200, f"post {b} while an endpoint was down: {r.status_code} {r.text}"
        assert "circuit open" in s.log()
        scrape = c.get("/metrics").text  # the breaker is open, or half-open once its cooldown ran out
        assert re.search(r'^ampp_notify_circuit_state\{target="http://127.0.0.1:1"\} [12]\.0$', scrape, re.M)


def test_storage_outage_refuses_to_acknowledge_and_catches_up(tmp_path: Path) -> None:
    """A writer holding the database: POSTs are told to retry (503, Retry-After) rather than
    acknowledged, /-/ready fails and says writes are buffered, the alerts are served from
    memory meanwhile, and once the database is free everything lands (it survives a kill -9)."""
    import sqlite3

    storage, port = tmp_path / "data", free_port()
    with run_server("ampp", QUIET, tmp_path / "a", storage_path=storage, port=port) as s:
        blocker = sqlite3.connect(storage / "ampp.db", isolation_level=None, timeout=1)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            with httpx.Client(base_url=s.url, timeout=30) as c:
                for b in range(3):
                    r = c.post("/api/v2/alerts", json=[{"labels": {"alertname": f"Out{b}"}}])
                    assert r.status_code == 503, r.text
                    assert r.headers["Retry-After"] == "5"
                    assert "try again" in r.json()
                ready = c.get("/-/ready")
                assert ready.status_code == 503 and "writes buffered" in ready.text, ready.text
                assert "ampp_storage_up 0.0" in c.get("/metrics").text
                assert re.search(r"^ampp_storage_writes_buffered [1-9]", c.get("/metrics").text, re.M)
                start = time.monotonic()
                r = c.post("/api/v2/alerts", json=[{"labels": {"alertname": "DuringOutage"}}])
                assert r.status_code == 503 and time.monotonic() - start < 1  # known down: at once
                names = {a["labels"]["alertname"] for a in c.get("/api/v2/alerts").json()}
                assert names == {"Out0", "Out1", "Out2", "DuringOutage"}
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        eventually(lambda: httpx.get(f"{s.url}/-/ready").text == "OK", "/-/ready once storage is back")
        r = httpx.post(f"{s.url}/api/v2/alerts", json=[{"labels": {"alertname": "After"}}])
        assert r.status_code == 200
        os.kill(s.process.pid, signal.SIGKILL)
        s.process.wait()
    with run_server("ampp", QUIET, tmp_path / "b", storage_path=storage, port=port) as s:
        names = {a["labels"]["alertname"] for a in httpx.get(f"{s.url}/api/v2/alerts").json()}
        assert names == {"Out0", "Out1", "Out2", "DuringOutage", "After"}
