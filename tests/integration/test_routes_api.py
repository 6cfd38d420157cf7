"""/api/ampp/v1/routes on a running `ampp serve`: the tree with inherited settings, and the
tester answering what Debian's `amtool config routes test` answers for the same config."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.servers import AMTOOL, Server, run_server

pytestmark = pytest.mark.integration

CONFIG = """
route:
  receiver: default
  group_by: [alertname]
  group_wait: 10s
  routes:
    - matchers: ['severity="critical"']
      receiver: pager
      continue: true
      repeat_interval: 1h
    - matchers: ['team=~"db|storage"']
      receiver: db
      group_by: ['...']
      routes:
        - matchers: ['env!="prod"']
          receiver: db-dev
    - match: {team: web}
      receiver: web
receivers: [{name: default}, {name: pager}, {name: db}, {name: db-dev}, {name: web}]
"""

CASES = [
    {},
    {"severity": "critical"},
    {"severity": "critical", "team": "db", "env": "prod"},
    {"team": "storage"},
    {"team": "web", "severity": "critical"},
    {"team": "web"},
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with run_server("ampp", CONFIG, tmp_path_factory.mktemp("routes")) as s:
        yield s


def test_the_tree_has_every_node_with_its_inherited_settings(server: Server) -> None:
    root = httpx.get(f"{server.url}/api/ampp/v1/routes").json()["route"]
    assert (root["path"], root["receiver"], root["matchers"]) == ("0", "default", [])
    assert root["groupBy"] == ["alertname"]
    pager, db, web = root["routes"]
    assert pager["path"] == "0.0" and pager["continue"] is True
    assert (pager["groupWait"], pager["repeatInterval"]) == ("10s", "1h"), "inherited wait, own repeat"
    assert db["matchers"] == ['team=~"db|storage"'] and db["groupBy"] == ["..."]
    assert db["routes"][0]["path"] == "0.1.0" and db["routes"][0]["groupBy"] == ["..."]
    assert web["matchers"] == ['team="web"'], "legacy match shown as a matcher"


def _id(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in labels.items()) or "none"


@pytest.mark.parametrize("labels", CASES, ids=_id)
def test_the_tester_answers_as_amtool_does(server: Server, labels: dict[str, str], tmp_path: Path) -> None:
    answer = httpx.get(
        f"{server.url}/api/ampp/v1/routes/match", params=[("label", f"{k}={v}") for k, v in labels.items()]
    ).json()
    ref = subprocess.run(
        [AMTOOL, "config", "routes", "test", f"--config.file={server.config_path}"]
        + [f"{k}={v}" for k, v in labels.items()],
        capture_output=True,
        text=True,
        check=True,
    )
    assert ",".join(answer["receivers"]) == ref.stdout.strip()
    assert answer["labels"] == labels
    for route in answer["routes"]:
        assert set(route["groupLabels"]) <= set(labels)


def test_the_tester_names_a_bad_parameter(server: Server) -> None:
    r = httpx.get(f"{server.url}/api/ampp/v1/routes/match", params={"label": "novalue"})
    assert r.status_code == 400 and r.json() == "label: expected name=value, got 'novalue'"
    r = httpx.get(f"{server.url}/api/ampp/v1/routes/match", params={"labels": "a=b"})
    assert r.status_code == 400 and r.json() == "labels: unknown parameter (label)"
