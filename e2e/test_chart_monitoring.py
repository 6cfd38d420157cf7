"""The chart's self-monitoring: the PrometheusRule and the Grafana dashboard ConfigMap.

The rules pass Debian's `promtool check rules`; then a real Prometheus loads them as the chart
renders them and scrapes a real engine (`ampp serve` on PostgreSQL, through a forwarder the
test can cut), labelled as the ServiceMonitor's scrape labels it (job = the Service's name,
namespace), so that the chart's default selector is what is exercised. The engine is driven
into each condition in turn (failing and refused notifications, a queue behind a hanging
receiver, a bad reload, storage cut off) and each alert must fire in its turn, none before.
Every dashboard query runs on the same Prometheus, and every metric the rules and the
dashboard name is one the engine exports.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from envtest import ControlPlane
from test_chart import CHART, FULLNAME, dry_run_apply, one, render

from tests.support.capture import CaptureServer
from tests.support.eventually import eventually
from tests.support.forward import forward
from tests.support.prereq import INSTALL, Prerequisite
from tests.support.servers import free_port, run_ampp, stop

pytestmark = pytest.mark.e2e

PROMETHEUS = Prerequisite(
    "Debian's Prometheus and promtool (/usr/bin/prometheus, /usr/bin/promtool)",
    f"apt-get install prometheus ({INSTALL})",
    lambda: bool(shutil.which("prometheus") and shutil.which("promtool")),
)
NAMESPACE = "monitoring"
ALERTS = (
    "AmppNotificationsFailing",
    "AmppDeliveryQueueGrowing",
    "AmppDeadLetters",
    "AmppStorageDown",
    "AmppConfigReloadFailed",
    "AmppHistoryBehind",
)
QUICK: dict[str, Any] = {
    "prometheusRule": {
        "enabled": True,
        "window": "1m",
        "alerts": {
            "notificationsFailing": {"enabled": True, "threshold": 0.1, "for": "0s", "severity": "warning"},
            "queueGrowing": {"enabled": True, "threshold": 5, "for": "0s", "severity": "warning"},
            "deadLetters": {"enabled": True, "for": "0s", "severity": "warning"},
            "storageDown": {"enabled": True, "for": "0s", "severity": "critical"},
            "configReloadFailed": {"enabled": True, "for": "0s", "severity": "warning"},
            "historyBehind": {"enabled": True, "threshold": 2, "for": "0s", "severity": "warning"},
        },
    },
    "grafanaDashboard": {"enabled": True},
}
"""The chart's rules with thresholds and `for` a test can reach in seconds (values a user sets)."""


def rule_groups(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"groups": one(docs, "PrometheusRule")["spec"]["groups"]}


def dashboard(docs: list[dict[str, Any]]) -> dict[str, Any]:
    cm = one(docs, "ConfigMap", f"{FULLNAME}-dashboard")
    parsed: dict[str, Any] = json.loads(cm["data"]["alertmanager-plusplus.json"])
    return parsed


def panel_queries(board: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p["title"], t["expr"]) for p in board["panels"] for t in p.get("targets", [])]


# ---------------------------------------------------------------------------------------
# rendering


def test_off_by_default(controlplane: ControlPlane, tmp_path: Path) -> None:
    docs = render(controlplane, tmp_path)
    assert not [d for d in docs if d["kind"] == "PrometheusRule"]
    assert not [d for d in docs if d["metadata"]["name"].endswith("-dashboard")]


@PROMETHEUS.mark()
def test_rules_pass_promtool(controlplane: ControlPlane, tmp_path: Path) -> None:
    docs = render(controlplane, tmp_path, {"prometheusRule": {"enabled": True, "labels": {"release": "p"}}})
    rule = one(docs, "PrometheusRule")
    assert rule["metadata"]["labels"]["release"] == "p", "the label a Prometheus' ruleSelector matches"
    groups = rule_groups(docs)
    assert [r["alert"] for r in groups["groups"][0]["rules"]] == list(ALERTS)
    for r in groups["groups"][0]["rules"]:
        assert f'job="{FULLNAME}",namespace="{NAMESPACE}"' in r["expr"], r["expr"]
        assert r["labels"]["severity"] and r["annotations"]["summary"] and r["annotations"]["description"]
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(groups))
    checked = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in checked.stdout, checked.stdout


