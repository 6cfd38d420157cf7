"""`ampp operator` against a real API server: custom resources change what the embedded engine
routes, inhibits and silences, checked through its v2 API and a webhook receiver.

The operator runs as a subprocess with a ServiceAccount token whose only rights are the rules
in operator/ampp_operator/rbac.yaml, so every test here also shows those rules are enough.
One operator serves the whole module (cluster-wide, like the chart's default); the replica
test adds a second one on the same Lease. Each test works in its own namespace.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml
from devcluster import refusals
from envtest import ControlPlane, free_port

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support import eventually as support  # noqa: E402
from tests.support.amtool import Amtool  # noqa: E402
from tests.support.capture import CapturedRequest, CaptureServer  # noqa: E402
from tests.support.prereq import REFERENCE  # noqa: E402
from tests.support.vendors import make_cert, server_tls  # noqa: E402

pytestmark = pytest.mark.e2e

API = "alerting.ampp.io/v1alpha1"
RBAC = ROOT / "operator" / "ampp_operator" / "rbac.yaml"
T = TypeVar("T")


# ---------------------------------------------------------------------------------------
# Helpers


def eventually(check: Callable[[], T], within: float = 20.0) -> T:
    """tests.support.eventually at the control plane's pace: each check runs kubectl or asks
    the operator."""
    return support.eventually(check, within=within, interval=0.2)


def ampp_bin() -> list[str]:
    exe = shutil.which("ampp", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "ampp"]


@dataclass
class Operator:
    """One `ampp operator` process (restartable)."""

    argv: list[str]
    workdir: Path
    identity: str
    port: int
    proc: subprocess.Popen[bytes] | None = None
    logs: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Operator:
        log = self.workdir / f"operator-{len(self.logs)}.log"
        self.logs.append(log)
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT, env=env)
        proc = self.proc

        def ready() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"operator exited with {proc.returncode}:\n{self.log()}")
            try:
                return httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        try:
            support.eventually(ready, "the operator's /-/ready", within=30, interval=0.1)
        except AssertionError:
            self.stop()  # no test holds it yet: left running, it would outlive the session
            raise RuntimeError(f"operator not ready after 30s:\n{self.log()}") from None
        return self

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        code = self.proc.returncode
        self.proc = None
        return code

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.logs if p.exists())

    def get(self, path: str, **params: str) -> Any:
        r = httpx.get(f"{self.url}/api/v2/{path}", params=params, timeout=10)
        r.raise_for_status()
        return r.json()

    def post_alerts(self, *labelsets: dict[str, str]) -> None:
        r = httpx.post(f"{self.url}/api/v2/alerts", json=[{"labels": ls} for ls in labelsets], timeout=10)
        assert r.status_code == 200, r.text

    def receivers_of(self, alertname: str) -> set[str]:
        """The receivers the dispatcher grouped an alert for (GET /api/v2/alerts/groups)."""
        return {
            g["receiver"]["name"]
            for g in self.get("alerts/groups")
            if any(a["labels"].get("alertname") == alertname for a in g["alerts"])
        }

    def alert(self, alertname: str) -> dict[str, Any]:
        found = self.get("alerts", filter=f'alertname="{alertname}"')
        assert len(found) == 1, found
        return dict(found[0])

    def silences_of(self, sid: str) -> list[dict[str, Any]]:
        return [s for s in self.get("silences") if s["id"] == sid]


def start_operator(
    cp: ControlPlane,
    workdir: Path,
    kubeconfig: Path,
    config: str,
    *,
    lease_namespace: str,
    identity: str,
    extra: tuple[str, ...] = (),
) -> Operator:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "alertmanager.yml").write_text(config)
    port = free_port()
    argv = [
        *ampp_bin(), "operator",
        f"--config.file={workdir / 'alertmanager.yml'}",
        f"--storage.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
        f"--kubeconfig={kubeconfig}",
        f"--leader-election.namespace={lease_namespace}",
        f"--leader-election.identity={identity}",
        "--leader-election.lease-duration=6s",
        "--leader-election.renew-deadline=4s",
        "--leader-election.retry-period=1s",
        "--operator.resync-interval=3s",
        *extra,
    ]  # fmt: skip
    return Operator(argv, workdir, identity, port).start()


def base_config(capture: CaptureServer) -> str:
    return f"""
route:
  receiver: default
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: default
    webhook_configs:
      - url: {capture.url}/default
        send_resolved: false
"""


def apply(cp: ControlPlane, ns: str, kind: str, name: str, spec: dict[str, Any]) -> None:
    body = {"apiVersion": API, "kind": kind, "metadata": {"name": name, "namespace": ns}, "spec": spec}
    cp.kubectl("apply", "-f", "-", input=json.dumps(body))


def get(cp: ControlPlane, ns: str, plural: str, name: str) -> dict[str, Any]:
    return dict(json.loads(cp.kubectl("get", plural, name, "-n", ns, "-o", "json").stdout))


def condition(cp: ControlPlane, ns: str, plural: str, name: str, type_: str = "Accepted") -> dict[str, Any]:
    obj = get(cp, ns, plural, name)
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c["type"] == type_:
            assert c["observedGeneration"] == obj["metadata"]["generation"], "status is stale"
            return dict(c)
    raise AssertionError(f"{plural}/{name} has no {type_} condition yet: {obj.get('status')}")


def wait_accepted(
    cp: ControlPlane, ns: str, plural: str, name: str, status: str = "True", reason: str | None = None
) -> dict[str, Any]:
    def check() -> dict[str, Any]:
        c = condition(cp, ns, plural, name)
        assert c["status"] == status, c
        assert reason is None or c["reason"] == reason, c
        return c

    return eventually(check)


def webhook_receiver(cp: ControlPlane, ns: str, name: str, capture: CaptureServer) -> None:
    """A Secret holding the capture URL and a Receiver whose webhook URL references it."""
    cp.kubectl(
        "create", "secret", "generic", f"{name}-hook", "-n", ns,
        f"--from-literal=url={capture.url}/{ns}/{name}",
    )  # fmt: skip
    apply(cp, ns, "Receiver", name, {
        "webhookConfigs": [{"url": {"name": f"{name}-hook", "key": "url"}, "sendResolved": False}],
    })  # fmt: skip


def notifications(capture: CaptureServer, path: str, alertname: str | None = None) -> list[CapturedRequest]:
    out = []
    for r in list(capture.requests):
        if r.path != path:
            continue
        if alertname is None or any(a["labels"].get("alertname") == alertname for a in r.json()["alerts"]):
            out.append(r)
    return out


def events(cp: ControlPlane, ns: str, name: str) -> list[dict[str, Any]]:
    items = json.loads(cp.kubectl("get", "events", "-n", ns, "-o", "json").stdout)["items"]
    return [e for e in items if e["involvedObject"]["name"] == name]


def holder(cp: ControlPlane, namespace: str, lease: str = "ampp-operator") -> str:
    got = json.loads(cp.kubectl("get", "lease", lease, "-n", namespace, "-o", "json").stdout)
    return str(got["spec"].get("holderIdentity") or "")


def table(cp: ControlPlane, *args: str) -> list[dict[str, str]]:
    """kubectl's table output as rows of column -> cell, cut where the header's columns start
    (cells may be empty or hold spaces)."""
    header, *lines = cp.kubectl(*args).stdout.splitlines()
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    bounds = list(zip(starts, [*starts[1:], None], strict=True))
    names = [header[a:b].strip() for a, b in bounds]
    return [{n: line[a:b].strip() for n, (a, b) in zip(names, bounds, strict=True)} for line in lines]


def rfc3339(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def capture() -> Iterator[CaptureServer]:
    with CaptureServer() as c:
        yield c


@dataclass
class OperatorAccount:
    namespace: str
    kubeconfig: Path


def rbac_docs() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """rbac.yaml: the operator's roles and bindings, and its example RoleBinding that lets it
    read Secrets in one namespace (the chart makes one per namespace that may hold them)."""
    docs = [d for d in yaml.safe_load_all(RBAC.read_text()) if d]
    (secrets,) = [d for d in docs if d["kind"] == "RoleBinding" and d["roleRef"]["kind"] == "ClusterRole"]
    return [d for d in docs if d is not secrets], secrets


def install_rbac(cp: ControlPlane, namespace: str, suffix: str) -> None:
    """rbac.yaml with its placeholders filled in (cluster-scoped names get a suffix, so test
    modules do not share bindings); Secrets are readable nowhere yet (``allow_secrets``)."""
    docs, _ = rbac_docs()
    for d in docs:
        if d["kind"].startswith("Cluster"):
            d["metadata"]["name"] += f"-{suffix}"
        else:
            d["metadata"]["namespace"] = namespace
        if "roleRef" in d and d["roleRef"]["kind"] == "ClusterRole":
            d["roleRef"]["name"] += f"-{suffix}"
        for subject in d.get("subjects", []):
            subject["namespace"] = namespace
    cp.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(docs))


def allow_secrets(cp: ControlPlane, account: OperatorAccount, namespace: str) -> None:
    """rbac.yaml's RoleBinding for Secrets, made in ``namespace``."""
    _, binding = rbac_docs()
    binding["metadata"]["namespace"] = namespace
    binding["roleRef"]["name"] += f"-{account.namespace}"
    for subject in binding["subjects"]:
        subject["namespace"] = account.namespace
    cp.kubectl("apply", "-f", "-", input=yaml.safe_dump(binding))


