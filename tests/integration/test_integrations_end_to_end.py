"""The whole path, side by side: `ampp serve` and Alertmanager 0.25 with the same config.

Both get the same alerts; their Slack, PagerDuty, Opsgenie, Discord, Telegram, webhook and
email receivers point at the same local stand-ins; what each sends must be the same, request
for request (the webhook's and email's volatile parts aside).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.prereq import REFERENCE
from tests.support.servers import run_server
from tests.support.vendors import (
    EXTERNAL_URL,
    RESOLVED_AT,
    Mail,
    Request,
    SMTPServer,
    VendorServer,
    api_alerts,
    make_cert,
    post_alerts,
    reference_config,
)

pytestmark = pytest.mark.integration


RECEIVER = """\
  slack_configs:
  - api_url: '{url}/slack/T0/B0/X'
    send_resolved: true
    fields: [{title: Instances, value: '{{ range .Alerts }}{{ .Labels.instance }} {{ end }}'}]
  pagerduty_configs:
  - routing_key: 0123456789abcdef0123456789abcdef
    url: '{url}/v2/enqueue'
    severity: '{{ .CommonLabels.severity }}'
  opsgenie_configs:
  - api_key: k
    api_url: '{url}/og/'
    tags: 'disk,{{ .CommonLabels.severity }}'
  discord_configs:
  - webhook_url: '{url}/discord/1/T'
  telegram_configs:
  - api_url: '{url}/tg'
    bot_token: '1:A'
    chat_id: -100
  webhook_configs:
  - url: '{url}/hook'
  email_configs:
  - to: oncall@example.com
    from: am@example.com
    smarthost: 'localhost:{smtp}'
    auth_username: alertmanager
    auth_password: s3cret
    send_resolved: true
    tls_config: {ca_file: '{ca}'}
"""


def _run(kind: str, workdir: Path, cert: tuple[Path, Path]) -> tuple[list[Request], list[Mail]]:
    with VendorServer() as v, SMTPServer(cert=cert, starttls=True, mechanisms=("PLAIN",)) as smtp:
        receiver = (
            RECEIVER.replace("{url}", v.url).replace("{smtp}", str(smtp.port)).replace("{ca}", str(cert[0]))
        )
        with run_server(
            kind, reference_config(receiver), workdir, extra_args=[f"--web.external-url={EXTERNAL_URL}"]
        ) as server:
            # One alert first: its startsAt is long past, so its group flushes at once (both
            # servers skip group_wait then); Alertmanager routes the alerts of one POST one by one,
            # so two in that first POST could be one or two in the first notification.
            post_alerts(server.url, api_alerts(1))
            v.wait_for(6, timeout=20)  # one request per HTTP receiver
            smtp.wait_for(1)
            post_alerts(server.url, api_alerts(2))  # the second joins at the next group_interval
            v.wait_for(12, timeout=20)
            smtp.wait_for(2)
            post_alerts(server.url, api_alerts(2, ends_at=RESOLVED_AT))
            v.wait_for(18, timeout=20)
            smtp.wait_for(3)
            time.sleep(0.5)
        return list(v.requests), list(smtp.mails)


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    REFERENCE.require()
    cert = make_cert(tmp_path_factory.mktemp("e2e-tls"))
    yield {kind: _run(kind, tmp_path_factory.mktemp(f"e2e-{kind}"), cert) for kind in ("reference", "ampp")}


def _by_path(requests: list[Request]) -> dict[str, list[Request]]:
    out: dict[str, list[Request]] = {}
    for r in requests:
        out.setdefault(r.path, []).append(r)
    return out


def test_same_http_requests(both: dict[str, Any]) -> None:
    theirs, ours = _by_path(both["reference"][0]), _by_path(both["ampp"][0])
    assert sorted(ours) == sorted(theirs)
    for path, their_requests in theirs.items():
        our_requests = ours[path]
        assert [r.method for r in our_requests] == [r.method for r in their_requests], path
        for a, b in zip(our_requests, their_requests, strict=True):
            if path == "/hook":  # the webhook's JSON carries no time of sending: compare values
                assert a.json() == b.json()
            else:
                assert a.body.decode() == b.body.decode(), path


def test_same_mails(both: dict[str, Any]) -> None:
    theirs, ours = both["reference"][1], both["ampp"][1]
    subjects = [
        "[FIRING:1] Disk (host0:9100 critical)",
        "[FIRING:2] Disk (critical)",
        "[RESOLVED] Disk (critical)",
    ]
    assert [m.message["Subject"] for m in theirs] == subjects  # the notifications _run provokes
    for a, b in zip(ours, theirs, strict=True):
        assert (a.mail_from, a.rcpt_tos, a.auth, a.tls) == (b.mail_from, b.rcpt_tos, b.auth, b.tls)
        ha, hb = a.message, b.message
        for h in ("Subject", "To", "From", "MIME-Version"):
            assert ha[h] == hb[h], h
        parts_a = [p.get_content() for p in ha.iter_parts()]
        parts_b = [p.get_content() for p in hb.iter_parts()]
        assert parts_a == parts_b
