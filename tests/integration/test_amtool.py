"""Debian's amtool 0.25 against a server: the real Alertmanager ("reference") and `ampp serve`.

Every test runs against each server selected by AMPP_TEST_SERVERS (see conftest.py) and checks
what amtool prints or what the server stored — ids, matchers, states, timestamps — not only exit
codes. The expected values are those of Alertmanager 0.25, observed with this amtool; comments
mark where the behaviour is a quirk that a drop-in replacement has to reproduce.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.amtool import Amtool, Result, ampp_local, amtool_local, fingerprint
from tests.support.capture import CaptureServer
from tests.support.servers import Server, run_server

pytestmark = pytest.mark.integration

CONFIG = """\
global:
  resolve_timeout: 5m
route:
  receiver: default
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: ['team="db"']
      receiver: db
      continue: true
    - matchers: ['severity=~"critical|page"']
      receiver: pager
    - match:
        service: web
      receiver: web
inhibit_rules:
  - source_matchers: ['severity="critical"']
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
        send_resolved: false
"""

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass
class Target:
    kind: str
    server: Server
    am: Amtool
    config_text: str


@pytest.fixture(scope="module")
def target(server_kind: str, module_workdir: Path, capture: CaptureServer) -> Iterator[Target]:
    config = CONFIG.format(hook=capture.url)
    with run_server(server_kind, config, module_workdir / server_kind) as server:
        yield Target(server_kind, server, Amtool(server.url), config)


# --- helpers -------------------------------------------------------------------------------


def now() -> datetime:
    return datetime.now(UTC)


def rfc3339(t: datetime) -> str:
    """What amtool's --start/--end accept (second precision)."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def api_time(t: datetime) -> str:
    """How Alertmanager's API renders a timestamp: milliseconds, UTC, 'Z'."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def parse_time(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def whole_seconds(t: datetime) -> datetime:
    return t.replace(microsecond=0)


def names(alerts: list[dict[str, Any]], label: str = "alertname") -> set[str]:
    return {a["labels"][label] for a in alerts}


def by_name(alerts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {a["labels"]["alertname"]: a for a in alerts}


def query(t: Target, *args: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = t.am.json("alert", "query", *args)
    return result


def silences(t: Target, *args: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = t.am.json("silence", "query", *args)
    return result


def silence_by_id(t: Target, sid: str) -> dict[str, Any]:
    """One silence, whatever its state (both `silence query` and `silence query --expired`)."""
    for s in silences(t) + silences(t, "--expired"):
        if s["id"] == sid:
            return s
    raise AssertionError(f"silence {sid} not listed by amtool")


def ids(result: Result) -> list[str]:
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]


def add_silence(t: Target, *args: str) -> str:
    sid = t.am.run("silence", "add", *args).stdout.strip()
    assert UUID_RE.match(sid), f"silence add printed {sid!r}, not a silence id"
    return sid


def table(result: Result) -> list[list[str]]:
    """amtool's simple output: rows of columns separated by two or more spaces."""
    return [re.split(r"\s{2,}", line.strip()) for line in result.stdout.splitlines() if line.strip()]


# --- alert add / alert query -----------------------------------------------------------------