@pytest.fixture(scope="module")
def account(controlplane: ControlPlane, ampp_crds: list[str]) -> OperatorAccount:
    """A namespace for the operator, its ServiceAccount, exactly the RBAC of rbac.yaml, and
    a token kubeconfig for it."""
    ns = f"ampp-system-{uuid.uuid4().hex[:6]}"
    controlplane.kubectl("create", "namespace", ns)
    controlplane.kubectl("create", "serviceaccount", "ampp-operator", "-n", ns)
    install_rbac(controlplane, ns, ns)
    return OperatorAccount(
        ns, controlplane.kubeconfig_for_service_account(ns, "ampp-operator", duration="2h")
    )


@pytest.fixture(autouse=True)
def secrets_readable(controlplane: ControlPlane, account: OperatorAccount, namespace: str) -> None:
    """Each test's namespace is one whose Secrets the operator may read (the chart's
    operator.secretNamespaces); anywhere else it may not."""
    allow_secrets(controlplane, account, namespace)


@dataclass
class Webhook:
    """Where the module's operator serves admission, and the CA that signed its certificate."""

    port: int
    ca_file: Path


@pytest.fixture(scope="module")
def webhook(controlplane: ControlPlane) -> Webhook:
    assert controlplane.ca is not None
    controlplane.ca.issue("ampp-webhook", "127.0.0.1", server=True, ip_addresses=("127.0.0.1",))
    return Webhook(free_port(), controlplane.ca_file)


@pytest.fixture(scope="module")
def operator(
    controlplane: ControlPlane,
    account: OperatorAccount,
    capture: CaptureServer,
    webhook: Webhook,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Operator]:
    pki = webhook.ca_file.parent
    op = start_operator(
        controlplane,
        tmp_path_factory.mktemp("operator-a"),
        account.kubeconfig,
        base_config(capture),
        lease_namespace=account.namespace,
        identity="replica-a",
        extra=(
            f"--admission.listen-address=127.0.0.1:{webhook.port}",
            f"--admission.cert-file={pki / 'ampp-webhook.crt'}",
            f"--admission.key-file={pki / 'ampp-webhook.key'}",
        ),
    )
    yield op
    op.stop()


# ---------------------------------------------------------------------------------------
# Routes and receivers


def test_route_and_receiver_lifecycle(
    controlplane: ControlPlane, operator: Operator, capture: CaptureServer, namespace: str
) -> None:
    cp, ns = controlplane, namespace
    webhook_receiver(cp, ns, "pager", capture)
    apply(cp, ns, "AlertRoute", "critical", {
        "receiver": "pager",
        "matchers": [{"name": "severity", "value": "critical"}],
        "groupWait": "0s", "groupInterval": "1s",
    })  # fmt: skip
    wait_accepted(cp, ns, "receivers", "pager")
    wait_accepted(cp, ns, "alertroutes", "critical")
    assert get(cp, ns, "receivers", "pager")["status"]["configName"] == f"{ns}/pager"
    assert {"name": f"{ns}/pager"} in operator.get("receivers")

    # Create: the namespace's critical alerts go to its receiver (a real webhook call).
    name = f"RouteTest-{ns}"
    operator.post_alerts({"alertname": name, "namespace": ns, "severity": "critical"})
    sent = eventually(lambda: notifications(capture, f"/{ns}/pager", name))
    payload = sent[0].json()
    assert payload["receiver"] == f"{ns}/pager" and payload["version"] == "4"
    assert operator.receivers_of(name) == {f"{ns}/pager"}

    # Namespace enforcement: the same labels from another namespace do not match.
    other = f"Elsewhere-{ns}"
    operator.post_alerts({"alertname": other, "namespace": "someone-else", "severity": "critical"})
    eventually(lambda: operator.receivers_of(other) == {"default"})

    # Change: the route now wants warnings, so the critical alert falls back to the default.
    apply(cp, ns, "AlertRoute", "critical", {
        "receiver": "pager", "matchers": [{"name": "severity", "value": "warning"}],
    })  # fmt: skip
    eventually(lambda: operator.receivers_of(name) == {"default"})
    assert condition(cp, ns, "alertroutes", "critical")["status"] == "True"
    warn = f"Warning-{ns}"
    operator.post_alerts({"alertname": warn, "namespace": ns, "severity": "warning"})
    eventually(lambda: operator.receivers_of(warn) == {f"{ns}/pager"})

    # Delete the route, then the receiver.
    cp.kubectl("delete", "alertroute", "critical", "-n", ns)
    eventually(lambda: operator.receivers_of(warn) == {"default"})
    cp.kubectl("delete", "receiver", "pager", "-n", ns)
    eventually(lambda: {"name": f"{ns}/pager"} not in operator.get("receivers"))