def test_rules_follow_their_values(controlplane: ControlPlane, tmp_path: Path) -> None:
    values = {
        "prometheusRule": {
            "enabled": True,
            "selector": 'job="am"',
            "additionalLabels": {"team": "sre"},
            "alerts": {"deadLetters": {"enabled": False, "for": "0s", "severity": "warning"}},
        }
    }
    rules = rule_groups(render(controlplane, tmp_path, values))["groups"][0]["rules"]
    assert "AmppDeadLetters" not in [r["alert"] for r in rules]
    for r in rules:
        assert '{job="am"' in r["expr"] and "namespace=" not in r["expr"], r["expr"]
        assert r["labels"]["team"] == "sre"


def test_dashboard_configmap_carries_the_sidecar_label(
    controlplane: ControlPlane, tmp_path: Path, namespace: str
) -> None:
    docs = render(
        controlplane,
        tmp_path,
        {"grafanaDashboard": {"enabled": True, "annotations": {"grafana_folder": "Alerting"}}},
        namespace=namespace,
    )
    cm = one(docs, "ConfigMap", f"{FULLNAME}-dashboard")
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert cm["metadata"]["annotations"] == {"grafana_folder": "Alerting"}
    board = dashboard(docs)
    assert board["uid"] == "alertmanager-plusplus" and len(panel_queries(board)) >= 20
    names = [v["name"] for v in board["templating"]["list"]]
    assert names == ["datasource", "namespace", "job"]
    dry_run_apply(controlplane, [cm])  # the real API server takes it (size, keys, labels)


# ---------------------------------------------------------------------------------------
# a real Prometheus scraping a real engine


