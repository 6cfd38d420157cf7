"""The log of a whole run: every line of a request carries its request id, and no secret of
the config (passwords, keys, tokens, credentialed URLs) appears in any line, whatever fails."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.capture import CaptureServer
from tests.support.eventually import eventually
from tests.support.servers import free_port, run_ampp

pytestmark = pytest.mark.integration

SECRETS = {
    "STORE_PW": "pg-secret-3c9e1f",
    "REDIS_PW": "redis-secret-77ab",
    "SLACK_PATH": "slack-secret-T00B00XX",
    "PD_KEY": "pd-secret-routing-4e4e",
    "LLM_KEY": "sk-llm-secret-0d0d",
    "BASIC_PW": "basic-secret-9f9f",
    "TRACE_TOKEN": "trace-secret-1a2b",
    "BEARER": "bearer-secret-5c5c",
}


def config(capture: str, dead: str) -> str:
    s = SECRETS
    return f"""
storage: {{type: sqlite, postgresql: {{password: "{s["STORE_PW"]}"}}}}
cache: {{address: "127.0.0.1:{free_port()}", password: "{s["REDIS_PW"]}"}}
ai: {{enabled: true, provider: openai, base_url: "{dead}/v1", api_key: "{s["LLM_KEY"]}", timeout: 1s}}
logging: {{level: debug, format: json}}
tracing:
  {{enabled: true, protocol: http, endpoint: "{dead}", headers: {{authorization: "{s["TRACE_TOKEN"]}"}}}}
alerting:
  route: {{receiver: all, group_wait: 0s, group_interval: 1s, repeat_interval: 1s}}
  receivers:
    - name: all
      webhook_configs:
        - url: "{capture}/hook"
          http_config: {{basic_auth: {{username: u, password: "{s["BASIC_PW"]}"}}}}
        - url: "{dead}/down"
          http_config: {{authorization: {{credentials: "{s["BEARER"]}"}}}}
      slack_configs:
        - api_url: "{dead}/services/{s["SLACK_PATH"]}"
          channel: "#x"
      pagerduty_configs:
        - routing_key: "{s["PD_KEY"]}"
          url: "{dead}/v2/enqueue"
"""


@pytest.fixture
def run(tmp_path: Path) -> Iterator[tuple[str, Path, CaptureServer]]:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: every send there fails
    with CaptureServer() as capture:
        path = tmp_path / "config.yaml"
        path.write_text(config(capture.url, dead))
        port = free_port()
        args = [
            f"--config.file={path}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ]
        with run_ampp(args, f"http://127.0.0.1:{port}", tmp_path / "ampp.log"):
            yield f"http://127.0.0.1:{port}", tmp_path / "ampp.log", capture


def lines(log_path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]


def test_a_whole_run_logs_no_secret_and_every_request_line_has_its_id(
    run: tuple[str, Path, CaptureServer], tmp_path: Path
) -> None:
    url, log_path, capture = run
    alerts = [{"labels": {"alertname": "LogScan", "severity": "critical"}}]
    r = httpx.post(f"{url}/api/v2/alerts", json=alerts, headers={"X-Request-Id": "req-given-1"}, timeout=10)
    assert r.status_code == 200 and r.headers["X-Request-Id"] == "req-given-1"
    bad = httpx.post(f"{url}/api/v2/alerts", json=[{"labels": {"0bad": "x"}}], timeout=10)
    assert bad.status_code == 400
    made = bad.headers["X-Request-Id"]
    assert len(made) == 16, made
    eventually(lambda: capture.requests, "the webhook notified", within=20)
    # failures logged: dead endpoints retried, a reload of a broken config, a bad silence
    config_path = tmp_path / "config.yaml"
    good = config_path.read_text()
    config_path.write_text(good.replace("routing_key:", "routing_kee:"))
    assert (
        httpx.post(f"{url}/-/reload", headers={"X-Request-Id": "req-reload-2"}, timeout=10).status_code == 500
    )
    config_path.write_text(good)
    assert httpx.post(f"{url}/-/reload", timeout=10).status_code == 200
    eventually(
        lambda: any("down" in line["msg"] or "retry" in line["msg"].lower() for line in lines(log_path)),
        "a failed send logged",
        within=20,
    )

    logged = lines(log_path)
    by_id = {line.get("request_id") for line in logged}
    assert {"req-given-1", made, "req-reload-2"} <= by_id, by_id
    refused = [line for line in logged if "Failed to validate alerts" in line["msg"]]
    assert refused and all(line.get("request_id") == made for line in refused), refused
    reload_failed = [line for line in logged if "Loading configuration file failed" in line["msg"]]
    assert reload_failed and all(line.get("request_id") == "req-reload-2" for line in reload_failed)
    text = log_path.read_text()
    for name, secret in SECRETS.items():
        assert secret not in text, f"{name} is in the log: " + next(
            line for line in text.splitlines() if secret in line
        )