def test_missing_references_resolve_themselves(
    controlplane: ControlPlane, operator: Operator, capture: CaptureServer, namespace: str
) -> None:
    cp, ns = controlplane, namespace
    apply(cp, ns, "AlertRoute", "early", {
        "receiver": "late", "matchers": [{"name": "alertname", "value": f"Early-{ns}"}],
    })  # fmt: skip
    c = wait_accepted(cp, ns, "alertroutes", "early", "False", "ReceiverNotFound")
    assert c["message"] == f"Receiver {ns}/late does not exist"
    assert condition(cp, ns, "alertroutes", "early", "Ready")["status"] == "False"
    eventually(
        lambda: [
            e for e in events(cp, ns, "early") if e["reason"] == "ReceiverNotFound" and e["type"] == "Warning"
        ]
    )

    webhook_receiver(cp, ns, "late", capture)  # nobody touches the route
    wait_accepted(cp, ns, "alertroutes", "early", "True", "Valid")
    assert condition(cp, ns, "alertroutes", "early", "Ready")["reason"] == "Applied"
    operator.post_alerts({"alertname": f"Early-{ns}", "namespace": ns})
    eventually(lambda: notifications(capture, f"/{ns}/late", f"Early-{ns}"))
    eventually(
        lambda: [e for e in events(cp, ns, "early") if e["reason"] == "Accepted" and e["type"] == "Normal"]
    )


# ---------------------------------------------------------------------------------------
# Inhibition


def test_inhibit_rule_lifecycle(controlplane: ControlPlane, operator: Operator, namespace: str) -> None:
    cp, ns = controlplane, namespace
    outage, symptom = f"Outage-{ns}", f"Symptom-{ns}"
    apply(cp, ns, "InhibitRule", "outage-hides-symptoms", {
        "sourceMatchers": [{"name": "alertname", "value": outage}],
        "targetMatchers": [{"name": "alertname", "value": symptom}],
        "equal": ["cluster"],
    })  # fmt: skip
    wait_accepted(cp, ns, "inhibitrules", "outage-hides-symptoms")
    operator.post_alerts(
        {"alertname": outage, "namespace": ns, "cluster": "c1"},
        {"alertname": symptom, "namespace": ns, "cluster": "c1"},
    )
    source_fp = operator.alert(outage)["fingerprint"]

    def inhibited_by() -> list[str]:
        return list(operator.alert(symptom)["status"]["inhibitedBy"])

    eventually(lambda: inhibited_by() == [source_fp])
    assert operator.alert(symptom)["status"]["state"] == "suppressed"

    # Namespace enforcement: the same alert from another namespace is not inhibited.
    other = f"Symptom-other-{ns}"
    apply(cp, ns, "InhibitRule", "outage-hides-symptoms", {
        "sourceMatchers": [{"name": "alertname", "value": outage}],
        "targetMatchers": [{"name": "alertname", "value": symptom}, {"name": "team", "value": "db"}],
        "equal": ["cluster"],
    })  # fmt: skip
    eventually(lambda: inhibited_by() == [])  # change: the target now needs team=db
    operator.post_alerts(
        {"alertname": symptom, "namespace": ns, "cluster": "c1", "team": "db"},
        {"alertname": other, "namespace": "someone-else", "cluster": "c1", "team": "db"},
    )
    eventually(
        lambda: [
            a for a in operator.get("alerts", filter=f'alertname="{symptom}"') if a["status"]["inhibitedBy"]
        ]
    )
    assert operator.alert(other)["status"]["inhibitedBy"] == []

    cp.kubectl("delete", "inhibitrule", "outage-hides-symptoms", "-n", ns)
    eventually(
        lambda: all(
            not a["status"]["inhibitedBy"] for a in operator.get("alerts", filter=f'alertname="{symptom}"')
        )
    )


# ---------------------------------------------------------------------------------------
# Time intervals


def test_time_interval_lifecycle(
    controlplane: ControlPlane, operator: Operator, capture: CaptureServer, namespace: str
) -> None:
    cp, ns = controlplane, namespace
    muted, loud = f"Muted-{ns}", f"Loud-{ns}"
    webhook_receiver(cp, ns, "quiet", capture)
    apply(cp, ns, "AlertRoute", "muted", {
        "receiver": "quiet", "matchers": [{"name": "alertname", "value": muted}],
        "muteTimeIntervals": ["always"], "groupWait": "0s", "groupInterval": "1s",
    })  # fmt: skip
    apply(
        cp,
        ns,
        "AlertRoute",
        "loud",
        {"receiver": "quiet", "matchers": [{"name": "alertname", "value": loud}]},
    )
    c = wait_accepted(cp, ns, "alertroutes", "muted", "False", "TimeIntervalNotFound")
    assert c["message"] == f"TimeInterval {ns}/always does not exist"

    # Create: the route is accepted, and its notifications are muted.
    apply(
        cp,
        ns,
        "TimeInterval",
        "always",
        {"timeIntervals": [{"times": [{"startTime": "00:00", "endTime": "24:00"}]}]},
    )
    wait_accepted(cp, ns, "timeintervals", "always")
    wait_accepted(cp, ns, "alertroutes", "muted")
    operator.post_alerts({"alertname": muted, "namespace": ns}, {"alertname": loud, "namespace": ns})
    eventually(lambda: notifications(capture, f"/{ns}/quiet", loud))
    assert operator.receivers_of(muted) == {f"{ns}/quiet"}
    time.sleep(1.5)  # more than a group_interval: the muted group was flushed, and muted
    assert notifications(capture, f"/{ns}/quiet", muted) == []

    # Change: an interval that never contains now; the muted alert is notified.
    apply(cp, ns, "TimeInterval", "always", {"timeIntervals": [{"years": ["2000"]}]})
    eventually(lambda: notifications(capture, f"/{ns}/quiet", muted))

    # Delete: the route that refers to it is no longer accepted; its alerts go to the default.
    cp.kubectl("delete", "timeinterval", "always", "-n", ns)
    wait_accepted(cp, ns, "alertroutes", "muted", "False", "TimeIntervalNotFound")
    eventually(lambda: operator.receivers_of(muted) == {"default"})
    assert operator.receivers_of(loud) == {f"{ns}/quiet"}


# ---------------------------------------------------------------------------------------
# Silences