@contextlib.contextmanager
def prometheus(tmp_path: Path, target: str, rules: Path) -> Iterator[str]:
    """Prometheus scraping ``target`` every second as the ServiceMonitor's job would be named
    and labelled, evaluating ``rules`` every second."""
    port = free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [
            {
                "job_name": FULLNAME,
                "static_configs": [{"targets": [target], "labels": {"namespace": NAMESPACE}}],
            }
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    log_path = tmp_path / "prometheus.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                "prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            assert proc.poll() is None, log_path.read_text(errors="replace")[-3000:]
            try:
                return httpx.get(f"{url}/-/ready", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        eventually(ready, "Prometheus ready", within=30)
        yield url
    finally:
        stop(proc)


def query(url: str, expr: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=10).json()
    assert answer["status"] == "success", f"{expr}: {answer}"
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


def firing(url: str) -> set[str]:
    alerts = httpx.get(f"{url}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
    return {a["labels"]["alertname"] for a in alerts if a["state"] == "firing"}


def exported_samples(engine_url: str) -> set[str]:
    """Every sample name the engine can export, from its TYPE lines (a labelled metric with no
    child yet has no sample, but has its TYPE line)."""
    text = httpx.get(f"{engine_url}/metrics", timeout=10).text
    suffixes = {
        "counter": ("_total",),
        "histogram": ("_bucket", "_sum", "_count"),
        "summary": ("_sum", "_count"),
    }
    names: set[str] = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M):
        names.update([name, *(name + s for s in suffixes.get(kind, ()))])
    return names


def named_metrics(expr: str) -> set[str]:
    return set(re.findall(r"\b((?:alertmanager|ampp)_[a-z_]+)\b", expr))


def alert(name: str, kind: str) -> list[dict[str, Any]]:
    return [{"labels": {"alertname": name, "kind": kind}}]


@PROMETHEUS.mark()
def test_each_alert_fires_on_its_condition_against_a_real_engine(
    controlplane: ControlPlane, tmp_path: Path, pg_url: str
) -> None:
    docs = render(controlplane, tmp_path, QUICK, namespace=NAMESPACE)
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump(rule_groups(docs)))
    board = dashboard(docs)

    receivers = {k: CaptureServer(status=s).start() for k, s in (("ok", 200), ("fail", 500), ("reject", 400))}
    receivers["hang"] = CaptureServer(delay=120).start()
    db = urlsplit(pg_url)
    port, db_port = free_port(), free_port()
    config: dict[str, Any] = {
        "notify": {"workers": 2, "initial_backoff": "200ms", "max_backoff": "1s"},
        "alerting": {
            "route": {
                "receiver": "ok",
                "group_by": ["alertname"],
                "group_wait": "100ms",
                "group_interval": "1s",
                "routes": [{"matchers": [f"kind={k}"], "receiver": k} for k in ("fail", "reject", "hang")],
            },
            "receivers": [
                {"name": k, "webhook_configs": [{"url": f"{r.url}/{k}"}]} for k, r in receivers.items()
            ],
        },
    }
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(config))
    engine = f"http://127.0.0.1:{port}"
    userinfo = db.netloc.rpartition("@")[0]
    storage_url = db._replace(netloc=f"{userinfo}@127.0.0.1:{db_port}").geturl()
    args = [f"--config.file={cfg}", f"--web.listen-address=127.0.0.1:{port}", f"--storage.url={storage_url}"]
    with contextlib.ExitStack() as stack:
        for r in receivers.values():
            stack.callback(r.stop)
        cut = stack.enter_context(contextlib.ExitStack())
        cut.enter_context(forward(db_port, (db.hostname or "127.0.0.1", db.port or 5432)))
        stack.enter_context(run_ampp(args, engine, tmp_path / "ampp.log"))
        prom = stack.enter_context(prometheus(tmp_path, f"127.0.0.1:{port}", rules))

        def post(name: str, kind: str) -> None:
            httpx.post(f"{engine}/api/v2/alerts", json=alert(name, kind), timeout=10).raise_for_status()

        # healthy: a notification delivered, every rule evaluated on fresh samples, none firing
        post("Healthy", "ok")
        eventually(lambda: receivers["ok"].requests, "the first notification")
        eventually(
            lambda: query(prom, f'alertmanager_notifications_total{{job="{FULLNAME}"}} > 0'), "scraped"
        )
        time.sleep(3)
        rule_state = httpx.get(f"{prom}/api/v1/rules", timeout=10).json()["data"]["groups"][0]["rules"]
        assert {r["name"] for r in rule_state} == set(ALERTS)
        assert all(r["health"] == "ok" for r in rule_state), rule_state
        assert firing(prom) == set(), "a healthy engine fires none"

        seen: set[str] = set()

        def fires(name: str) -> bool:
            now = firing(prom)
            assert now - seen <= {name}, f"{sorted(now - seen - {name})} fired before their turn"
            return name in now

        post("Failing", "fail")  # answered 500: retried, each attempt failing
        eventually(lambda: fires("AmppNotificationsFailing"), "AmppNotificationsFailing", within=30)
        seen.add("AmppNotificationsFailing")

        for i in range(4):  # answered 400: given up at once; several, so the counter moves
            post(f"Refused{i}", "reject")
            time.sleep(1.5)
        eventually(lambda: fires("AmppDeadLetters"), "AmppDeadLetters", within=30)
        seen.add("AmppDeadLetters")

        for i in range(12):  # two workers held by a receiver that never answers: the rest pile up
            post(f"Hanging{i}", "hang")
            time.sleep(1.5)
        eventually(lambda: fires("AmppDeliveryQueueGrowing"), "AmppDeliveryQueueGrowing", within=30)
        seen.add("AmppDeliveryQueueGrowing")

        bad = {**config, "alerting": {**config["alerting"], "route": {"receiver": "nobody"}}}
        cfg.write_text(yaml.safe_dump(bad))
        assert httpx.post(f"{engine}/-/reload", timeout=10).status_code == 500
        eventually(lambda: fires("AmppConfigReloadFailed"), "AmppConfigReloadFailed", within=30)
        seen.add("AmppConfigReloadFailed")

        cut.close()  # PostgreSQL unreachable: its connections reset, no new ones
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(f"{engine}/api/v2/alerts", json=alert("Unstored", "ok"), timeout=15)
        eventually(lambda: {"AmppStorageDown", "AmppHistoryBehind"} <= firing(prom), "storage", within=45)
        assert firing(prom) == set(ALERTS)

        # the dashboard: every query runs, and most have data by now
        empty = [title for title, expr in panel_queries(board) if not query(prom, dashboard_expr(expr))]
        assert all(
            t.startswith(("Tokens", "Provider", "Enrichments", "/webhook", "Query cache")) for t in empty
        ), f"panels without data: {empty}"
        exported = exported_samples(engine)
        for expr in [r["expr"] for r in rule_groups(docs)["groups"][0]["rules"]] + [
            e for _, e in panel_queries(board)
        ]:
            assert named_metrics(expr) <= exported, f"{sorted(named_metrics(expr) - exported)} in {expr}"


def dashboard_expr(expr: str) -> str:
    """A panel's query as Grafana sends it with every namespace and job selected."""
    return expr.replace("$namespace", ".*").replace("$job", ".*").replace("$__rate_interval", "1m")


def test_chart_files_are_packaged(controlplane: ControlPlane, tmp_path: Path) -> None:
    """`helm package` keeps dashboards/ (a .helmignore entry would drop the JSON silently)."""
    out = controlplane.helm("package", str(CHART), "--destination", str(tmp_path)).stdout
    archive = next(tmp_path.glob("*.tgz"))
    listing = subprocess.run(["tar", "tzf", str(archive)], capture_output=True, text=True, check=True).stdout
    assert "alertmanager-plusplus/dashboards/alertmanager-plusplus.json" in listing, out