def test_alert_add_with_annotations_start_end(target: Target) -> None:
    start = whole_seconds(now() - timedelta(minutes=10))
    end = whole_seconds(now() + timedelta(hours=1))
    labels = {"alertname": "AddFull", "severity": "info", "instance": "add-1", "team": "frontend"}
    target.am.run(
        "alert",
        "add",
        *(f"{k}={v}" for k, v in labels.items()),
        "--annotation=summary=Disk is full",
        "--annotation=runbook=https://runbooks.example/disk",
        f"--start={rfc3339(start)}",
        f"--end={rfc3339(end)}",
        "--generator-url=http://prometheus.example:9090/graph?g0.expr=up",
    )

    [alert] = query(target, "alertname=AddFull")
    assert alert["labels"] == labels
    assert alert["annotations"] == {
        "summary": "Disk is full",
        "runbook": "https://runbooks.example/disk",
    }
    assert alert["startsAt"] == api_time(start)
    assert alert["endsAt"] == api_time(end)
    assert alert["generatorURL"] == "http://prometheus.example:9090/graph?g0.expr=up"
    assert alert["fingerprint"] == fingerprint(labels)
    assert alert["status"] == {"state": "active", "silencedBy": [], "inhibitedBy": []}
    assert alert["receivers"] == [{"name": "default"}]
    assert abs(parse_time(alert["updatedAt"]) - now()) < timedelta(seconds=30)

    rows = table(target.am.run("alert", "query", "alertname=AddFull"))
    assert rows[0] == ["Alertname", "Starts At", "Summary", "State"]
    assert rows[1:] == [["AddFull", start.strftime("%Y-%m-%d %H:%M:%S UTC"), "Disk is full", "active"]]

    extended = target.am.run("alert", "query", "alertname=AddFull", output="extended").stdout
    assert 'alertname="AddFull" instance="add-1" severity="info" team="frontend"' in extended
    assert "http://prometheus.example:9090/graph?g0.expr=up" in extended


def test_alert_add_defaults_and_implicit_alertname(target: Target) -> None:
    before = now()
    # amtool turns a first argument without '=' into alertname=<arg>, in add and in query.
    target.am.run("alert", "add", "AddImplicit", "job=api")
    after = now()
    [alert] = query(target, "AddImplicit")
    assert alert["labels"] == {"alertname": "AddImplicit", "job": "api"}
    assert alert["annotations"] == {}
    assert alert.get("generatorURL", "") == ""
    starts, ends = parse_time(alert["startsAt"]), parse_time(alert["endsAt"])
    assert before - timedelta(seconds=1) <= starts <= after + timedelta(seconds=1)
    # No endsAt: the server sets endsAt = receive time + resolve_timeout (5m), to the millisecond.
    assert ends - starts == timedelta(minutes=5)
    assert alert["fingerprint"] == fingerprint(alert["labels"])


def test_alert_add_with_end_in_the_past_is_resolved(target: Target) -> None:
    start, end = now() - timedelta(minutes=10), now() - timedelta(minutes=1)
    target.am.run(
        "alert",
        "add",
        "alertname=AddResolved",
        f"--start={rfc3339(start)}",
        f"--end={rfc3339(end)}",
    )
    # Resolved alerts are never listed, whatever the state filters.
    assert query(target, "-a", "-s", "-i", "-u", "alertname=AddResolved") == []


def test_alert_query_matchers(target: Target) -> None:
    for inst, sev, env in [
        ("q1", "warning", "prod"),
        ("q2", "info", "prod"),
        ("q3", "warning", "dev"),
    ]:
        target.am.run("alert", "add", "alertname=QueryM", f"instance={inst}", f"severity={sev}", f"env={env}")

    def instances(*matchers: str) -> set[str]:
        return names(query(target, *matchers), "instance")

    assert instances("QueryM") == {"q1", "q2", "q3"}
    assert instances("alertname=QueryM", "severity=warning") == {"q1", "q3"}
    assert instances("alertname=QueryM", 'instance=~"q[12]"') == {"q1", "q2"}
    assert instances("alertname=QueryM", "env!=prod") == {"q3"}
    assert instances("alertname=QueryM", 'instance!~"q1|q2"') == {"q3"}
    # A first argument that is not a single matcher becomes alertname=<arg>; the server then
    # rejects the filter with 400 (each filter value is parsed as one matcher).
    bad = target.am.run("alert", "query", '{alertname="QueryM",env="prod"}', check=False)
    assert bad.returncode == 1 and "[400]" in bad.stderr and "unescaped double quote" in bad.stderr
    assert instances("alertname=QueryM", "env=staging") == set()
    # Regex matchers are anchored.
    assert instances('alertname=~"Query"') == set()
    # --receiver is a regex over the receivers the alert routes to.
    assert instances("alertname=QueryM", "--receiver=def.*") == {"q1", "q2", "q3"}
    assert instances("alertname=QueryM", "--receiver=pager") == set()