def test_silence_lifecycle(controlplane: ControlPlane, operator: Operator, namespace: str) -> None:
    cp, ns = controlplane, namespace
    name = f"Silenced-{ns}"
    apply(cp, ns, "Silence", "maintenance", {
        "matchers": [{"name": "alertname", "value": name}],
        "duration": "1h", "comment": "database upgrade", "createdBy": "e2e",
    })  # fmt: skip
    wait_accepted(cp, ns, "silences", "maintenance")
    status = eventually(lambda: get(cp, ns, "silences", "maintenance")["status"])
    sid = status["silenceID"]
    assert status["state"] == "active"
    assert condition(cp, ns, "silences", "maintenance", "Ready")["reason"] == "Active"
    assert "alerting.ampp.io/silence" in get(cp, ns, "silences", "maintenance")["metadata"]["finalizers"]

    (sil,) = operator.silences_of(sid)
    assert sil["status"]["state"] == "active"
    assert sil["createdBy"] == "e2e" and sil["comment"] == "database upgrade"
    assert {(m["name"], m["value"], m["isEqual"], m["isRegex"]) for m in sil["matchers"]} == {
        ("namespace", ns, True, False),
        ("alertname", name, True, False),
    }
    operator.post_alerts({"alertname": name, "namespace": ns})
    eventually(lambda: operator.alert(name)["status"]["silencedBy"] == [sid])
    assert operator.alert(name)["status"]["state"] == "suppressed"

    # kubectl get silences: matchers, state, start, end, acceptance, age.
    (row,) = table(cp, "get", "silences", "-n", ns)
    assert row["NAME"] == "maintenance" and row["STATE"] == "active"
    assert row["MATCHERS"] == f'{{namespace="{ns}", alertname="{name}"}}'
    assert (row["STARTS"], row["ENDS"]) == (status["startsAt"], status["endsAt"])
    assert (row["ACCEPTED"], row["REASON"]) == ("True", "Valid")

    # Change: more matchers; still one silence, same id, now not matching the alert.
    apply(cp, ns, "Silence", "maintenance", {
        "matchers": [{"name": "alertname", "value": name}, {"name": "severity", "value": "critical"}],
        "duration": "1h", "comment": "database upgrade, critical only", "createdBy": "e2e",
    })  # fmt: skip
    eventually(lambda: operator.silences_of(sid)[0]["comment"] == "database upgrade, critical only")
    assert len(operator.silences_of(sid)) == 1
    eventually(lambda: operator.alert(name)["status"]["silencedBy"] == [])

    # Delete: the finalizer holds the resource until the silence is expired.
    cp.kubectl("delete", "silence", "maintenance", "-n", ns, "--timeout=30s")
    assert operator.silences_of(sid)[0]["status"]["state"] == "expired"
    gone = cp.kubectl("get", "silence", "maintenance", "-n", ns, check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr


def test_silence_follows_the_clock(controlplane: ControlPlane, operator: Operator, namespace: str) -> None:
    """pending -> active -> expired, in status too (timers, not watch events, move it)."""
    cp, ns = controlplane, namespace
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=4)
    apply(cp, ns, "Silence", "short", {
        "matchers": [{"name": "alertname", "value": f"Short-{ns}"}],
        "startsAt": rfc3339(start), "endsAt": rfc3339(start + timedelta(seconds=3)), "comment": "short",
    })  # fmt: skip

    def state() -> str:
        return str(get(cp, ns, "silences", "short").get("status", {}).get("state"))

    eventually(lambda: state() == "pending", within=4)
    sid = get(cp, ns, "silences", "short")["status"]["silenceID"]
    assert operator.silences_of(sid)[0]["status"]["state"] == "pending"
    eventually(lambda: state() == "active", within=10)
    assert condition(cp, ns, "silences", "short", "Ready")["status"] == "True"
    eventually(lambda: state() == "expired", within=10)
    ready = condition(cp, ns, "silences", "short", "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "Expired")
    assert operator.silences_of(sid)[0]["status"]["state"] == "expired"
    reasons = [e["reason"] for e in events(cp, ns, "short")]
    assert "Active" in reasons and "Expired" in reasons


def test_api_silences_are_left_alone(controlplane: ControlPlane, operator: Operator, namespace: str) -> None:
    """Silences made through the API (amtool, Grafana) are not the operator's to expire."""
    cp, ns = controlplane, namespace
    now = datetime.now(UTC)
    r = httpx.post(f"{operator.url}/api/v2/silences", json={
        "matchers": [{"name": "alertname", "value": f"ByHand-{ns}", "isRegex": False, "isEqual": True}],
        "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat(),
        "createdBy": "amtool", "comment": "by hand",
    }, timeout=10)  # fmt: skip
    assert r.status_code == 200, r.text
    by_hand = r.json()["silenceID"]
    apply(
        cp,
        ns,
        "Silence",
        "mine",
        {"matchers": [{"name": "alertname", "value": "X"}], "duration": "1h", "comment": "x"},
    )
    wait_accepted(cp, ns, "silences", "mine")
    cp.kubectl("delete", "silence", "mine", "-n", ns, "--timeout=30s")
    time.sleep(0.5)
    assert operator.silences_of(by_hand)[0]["status"]["state"] == "active"


# ---------------------------------------------------------------------------------------
# Broken resources


def test_broken_resources_cost_only_themselves(
    controlplane: ControlPlane, operator: Operator, capture: CaptureServer, namespace: str
) -> None:
    cp, ns = controlplane, namespace
    webhook_receiver(cp, ns, "good", capture)
    apply(
        cp,
        ns,
        "AlertRoute",
        "good",
        {"receiver": "good", "matchers": [{"name": "alertname", "value": f"Good-{ns}"}]},
    )
    # A regex Go's RE2 refuses (the API server's CEL does not look at route matchers).
    apply(cp, ns, "AlertRoute", "bad-regex", {
        "receiver": "good", "matchers": [{"name": "alertname", "value": "(unclosed", "matchType": "=~"}],
    })  # fmt: skip
    # A Receiver whose Secret does not exist yet, and a route to it.
    apply(cp, ns, "Receiver", "no-secret", {"webhookConfigs": [{"url": {"name": "later", "key": "url"}}]})
    apply(
        cp,
        ns,
        "AlertRoute",
        "to-no-secret",
        {"receiver": "no-secret", "matchers": [{"name": "alertname", "value": f"Late-{ns}"}]},
    )
    # A Receiver only the engine's config validation refuses (no SMTP smarthost anywhere).
    apply(cp, ns, "Receiver", "mail", {"emailConfigs": [{"to": "oncall@example.com"}]})

    c = wait_accepted(cp, ns, "alertroutes", "bad-regex", "False", "InvalidSpec")
    assert "error parsing regexp: missing closing )" in c["message"], c
    c = wait_accepted(cp, ns, "receivers", "no-secret", "False", "SecretNotFound")
    assert c["message"] == "webhookConfigs[0].url: Secret 'later' not found", c
    wait_accepted(cp, ns, "alertroutes", "to-no-secret", "False", "ReceiverNotAccepted")
    c = wait_accepted(cp, ns, "receivers", "mail", "False", "InvalidConfig")
    assert c["message"] == "emailConfigs[0]: no global SMTP smarthost set", c
    eventually(
        lambda: [
            e for e in events(cp, ns, "bad-regex") if e["type"] == "Warning" and e["reason"] == "InvalidSpec"
        ]
    )

    # The rest keeps working.
    wait_accepted(cp, ns, "alertroutes", "good")
    operator.post_alerts({"alertname": f"Good-{ns}", "namespace": ns})
    eventually(lambda: notifications(capture, f"/{ns}/good", f"Good-{ns}"))

    # The Secret appears: picked up at the next resync, and the route to it follows.
    cp.kubectl(
        "create", "secret", "generic", "later", "-n", ns, f"--from-literal=url={capture.url}/{ns}/later"
    )
    wait_accepted(cp, ns, "receivers", "no-secret")
    wait_accepted(cp, ns, "alertroutes", "to-no-secret")
    operator.post_alerts({"alertname": f"Late-{ns}", "namespace": ns})
    eventually(lambda: notifications(capture, f"/{ns}/later", f"Late-{ns}"))


# ---------------------------------------------------------------------------------------
# Namespace enforcement off


def test_namespace_enforcement_can_be_turned_off(
    controlplane: ControlPlane, account: OperatorAccount, capture: CaptureServer, operator: Operator,
    namespace: str, tmp_path: Path,
) -> None:  # fmt: skip
    """A second operator watching only this namespace, with enforcement off (its own Lease,
    so it writes status too, which is the same here): the route sees every namespace."""
    cp, ns = controlplane, namespace
    webhook_receiver(cp, ns, "all", capture)
    name = f"Anywhere-{ns}"
    apply(
        cp, ns, "AlertRoute", "all", {"receiver": "all", "matchers": [{"name": "alertname", "value": name}]}
    )
    wait_accepted(cp, ns, "alertroutes", "all")
    relaxed = start_operator(
        cp, tmp_path / "relaxed", account.kubeconfig, base_config(capture),
        lease_namespace=account.namespace, identity="relaxed",
        extra=("--leader-election.name=relaxed", f"--operator.watch-namespace={ns}",
               "--no-operator.namespace-enforcement"),
    )  # fmt: skip
    try:
        alert = {"alertname": name, "namespace": "another-team"}
        relaxed.post_alerts(alert)
        operator.post_alerts(alert)
        eventually(lambda: relaxed.receivers_of(name) == {f"{ns}/all"})
        assert operator.receivers_of(name) == {"default"}  # enforced
        routes = yaml.safe_load(relaxed.get("status")["config"]["original"])["route"]["routes"]
        assert [r["matchers"] for r in routes if r.get("receiver") == f"{ns}/all"] == [
            [f'alertname="{name}"']
        ]
        # Watching one namespace, kopf also follows namespaces: rbac.yaml allows that.
        assert refusals(relaxed.log()) == []
    finally:
        relaxed.stop()


# ---------------------------------------------------------------------------------------
# Several replicas


def test_two_replicas_make_one_silence_and_one_writer(
    controlplane: ControlPlane, account: OperatorAccount, capture: CaptureServer, operator: Operator,
    namespace: str, tmp_path: Path,
) -> None:  # fmt: skip
    cp, ns = controlplane, namespace
    second = start_operator(
        cp, tmp_path / "b", account.kubeconfig, base_config(capture),
        lease_namespace=account.namespace, identity="replica-b",
    )  # fmt: skip
    replicas = {"replica-a": operator, "replica-b": second}
    try:
        apply(cp, ns, "Silence", "shared", {
            "matchers": [{"name": "alertname", "value": f"Shared-{ns}"}], "duration": "1h", "comment": "one",
        })  # fmt: skip
        wait_accepted(cp, ns, "silences", "shared")
        sid = get(cp, ns, "silences", "shared")["status"]["silenceID"]
        for op in replicas.values():  # each engine holds exactly that one silence
            eventually(partial(lambda o: len(o.silences_of(sid)) == 1, op))
            mine = [s for s in op.get("silences") if any(m["value"] == f"Shared-{ns}" for m in s["matchers"])]
            assert [s["id"] for s in mine] == [sid]

        # Both serve the full config: a route reaches both engines.
        webhook_receiver(cp, ns, "both", capture)
        apply(
            cp,
            ns,
            "AlertRoute",
            "both",
            {"receiver": "both", "matchers": [{"name": "alertname", "value": f"Both-{ns}"}]},
        )
        wait_accepted(cp, ns, "alertroutes", "both")
        for op in replicas.values():
            op.post_alerts({"alertname": f"Both-{ns}", "namespace": ns})
            eventually(partial(lambda o: o.receivers_of(f"Both-{ns}") == {f"{ns}/both"}, op))

        # One writer: a single Accepted Event per resource, from the Lease holder.
        leader = holder(cp, account.namespace)
        assert leader in replicas
        time.sleep(1.0)
        accepted = [e for e in events(cp, ns, "shared") if e["reason"] == "Accepted"]
        assert len(accepted) == 1 and accepted[0]["reportingInstance"] == leader, accepted

        # Failover: the leader goes; the other takes over and keeps status current.
        replicas[leader].stop()
        follower = "replica-b" if leader == "replica-a" else "replica-a"
        eventually(lambda: holder(cp, account.namespace) == follower)
        ends = rfc3339(datetime.now(UTC) + timedelta(hours=2))
        apply(cp, ns, "Silence", "shared", {
            "matchers": [{"name": "alertname", "value": f"Shared-{ns}"}], "endsAt": ends, "comment": "two",
        })  # fmt: skip
        eventually(lambda: get(cp, ns, "silences", "shared")["status"]["endsAt"] == ends)
        assert condition(cp, ns, "silences", "shared")["status"] == "True"
        assert replicas[follower].silences_of(sid)[0]["comment"] == "two"
    finally:
        second.stop()
        if operator.proc is None:
            operator.start()  # the module's operator serves the tests after this one


# ---------------------------------------------------------------------------------------
# Validating admission


def webhook_configuration(name: str, namespace: str, webhook: Webhook) -> dict[str, Any]:
    """What the chart would install, pointed at the test's operator and scoped to one
    namespace (the other tests must not depend on this operator's webhook)."""
    import base64

    ca = base64.b64encode(webhook.ca_file.read_bytes()).decode()
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": name},
        "webhooks": [
            {
                "name": f"{plural}.validate.alerting.ampp.io",
                "clientConfig": {
                    "url": f"https://127.0.0.1:{webhook.port}/validate-{plural}",
                    "caBundle": ca,
                },
                "rules": [
                    {
                        "apiGroups": ["alerting.ampp.io"],
                        "apiVersions": ["v1alpha1"],
                        "operations": ["CREATE", "UPDATE"],
                        "resources": [plural],
                        "scope": "Namespaced",
                    }
                ],
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
                "admissionReviewVersions": ["v1"],
                "sideEffects": "None",
                "failurePolicy": "Fail",
                "timeoutSeconds": 5,
            }
            for plural in ("alertroutes", "receivers", "inhibitrules", "silences", "timeintervals")
        ],
    }


