"""Pushover against a local stand-in of its messages API.

Alertmanager posts to a fixed https URL, so there is no side-by-side run: the expected
request is upstream's (every parameter in the query string of a bodiless POST).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ampp.notify.integrations.pushover import PushoverIntegration
from ampp.notify.stage import NotifyError

from tests.support.integrations import build_integration, ctx
from tests.support.vendors import (
    RESOLVED_AT,
    Reply,
    VendorServer,
    api_alerts,
    to_alerts,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("built_integrations")]


def pushover(receiver_yaml: str, vendor: VendorServer) -> PushoverIntegration:
    p = build_integration(PushoverIntegration, receiver_yaml)
    p.api_url = f"{vendor.url}/1/messages.json"
    return p


BASE = """\
  pushover_configs:
  - user_key: us3rk3y
    token: t0k3n
    title: 'Disk {{ .Status }}'
    message: '  <b>full</b>  '
    url: http://grafana.example
    url_title: Grafana
    device: phone
    sound: siren
    retry: 30s
    expire: 2h
    ttl: 1h
    html: true
"""


async def test_everything_in_the_query_string(vendor: VendorServer) -> None:
    p = pushover(BASE, vendor)
    await p.notify(ctx(), to_alerts(api_alerts(1)))
    await p.notify(ctx(), to_alerts(api_alerts(1, ends_at=RESOLVED_AT)))
    firing, resolved = vendor.requests
    assert firing.method == "POST" and firing.path == "/1/messages.json" and firing.body == b""
    assert firing.headers["Content-Type"] == "text/plain"
    assert {k: v[0] for k, v in firing.query.items()} == {
        "token": "t0k3n",
        "user": "us3rk3y",
        "title": "Disk firing",
        "html": "1",
        "message": "<b>full</b>",
        "url": "http://grafana.example",
        "url_title": "Grafana",
        "priority": "2",
        "retry": "30",
        "expire": "7200",
        "device": "phone",
        "sound": "siren",
        "ttl": "3600",
    }
    assert resolved.query["priority"] == ["0"] and resolved.query["title"] == ["Disk resolved"]


async def test_limits_and_empty_message(vendor: VendorServer) -> None:
    p = pushover(
        "  pushover_configs:\n  - user_key: u\n    token: t\n"
        f"    title: '{'t' * 300}'\n    message: '   '\n    url: 'http://x/{'u' * 600}'\n",
        vendor,
    )
    await p.notify(ctx(), to_alerts(api_alerts(1)))
    q = vendor.requests[0].query
    assert q["title"] == ["t" * 249 + "\u2026"]
    assert q["message"] == ["(no details)"]  # Pushover refuses an empty message
    assert len(q["url"][0]) == 512 and "ttl" not in q and "html" not in q


async def test_keys_from_files(vendor: VendorServer, tmp_path: Path) -> None:
    (tmp_path / "user").write_text("fileuser\n")
    (tmp_path / "token").write_text("filetoken\n")
    p = pushover(
        f"  pushover_configs:\n  - user_key_file: {tmp_path / 'user'}\n"
        f"    token_file: {tmp_path / 'token'}\n",
        vendor,
    )
    await p.notify(ctx(), to_alerts(api_alerts(1)))
    assert vendor.requests[0].query["user"] == ["fileuser"] and vendor.requests[0].query["token"] == [
        "filetoken"
    ]


async def test_failures_never_show_the_keys(vendor: VendorServer) -> None:
    p = pushover(BASE, vendor)
    vendor.reply(
        "/1/messages.json",
        Reply(400, {"user": "invalid", "errors": ["user identifier is invalid"], "status": 0}),
    )
    with pytest.raises(NotifyError) as e:
        await p.notify(ctx(), to_alerts(api_alerts(1)))
    assert not e.value.retry and "user identifier is invalid" in str(e.value)
    p.api_url = "http://127.0.0.1:1/1/messages.json"
    with pytest.raises(NotifyError) as e:
        await p.notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry and "t0k3n" not in str(e.value) and "us3rk3y" not in str(e.value)
