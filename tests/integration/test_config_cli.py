"""`ampp check-config` and `ampp config routes test` give amtool's verdicts on the same inputs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.servers import AMTOOL

pytestmark = pytest.mark.integration

AMPP = [sys.executable, "-m", "ampp"]

BASE = """
route:
  receiver: default
  group_by: [alertname]
  routes:
    - matchers: ['team="db"', 'severity=~"critical|page"']
      receiver: db-pager
      continue: true
    - match: {team: db}
      receiver: db
    - match_re: {service: "api-.*"}
      receiver: api
      routes:
        - matchers: ['env!="prod"']
          receiver: api-dev
receivers:
  - name: default
  - name: db-pager
    webhook_configs: [{url: "http://127.0.0.1:1/"}]
  - name: db
  - name: api
  - name: api-dev
"""

CONFIGS = {
    "valid": BASE,
    "undefined_receiver": BASE.replace("receiver: db\n", "receiver: nope\n"),
    "bad_group_by": BASE.replace("group_by: [alertname]", "group_by: [alertname, 0x]"),
    "wildcard_and_labels": BASE.replace("group_by: [alertname]", "group_by: ['...', alertname]"),
    "bad_regex": BASE.replace("api-.*", "api-(.*"),
    "bad_matcher": BASE.replace("'env!=\"prod\"'", "'env!!prod'"),
    "unknown_field": BASE.replace("group_by: [alertname]", "group_by: [alertname]\n  group_bye: [x]"),
    "root_matchers": BASE.replace("  receiver: default\n", "  receiver: default\n  matchers: ['a=b']\n", 1),
    "zero_interval": BASE.replace("group_by: [alertname]", "group_by: [alertname]\n  group_interval: 0s"),
    "no_route": "receivers:\n  - name: default\n",
    "duplicate_receiver": BASE + "  - name: default\n",
    "time_interval_undefined": BASE.replace(
        "receiver: api-dev", "receiver: api-dev\n          mute_time_intervals: [weekends]"
    ),
    "time_interval_ok": BASE.replace(
        "receiver: api-dev", "receiver: api-dev\n          mute_time_intervals: [weekends]"
    )
    + "time_intervals:\n  - name: weekends\n    time_intervals: [{weekdays: ['saturday:sunday']}]\n",
    # unquoted times: Go's YAML keeps 09:00 a string where PyYAML's default reads base 60
    "unquoted_times": BASE
    + "time_intervals:\n  - name: w\n    time_intervals:\n"
    + "      [{times: [{start_time: 09:00, end_time: 17:00}], days_of_month: [1:15]}]\n",
    "bad_weekday": BASE + "time_intervals:\n  - name: w\n    time_intervals: [{weekdays: ['funday']}]\n",
    "inhibit_legacy": BASE
    + "inhibit_rules:\n  - source_match: {severity: critical}\n"
    + "    target_match_re: {severity: 'warn.*'}\n    equal: [alertname]\n",
    "inhibit_bad_equal": BASE + "inhibit_rules:\n  - source_matchers: ['a=b']\n    equal: ['0bad']\n",
    "continue_root": BASE.replace("  receiver: default\n", "  receiver: default\n  continue: true\n", 1),
    "invalid_yaml": "route: [\n",
}


def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_check_config_verdict_matches_amtool(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.yml"
    path.write_text(CONFIGS[name])
    ours = run([*AMPP, "check-config", str(path)])
    theirs = run([AMTOOL, "check-config", str(path)])
    assert (ours.returncode == 0) == (theirs.returncode == 0), (
        f"amtool says {theirs.returncode}: {theirs.stdout}{theirs.stderr}\n"
        f"ampp says {ours.returncode}: {ours.stdout}{ours.stderr}"
    )
    if ours.returncode != 0:
        # every refusal says where: the file, a line and the field
        assert f"{path}:" in ours.stdout, ours.stdout


def test_config_error_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "am.yml"
    path.write_text(CONFIGS["bad_group_by"])
    out = run([*AMPP, "check-config", str(path)]).stdout
    assert f'{path}:4: route.group_by: invalid label name "0x" in group_by list' in out, out
    path.write_text(CONFIGS["undefined_receiver"])
    out = run([*AMPP, "check-config", str(path)]).stdout
    assert f'{path}:10: route.routes[1].receiver: undefined receiver "nope" used in route' in out, out


LABEL_SETS = [
    ["team=db", "severity=critical"],
    ["team=db", "severity=info"],
    ["service=api-1", "env=prod"],
    ["service=api-1", "env=dev"],
    ["service=web"],
    ["team=db", "service=api-2"],
]


@pytest.mark.parametrize("labels", LABEL_SETS, ids=lambda ls: ",".join(ls))
def test_routes_test_matches_amtool(labels: list[str], tmp_path: Path) -> None:
    path = tmp_path / "am.yml"
    path.write_text(BASE)
    ours = run([*AMPP, "config", "routes", "test", f"--config.file={path}", *labels])
    theirs = run([AMTOOL, "config", "routes", "test", f"--config.file={path}", *labels])
    assert theirs.returncode == 0, theirs.stderr
    assert ours.stdout == theirs.stdout, f"amtool: {theirs.stdout!r} ampp: {ours.stdout!r}"


def test_extended_config_yaml_with_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ampp.config.loader import load_file

    monkeypatch.setenv("HOOK_URL", "http://hooks.example:8080/x")
    path = tmp_path / "config.yaml"
    path.write_text("""
server: {listen_address: ":9093"}
storage: {backend: sqlite, path: /tmp/x, retention: 7d}
cache: {ttl: 10s}
ai: {enabled: false}
metrics: {enabled: true}
logging: {level: debug}
tracing: {enabled: false}
alerting:
  group_wait: 5s
  route: {receiver: hook, group_interval: 1m}
  receivers:
    - name: hook
      webhook_configs: [{url: "${HOOK_URL}"}]
    - name: fallback
      webhook_configs: [{url: "${MISSING_URL:-http://fallback.example/}"}]
""")
    cfg = load_file(path)
    assert cfg.extended
    assert cfg.storage.retention == 7 * 86400
    assert cfg.route.group_wait == 5 and cfg.route.group_interval == 60
    urls = [str(r.webhook_configs[0].url) for r in cfg.alerting.receivers]
    assert urls == ["http://hooks.example:8080/x", "http://fallback.example/"]

    path.write_text(
        "alerting:\n  route: {receiver: x}\n  receivers: [{name: x}]\nstorage: {retention: soon}\n"
    )
    out = run([*AMPP, "check-config", str(path)]).stdout
    assert f"{path}:4: storage.retention:" in out, out
