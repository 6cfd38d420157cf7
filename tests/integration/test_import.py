"""`ampp import --from` copies a real Alertmanager's silences and alerts, keeping silence ids."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.support.servers import run_server

pytestmark = pytest.mark.integration

CONFIG = """
route: {receiver: r, group_wait: 1h}
receivers: [{name: r}]
"""


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_import_from_alertmanager(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with run_server("reference", CONFIG, tmp_path / "am") as am:
        for i, (start, end) in enumerate(
            [(now, now + timedelta(hours=2)), (now + timedelta(hours=1), now + timedelta(hours=3))]
        ):
            r = httpx.post(
                f"{am.url}/api/v2/silences",
                json={
                    "matchers": [
                        {"name": "alertname", "value": f"A{i}", "isRegex": False, "isEqual": True},
                        {"name": "team", "value": "db|web", "isRegex": True, "isEqual": False},
                    ],
                    "startsAt": iso(start),
                    "endsAt": iso(end),
                    "createdBy": f"user{i}",
                    "comment": f"maintenance {i}",
                },
            )
            assert r.status_code == 200, r.text
        r = httpx.post(
            f"{am.url}/api/v2/alerts",
            json=[
                {
                    "labels": {"alertname": "A0", "team": "x"},
                    "annotations": {"summary": "s"},
                    "generatorURL": "http://prom/graph",
                },
                {"labels": {"alertname": "B"}, "startsAt": iso(now - timedelta(minutes=5))},
            ],
        )
        assert r.status_code == 200
        silences = sorted(httpx.get(f"{am.url}/api/v2/silences").json(), key=lambda s: s["id"])
        alerts = httpx.get(f"{am.url}/api/v2/alerts").json()

        storage = tmp_path / "ampp-data"
        out = subprocess.run(
            [sys.executable, "-m", "ampp", "import", f"--from={am.url}", f"--storage.path={storage}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert "imported 2 silences and 2 alerts" in out.stdout

    with run_server("ampp", CONFIG, tmp_path / "ampp", storage_path=storage) as s:
        got = sorted(httpx.get(f"{s.url}/api/v2/silences").json(), key=lambda x: x["id"])
        keys = ("id", "createdBy", "comment", "startsAt", "endsAt", "matchers", "status")
        assert [{k: g[k] for k in keys} for g in got] == [{k: x[k] for k in keys} for x in silences]
        got_alerts = {a["fingerprint"]: a for a in httpx.get(f"{s.url}/api/v2/alerts").json()}
        assert set(got_alerts) == {a["fingerprint"] for a in alerts}
        for a in alerts:
            g = got_alerts[a["fingerprint"]]
            assert (g["labels"], g["annotations"], g["startsAt"], g.get("generatorURL")) == (
                a["labels"],
                a["annotations"],
                a["startsAt"],
                a.get("generatorURL"),
            )
        silenced = next(g for g in got_alerts.values() if g["labels"]["alertname"] == "A0")
        assert silenced["status"]["silencedBy"] == [
            x["id"] for x in silences if x["status"]["state"] == "active"
        ]


def test_import_says_what_failed(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ampp", "import", "--from=http://127.0.0.1:1", f"--storage.path={tmp_path}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1 and "GET http://127.0.0.1:1/api/v2/silences" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
