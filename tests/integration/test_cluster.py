"""Replicas sharing one PostgreSQL database form a cluster (ampp.cluster): three `ampp serve`
processes on one fresh database, a local webhook receiver counting what they send.

Membership (status API, amtool), what one replica learns reaches the others (alerts,
silences, reloads), each group is notified by one replica, and a replica killed with -9 has
its groups taken over within ``dead_after`` without a notification sent twice or lost.
"""

from __future__ import annotations

import collections
import contextlib
import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.amtool import run_command
from tests.support.capture import CaptureServer
from tests.support.eventually import eventually
from tests.support.forward import forward
from tests.support.servers import AMTOOL, Server, free_port, run_server

pytestmark = pytest.mark.integration

HEARTBEAT, TIMEOUT = 0.25, 0.25
DEAD_AFTER = 2 * HEARTBEAT + 2 * TIMEOUT  # ampp.cluster.ownership.Timing.dead_after
CLUSTER_ARGS = [
    f"--cluster.probe-interval={int(HEARTBEAT * 1000)}ms",
    f"--cluster.probe-timeout={int(TIMEOUT * 1000)}ms",
]

CONFIG = """
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs: [{{url: "{url}/hook", send_resolved: true}}]
"""


@contextlib.contextmanager
def replicas(pg_url: str, tmp_path: Path, config: str, n: int = 3) -> Iterator[list[Server]]:
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(
                run_server(
                    "ampp",
                    config,
                    tmp_path / f"r{i}",
                    cluster=True,
                    extra_args=[f"--storage.url={pg_url}", *CLUSTER_ARGS],
                )
            )
            for i in range(n)
        ]
        eventually(
            lambda: all(ready_peers(s) == n for s in servers), "every replica sees all as ready", within=10
        )
        yield servers


def ready_peers(s: Server) -> int:
    status = httpx.get(f"{s.url}/api/v2/status", timeout=5).json()["cluster"]
    return sum(1 for p in status["peers"] if p["state"] == "ready")


def post(s: Server, alerts: list[dict[str, Any]]) -> None:
    r = httpx.post(f"{s.url}/api/v2/alerts", json=alerts, timeout=10)
    assert r.status_code == 200, r.text


def notifications(hook: CaptureServer) -> list[tuple[str, str, tuple[tuple[str, str, str], ...]]]:
    """(group, status, alerts as (name, status, startsAt)) of each notification received."""
    out = []
    for r in list(hook.requests):
        m = r.json()
        alerts = tuple(sorted((a["labels"]["alertname"], a["status"], a["startsAt"]) for a in m["alerts"]))
        out.append((m["groupKey"], m["status"], alerts))
    return out


def test_status_lists_the_replicas_and_amtool_shows_them(pg_url: str, tmp_path: Path) -> None:
    with CaptureServer() as hook, replicas(pg_url, tmp_path, CONFIG.format(url=hook.url)) as servers:
        status = httpx.get(f"{servers[0].url}/api/v2/status").json()["cluster"]
        assert status["status"] == "ready"
        names = sorted(p["name"] for p in status["peers"])
        assert len(names) == 3 and status["name"] in names
        assert {p["state"] for p in status["peers"]} == {"ready"}
        out = run_command([AMTOOL, "cluster", "show", f"--alertmanager.url={servers[1].url}", "-o", "json"])
        shown = json.loads(out.stdout)
        assert sorted(p["name"] for p in shown["peers"]) == names
        assert shown["status"] == "ready"
        metrics = httpx.get(f"{servers[2].url}/metrics").text
        assert "alertmanager_cluster_members 3.0" in metrics
        assert "alertmanager_cluster_enabled 1.0" in metrics
        assert "ampp_cluster_storage_connected 1.0" in metrics