def test_admission_refuses_what_cel_cannot_check(
    controlplane: ControlPlane, operator: Operator, webhook: Webhook, namespace: str
) -> None:
    cp, ns = controlplane, namespace
    name = f"ampp-e2e-{ns}"
    cp.kubectl("apply", "-f", "-", input=json.dumps(webhook_configuration(name, ns, webhook)))
    try:

        def attempt(kind: str, obj: str, spec: dict[str, Any]) -> subprocess.CompletedProcess[str]:
            body = {"apiVersion": API, "kind": kind, "metadata": {"name": obj, "namespace": ns}, "spec": spec}
            return cp.kubectl("apply", "-f", "-", input=json.dumps(body), check=False)

        # Go RE2 has no lookahead; CEL's regex would not know Go's flavour for routes at all.
        out = eventually(lambda: attempt("AlertRoute", "lookahead", {
            "receiver": "pager", "matchers": [{"name": "a", "value": "x(?=y)", "matchType": "=~"}],
        }))  # fmt: skip
        assert out.returncode != 0, out.stdout
        assert 'admission webhook "alertroutes.validate.alerting.ampp.io" denied the request' in out.stderr
        assert "matchers[0]" in out.stderr and "error parsing regexp" in out.stderr, out.stderr
        # The engine's config validation, before anything is stored.
        out = attempt("Receiver", "mail", {"emailConfigs": [{"to": "oncall@example.com"}]})
        assert out.returncode != 0 and "emailConfigs[0]: no global SMTP smarthost set" in out.stderr, (
            out.stderr
        )
        out = attempt("TimeInterval", "mars", {"timeIntervals": [{"location": "Mars/Olympus_Mons"}]})
        assert out.returncode != 0 and "Mars/Olympus_Mons" in out.stderr, out.stderr
        # A reference to what does not exist yet is admitted, with a warning (GitOps order).
        out = attempt("AlertRoute", "early", {"receiver": "later"})
        assert out.returncode == 0, out.stderr
        assert f"Warning: Receiver {ns}/later does not exist (yet)" in out.stderr, out.stderr
        # Valid resources pass; metadata-only updates (the operator's finalizer) are never blocked.
        out = attempt(
            "Silence",
            "ok",
            {"matchers": [{"name": "alertname", "value": "A"}], "duration": "1h", "comment": "c"},
        )
        assert out.returncode == 0, out.stderr
        eventually(
            lambda: (
                "alerting.ampp.io/silence" in get(cp, ns, "silences", "ok")["metadata"].get("finalizers", [])
            )
        )
        assert cp.kubectl("get", "alertroutes", "-n", ns, "-o", "name").stdout.split() == [
            "alertroute.alerting.ampp.io/early"
        ]
    finally:
        cp.kubectl("delete", "validatingwebhookconfiguration", name)


