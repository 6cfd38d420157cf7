"""Differential test: the same config and the same sequence of silences and alerts, sent at once
to the real Alertmanager 0.25 (the baseline) and to a candidate server, each with its own
webhook capture; what the webhooks receive and what the API reports must be the same.

The candidate is chosen like the other integration tests (AMPP_TEST_SERVERS, conftest.py):
"reference" runs two real Alertmanagers side by side, which proves the comparison itself is
sound and deterministic; "ampp" compares `ampp serve` with Alertmanager (skipped until `ampp`
is importable).

Timing is kept deterministic rather than waited out: group_wait 1s and group_interval 2s; every
group of a phase is created by one POST, and each later phase is posted to each server in the
middle of that server's group interval (1s after its last notification), so that no flush can
see half of a phase. Alerts carry explicit startsAt/endsAt, identical for both servers, so that the
payloads can be compared field by field; startsAt is recent (a startsAt older than group_wait
makes Alertmanager flush a new group at the first insert, racing with the rest of the batch).
"""

from __future__ import annotations

import json
import socket
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.capture import CapturedRequest, CaptureServer
from tests.support.servers import Server, run_server

pytestmark = pytest.mark.integration

CONFIG = """\
global:
  resolve_timeout: 5m
route:
  receiver: default
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
  routes:
    - matchers: ['team="db"']
      receiver: db
      group_by: [alertname, instance]
      continue: true
    - matchers: ['severity=~"critical|page"']
      receiver: pager
      group_by: ['...']
    - match:
        service: web
      receiver: web
      group_by: [cluster]
    - match_re:
        team: front.*
      receiver: frontend
      group_by: []
inhibit_rules:
  - source_matchers: ['alertname="NodeDown"']
    target_matchers: ['severity="warning"']
    equal: [instance]
receivers:
  - name: default
    webhook_configs:
      - url: {hook}/default
  - name: db
    webhook_configs:
      - url: {hook}/db
  - name: pager
    webhook_configs:
      - url: {hook}/pager
  - name: web
    webhook_configs:
      - url: {hook}/web
        max_alerts: 2
  - name: frontend
    webhook_configs:
      - url: {hook}/frontend
        send_resolved: false
"""


# --- the two servers ---------------------------------------------------------------------------


@dataclass
class Side:
    name: str  # "baseline" or "candidate"
    server: Server
    capture: CaptureServer
    client: httpx.Client
    silence_names: dict[str, str] = field(default_factory=dict)  # server's silence id -> our name

    def post(self, path: str, body: Any) -> httpx.Response:
        return self.client.post(f"{self.server.url}{path}", json=body)

    def get(self, path: str, **params: Any) -> Any:
        r = self.client.get(f"{self.server.url}{path}", params=params)
        assert r.status_code == 200, f"{self.name} GET {path}: {r.status_code} {r.text}"
        return r.json()


@dataclass
class Pair:
    candidate_kind: str
    sides: list[Side]

    def post_both(self, path: str, body: Any) -> list[httpx.Response]:
        return [side.post(path, body) for side in self.sides]


@pytest.fixture(scope="module")
def pair(server_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """Alertmanager (baseline) and `server_kind` (candidate), each with its own webhook capture
    and its own fresh storage (never shared with the other parametrization's servers)."""
    workdir = tmp_path_factory.mktemp(f"differential-{server_kind}")
    with (
        CaptureServer() as cap_a,
        CaptureServer() as cap_b,
        httpx.Client(timeout=10) as client,
        run_server("reference", CONFIG.format(hook=cap_a.url), workdir / "baseline") as srv_a,
        run_server(server_kind, CONFIG.format(hook=cap_b.url), workdir / "candidate") as srv_b,
    ):
        yield Pair(
            server_kind,
            [Side("baseline", srv_a, cap_a, client), Side("candidate", srv_b, cap_b, client)],
        )


# --- time and normalisation --------------------------------------------------------------------


def go_time(t: datetime, digits: int = 6) -> str:
    """A timestamp as we send it: RFC 3339 with `digits` fractional digits."""
    frac = f"{t.microsecond:06d}"[:digits]
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if digits else "") + "Z"


def alert(labels: dict[str, str], starts: str, ends: str | None = None, **extra: Any) -> dict[str, Any]:
    a: dict[str, Any] = {"labels": labels, "startsAt": starts, **extra}
    if ends is not None:
        a["endsAt"] = ends
    return a