def test_alert_query_inhibited(target: Target) -> None:
    src = {"alertname": "InhSource", "severity": "critical", "instance": "inh-1", "team": "db"}
    tgt = {"alertname": "InhTarget", "severity": "warning", "instance": "inh-1"}
    other = {"alertname": "InhOther", "severity": "warning", "instance": "inh-2"}
    for labels in (src, tgt, other):
        target.am.run("alert", "add", *(f"{k}={v}" for k, v in labels.items()))

    m = 'alertname=~"Inh.*"'
    # Without a state flag amtool asks for active alerts only (active=true, the others false).
    assert names(query(target, m)) == {"InhSource", "InhOther"}
    # With -i alone, active alerts are *not* shown: only the inhibited one.
    inhibited = query(target, "--inhibited", m)
    assert names(inhibited) == {"InhTarget"}
    assert inhibited[0]["status"] == {
        "state": "suppressed",
        "silencedBy": [],
        "inhibitedBy": [fingerprint(src)],
    }
    everything = by_name(query(target, "-a", "-i", m))
    assert set(everything) == {"InhSource", "InhTarget", "InhOther"}
    # Receivers in route order: team=db continues to the next matching route.
    assert everything["InhSource"]["receivers"] == [{"name": "db"}, {"name": "pager"}]
    assert everything["InhTarget"]["receivers"] == [{"name": "default"}]
    assert everything["InhSource"]["status"]["state"] == "active"
    # An alert that matches both sides of the rule never inhibits itself.
    assert everything["InhSource"]["status"]["inhibitedBy"] == []

    assert names(query(target, "-a", "-i", "--receiver=pager", m)) == {"InhSource"}
    assert names(query(target, "-a", "-i", "--receiver=db|default", m)) == {
        "InhSource",
        "InhTarget",
        "InhOther",
    }

    rows = table(target.am.run("alert", "query", "-i", m))
    assert [r[0] for r in rows[1:]] == ["InhTarget"] and rows[1][-1] == "suppressed"


def test_alert_query_silenced(target: Target) -> None:
    a = {"alertname": "SilA", "instance": "sil-1", "severity": "info"}
    b = {"alertname": "SilB", "instance": "sil-2", "severity": "info"}
    src = {"alertname": "SilSource", "instance": "sil-3", "severity": "critical"}
    both = {"alertname": "SilBoth", "instance": "sil-3", "severity": "warning"}  # inhibited by src
    for labels in (a, b, src, both):
        target.am.run("alert", "add", *(f"{k}={v}" for k, v in labels.items()))
    sid = add_silence(target, 'alertname=~"SilA|SilBoth"', "--comment=silence A", "--author=tester")

    m = 'alertname=~"Sil.*"'
    assert names(query(target, m)) == {"SilB", "SilSource"}
    silenced = by_name(query(target, "--silenced", m))
    assert set(silenced) == {"SilA"}  # SilBoth is also inhibited, so -s alone hides it
    assert silenced["SilA"]["status"] == {
        "state": "suppressed",
        "silencedBy": [sid],
        "inhibitedBy": [],
    }
    assert set(by_name(query(target, "-i", m))) == set()  # ... and -i alone too
    suppressed = by_name(query(target, "-s", "-i", m))
    assert set(suppressed) == {"SilA", "SilBoth"}
    assert suppressed["SilBoth"]["status"] == {
        "state": "suppressed",
        "silencedBy": [sid],
        "inhibitedBy": [fingerprint(src)],
    }
    assert set(by_name(query(target, "-a", "-s", m))) == {"SilA", "SilB", "SilSource"}
    assert set(by_name(query(target, "-a", "-s", "-i", m))) == {
        "SilA",
        "SilB",
        "SilSource",
        "SilBoth",
    }

    target.am.run("silence", "expire", sid)
    after = by_name(query(target, "-a", m))
    assert set(after) == {"SilA", "SilB", "SilSource"}
    assert after["SilA"]["status"] == {"state": "active", "silencedBy": [], "inhibitedBy": []}