# ---------------------------------------------------------------------------------------
# RBAC and GitOps


def test_rbac_is_enough_and_spec_is_never_written(
    controlplane: ControlPlane, account: OperatorAccount, operator: Operator, namespace: str
) -> None:
    cp, ns = controlplane, namespace
    apply(
        cp,
        ns,
        "Silence",
        "gitops",
        {"matchers": [{"name": "alertname", "value": "G"}], "duration": "1h", "comment": "x"},
    )
    apply(cp, ns, "AlertRoute", "gitops", {"receiver": "nowhere"})
    wait_accepted(cp, ns, "silences", "gitops")
    wait_accepted(cp, ns, "alertroutes", "gitops", "False")
    for plural in ("silences", "alertroutes"):
        obj = json.loads(
            cp.kubectl("get", plural, "gitops", "-n", ns, "-o", "json", "--show-managed-fields").stdout
        )
        ours = [m for m in obj["metadata"]["managedFields"] if m["manager"] == "ampp-operator"]
        assert ours, obj["metadata"]["managedFields"]
        for m in ours:  # status, or the finalizer: never spec
            fields = m["fieldsV1"]
            assert "f:spec" not in fields, m
            assert m.get("subresource") == "status" or set(fields) == {"f:metadata"}, m
    # Everything above ran with rbac.yaml's rules only: nothing was refused.
    assert refusals(operator.log()) == []
    sa = account.kubeconfig
    for verb, resource, allowed in [
        ("list", "secrets", "no"),
        ("watch", "secrets", "yes"),
        ("get", "secrets", "yes"),
        ("get", "secrets -n kube-system", "no"),
        ("watch", "secrets -n kube-system", "no"),
        ("get", "secrets -n default", "no"),
        ("get", "secrets --all-namespaces", "no"),
        ("update", "alertroutes.alerting.ampp.io", "no"),
        ("patch", "alertroutes.alerting.ampp.io", "no"),
        ("patch", "silences.alerting.ampp.io", "yes"),
        ("patch", "alertroutes.alerting.ampp.io --subresource=status", "yes"),
        ("delete", "silences.alerting.ampp.io", "no"),
    ]:
        # A namespace in ``resource`` comes last, so it wins over the test's.
        can = cp.kubectl("auth", "can-i", verb, "-n", ns, *resource.split(), kubeconfig=sa, check=False)
        assert can.stdout.strip() == allowed, (verb, resource, can.stdout, can.stderr)


# ---------------------------------------------------------------------------------------
# The engine inside is the one `ampp serve` runs with the same flags


def test_the_operator_keeps_its_state_where_storage_url_says(
    controlplane: ControlPlane, ampp_crds: list[str], tmp_path: Path, pg_url: str, capture: CaptureServer
) -> None:
    """The chart passes --storage.url: the operator's engine must write there, not to a
    SQLite file of its own (each replica would then keep, and notify, alone)."""
    import asyncpg

    web = tmp_path / "web.yml"
    web.write_text("http_server_config:\n  headers:\n    X-Frame-Options: deny\n")
    lease_ns = f"ampp-pg-{uuid.uuid4().hex[:6]}"
    controlplane.kubectl("create", "namespace", lease_ns)
    op = start_operator(
        controlplane, tmp_path / "op", controlplane.kubeconfig, base_config(capture),
        lease_namespace=lease_ns, identity="pg-replica",
        extra=(f"--storage.url={pg_url}", f"--web.config.file={web}",
               f"--operator.watch-namespace={lease_ns}"),
    )  # fmt: skip
    try:
        op.post_alerts({"alertname": "StoredInPostgres", "job": "e2e"})
        assert httpx.get(f"{op.url}/-/ready").headers.get("X-Frame-Options") == "deny", "web config ignored"

        async def stored() -> list[str]:
            conn = await asyncpg.connect(pg_url)
            try:
                rows = await conn.fetch("SELECT labels->>'alertname' AS name FROM alerts")
                return [r["name"] for r in rows]
            finally:
                await conn.close()

        import asyncio

        assert eventually(lambda: asyncio.run(stored()) or None) == ["StoredInPostgres"]
        assert not (tmp_path / "op" / "data" / "ampp.db").exists(), "the engine wrote SQLite instead"
    finally:
        op.stop()


# ---------------------------------------------------------------------------------------
# What a new user hits on the first day (issue 17)