def test_alerts_silences_and_reloads_reach_every_replica(pg_url: str, tmp_path: Path) -> None:
    with CaptureServer() as hook, replicas(pg_url, tmp_path, CONFIG.format(url=hook.url)) as servers:
        a, b, c = servers
        post(a, [{"labels": {"alertname": "OnlyToA", "team": "x"}}])

        def seen() -> bool:
            return all(
                [x["labels"]["alertname"] for x in httpx.get(f"{s.url}/api/v2/alerts").json()] == ["OnlyToA"]
                for s in (b, c)
            )

        eventually(seen, "an alert posted to one replica is listed by the others", within=2)
        silence = {
            "matchers": [{"name": "team", "value": "y", "isRegex": False, "isEqual": True}],
            "startsAt": "2020-01-01T00:00:00Z",
            "endsAt": "2099-01-01T00:00:00Z",
            "createdBy": "test",
            "comment": "everywhere",
        }
        sid = httpx.post(f"{b.url}/api/v2/silences", json=silence).json()["silenceID"]
        started = time.monotonic()
        eventually(
            lambda: all(httpx.get(f"{s.url}/api/v2/silence/{sid}").status_code == 200 for s in (a, c)),
            "a silence made on one replica is known to the others",
            within=1,
        )
        took = time.monotonic() - started
        # Muted everywhere: an alert of team y posted to A is suppressed, and never notified.
        post(a, [{"labels": {"alertname": "Silenced", "team": "y"}}])
        eventually(
            lambda: (
                all(
                    x["status"]["state"] == "suppressed"
                    for s in servers
                    for x in httpx.get(
                        f"{s.url}/api/v2/alerts", params={"filter": "alertname=Silenced"}
                    ).json()
                )
                and all(
                    httpx.get(f"{s.url}/api/v2/alerts", params={"filter": "alertname=Silenced"}).json()
                    for s in servers
                )
            ),
            "the silenced alert is suppressed on every replica",
            within=2,
        )
        # A reload on one replica reloads the others (each reads its own file).
        for s in servers:
            s.config_path.write_text(
                CONFIG.format(url=hook.url).replace("repeat_interval: 1h", "repeat_interval: 2h")
            )
        assert a.reload().status_code == 200
        eventually(
            lambda: all(
                "2h" in httpx.get(f"{s.url}/api/v2/status").json()["config"]["original"] for s in (b, c)
            ),
            "the other replicas reloaded",
            within=3,
        )
        time.sleep(4)  # group_wait + group_interval: OnlyToA notified (once), Silenced never
    got = notifications(hook)
    assert [g for g, _, _ in got].count('{}:{alertname="OnlyToA"}') == 1, got
    assert not [n for n in got if "Silenced" in n[0]], got
    assert took < 1


def test_each_group_is_notified_once_and_a_killed_replicas_groups_are_taken_over(
    pg_url: str, tmp_path: Path
) -> None:
    with CaptureServer() as hook, replicas(pg_url, tmp_path, CONFIG.format(url=hook.url)) as servers:
        names = [f"G{i}" for i in range(12)]
        alerts = [{"labels": {"alertname": n}} for n in names]
        for s in servers:  # as Prometheus does: every alert to every replica
            post(s, alerts)
        eventually(
            lambda: len({g for g, _, _ in notifications(hook)}) == 12, "every group notified", within=6
        )
        time.sleep(2.5)  # one more group interval: nothing new
        firing = notifications(hook)
        assert len(firing) == 12, collections.Counter(g for g, _, _ in firing)
        owned = {s.port: metric(s, "ampp_cluster_owned_groups") for s in servers}
        assert sum(owned.values()) == 12, owned
        victim = max(servers, key=lambda s: owned[s.port])
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait()
        killed_at = time.monotonic()
        survivors = [s for s in servers if s is not victim]
        ends = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
        for s in survivors:
            post(s, [{"labels": {"alertname": n}, "endsAt": ends} for n in names])
        eventually(
            lambda: sum(1 for _, st, _ in notifications(hook) if st == "resolved") == 12,
            "every group's resolution notified by the survivors",
            within=DEAD_AFTER + 2 + 3,
        )
        took = time.monotonic() - killed_at
        time.sleep(2.5)
        got = notifications(hook)
        assert all(ready_peers(s) == 2 for s in survivors)
    counts = collections.Counter(got)
    assert [n for n, k in counts.items() if k > 1] == [], "duplicates"
    assert len(got) == 24, got
    assert took < DEAD_AFTER + 2 + 1.5, took


def metric(s: Server, name: str) -> float:
    for line in httpx.get(f"{s.url}/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in {s.url}/metrics")