# --- silences --------------------------------------------------------------------------------


def test_silence_add_and_query(target: Target) -> None:
    before = now()
    sid = add_silence(
        target,
        "alertname=SilQ",
        'instance=~"db-.*"',
        "env!=dev",
        "--duration=2h",
        "--comment=maint window",
        "--author=alice",
    )
    sil = next(s for s in silences(target) if s["id"] == sid)
    assert sil["matchers"] == [
        {"name": "alertname", "value": "SilQ", "isRegex": False, "isEqual": True},
        {"name": "instance", "value": "db-.*", "isRegex": True, "isEqual": True},
        {"name": "env", "value": "dev", "isRegex": False, "isEqual": False},
    ]
    assert sil["createdBy"] == "alice"
    assert sil["comment"] == "maint window"
    assert sil["status"] == {"state": "active"}
    starts, ends = parse_time(sil["startsAt"]), parse_time(sil["endsAt"])
    assert before - timedelta(seconds=1) <= starts <= now() + timedelta(seconds=1)
    # amtool computes endsAt = its own now + 2h; the server moves startsAt up to its now.
    assert abs((ends - starts) - timedelta(hours=2)) < timedelta(seconds=5)
    assert abs(parse_time(sil["updatedAt"]) - starts) < timedelta(seconds=5)

    assert sid in ids(target.am.run("silence", "query", "-q"))
    assert ids(target.am.run("silence", "query", "-q", "alertname=SilQ")) == [sid]
    assert ids(target.am.run("silence", "query", "-q", "SilQ")) == [sid]  # implicit alertname=
    assert ids(target.am.run("silence", "query", "-q", "alertname=SilQ", 'instance=~"db-.*"')) == [sid]
    # The filter compares matchers, it does not match labels: instance=db-1 finds nothing.
    assert ids(target.am.run("silence", "query", "-q", "alertname=SilQ", "instance=db-1")) == []
    assert ids(target.am.run("silence", "query", "-q", "alertname=SilQ", "env=dev")) == []
    assert ids(target.am.run("silence", "query", "-q", "--created-by=alice", "alertname=SilQ")) == [sid]
    assert ids(target.am.run("silence", "query", "-q", "--created-by=bob", "alertname=SilQ")) == []
    assert ids(target.am.run("silence", "query", "-q", "--expired", "alertname=SilQ")) == []

    rows = table(target.am.run("silence", "query", "alertname=SilQ"))
    assert rows[0] == ["ID", "Matchers", "Ends At", "Created By", "Comment"]
    assert rows[1] == [
        sid,
        'alertname="SilQ" instance=~"db-.*" env!="dev"',
        ends.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "alice",
        "maint window",
    ]


def test_silence_add_pending_and_with_end(target: Target) -> None:
    start = whole_seconds(now() + timedelta(hours=1))
    end = whole_seconds(now() + timedelta(hours=3))
    sid = add_silence(
        target,
        "alertname=SilPending",
        f"--start={rfc3339(start)}",
        f"--end={rfc3339(end)}",
        "-c",
        "later",
    )
    sil = silence_by_id(target, sid)
    assert sil["status"] == {"state": "pending"}
    assert sil["startsAt"] == api_time(start)
    assert sil["endsAt"] == api_time(end)  # --end overrides the default --duration
    assert sil["createdBy"] == "root"  # amtool's default author is the OS user
    # Pending silences are listed with the active ones, not with --expired.
    assert ids(target.am.run("silence", "query", "-q", "alertname=SilPending")) == [sid]

    # A pending silence silences nothing yet.
    target.am.run("alert", "add", "alertname=SilPending")
    [alert] = query(target, "alertname=SilPending")
    assert alert["status"] == {"state": "active", "silencedBy": [], "inhibitedBy": []}


