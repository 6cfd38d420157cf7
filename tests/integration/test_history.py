"""The history: /history filters, pagination and sorting, /history/{fingerprint}, /report.

One scenario per backend (SQLite, PostgreSQL) and cache (Redis up, Redis unreachable): alerts
fire and resolve, one is silenced, one inhibited, notifications go to a capture server (one
receiver answers 400, so its attempts fail); then every answer is checked exactly.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.integration import services as svc
from tests.support.capture import CaptureServer
from tests.support.eventually import eventually
from tests.support.servers import run_server

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


CONFIG = """
route:
  receiver: default
  group_by: [alertname]
  group_wait: 200ms
  group_interval: 500ms
  repeat_interval: 1h
  routes:
    - receiver: broken
      matchers: ['severity="critical"']
      continue: true
    - receiver: default
receivers:
  - name: default
    webhook_configs: [{{url: '{ok}/hook', send_resolved: true}}]
  - name: broken
    webhook_configs: [{{url: '{bad}/hook', send_resolved: true}}]
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [cluster]
"""

A = {"alertname": "HighCPU", "severity": "critical", "namespace": "prod", "cluster": "c1", "service": "api"}
B = {"alertname": "DiskFull", "severity": "warning", "namespace": "prod", "cluster": "c1"}
C = {"alertname": "Quiet", "severity": "info", "namespace": "dev", "cluster": "c2"}


@dataclass
class Scenario:
    url: str
    redis: str
    fps: dict[str, str]
    a1_start: datetime
    a1_end: datetime
    a2_start: datetime
    silence_id: str
    redis_up: bool = False

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(self.url + path, params=params, timeout=10)

    def history(self, **params: Any) -> dict[str, Any]:
        r = self.get("/history", **params)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    def names(self, **params: Any) -> list[str]:
        return [i["labels"]["alertname"] for i in self.history(**params)["items"]]


def _post(url: str, alerts: list[dict[str, Any]]) -> None:
    r = httpx.post(url + "/api/v2/alerts", json=alerts, timeout=10)
    assert r.status_code == 200, r.text


def _hooks(c: CaptureServer, name: str) -> list[str]:
    return [r.json()["status"] for r in c.requests if r.json()["groupLabels"].get("alertname") == name]


@pytest.fixture(
    scope="module",
    params=["sqlite-redis", "sqlite-noredis", "postgres-redis", "postgres-noredis"],
)
def scenario(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    backend, cache = request.param.split("-")
    services: svc.Services = request.getfixturevalue("services")
    redis = services.redis_url if cache == "redis" else f"redis://127.0.0.1:{_closed_port()}/0"
    workdir = tmp_path_factory.mktemp(request.param)
    pg = svc.create_database(services.pg_url) if backend == "postgres" else None
    extra = [f"--storage.url={pg}"] if pg else []
    try:
        with CaptureServer() as ok, CaptureServer(status=400) as bad:
            cfg = CONFIG.format(ok=ok.url, bad=bad.url)
            with run_server("ampp", cfg, workdir, extra_args=[*extra, f"--cache.url={redis}"]) as server:
                s = _play(server.url, redis, ok, bad)
                s.redis_up = cache == "redis"
                yield s
    finally:
        if pg:
            svc.drop_database(services.pg_url, pg)


def _play(url: str, redis: str, ok: CaptureServer, bad: CaptureServer) -> Scenario:
    r = httpx.post(
        url + "/api/v2/silences",
        json={
            "matchers": [{"name": "alertname", "value": "Quiet", "isRegex": False, "isEqual": True}],
            "startsAt": _ts(NOW),
            "endsAt": _ts(NOW + timedelta(hours=1)),
            "createdBy": "alice",
            "comment": "maintenance",
        },
        timeout=10,
    )
    assert r.status_code == 200, r.text
    silence_id = r.json()["silenceID"]
    a1_start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    ann = {"summary": "CPU is hot"}
    _post(url, [{"labels": A, "annotations": ann, "startsAt": _ts(a1_start)}])
    eventually(lambda: _hooks(ok, "HighCPU") == ["firing"], "HighCPU firing")
    _post(url, [
        {"labels": B, "annotations": {"summary": "disk is full"}},
        {"labels": C, "annotations": {"summary": "nothing to see"}},
    ])  # fmt: skip
    fps = {a["labels"]["alertname"]: a["fingerprint"] for a in httpx.get(url + "/api/v2/alerts").json()}
    s = Scenario(url, redis, fps, a1_start, a1_start, a1_start, silence_id)

    def kinds(name: str) -> list[str]:
        r = s.get("/history/" + fps[name])
        return [e["kind"] for e in r.json()["events"]] if r.status_code == 200 else []

    eventually(lambda: kinds("DiskFull").count("alert.inhibited") == 1, "DiskFull inhibited")
    a1_end = a1_start + timedelta(minutes=30)
    _post(url, [{"labels": A, "annotations": ann, "startsAt": _ts(a1_start), "endsAt": _ts(a1_end)}])
    eventually(lambda: _hooks(ok, "HighCPU") == ["firing", "resolved"], "HighCPU resolved")
    eventually(lambda: _hooks(ok, "DiskFull") == ["firing"], "DiskFull uninhibited")
    a2_start = datetime.now(UTC).replace(microsecond=0)
    _post(url, [{"labels": A, "annotations": ann, "startsAt": _ts(a2_start)}])
    eventually(lambda: _hooks(ok, "HighCPU") == ["firing", "resolved", "firing"], "HighCPU firing again")
    eventually(lambda: kinds("DiskFull").count("alert.inhibited") == 2, "DiskFull inhibited again")
    eventually(
        lambda: s.get("/report").json()["notifications"].get("broken", {}).get("failed", 0) >= 2, "failures"
    )
    bad.status = 200  # the broken receiver recovers: it is sent A2 once, then all is quiet
    eventually(lambda: s.get("/report").json()["notifications"]["broken"]["sent"] == 1, "broken recovered")
    time.sleep(0.7)
    s.a1_end, s.a2_start = a1_end, a2_start
    return s


def test_items_and_status(scenario: Scenario) -> None:
    h = scenario.history(sort="alertname", direction="asc")
    assert h["total"] == 4
    items = h["items"]
    assert [i["labels"]["alertname"] for i in items] == ["DiskFull", "HighCPU", "HighCPU", "Quiet"]
    a1 = next(i for i in items if i["status"] == "resolved")
    assert a1["duration"] == 1800.0
    assert a1["startsAt"].startswith(scenario.a1_start.strftime("%Y-%m-%dT%H:%M:%S"))
    assert a1["endsAt"].startswith(scenario.a1_end.strftime("%Y-%m-%dT%H:%M:%S"))
    assert a1["notifications"]["sent"] == 2 and a1["notifications"]["failed"] >= 1
    assert a1["receivers"] == ["broken", "default"]
    by = {i["labels"]["alertname"]: i for i in items if i["status"] == "firing"}
    assert (by["DiskFull"]["inhibited"], by["DiskFull"]["silenced"], by["DiskFull"]["notified"]) == (
        True,
        False,
        True,
    )
    assert (by["Quiet"]["inhibited"], by["Quiet"]["silenced"], by["Quiet"]["notified"]) == (
        False,
        True,
        False,
    )
    assert scenario.names(status="resolved") == ["HighCPU"]
    assert sorted(scenario.names(status="firing")) == ["DiskFull", "HighCPU", "Quiet"]


def test_filters(scenario: Scenario) -> None:
    n = scenario.names
    s = "alertname"
    assert n(severity="critical", sort=s) == ["HighCPU", "HighCPU"]
    assert n(alertname="DiskFull") == ["DiskFull"]
    assert n(namespace="dev") == ["Quiet"]
    assert n(cluster="c1", sort=s, direction="asc") == ["DiskFull", "HighCPU", "HighCPU"]
    assert n(service="api") == ["HighCPU", "HighCPU"]
    assert n(receiver="default", sort=s, direction="asc") == ["DiskFull", "HighCPU", "HighCPU"]
    assert n(receiver="broken") == ["HighCPU", "HighCPU"]
    assert n(fingerprint=scenario.fps["Quiet"]) == ["Quiet"]
    assert n(filter=['alertname=~"High.*|Disk.*"', 'severity!="critical"']) == ["DiskFull"]
    assert n(q="HOT") == ["HighCPU", "HighCPU"]
    assert n(silenced="true") == ["Quiet"]
    assert n(inhibited="true") == ["DiskFull"]
    assert n(notified="false") == ["Quiet"]
    assert n(min_duration="20m") == ["HighCPU"]
    assert n(max_duration="20m", sort=s, direction="asc") == ["DiskFull", "HighCPU", "Quiet"]
    assert n(to=_ts(scenario.a1_start + timedelta(seconds=1))) == ["HighCPU"]
    assert len(n(**{"from": _ts(scenario.a1_end + timedelta(seconds=1))})) == 3
    assert n(active_at=_ts(scenario.a1_start + timedelta(minutes=10))) == ["HighCPU"]
    assert n(flapping="2", flapping_window="2h") == ["HighCPU", "HighCPU"]
    assert n(flapping="3", flapping_window="2h") == []
    # filters combine
    assert n(severity="critical", status="firing", q="hot", notified="true") == ["HighCPU"]
    assert n(namespace="prod", inhibited="false", status="firing") == ["HighCPU"]


def test_sort_and_pagination(scenario: Scenario) -> None:
    h = scenario.history(sort="duration", direction="desc")
    assert h["items"][0]["status"] == "resolved"
    asc = scenario.history(sort="startsAt", direction="asc")["items"]
    assert asc[0]["status"] == "resolved"
    desc = scenario.history(sort="startsAt", direction="desc")["items"]
    assert [(i["fingerprint"], i["startsAt"]) for i in asc] == [
        (i["fingerprint"], i["startsAt"]) for i in desc
    ][::-1]
    assert scenario.names(sort="severity", direction="asc") == ["HighCPU", "HighCPU", "Quiet", "DiskFull"]
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"sort": "alertname", "direction": "asc", "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = scenario.history(**params)
        assert page["total"] == 4
        seen += [i["labels"]["alertname"] for i in page["items"]]
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert (pages, seen) == (2, ["DiskFull", "HighCPU", "HighCPU", "Quiet"])


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"status": "bogus"}, "status"),
        ({"limit": "0"}, "limit"),
        ({"sort": "colour"}, "sort"),
        ({"direction": "up"}, "direction"),
        ({"filter": "{{"}, "filter"),
        ({"from": "yesterday"}, "from"),
        ({"min_duration": "long"}, "min_duration"),
        ({"silenced": "maybe"}, "silenced"),
        ({"flapping": "x"}, "flapping"),
        ({"cursor": "!!"}, "cursor"),
        ({"fingerprint": "xyz"}, "fingerprint"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_parameters(scenario: Scenario, params: dict[str, str], name: str) -> None:
    r = scenario.get("/history", **params)
    assert r.status_code == 400
    assert isinstance(r.json(), str) and r.json().startswith(name + ":")


def test_timeline(scenario: Scenario) -> None:
    t = scenario.get(f"/history/{scenario.fps['HighCPU']}").json()
    kinds = [e["kind"] for e in t["events"]]
    assert [k for k in kinds if k.startswith("alert.")] == ["alert.firing", "alert.resolved", "alert.firing"]
    assert kinds.count("notify.sent") == 4 and kinds.count("notify.failed") >= 2
    assert [o["status"] for o in t["occurrences"]] == ["firing", "resolved"]
    failed = next(e for e in t["events"] if e["kind"] == "notify.failed")
    assert failed["receiver"] == "broken" and failed["integration"] == "webhook" and "400" in failed["error"]
    q = scenario.get(f"/history/{scenario.fps['Quiet']}").json()
    kinds = [e["kind"] for e in q["events"]]
    assert kinds == ["silence.created", "alert.firing", "alert.silenced"], kinds
    created = q["events"][0]
    assert (created["actor"], created["comment"], created["silence_id"]) == (
        "alice",
        "maintenance",
        scenario.silence_id,
    )
    assert created["details"]["matchers"] == ['alertname="Quiet"']
    assert scenario.get("/history/0123456789abcdef").status_code == 404
    assert scenario.get("/history/nothex").status_code == 400


def test_report(scenario: Scenario) -> None:
    r = scenario.get("/report", flapping="2", flapping_window="2h").json()
    assert r["occurrences"] == 4
    assert r["counts"] == {
        "severity": {"critical": 2, "info": 1, "warning": 1},
        "status": {"firing": 3, "resolved": 1},
        "receiver": {"broken": 2, "default": 3},
        "namespace": {"dev": 1, "prod": 3},
        "alertname": {"DiskFull": 1, "HighCPU": 2, "Quiet": 1},
    }
    assert r["noisiest"][0] == {"fingerprint": scenario.fps["HighCPU"], "labels": A, "occurrences": 2}
    assert r["timeToResolve"] == {"count": 1, "mean": 1800.0, "p50": 1800.0, "p95": 1800.0}
    assert [f["fingerprint"] for f in r["flapping"]] == [scenario.fps["HighCPU"]]
    assert r["flapping"][0]["stateChanges"] == 3
    assert r["notifications"]["default"] == {"sent": 4, "failed": 0}
    assert r["notifications"]["broken"]["sent"] == 1 and r["notifications"]["broken"]["failed"] >= 2
    assert r["silences"] == {"created": 1, "byActor": {"alice": 1}}
    recent = scenario.get("/report", **{"from": _ts(scenario.a2_start - timedelta(seconds=1))}).json()
    assert recent["occurrences"] == 3
    assert recent["timeToResolve"]["count"] == 0
    assert scenario.get("/report", status="firing").status_code == 400


def test_cache(scenario: Scenario) -> None:
    import redis

    first = scenario.get("/history", sort="alertname").json()
    assert scenario.get("/history", sort="alertname").json() == first
    metrics = scenario.get("/metrics").text
    up = scenario.redis_up
    assert f"ampp_cache_up {1.0 if up else 0.0}" in metrics
    if up:
        client = redis.Redis.from_url(scenario.redis)
        assert client.keys("ampp:q:*")
        client.close()
