"""The real clients through authentication: Debian's Prometheus posts its alerts with
``authorization`` (an API key as bearer credentials) and with ``basic_auth``, and is refused
without credentials; amtool works with ``--http.config.file`` and is refused without it."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.amtool import run_command
from tests.support.secured import KEYS, PASSWORD, config_yaml, hashed, key_headers
from tests.support.servers import AMTOOL, Server, free_port, run_server, stop

pytestmark = pytest.mark.integration

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
RULES = "groups:\n- name: t\n  rules:\n  - alert: AlwaysFiring\n    expr: vector(1)\n"


@pytest.fixture(scope="module")
def ampp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    users = f"  users:\n    prom: {{password_hash: '{hashed()}', role: operator, machine: true}}\n"
    workdir = tmp_path_factory.mktemp("auth-clients")
    with run_server("ampp", config_yaml(users), workdir, client={}) as srv:
        yield srv


def alerts_via(srv: Server) -> set[str]:
    r = httpx.get(f"{srv.url}/api/v2/alerts", headers=key_headers("viewer"), timeout=10)
    r.raise_for_status()
    return {a["labels"].get("via", "") for a in r.json()}


def run_prometheus(tmp_path: Path, via: str, credentials: str, srv: Server) -> tuple[bool, str]:
    """Prometheus with one always-firing rule pointed at ``srv``; whether its alert arrived
    within 20 s, and Prometheus's log."""
    if not Path(PROMETHEUS).exists():
        pytest.skip("Debian's prometheus is missing (apt-get install prometheus)")
    (tmp_path / "rules.yml").write_text(RULES)
    (tmp_path / "prometheus.yml").write_text(
        f"global: {{evaluation_interval: 1s, external_labels: {{via: {via}}}}}\n"
        f"rule_files: [{tmp_path / 'rules.yml'}]\n"
        "alerting:\n  alertmanagers:\n  - api_version: v2\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{srv.port}']}}]\n{credentials}"
    )
    log = tmp_path / "prometheus.log"
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={tmp_path / 'prometheus.yml'}",
             f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}",
             "--rules.alert.resend-delay=1s"],  # the first send can race the notifier's discovery
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if via in alerts_via(srv):
                return True, log.read_text(errors="replace")
            if proc.poll() is not None:
                pytest.fail("prometheus exited:\n" + log.read_text(errors="replace")[-3000:])
            time.sleep(0.25)
        return False, log.read_text(errors="replace")
    finally:
        stop(proc)


def test_prometheus_posts_with_bearer_credentials(tmp_path: Path, ampp: Server) -> None:
    creds = f"    authorization: {{type: Bearer, credentials: {KEYS['operator']}}}\n"
    arrived, log = run_prometheus(tmp_path, "bearer", creds, ampp)
    assert arrived, log[-3000:]


def test_prometheus_posts_with_basic_auth(tmp_path: Path, ampp: Server) -> None:
    creds = f"    basic_auth: {{username: prom, password: '{PASSWORD}'}}\n"
    arrived, log = run_prometheus(tmp_path, "basic", creds, ampp)
    assert arrived, log[-3000:]


def test_prometheus_without_credentials_is_refused(tmp_path: Path, ampp: Server) -> None:
    arrived, log = run_prometheus(tmp_path, "nothing", "", ampp)
    assert not arrived
    assert "401" in log, log[-3000:]


def test_amtool_with_an_http_config_file(tmp_path: Path, ampp: Server) -> None:
    http_config = tmp_path / "amtool-http.yml"
    http_config.write_text(f"authorization:\n  credentials: {KEYS['operator']}\n")
    base = [AMTOOL, f"--alertmanager.url={ampp.url}"]
    amtool = [*base, f"--http.config.file={http_config}"]
    run_command([*amtool, "alert", "add", "alertname=ByAmtool", "via=amtool"])
    listed = run_command([*amtool, "alert", "query", "-o", "json", "via=amtool"]).json()
    assert [a["labels"]["alertname"] for a in listed] == ["ByAmtool"]
    sid = run_command([*amtool, "silence", "add", "alertname=ByAmtool", "-c", "maintenance"]).stdout.strip()
    got = httpx.get(f"{ampp.url}/api/v2/silence/{sid}", headers=key_headers("viewer"), timeout=10)
    assert got.json()["comment"] == "maintenance"
    run_command([*amtool, "silence", "expire", sid])

    refused = run_command([*base, "alert", "query"], check=False)
    assert refused.returncode != 0 and "401" in refused.stderr + refused.stdout
    viewer = tmp_path / "viewer-http.yml"
    viewer.write_text(f"authorization:\n  credentials: {KEYS['viewer']}\n")
    forbidden = run_command(
        [*base, f"--http.config.file={viewer}", "silence", "add", "a=b", "-c", "x"], check=False
    )
    assert forbidden.returncode != 0 and "403" in forbidden.stderr + forbidden.stdout