def test_silence_update_in_place_and_replace(target: Target) -> None:
    sid = add_silence(
        target,
        "alertname=SilUpd",
        "instance=u1",
        "--duration=1h",
        "--comment=first",
        "--author=carol",
    )
    orig = silence_by_id(target, sid)

    # --duration: amtool GETs the silence, sets endsAt = startsAt + duration and POSTs it back
    # with the same id; an active silence whose startsAt is unchanged is updated in place.
    out = table(target.am.run("silence", "update", sid, "--duration=3h"))
    assert out[1][0] == sid
    upd = silence_by_id(target, sid)
    assert upd["status"] == {"state": "active"}
    assert upd["startsAt"] == orig["startsAt"]
    assert parse_time(upd["endsAt"]) == parse_time(orig["startsAt"]) + timedelta(hours=3)
    assert upd["comment"] == "first" and upd["createdBy"] == "carol"
    assert ids(target.am.run("silence", "query", "-q", "alertname=SilUpd")) == [sid]
    assert ids(target.am.run("silence", "query", "-q", "--expired", "alertname=SilUpd")) == []

    printed = target.am.json("silence", "update", sid, "--comment=second")
    assert [s["id"] for s in printed] == [sid]
    upd2 = silence_by_id(target, sid)
    assert upd2["comment"] == "second"
    assert upd2["endsAt"] == upd["endsAt"] and upd2["startsAt"] == orig["startsAt"]
    assert upd2["matchers"] == orig["matchers"]

    # Moving the start of an active silence cannot be done in place: the server expires the old
    # silence and creates a new one with a new id.
    new_start = whole_seconds(now() + timedelta(hours=1))
    out = table(target.am.run("silence", "update", sid, f"--start={rfc3339(new_start)}", "--duration=1h"))
    new_id = out[1][0]
    assert UUID_RE.match(new_id) and new_id != sid
    replaced = silence_by_id(target, new_id)
    assert replaced["status"] == {"state": "pending"}
    assert replaced["startsAt"] == api_time(new_start)
    assert replaced["endsAt"] == api_time(new_start + timedelta(hours=1))
    assert replaced["comment"] == "second" and replaced["matchers"] == orig["matchers"]
    old = silence_by_id(target, sid)
    assert old["status"] == {"state": "expired"}
    assert ids(target.am.run("silence", "query", "-q", "alertname=SilUpd")) == [new_id]
    assert ids(target.am.run("silence", "query", "-q", "--expired", "alertname=SilUpd")) == [sid]

    # Updating an expired silence also creates a new one; its startsAt (in the past) is moved
    # up to the server's now.
    before = now()
    out = table(target.am.run("silence", "update", sid, "--duration=5h"))
    newer = out[1][0]
    assert newer not in (sid, new_id)
    revived = silence_by_id(target, newer)
    assert revived["status"] == {"state": "active"}
    assert parse_time(revived["startsAt"]) >= before - timedelta(seconds=1)
    assert revived["endsAt"] == api_time(parse_time(orig["startsAt"]) + timedelta(hours=5))
    assert silence_by_id(target, sid)["status"] == {"state": "expired"}