def test_a_silence_wholly_in_the_past_is_expired(
    controlplane: ControlPlane, operator: Operator, namespace: str
) -> None:
    """Not `pending` for ever: expired, and its engine id answers as an expired silence."""
    cp, ns = controlplane, namespace
    ended = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    apply(cp, ns, "Silence", "last-week", {
        "matchers": [{"name": "alertname", "value": f"Past-{ns}"}],
        "startsAt": rfc3339(ended - timedelta(hours=2)), "endsAt": rfc3339(ended), "comment": "over",
    })  # fmt: skip
    wait_accepted(cp, ns, "silences", "last-week")
    status = eventually(lambda: get(cp, ns, "silences", "last-week")["status"])
    assert status["state"] == "expired", status
    ready = condition(cp, ns, "silences", "last-week", "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "Expired")
    assert (status["startsAt"], status["endsAt"]) == (rfc3339(ended - timedelta(hours=2)), rfc3339(ended))
    r = httpx.get(f"{operator.url}/api/v2/silence/{status['silenceID']}", timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["status"]["state"] == "expired"
    assert r.json()["endsAt"].startswith(rfc3339(ended)[:-1])


def test_kubectl_get_silences_says_why_and_keeps_up_with_edits(
    controlplane: ControlPlane, operator: Operator, namespace: str
) -> None:
    """A rejected Silence is no blank row (Accepted and Reason columns), and STARTS shows when
    the engine's silence started, which an edit of the matchers moves."""
    cp, ns = controlplane, namespace
    # CEL looks at =~ matchers only; the operator checks !~ as Go's RE2, which has no lookahead.
    apply(cp, ns, "Silence", "broken", {
        "matchers": [{"name": "alertname", "value": "A"}, {"name": "x", "value": "(?=y)", "matchType": "!~"}],
        "duration": "1h", "comment": "broken",
    })  # fmt: skip
    wait_accepted(cp, ns, "silences", "broken", "False", "InvalidSpec")
    (row,) = table(cp, "get", "silences", "-n", ns)
    assert list(row) == ["NAME", "MATCHERS", "STATE", "STARTS", "ENDS", "ACCEPTED", "REASON", "AGE"]
    assert (row["NAME"], row["ACCEPTED"], row["REASON"]) == ("broken", "False", "InvalidSpec"), row
    for plural in ("alertroutes", "receivers", "inhibitrules", "timeintervals"):  # every kind
        crd = json.loads(cp.kubectl("get", "crd", f"{plural}.alerting.ampp.io", "-o", "json").stdout)
        names = [c["name"] for c in crd["spec"]["versions"][0]["additionalPrinterColumns"]]
        assert {"Accepted", "Reason"} <= set(names), (plural, names)

    apply(cp, ns, "Silence", "edited", {
        "matchers": [{"name": "alertname", "value": f"Edited-{ns}"}], "duration": "1h", "comment": "one",
    })  # fmt: skip
    wait_accepted(cp, ns, "silences", "edited")
    first = eventually(lambda: get(cp, ns, "silences", "edited")["status"])
    sid = first["silenceID"]
    time.sleep(2.1)  # the new start must be a later second than the first
    apply(cp, ns, "Silence", "edited", {
        "matchers": [{"name": "alertname", "value": f"Edited-{ns}"}, {"name": "severity", "value": "page"}],
        "duration": "1h", "comment": "two",
    })  # fmt: skip
    eventually(lambda: operator.silences_of(sid)[0]["comment"] == "two")
    engine_start = operator.silences_of(sid)[0]["startsAt"]

    def starts_column() -> str:
        status = get(cp, ns, "silences", "edited")["status"]
        assert status["startsAt"] == engine_start[:19] + "Z", (status, engine_start)
        return str(status["startsAt"])

    starts = eventually(starts_column)
    assert starts > first["startsAt"]
    (row,) = table(cp, "get", "silence", "edited", "-n", ns)
    assert (row["STARTS"], row["ACCEPTED"], row["REASON"]) == (starts, "True", "Valid"), row


def test_amtool_config_routes_works_and_secrets_stay_hidden(
    controlplane: ControlPlane, operator: Operator, capture: CaptureServer, namespace: str
) -> None:
    """amtool 0.25 parses the status API's config (a webhook URL it can read), while the URL
    that came from a Secret, and tokens, never appear in it."""
    REFERENCE.require()
    cp, ns = controlplane, namespace
    hook = f"{capture.url}/{ns}/tokened?token=hunter2-{ns}"
    cp.kubectl(
        "create", "secret", "generic", "hook", "-n", ns, f"--from-literal=url={hook}",
        f"--from-literal=token=bearer-{ns}",
    )  # fmt: skip
    apply(cp, ns, "Receiver", "pager", {
        "webhookConfigs": [{
            "url": {"name": "hook", "key": "url"},
            "httpConfig": {"authorization": {"credentials": {"name": "hook", "key": "token"}}},
        }],
    })  # fmt: skip
    apply(cp, ns, "AlertRoute", "pages", {
        "receiver": "pager", "matchers": [{"name": "severity", "value": "page"}],
    })  # fmt: skip
    wait_accepted(cp, ns, "alertroutes", "pages")
    amtool = Amtool(operator.url)
    routes = amtool.run("config", "routes")
    assert f"{ns}/pager" in routes.stdout, routes.stdout
    tested = amtool.run("config", "routes", "test", f"namespace={ns}", "severity=page")
    assert tested.stdout.split() == [f"{ns}/pager"], tested.stdout
    status = httpx.get(f"{operator.url}/api/v2/status", timeout=10).text
    for secret in (f"hunter2-{ns}", f"bearer-{ns}", f"/{ns}/tokened"):
        assert secret not in status
    shown = amtool.run("config", "show").stdout
    assert f"hunter2-{ns}" not in shown and f"bearer-{ns}" not in shown


def test_amtool_cannot_expire_a_silence_a_resource_owns(
    controlplane: ControlPlane, operator: Operator, namespace: str
) -> None:
    """The resource owns its silence: an expiry or an edit through the API is refused with a
    message naming it, instead of being undone by the next reconcile without a word."""
    REFERENCE.require()
    cp, ns = controlplane, namespace
    apply(cp, ns, "Silence", "owned", {
        "matchers": [{"name": "alertname", "value": f"Owned-{ns}"}], "duration": "1h", "comment": "mine",
    })  # fmt: skip
    wait_accepted(cp, ns, "silences", "owned")
    sid = eventually(lambda: get(cp, ns, "silences", "owned")["status"])["silenceID"]
    amtool = Amtool(operator.url)
    expired = amtool.run("silence", "expire", sid, check=False)
    assert expired.returncode != 0, expired.stdout
    assert f"belongs to the Silence resource {ns}/owned" in expired.stderr, expired.stderr
    updated = amtool.run("silence", "update", sid, "--duration=5m", check=False)
    assert updated.returncode != 0 and f"the Silence resource {ns}/owned" in updated.stderr, updated.stderr
    (sil,) = operator.silences_of(sid)
    assert sil["status"]["state"] == "active" and sil["comment"] == "mine"
    # Silences made through the API are the API's to expire.
    made = amtool.run(
        "silence", "add", f"alertname=ByHand-{ns}", "--comment=x", "--duration=1h"
    ).stdout.strip()
    amtool.run("silence", "expire", made)
    assert operator.silences_of(made)[0]["status"]["state"] == "expired"


@pytest.mark.parametrize("flag", ["--web.listen-address", "--admission.listen-address"])
def test_a_port_in_use_is_one_line(
    controlplane: ControlPlane, account: OperatorAccount, tmp_path: Path, flag: str
) -> None:
    """`ampp operator` (and `ampp serve`) on a port another process holds: one line saying
    so, exit code 1, no traceback."""
    busy = socket.create_server(("127.0.0.1", 0))
    taken = f"127.0.0.1:{busy.getsockname()[1]}"
    (tmp_path / "alertmanager.yml").write_text("route: {receiver: x}\nreceivers: [{name: x}]\n")
    common = [
        f"--config.file={tmp_path / 'alertmanager.yml'}", f"--storage.path={tmp_path / 'data'}",
        "--cluster.listen-address=",
    ]  # fmt: skip
    pki = controlplane.dir / "pki"
    commands = {
        "operator": [
            *ampp_bin(), "operator", *common, f"--kubeconfig={account.kubeconfig}", "--no-leader-election",
            f"--web.listen-address={taken if flag == '--web.listen-address' else f'127.0.0.1:{free_port()}'}",
            f"--admission.listen-address={taken if flag == '--admission.listen-address' else '127.0.0.1:0'}",
            f"--admission.cert-file={pki / 'apiserver.crt'}", f"--admission.key-file={pki / 'apiserver.key'}",
        ],
    }  # fmt: skip
    if flag == "--web.listen-address":
        commands["serve"] = [*ampp_bin(), "serve", *common, f"--web.listen-address={taken}"]
    try:
        for name, argv in commands.items():
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
            out = (proc.stdout + proc.stderr).strip()
            assert proc.returncode == 1, (name, proc.returncode, out)
            assert "Traceback" not in out, out
            (line,) = [ln for ln in out.splitlines() if "level=error" in ln]
            assert f"Listening on {flag} {taken} failed" in line, out
            assert "address already in use" in line.lower(), out
    finally:
        busy.close()


def notified_through(
    cp: ControlPlane, operator: Operator, ns: str, name: str, server: CaptureServer,
    secret: Mapping[str, str], http_config: Mapping[str, Any],
) -> CapturedRequest:  # fmt: skip
    """A Secret (``secret`` and the webhook URL), a Receiver with that ``http_config`` and a
    route to it, then one alert: the request the webhook got."""
    literals = [f"--from-literal={k}={v}" for k, v in {"url": f"{server.url}/{ns}/{name}", **secret}.items()]
    cp.kubectl("create", "secret", "generic", name, "-n", ns, *literals)
    apply(cp, ns, "Receiver", name, {
        "webhookConfigs": [
            {"url": {"name": name, "key": "url"}, "sendResolved": False, "httpConfig": http_config}
        ],
    })  # fmt: skip
    apply(cp, ns, "AlertRoute", name, {
        "receiver": name, "matchers": [{"name": "alertname", "value": f"{name}-{ns}"}],
    })  # fmt: skip
    wait_accepted(cp, ns, "receivers", name)
    wait_accepted(cp, ns, "alertroutes", name)
    operator.post_alerts({"alertname": f"{name}-{ns}", "namespace": ns})
    (sent,) = eventually(lambda: notifications(server, f"/{ns}/{name}", f"{name}-{ns}"))
    return sent


def test_a_receiver_presents_its_client_certificate(
    controlplane: ControlPlane, operator: Operator, namespace: str, tmp_path: Path
) -> None:
    """tlsConfig's `cert`, and its `key` from a Secret, reach the engine inline and are
    presented: a webhook that requires a client certificate gets the notification."""
    server_cert, server_key = make_cert(tmp_path / "server")
    client_cert, client_key = make_cert(tmp_path / "client", ("ampp-client",))
    tls = server_tls(server_cert, server_key)
    tls.load_verify_locations(client_cert)
    tls.verify_mode = ssl.CERT_REQUIRED
    with CaptureServer(tls=tls) as mtls:
        sent = notified_through(
            controlplane, operator, namespace, "mtls", mtls, {"key": client_key.read_text()},
            {"tlsConfig": {
                "ca": server_cert.read_text(), "cert": client_cert.read_text(),
                "key": {"name": "mtls", "key": "key"},
            }},
        )  # fmt: skip
    assert sent.json()["receiver"] == f"{namespace}/mtls"


def test_a_receivers_http_headers_are_sent(
    controlplane: ControlPlane, operator: Operator, capture: CaptureServer, namespace: str
) -> None:
    """httpConfig.httpHeaders: plain values from the spec, secret ones from a Secret, both on
    the webhook request."""
    ns = namespace
    sent = notified_through(
        controlplane, operator, ns, "headers", capture, {"token": f"t0ken-{ns}"},
        {"httpHeaders": {
            "X-Scope-OrgID": {"values": [ns]},
            "X-Api-Token": {"secrets": [{"name": "headers", "key": "token"}]},
        }},
    )  # fmt: skip
    headers = {k.lower(): v for k, v in sent.headers.items()}
    assert (headers["x-scope-orgid"], headers["x-api-token"]) == (ns, f"t0ken-{ns}")
    assert f"t0ken-{ns}" not in httpx.get(f"{operator.url}/api/v2/status", timeout=10).text


def test_a_rotated_secret_applies_at_once(
    controlplane: ControlPlane, account: OperatorAccount, capture: CaptureServer, operator: Operator,
    namespace: str, tmp_path: Path,
) -> None:  # fmt: skip
    """The Receiver's Secret is watched: a rotated webhook URL takes the next notification,
    from an operator that would not re-read Secrets for an hour."""
    cp, ns = controlplane, namespace
    webhook_receiver(cp, ns, "rotating", capture)
    apply(cp, ns, "AlertRoute", "rotating", {
        "receiver": "rotating", "matchers": [{"name": "alertname", "value": f"Rotate-{ns}"}],
    })  # fmt: skip
    slow = start_operator(
        cp, tmp_path / "slow", account.kubeconfig, base_config(capture),
        lease_namespace=account.namespace, identity="slow-resync",
        extra=("--leader-election.name=slow-resync", f"--operator.watch-namespace={ns}",
               "--operator.resync-interval=1h"),
    )  # fmt: skip
    try:
        slow.post_alerts({"alertname": f"Rotate-{ns}", "namespace": ns, "n": "1"})
        eventually(lambda: notifications(capture, f"/{ns}/rotating", f"Rotate-{ns}"))
        rotated = f"{capture.url}/{ns}/rotated"
        secret = cp.kubectl(
            "create", "secret", "generic", "rotating-hook", "-n", ns, f"--from-literal=url={rotated}",
            "--dry-run=client", "-o", "json",
        ).stdout  # fmt: skip
        cp.kubectl("apply", "-f", "-", input=secret)
        eventually(lambda: f"Secret {ns}/rotating-hook changed" in slow.log(), within=10)
        slow.post_alerts({"alertname": f"Rotate-{ns}", "namespace": ns, "n": "2"})
        eventually(lambda: notifications(capture, f"/{ns}/rotated", f"Rotate-{ns}"), within=10)
        assert refusals(slow.log()) == []
    finally:
        slow.stop()


def test_secrets_are_read_only_where_the_operator_may(
    controlplane: ControlPlane, account: OperatorAccount, operator: Operator, namespace: str
) -> None:
    """A namespace without the Secrets binding: the operator cannot read the Receiver's Secret
    and its status says so, rather than "not found"."""
    cp = controlplane
    closed = f"{namespace[:50]}-closed"
    cp.kubectl("create", "namespace", closed)
    cp.kubectl("create", "secret", "generic", "hook", "-n", closed, "--from-literal=url=http://x.invalid/")
    apply(cp, closed, "Receiver", "locked", {"webhookConfigs": [{"url": {"name": "hook", "key": "url"}}]})
    c = wait_accepted(cp, closed, "receivers", "locked", "False", "SecretNotReadable")
    assert c["message"] == (
        f"webhookConfigs[0].url: cannot read Secret 'hook': "
        f"the operator may not read Secrets in namespace '{closed}' (RBAC)"
    ), c
    # Once it may (the binding the chart makes for operator.secretNamespaces), it reads it.
    allow_secrets(cp, account, closed)
    wait_accepted(cp, closed, "receivers", "locked")