def test_a_replica_cut_off_from_postgresql_stops_notifying_and_catches_up(
    pg_url: str, tmp_path: Path
) -> None:
    """The network-partition test: replica C reaches PostgreSQL through a TCP proxy, which is
    stopped. C says so (/-/ready, metrics) and sends nothing; A and B take its groups and send
    what they must, once; the proxy back, C catches up and nothing is sent twice."""
    url = urlsplit(pg_url)
    proxy_port = free_port()
    via_proxy = url._replace(netloc=f"{url.username}@127.0.0.1:{proxy_port}").geturl()
    with CaptureServer() as hook, contextlib.ExitStack() as stack:
        cfg = CONFIG.format(url=hook.url)
        cut = stack.enter_context(contextlib.ExitStack())
        cut.enter_context(forward(proxy_port, (url.hostname or "127.0.0.1", url.port or 5432)))
        servers = [
            stack.enter_context(
                run_server(
                    "ampp",
                    cfg,
                    tmp_path / name,
                    cluster=True,
                    extra_args=[f"--storage.url={u}", *CLUSTER_ARGS],
                )
            )
            for name, u in (("a", pg_url), ("b", pg_url), ("c", via_proxy))
        ]
        eventually(lambda: all(ready_peers(s) == 3 for s in servers), "three ready replicas", within=10)
        a, b, c = servers
        names = [f"P{i}" for i in range(12)]
        for s in servers:
            post(s, [{"labels": {"alertname": n}} for n in names])
        eventually(lambda: len(notifications(hook)) == 12, "every group notified once", within=6)
        owned_by_c = metric(c, "ampp_cluster_owned_groups")
        assert owned_by_c > 0

        cut.close()  # C's connections reset, no new ones
        cut_at = time.monotonic()
        eventually(lambda: httpx.get(f"{c.url}/-/ready").status_code == 503, "C says it is cut off", within=2)
        assert "cut off from PostgreSQL" in httpx.get(f"{c.url}/-/ready").text
        assert metric(c, "ampp_cluster_storage_connected") == 0
        assert metric(c, "ampp_cluster_owned_groups") == 0
        ends = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
        resolved = [{"labels": {"alertname": n}, "endsAt": ends} for n in names]
        for s in (a, b):
            post(s, resolved)
        with contextlib.suppress(httpx.HTTPError):  # C keeps it in memory (and asks to retry)
            httpx.post(f"{c.url}/api/v2/alerts", json=resolved, timeout=10)
        eventually(
            lambda: sum(1 for _, st, _ in notifications(hook) if st == "resolved") == 12,
            "A and B send every resolution, C's groups' included",
            within=DEAD_AFTER + 2 + 3,
        )
        took = time.monotonic() - cut_at
        eventually(
            lambda: all(ready_peers(s) == 2 for s in (a, b)), "A and B list two ready replicas", within=2
        )

        cut.enter_context(forward(proxy_port, (url.hostname or "127.0.0.1", url.port or 5432)))
        eventually(lambda: httpx.get(f"{c.url}/-/ready").status_code == 200, "C back", within=5)
        eventually(lambda: all(ready_peers(s) == 3 for s in servers), "C counted in again", within=5)
        firing_again = [{"labels": {"alertname": n}} for n in names[:3]]
        post(c, firing_again)  # C accepts again, and the owners notify
        try:
            eventually(lambda: len(notifications(hook)) == 27, "three groups firing again", within=6)
        except AssertionError as e:
            views = {
                s.url: [
                    (x["labels"]["alertname"], x["status"]["state"], x["updatedAt"])
                    for x in httpx.get(
                        f"{s.url}/api/v2/alerts", params={"filter": 'alertname=~"P[012]"'}
                    ).json()
                ]
                for s in servers
            }
            owned = {s.url: metric(s, "ampp_cluster_owned_groups") for s in servers}
            jobs = httpx.get(f"{a.url}/api/ampp/v1/deliveries", params={"limit": 10}).json()["deliveries"]
            raise AssertionError(f"{e}: {len(notifications(hook))} {views} {owned} {jobs}") from None
        time.sleep(3)  # more group intervals on every replica: nothing else
        got = notifications(hook)
    counts = collections.Counter(got)
    assert [n for n, k in counts.items() if k > 1] == [], "duplicates"
    assert len(got) == 27, got
    assert took < DEAD_AFTER + 2 + 1.5, took


def test_sqlite_with_a_cluster_address_is_one_instance(tmp_path: Path) -> None:
    """No database shared, no cluster: the listen address only names the instance, as before."""
    with (
        CaptureServer() as hook,
        run_server("ampp", CONFIG.format(url=hook.url), tmp_path, cluster=True) as s,
    ):
        status = httpx.get(f"{s.url}/api/v2/status").json()["cluster"]
        assert status["status"] == "ready" and len(status["peers"]) == 1
        assert "state" not in status["peers"][0]
        post(s, [{"labels": {"alertname": "Alone"}}])
        hook.wait_for(1, timeout=5)