def test_silence_expire(target: Target) -> None:
    sid = add_silence(target, "alertname=SilExp", "--comment=to expire")
    target.am.run("alert", "add", "alertname=SilExp")
    assert query(target, "alertname=SilExp") == []

    before = now()
    res = target.am.run("silence", "expire", sid)
    assert res.stdout == ""
    assert ids(target.am.run("silence", "query", "-q", "alertname=SilExp")) == []
    assert ids(target.am.run("silence", "query", "-q", "--expired", "alertname=SilExp")) == [sid]
    sil = silence_by_id(target, sid)
    assert sil["status"] == {"state": "expired"}
    assert before - timedelta(seconds=1) <= parse_time(sil["endsAt"]) <= now() + timedelta(seconds=1)
    assert names(query(target, "alertname=SilExp")) == {"SilExp"}

    # Expiring an already expired silence succeeds (the server answers 200).
    assert target.am.run("silence", "expire", sid).returncode == 0
    # An unknown (well-formed) id: Alertmanager 0.25 answers 500 "silence not found".
    res = target.am.run("silence", "expire", str(uuid.uuid4()), check=False)
    assert res.returncode != 0 and "silence not found" in res.stderr
    # Not a UUID: rejected by the API's parameter validation (422).
    res = target.am.run("silence", "expire", "not-a-uuid", check=False)
    assert res.returncode != 0 and "422" in res.stderr


def test_silence_import(target: Target, tmp_path: Path) -> None:
    a = add_silence(
        target,
        "suite=import",
        "alertname=ImpA",
        "--duration=2h",
        "--comment=import A",
        "--author=dave",
    )
    b = add_silence(target, "suite=import", 'alertname=~"ImpB|ImpC"', "--duration=3h", "--comment=import B")
    exported = target.am.json("silence", "query", "suite=import")
    assert {s["id"] for s in exported} == {a, b}
    export = tmp_path / "silences.json"
    export.write_text(target.am.run("silence", "query", "suite=import", output="json").stdout)

    def fields(s: dict[str, Any]) -> tuple[Any, ...]:
        return (
            json.dumps(s["matchers"], sort_keys=True),
            s["comment"],
            s["createdBy"],
            s["endsAt"],
        )

    originals = {fields(s) for s in exported}

    # Importing silences that are still active and unchanged updates them in place: same ids.
    res = target.am.run("silence", "import", str(export))
    assert set(ids(res)) == {a, b}
    assert set(ids(target.am.run("silence", "query", "-q", "suite=import"))) == {a, b}

    # Once they are expired, the same import creates new silences with the same content.
    target.am.run("silence", "expire", a, b)
    before = now()
    res = target.am.run("silence", "import", str(export))
    new_ids = set(ids(res))
    assert len(new_ids) == 2 and not new_ids & {a, b}
    recreated = silences(target, "suite=import")
    assert {s["id"] for s in recreated} == new_ids
    assert {fields(s) for s in recreated} == originals
    for s in recreated:
        assert s["status"] == {"state": "active"}
        assert parse_time(s["startsAt"]) >= before - timedelta(seconds=1)

    # --force drops the ids: always new silences, even next to active ones.
    res = target.am.run("silence", "import", "--force", str(export))
    forced = set(ids(res))
    assert len(forced) == 2 and not forced & (new_ids | {a, b})
    assert set(ids(target.am.run("silence", "query", "-q", "suite=import"))) == new_ids | forced

    # Ids this server never saw (an export from another Alertmanager): the server answers 404,
    # amtool retries without the id, and new silences are created.
    foreign = [dict(s, id=str(uuid.uuid4())) for s in exported]
    other = tmp_path / "foreign.json"
    other.write_text(json.dumps(foreign))
    res = target.am.run("silence", "import", str(other))
    created = set(ids(res))
    assert len(created) == 2 and not created & {s["id"] for s in foreign}
    assert not created & (new_ids | forced | {a, b})
    assert {fields(silence_by_id(target, sid)) for sid in created} == originals


# --- config, routes, cluster -----------------------------------------------------------------