def expected_external_url(side: Side) -> str:
    # Without --web.external-url Alertmanager advertises http://<hostname>:<listen port>.
    return f"http://{socket.gethostname()}:{side.server.port}"


ALERT_FIELDS = (
    "status",
    "labels",
    "annotations",
    "startsAt",
    "endsAt",
    "generatorURL",
    "fingerprint",
)


def normalize_notification(side: Side, req: CapturedRequest) -> dict[str, Any]:
    body = req.json()
    assert body.get("externalURL") == expected_external_url(side), body.get("externalURL")
    return {
        "path": req.path,
        "content_type": req.headers.get("Content-Type"),
        "version": body["version"],
        "groupKey": body["groupKey"],
        "status": body["status"],
        "receiver": body["receiver"],
        "groupLabels": body["groupLabels"],
        "commonLabels": body["commonLabels"],
        "commonAnnotations": body["commonAnnotations"],
        "externalURL": "<externalURL>",
        "truncatedAlerts": body["truncatedAlerts"],
        # Alertmanager sorts a group's alerts (job, instance, then label sets): order matters.
        "alerts": [{k: a.get(k) for k in ALERT_FIELDS} for a in body["alerts"]],
    }


def notifications_by_group(side: Side, start: int = 0) -> dict[str, list[dict[str, Any]]]:
    """Notifications received since request number `start`, per groupKey, in arrival order.

    Across groups the order is unspecified (independent timers); within a group it is the
    sequence the receiver sees.
    """
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for req in side.capture.requests[start:]:
        n = normalize_notification(side, req)
        groups[n["groupKey"]].append(n)
    return dict(sorted(groups.items()))


def normalize_api_alert(side: Side, a: dict[str, Any], loose_ends: set[str]) -> dict[str, Any]:
    out = {
        "fingerprint": a["fingerprint"],
        "labels": a["labels"],
        "annotations": a["annotations"],
        "startsAt": a["startsAt"],
        "endsAt": a["endsAt"],
        "generatorURL": a.get("generatorURL", ""),
        "receivers": [r["name"] for r in a["receivers"]],
        "state": a["status"]["state"],
        # Silence ids are random per server: compare the silences' names; order unspecified.
        "silencedBy": sorted(side.silence_names.get(s, s) for s in a["status"]["silencedBy"]),
        "inhibitedBy": sorted(a["status"]["inhibitedBy"]),
    }
    if a["fingerprint"] in loose_ends:
        # Sent without endsAt: endsAt = arrival + resolve_timeout, different per server by a few
        # milliseconds. Check it is that, then drop it.
        delta = datetime.fromisoformat(a["endsAt"].replace("Z", "+00:00")) - datetime.fromisoformat(
            a["updatedAt"].replace("Z", "+00:00")
        )
        assert abs(delta - timedelta(minutes=5)) < timedelta(seconds=2), (side.name, a)
        out["endsAt"] = "<updatedAt+resolve_timeout>"
    return out


def api_snapshot(side: Side, loose_ends: set[str]) -> dict[str, Any]:
    def alerts(**params: Any) -> list[dict[str, Any]]:
        return [normalize_api_alert(side, a, loose_ends) for a in side.get("/api/v2/alerts", **params)]

    def groups(**params: Any) -> list[dict[str, Any]]:
        return [
            {
                "labels": g["labels"],
                "receiver": g["receiver"]["name"],
                "alerts": [normalize_api_alert(side, a, loose_ends) for a in g["alerts"]],
            }
            for g in side.get("/api/v2/alerts/groups", **params)
        ]

    def silences() -> list[dict[str, Any]]:
        out = []
        for sil in side.get("/api/v2/silences"):
            state = sil["status"]["state"]
            out.append(
                {
                    "id": side.silence_names.get(sil["id"], sil["id"]),
                    "matchers": sil["matchers"],
                    "createdBy": sil["createdBy"],
                    "comment": sil["comment"],
                    "state": state,
                    # A start in the past is moved to the server's now; expiring sets endsAt to
                    # the server's now: those are per-server times.
                    "startsAt": sil["startsAt"] if state == "pending" else "<server now>",
                    "endsAt": sil["endsAt"] if state != "expired" else "<expired at>",
                }
            )
        return out

    return {
        "silences": silences(),
        "alerts": alerts(),
        "alerts active only": alerts(silenced="false", inhibited="false"),
        "alerts suppressed only": alerts(active="false"),
        "alerts filter": alerts(filter=['team="db"', 'severity!="page"']),
        "alerts receiver": alerts(receiver="web|pager"),
        "groups": groups(),
        "groups receiver=db": groups(receiver="db"),
        "groups active only": groups(silenced="false", inhibited="false"),
    }


