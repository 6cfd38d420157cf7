"""examples/kubernetes/ applied to `make dev-cluster` (e2e/devcluster.py): the chart installed
into the e2e tier's control plane, `ampp operator` run as its Deployment would. Every example
is accepted, and alerts go where the examples' comments say; then Ctrl-C stops everything."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from envtest import free_port

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.capture import CaptureServer  # noqa: E402
from tests.support.eventually import eventually  # noqa: E402

pytestmark = pytest.mark.e2e

EXAMPLES = ROOT / "examples" / "kubernetes"
NS = "team-payments"


def base_config(capture: CaptureServer) -> dict[str, Any]:
    return {
        "route": {
            "receiver": "default",
            "group_by": ["alertname"],
            "group_wait": "0s",
            "group_interval": "1s",
        },
        "receivers": [{"name": "default", "webhook_configs": [{"url": f"{capture.url}/default"}]}],
    }


@pytest.fixture
def capture() -> Iterator[CaptureServer]:
    with CaptureServer() as c:
        yield c


def test_the_examples_route_as_their_comments_say(
    k8s_bin_dir: Path, tmp_path: Path, capture: CaptureServer
) -> None:
    config = tmp_path / "alertmanager.yml"
    config.write_text(yaml.safe_dump(base_config(capture)))
    port = free_port()
    log = (tmp_path / "dev-cluster.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "e2e" / "devcluster.py"), f"--dir={tmp_path / 'dev'}", f"--port={port}",
         f"--config.file={config}"],
        stdout=log, stderr=subprocess.STDOUT, text=True,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("KUBECONFIG")},
             "AMPP_K8S_BIN_DIR": str(k8s_bin_dir)},
    )  # fmt: skip
    try:

        def ready() -> bool:
            assert proc.poll() is None, Path(log.name).read_text()
            return "dev-cluster ready" in Path(log.name).read_text()

        eventually(ready, "make dev-cluster", within=120, interval=0.5)
        kubeconfig = tmp_path / "dev" / "kubeconfig"
        assert f"export KUBECONFIG={kubeconfig}" in Path(log.name).read_text()

        def kubectl(
            *args: str, input: str | None = None, check: bool = True
        ) -> subprocess.CompletedProcess[str]:
            done = subprocess.run(
                [str(k8s_bin_dir / "kubectl"), f"--kubeconfig={kubeconfig}", *args],
                input=input, capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
            assert not check or done.returncode == 0, done.stdout + done.stderr
            return done

        # The examples as they are, but for the Secret's URLs: they point at this test's endpoint.
        docs = [d for f in sorted(EXAMPLES.glob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]
        for d in docs:
            if d["kind"] == "Secret":
                d["stringData"] = {k: f"{capture.url}/{k}" for k in d["stringData"]}
        kubectl("apply", "-f", "-", input=yaml.safe_dump_all(docs))

        def all_accepted() -> bool:
            items = json.loads(kubectl("get", "ampp", "-n", NS, "-o", "json").stdout)["items"]
            states = {
                f"{i['kind']}/{i['metadata']['name']}": {
                    c["type"]: c["status"] for c in i.get("status", {}).get("conditions", [])
                }
                for i in items
            }
            assert len(states) == len([d for d in docs if d["apiVersion"].startswith("alerting.ampp.io")]), (
                states
            )
            assert all(s.get("Accepted") == "True" for s in states.values()), states
            return True

        eventually(all_accepted, "every example accepted", within=30, interval=0.5)

        url = f"http://127.0.0.1:{port}"
        alerts = [
            {"alertname": "PaymentsDown", "service": "payments", "severity": "critical"},
            {"alertname": "PaymentsLatencyHigh", "service": "payments", "severity": "warning"},
            {"alertname": "CheckoutErrors", "service": "checkout", "severity": "warning"},
            {"alertname": "SettlementJobSlow", "service": "payments", "severity": "warning"},
        ]
        posted = [{"labels": {**a, "namespace": NS}} for a in alerts]
        elsewhere = {"labels": {**alerts[0], "namespace": "team-other"}}  # namespace enforcement
        r = httpx.post(f"{url}/api/v2/alerts", json=[*posted, elsewhere], timeout=10)
        assert r.status_code == 200, r.text

        def sent(path: str) -> set[str]:
            return {
                a["labels"]["alertname"] + "@" + a["labels"]["namespace"]
                for req in list(capture.requests) if req.path == path
                for a in req.json()["alerts"]
            }  # fmt: skip

        # Pages: PaymentsDown (groupWait 10s).
        eventually(lambda: sent("/pager-url") == {f"PaymentsDown@{NS}"}, "the page", within=30, interval=0.5)
        # Tickets: CheckoutErrors, except at weekends (UTC), when the route is muted.
        weekend = datetime.now(UTC).weekday() >= 5
        if not weekend:
            eventually(lambda: sent("/tickets-url") == {f"CheckoutErrors@{NS}"}, "the ticket", within=30)
        # The same labels from another namespace are not the team's: the base config's receiver.
        eventually(lambda: "PaymentsDown@team-other" in sent("/default"), "the other team's alert", within=30)

        def status_of(name: str) -> dict[str, Any]:
            (found,) = httpx.get(
                f"{url}/api/v2/alerts", params={"filter": f'alertname="{name}"'}, timeout=10
            ).json()
            return dict(found["status"])

        page = {"filter": ['alertname="PaymentsDown"', f'namespace="{NS}"']}
        down = httpx.get(f"{url}/api/v2/alerts", params=page, timeout=10).json()[0]
        assert status_of("PaymentsLatencyHigh")["inhibitedBy"] == [down["fingerprint"]]  # PaymentsDown fires
        silence = json.loads(kubectl("get", "silence", "settlement-job-slow", "-n", NS, "-o", "json").stdout)
        assert status_of("SettlementJobSlow")["silencedBy"] == [silence["status"]["silenceID"]]
        time.sleep(2)  # past a group_interval: nothing else was sent
        assert sent("/pager-url") == {f"PaymentsDown@{NS}"}
        assert sent("/tickets-url") == (set() if weekend else {f"CheckoutErrors@{NS}"})
        assert not {f"PaymentsLatencyHigh@{NS}", f"SettlementJobSlow@{NS}"} & sent("/default")

        # The chart's admission webhook answers (certificates made by the operator).
        route = {
            "apiVersion": "alerting.ampp.io/v1alpha1",
            "kind": "AlertRoute",
            "metadata": {"name": "bad", "namespace": NS},
            "spec": {
                "receiver": "payments-pager",
                "matchers": [{"name": "a", "value": "(", "matchType": "=~"}],
            },
        }

        # failurePolicy Ignore: until the API server's webhook client has the CA bundle the
        # operator just put in (it reloads the configuration asynchronously), a call that fails
        # TLS lets the resource in. So: until it is refused, delete what got in and try again.
        def refused() -> bool:
            bad = kubectl("apply", "-f", "-", check=False, input=json.dumps(route))
            if bad.returncode == 0:
                kubectl("delete", "alertroute", "bad", "-n", NS, "--wait=true")
                return False
            assert "denied the request" in bad.stderr, bad.stderr
            return True

        eventually(refused, "the admission webhook refusing a bad regexp", within=30, interval=1)
    finally:
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        log.close()
    assert code == 0, Path(log.name).read_text()[-3000:]