def test_config_show(target: Target) -> None:
    out = target.am.run("config", "show").stdout
    cfg = yaml.safe_load(out)
    assert cfg["global"]["resolve_timeout"] == "5m"
    route = cfg["route"]
    assert route["receiver"] == "default"
    assert route["group_by"] == ["alertname"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == (
        "30s",
        "5m",
        "4h",
    )
    assert [r["receiver"] for r in route["routes"]] == ["db", "pager", "web"]
    assert route["routes"][0]["matchers"] == ['team="db"'] and route["routes"][0]["continue"] is True
    assert route["routes"][1]["matchers"] == ['severity=~"critical|page"']
    assert route["routes"][2]["match"] == {"service": "web"}
    assert cfg["inhibit_rules"] == [
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="warning"'],
            "equal": ["instance"],
        }
    ]
    receivers = {r["name"]: r for r in cfg["receivers"]}
    assert list(receivers) == ["default", "db", "pager", "web"]
    hooks = {name: r["webhook_configs"][0] for name, r in receivers.items()}
    assert hooks["db"]["url"].endswith("/db")
    # Defaults are filled in, as Alertmanager marshals its loaded config.
    assert hooks["db"]["send_resolved"] is True and hooks["web"]["send_resolved"] is False
    assert hooks["db"]["max_alerts"] == 0
    assert cfg["templates"] == []


ROUTES_TREE = """\
Routing tree:
.
└── default-route  receiver: default
    ├── {team="db"}  continue: true  receiver: db
    ├── {severity=~"critical|page"}  receiver: pager
    └── {service="web"}  receiver: web
"""


def test_config_routes_show(target: Target) -> None:
    # amtool draws the tree from the config the server returns in /api/v2/status.
    assert target.am.run("config", "routes").stdout.rstrip() == ROUTES_TREE.rstrip()
    assert target.am.run("config", "routes", "show").stdout.rstrip() == ROUTES_TREE.rstrip()


ROUTE_CASES = [
    (["severity=critical", "team=db"], "db,pager"),
    (["team=db"], "db"),
    (["severity=page"], "pager"),
    (["service=web", "severity=warning"], "web"),
    (["service=web", "severity=critical"], "pager"),  # first match wins without continue
    (["foo=bar"], "default"),
]


@pytest.mark.parametrize(("labels", "expected"), ROUTE_CASES, ids=[",".join(c[0]) for c in ROUTE_CASES])
def test_config_routes_test(target: Target, labels: list[str], expected: str) -> None:
    assert target.am.run("config", "routes", "test", *labels).stdout.strip() == expected
    ok = target.am.run("config", "routes", "test", f"--verify.receivers={expected}", *labels, check=False)
    assert ok.returncode == 0
    bad = target.am.run("config", "routes", "test", "--verify.receivers=nobody", *labels, check=False)
    assert bad.returncode == 1
    assert "WARNING: Expected receivers did not match resolved receivers." in bad.stdout


def test_config_routes_test_tree(target: Target) -> None:
    out = target.am.run("config", "routes", "test", "--tree", "severity=critical", "team=db").stdout
    assert out.strip() == (
        "Matching routes:\n"
        ".\n"
        "└── default-route\n"
        '    ├── {team="db"}  receiver: db\n'
        '    └── {severity=~"critical|page"}  receiver: pager\n'
        "\n\n"
        "db,pager"
    )


def local(target: Target, *args: str) -> Result:
    """A command that needs no server: amtool for the reference, `ampp` for ampp."""
    return amtool_local(*args) if target.kind == "reference" else ampp_local(*args)


def test_config_routes_test_local_file(target: Target, tmp_path: Path) -> None:
    cfg = tmp_path / "alertmanager.yml"
    cfg.write_text(target.config_text)
    for labels, expected in ROUTE_CASES:
        want = amtool_local("config", "routes", "test", f"--config.file={cfg}", *labels)
        assert want.returncode == 0 and want.stdout.strip() == expected
        got = local(target, "config", "routes", "test", f"--config.file={cfg}", *labels)
        assert (got.returncode, got.stdout.strip()) == (0, expected)