def unordered(value: Any) -> Any:
    """The same data with every list sorted: to tell content differences from order ones."""
    if isinstance(value, dict):
        return {k: unordered(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((unordered(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def assert_same(what: str, baseline: Any, candidate: Any) -> None:
    # Content first, ignoring order, then the order Alertmanager defines (it sorts API alerts by
    # fingerprint, groups by labels then receiver, a group's alerts by job/instance/labels).
    assert unordered(candidate) == unordered(baseline), f"{what}: content differs"
    assert candidate == baseline, f"{what}: same content, different order"


# --- the scenario ------------------------------------------------------------------------------


def wait_phase(pair: Pair, starts: list[int], count: int, timeout: float = 8) -> list[float]:
    """Wait for `count` notifications since `starts` on every side, then make sure no extra one
    arrives; return when each side received its last one (its groups tick from there)."""
    for side, start in zip(pair.sides, starts, strict=True):
        try:
            side.capture.wait_for(start + count, timeout=timeout)
        except AssertionError as e:
            raise AssertionError(
                f"{side.name} ({side.server.kind}): {e}; received:\n{received(side, start)}"
            ) from None
    lasts = [
        max(r.received_at for r in side.capture.requests[start:])
        for side, start in zip(pair.sides, starts, strict=True)
    ]
    time.sleep(max(0.0, max(lasts) + 0.9 - time.time()))
    for side, start in zip(pair.sides, starts, strict=True):
        got = len(side.capture.requests) - start
        assert got == count, (
            f"{side.name} ({side.server.kind}): expected {count} notifications, got {got}:\n"
            + received(side, start)
        )
    return lasts


def received(side: Side, start: int) -> str:
    """The notifications since `start`, with their arrival times, for failure messages."""
    t0 = side.capture.requests[start].received_at if len(side.capture.requests) > start else 0.0
    return "\n".join(f"+{r.received_at - t0:.3f}s {r.body.decode()}" for r in side.capture.requests[start:])


def at_mid_interval(pair: Pair, lasts: list[float], action: Callable[[Side], None]) -> list[int]:
    """Run `action` on each side in the middle of its group interval (its groups flush every 2s
    from `last`), so that no flush sees half of it; return the request counts from before."""
    starts = [len(side.capture.requests) for side in pair.sides]
    plan = []
    for side, last in zip(pair.sides, lasts, strict=True):
        when = last + 1.0
        while when < time.time() - 0.4:  # more than 0.4s past the middle: take the next one
            when += 2.0
        plan.append((when, side))
    for when, side in sorted(plan, key=lambda p: p[0]):
        time.sleep(max(0.0, when - time.time()))
        action(side)
    return starts


def summary(groups: dict[str, list[dict[str, Any]]]) -> dict[str, list[tuple[str, int, int]]]:
    """groupKey -> [(status, alerts in the payload, truncatedAlerts)]: what the scenario expects."""
    return {k: [(n["status"], len(n["alerts"]), n["truncatedAlerts"]) for n in v] for k, v in groups.items()}


G_NODEDOWN_DB = '{}/{team="db"}:{alertname="NodeDown", instance="n1"}'
G_DISKFULL_N2_DB = '{}/{team="db"}:{alertname="DiskFull", instance="n2"}'
# A route's part of the key is its matchers as written for `matchers:`, but anchored for
# `match_re:`; group_by ['...'] groups by all labels.
G_NODEDOWN_PAGER = (
    '{}/{severity=~"critical|page"}:'
    '{alertname="NodeDown", instance="n1", job="node", severity="critical", team="db"}'
)
G_PAGEME = '{}/{severity=~"critical|page"}:{alertname="PageMe", instance="p1", severity="page"}'
G_WEB_EU = '{}/{service="web"}:{cluster="eu"}'
G_WEB_US = '{}/{service="web"}:{cluster="us"}'
G_CPUHOT = '{}:{alertname="CPUHot"}'
# `group_by: []` is the same as no group_by: the route inherits its parent's [alertname].
G_FRONTEND = '{}/{team=~"^(?:front.*)$"}:{alertname="JSErrors"}'


def test_notifications_and_api_match(pair: Pair) -> None:
    t0 = datetime.now(UTC)
    ts = go_time(t0)  # microseconds: the webhook echoes Go's RFC 3339 with nanoseconds
    future = go_time(t0 + timedelta(minutes=4), 3)  # what Prometheus sends for a firing alert

    # Phase 0: silences. S1 is active, S2 pending (starts in an hour: silences nothing yet).
    sil1 = {
        "matchers": [
            {"name": "alertname", "value": "CPUHot", "isRegex": False, "isEqual": True},
            {"name": "instance", "value": "c1", "isRegex": False},
        ],
        "startsAt": go_time(t0, 3),
        "endsAt": go_time(t0 + timedelta(hours=2), 3),
        "createdBy": "differential",
        "comment": "S1",
    }
    sil2 = dict(
        sil1,
        matchers=[{"name": "alertname", "value": "Page.*", "isRegex": True}],
        startsAt=go_time(t0 + timedelta(hours=1), 3),
        comment="S2",
    )
    for name, body in (("S1", sil1), ("S2", sil2)):
        for side, r in zip(pair.sides, pair.post_both("/api/v2/silences", body), strict=True):
            assert r.status_code == 200, (side.name, r.text)
            side.silence_names[r.json()["silenceID"]] = name

    # Phase A: everything fires at once.
    node_down = {
        "alertname": "NodeDown",
        "severity": "critical",
        "instance": "n1",
        "team": "db",
        "job": "node",
    }
    disk_n1 = {
        "alertname": "DiskFull",
        "severity": "warning",
        "instance": "n1",
        "team": "db",
    }  # inhibited
    disk_n2 = {"alertname": "DiskFull", "severity": "warning", "instance": "n2", "team": "db"}
    web = [
        {
            "alertname": "HighLatency",
            "service": "web",
            "cluster": "eu",
            "instance": f"w{i}",
            "severity": "warning",
        }
        for i in (3, 1, 2)
    ] + [
        {
            "alertname": "HighLatency",
            "service": "web",
            "cluster": "us",
            "instance": "w4",
            "severity": "warning",
        }
    ]
    cpu = [{"alertname": "CPUHot", "instance": f"c{i}", "severity": "info"} for i in (1, 2)]  # c1 silenced
    front = [{"alertname": "JSErrors", "team": "frontend", "page": p} for p in ("home", "cart")]
    page = {"alertname": "PageMe", "severity": "page", "instance": "p1"}
    runbook = {"summary": "Node n1 is down", "runbook": "https://runbooks.example/node"}
    batch_a = [
        alert(
            node_down,
            ts,
            future,
            annotations=runbook,
            generatorURL="http://prometheus.example/graph?g0.expr=up",
        ),
        alert(disk_n1, ts, future, annotations={"summary": "disk n1"}),
        alert(disk_n2, ts, future, annotations={"summary": "disk n2"}),
        *(alert(w, ts, future, annotations={"summary": "latency"}) for w in web),
        *(alert(c, ts) for c in cpu),  # no endsAt: resolve_timeout applies
        *(alert(f, ts, future) for f in front),
        alert(page, ts, future),
    ]
    for side, r in zip(pair.sides, pair.post_both("/api/v2/alerts", batch_a), strict=True):
        assert (r.status_code, r.text) == (200, ""), side.name

    starts = [0, 0]
    lasts = wait_phase(pair, starts, 8)
    baseline, candidate = (notifications_by_group(s) for s in pair.sides)
    assert summary(baseline) == {
        G_NODEDOWN_DB: [("firing", 1, 0)],
        G_DISKFULL_N2_DB: [("firing", 1, 0)],  # DiskFull n1 is inhibited: its group sends nothing
        G_NODEDOWN_PAGER: [("firing", 1, 0)],
        G_PAGEME: [("firing", 1, 0)],  # S2 is pending
        G_WEB_EU: [("firing", 2, 1)],  # max_alerts: 2
        G_WEB_US: [("firing", 1, 0)],
        G_CPUHOT: [("firing", 1, 0)],  # c1 silenced by S1
        G_FRONTEND: [("firing", 2, 0)],
    }
    assert_same("phase A notifications", baseline, candidate)

    loose_ends = {
        a["fingerprint"] for a in pair.sides[0].get("/api/v2/alerts") if a["labels"]["alertname"] == "CPUHot"
    }
    snap_a = [api_snapshot(s, loose_ends) for s in pair.sides]
    assert {
        (a["labels"]["alertname"], tuple(a["silencedBy"]), len(a["inhibitedBy"]))
        for a in snap_a[0]["alerts suppressed only"]
    } == {("DiskFull", (), 1), ("CPUHot", ("S1",), 0)}
    for key in snap_a[0]:
        assert_same(f"phase A API {key}", snap_a[0][key], snap_a[1][key])

    # Phase B, mid-interval: w1 resolves (explicit endsAt), w5 joins the "us" group, c2 is sent
    # again with a later startsAt (the earliest wins) and a new annotation (no notification by
    # itself), and S1 is expired, which unsilences c1.
    t1 = datetime.now(UTC)
    t1s = go_time(t1, 3)
    batch_b = [
        alert(web[1], ts, t1s, annotations={"summary": "latency"}),
        alert({**web[3], "instance": "w5"}, t1s, go_time(t1 + timedelta(minutes=4), 3)),
        alert(cpu[1], t1s, annotations={"summary": "still hot"}),
    ]

    def phase_b(side: Side) -> None:
        r = side.post("/api/v2/alerts", batch_b)
        assert r.status_code == 200, side.name
        s1 = next(sid for sid, name in side.silence_names.items() if name == "S1")
        r = side.client.delete(f"{side.server.url}/api/v2/silence/{s1}")
        assert r.status_code == 200, (side.name, r.text)

    starts = at_mid_interval(pair, lasts, phase_b)
    lasts = wait_phase(pair, starts, 3)
    baseline, candidate = (notifications_by_group(s, n) for s, n in zip(pair.sides, starts, strict=True))
    assert summary(baseline) == {
        G_WEB_EU: [("firing", 2, 1)],  # w1 resolved + w2 firing shown, w3 truncated
        G_WEB_US: [("firing", 2, 0)],
        G_CPUHOT: [("firing", 2, 0)],
    }
    assert_same("phase B notifications", baseline, candidate)
    snap_b = [api_snapshot(s, loose_ends) for s in pair.sides]
    for key in snap_b[0]:
        assert_same(f"phase B API {key}", snap_b[0][key], snap_b[1][key])

    # Phase C, mid-interval: everything resolves with an explicit endsAt, targets of the inhibit
    # rule before its source.
    t2s = go_time(datetime.now(UTC), 3)
    latest = {json.dumps(a["labels"], sort_keys=True): a for a in batch_a + batch_b}  # last one sent
    del latest[json.dumps(web[1], sort_keys=True)]  # w1: resolved already
    batch_c = sorted(
        (dict(a, endsAt=t2s) for a in latest.values()),
        key=lambda a: a["labels"]["alertname"] == "NodeDown",
    )

    def phase_c(side: Side) -> None:
        r = side.post("/api/v2/alerts", batch_c)
        assert r.status_code == 200, side.name

    starts = at_mid_interval(pair, lasts, phase_c)
    wait_phase(pair, starts, 7)
    baseline, candidate = (notifications_by_group(s, n) for s, n in zip(pair.sides, starts, strict=True))
    assert summary(baseline) == {
        G_NODEDOWN_DB: [("resolved", 1, 0)],
        G_DISKFULL_N2_DB: [("resolved", 1, 0)],
        G_NODEDOWN_PAGER: [("resolved", 1, 0)],
        G_PAGEME: [("resolved", 1, 0)],
        G_WEB_EU: [("resolved", 2, 0)],  # w1 was notified resolved already and left the group
        G_WEB_US: [("resolved", 2, 0)],
        G_CPUHOT: [("resolved", 2, 0)],
        # frontend: send_resolved: false; DiskFull n1: never notified, so no resolved either
    }
    assert_same("phase C notifications", baseline, candidate)
    snap_c = [api_snapshot(s, loose_ends) for s in pair.sides]
    assert snap_c[0]["alerts"] == [] and snap_c[0]["groups"] == []
    for key in snap_c[0]:
        assert_same(f"phase C API {key}", snap_c[0][key], snap_c[1][key])


def test_status_and_receivers_match(pair: Pair) -> None:
    """The loaded config as /api/v2/status shows it (amtool config show/routes read it)."""
    statuses = [s.get("/api/v2/status") for s in pair.sides]
    originals = [
        st["config"]["original"].replace(side.capture.url, "<hook>")
        for st, side in zip(statuses, pair.sides, strict=True)
    ]
    assert originals[1] == originals[0]
    assert [st["cluster"]["status"] for st in statuses] == ["disabled", "disabled"]
    assert statuses[1]["cluster"].get("peers") == statuses[0]["cluster"].get("peers") == []
    receivers = [s.get("/api/v2/receivers") for s in pair.sides]
    assert receivers[0] == [{"name": n} for n in ("default", "db", "pager", "web", "frontend")]
    assert receivers[1] == receivers[0]