def test_cluster_show_disabled(target: Target) -> None:
    # run_server passes an empty --cluster.listen-address: clustering is disabled.
    assert table(target.am.run("cluster", "show")) == [
        ["Cluster Status:", "disabled"],
        ["Node Name:"],
    ]
    status = target.am.json("cluster", "show")
    assert status["status"] == "disabled"
    assert status.get("peers") in ([], None) and status.get("name", "") == ""


def test_cluster_show_enabled(target: Target, tmp_path: Path, capture: CaptureServer) -> None:
    config = CONFIG.format(hook=capture.url)
    with run_server(target.kind, config, tmp_path / "clustered", cluster=True) as server:
        args = [str(a) for a in server.process.args]  # type: ignore[union-attr]
        flag = next(a for a in args if a.startswith("--cluster.listen-address="))
        address = flag.split("=", 1)[1]
        am = Amtool(server.url)
        status = am.json("cluster", "show")
        assert status["status"] in ("settling", "ready")
        assert status["name"]
        assert status["peers"] == [{"name": status["name"], "address": address}]
        text = am.run("cluster", "show", output="extended").stdout
        assert f"Node Name:       {status['name']}" in text
        assert re.search(rf"^{re.escape(address)}\s+{status['name']}", text, re.M)


# --- check-config ----------------------------------------------------------------------------

INVALID_RECEIVER = """\
route:
  receiver: nope
receivers:
  - name: default
"""

INVALID_YAML = "route: [\n"


def test_check_config(target: Target, tmp_path: Path) -> None:
    valid = tmp_path / "valid.yml"
    valid.write_text(target.config_text)
    bad_receiver = tmp_path / "bad_receiver.yml"
    bad_receiver.write_text(INVALID_RECEIVER)
    bad_yaml = tmp_path / "bad_yaml.yml"
    bad_yaml.write_text(INVALID_YAML)

    ok = amtool_local("check-config", str(valid))
    assert ok.returncode == 0
    assert ok.stdout.rstrip("\n").splitlines() == [
        f"Checking '{valid}'  SUCCESS",
        "Found:",
        " - global config",
        " - route",
        " - 1 inhibit rules",
        " - 4 receivers",
        " - 0 templates",
    ]
    bad = amtool_local("check-config", str(bad_receiver))
    assert bad.returncode == 1
    assert (
        bad.stdout.strip() == f"Checking '{bad_receiver}'  FAILED: undefined receiver \"nope\" used in route"
    )
    assert "failed to validate 1 file(s)" in bad.stderr
    both = amtool_local("check-config", str(bad_yaml), str(valid))
    assert both.returncode == 1
    assert both.stdout.startswith(f"Checking '{bad_yaml}'  FAILED: yaml: line 1:")
    assert f"Checking '{valid}'  SUCCESS" in both.stdout
    missing = amtool_local("check-config", str(tmp_path / "missing.yml"))
    assert missing.returncode == 1 and "does not exist" in missing.stderr

    if target.kind == "ampp":
        # `ampp check-config` gives amtool's verdict and report, and its refusals also say
        # where (file:line: field) before amtool's reason.
        for files in ([valid], [bad_receiver], [bad_yaml, valid]):
            want = amtool_local("check-config", *map(str, files))
            got = ampp_local("check-config", *map(str, files))
            assert got.returncode == want.returncode, (got.stdout, want.stdout)
            for want_line, got_line in zip(want.stdout.splitlines(), got.stdout.splitlines(), strict=True):
                if "FAILED: " in want_line:
                    assert got_line.split("FAILED: ", 1)[1].startswith(str(tmp_path)), got_line
                    reason = want_line.split("FAILED: ", 1)[1]
                    if not reason.startswith("yaml: "):  # YAML parsers word syntax errors apart
                        assert reason in got_line, (want_line, got_line)
                else:
                    assert got_line == want_line
