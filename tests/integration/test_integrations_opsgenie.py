"""Opsgenie against a local stand-in of the Alert API v2, and side by side with 0.25."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from ampp.notify.integrations.opsgenie import OpsGenieIntegration
from ampp.notify.stage import NotifyError

from tests.support.integrations import Compared, build_integration, ctx, integration_from_config
from tests.support.vendors import (
    EXTERNAL_URL,
    FAR_FUTURE,
    GROUP_KEY,
    RESOLVED_AT,
    ReferenceRun,
    Reply,
    VendorServer,
    api_alerts,
    same_request,
    to_alerts,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("built_integrations")]

ALIAS = hashlib.sha256(GROUP_KEY.encode()).hexdigest()


def opsgenie(receiver_yaml: str) -> OpsGenieIntegration:
    return build_integration(OpsGenieIntegration, receiver_yaml)


FULL = """\
  opsgenie_configs:
  - api_key: G3N1E
    api_url: {url}/og?region=eu
    message: Disk is full
    description: It is
    source: ampp
    details:
      runbook: http://runbook.example
      severity: overridden
    entity: host0
    tags: ' disk, prod ,,storage '
    actions: restart,page
    note: see runbook
    priority: P1
    responders:
    - name: storage,platform
      type: teams
    - username: alice@example.com
      type: user
    - id: 4513b7ea-3b91-438f-b7e4-e3e54af9147c
      type: escalation
    - name: '{{ .CommonLabels.team }}'
      type: team
    update_alerts: true
"""


async def test_create_then_update_message_and_description(vendor: VendorServer) -> None:
    o = opsgenie(FULL.replace("{url}", vendor.url))
    await o.notify(ctx(), to_alerts(api_alerts(2)))
    create, message, description = vendor.requests
    for r in (create, message, description):
        assert r.headers["Authorization"] == "GenieKey G3N1E"
        assert r.headers["Content-Type"] == "application/json"
    assert (create.method, create.path, create.query) == ("POST", "/og/v2/alerts", {"region": ["eu"]})
    assert create.json() == {
        "alias": ALIAS,
        "message": "Disk is full",
        "description": "It is",
        # the group's common labels, overlaid by the rendered details
        "details": {
            "alertname": "Disk",
            "runbook": "http://runbook.example",
            "severity": "overridden",
        },
        "source": "ampp",
        "responders": [
            {"name": "storage", "type": "team"},
            {"name": "platform", "type": "team"},
            {"username": "alice@example.com", "type": "user"},
            {"id": "4513b7ea-3b91-438f-b7e4-e3e54af9147c", "type": "escalation"},
            # the last one rendered to a name-less team: kept, as upstream (only all-empty drops)
            {"type": "team"},
        ],
        "tags": ["disk", " prod ", "storage"],
        "note": "see runbook",
        "priority": "P1",
        "entity": "host0",
        "actions": ["restart", "page"],
    }
    assert (message.method, message.path) == ("PUT", f"/og/v2/alerts/{ALIAS}/message")
    assert message.query == {"identifierType": ["alias"], "region": ["eu"]}
    assert message.json() == {"message": "Disk is full"}
    assert (description.method, description.path) == ("PUT", f"/og/v2/alerts/{ALIAS}/description")
    assert description.json() == {"description": "It is"}


async def test_resolved_closes_by_alias(vendor: VendorServer) -> None:
    o = opsgenie(FULL.replace("{url}", vendor.url))
    await o.notify(ctx(), to_alerts(api_alerts(2, ends_at=RESOLVED_AT)))
    (close,) = vendor.requests
    assert (close.method, close.path) == ("POST", f"/og/v2/alerts/{ALIAS}/close")
    assert close.query == {"identifierType": ["alias"], "region": ["eu"]}
    assert close.body == b'{"source":"ampp"}\n'


async def test_message_is_cut_at_130_characters(vendor: VendorServer) -> None:
    o = opsgenie(
        f"  opsgenie_configs:\n  - api_key: k\n    api_url: {vendor.url}/\n    message: '{'m' * 200}'\n"
    )
    await o.notify(ctx(), to_alerts(api_alerts(1)))
    assert vendor.requests[0].json()["message"] == "m" * 129 + "\u2026"


async def test_api_key_file_and_templated_key(vendor: VendorServer, tmp_path: Path) -> None:
    f = tmp_path / "key"
    f.write_text("from-file\n")
    o = opsgenie(f"  opsgenie_configs:\n  - api_key_file: {f}\n    api_url: {vendor.url}/\n")
    await o.notify(ctx(), to_alerts(api_alerts(1)))
    assert vendor.requests[0].headers["Authorization"] == "GenieKey from-file"


async def test_defaults(vendor: VendorServer) -> None:
    o = opsgenie(f"  opsgenie_configs:\n  - api_key: k\n    api_url: {vendor.url}/\n")
    await o.notify(ctx(), to_alerts(api_alerts(2)))
    body = vendor.requests[0].json()
    assert body["message"] == "[FIRING:2] Disk (critical)"
    assert body["source"] == f"{EXTERNAL_URL}/#/alerts?receiver=team-a"
    assert body["description"].startswith(
        "Less than <5%> & falling\nAlerts Firing:\nLabels:\n - alertname = Disk\n"
    )
    assert body["details"] == {"alertname": "Disk", "severity": "critical"}
    assert set(body) == {"alias", "message", "description", "details", "source"}


@pytest.mark.parametrize(
    ("reply", "retry"),
    [
        (Reply(500, "x"), True),
        (Reply(503), True),
        (Reply(422, {"message": "bad"}), False),
        (Reply(401), False),
    ],
)
async def test_status_codes(vendor: VendorServer, reply: Reply, retry: bool) -> None:
    o = opsgenie(FULL.replace("{url}", vendor.url))
    vendor.reply("/v2/alerts", reply)
    with pytest.raises(NotifyError) as e:
        await o.notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry is retry and f"unexpected status code {reply.status}" in str(e.value)
    assert len(vendor.requests) == 1  # the updates are not attempted after a failed create


async def test_rate_limit(vendor: VendorServer) -> None:
    o = opsgenie(FULL.replace("{url}", vendor.url))
    vendor.reply("/v2/alerts", Reply(429, {"message": "slow down"}, headers={"Retry-After": "3"}))
    with pytest.raises(NotifyError) as e:
        await o.notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry_after == 3.0


# --------------------------------------------------------------------------------------------
# Side by side with Alertmanager 0.25

COMPARED = Compared(
    """\
  opsgenie_configs:
  - api_key: 0p5g3n13
    api_url: {url}/
    details:
      firing: '{{ .Alerts.Firing | len }}'
    entity: '{{ .CommonLabels.alertname }}'
    tags: 'disk,{{ .CommonLabels.severity }}'
    note: '{{ .CommonAnnotations.description }}'
    priority: P2
    responders:
    - name: storage,platform
      type: teams
    - username: alice@example.com
      type: user
    update_alerts: true
""",
    per_notification=3,
    per_resolved=1,
)


@pytest.mark.parametrize("status", ["firing", "resolved"])
async def test_same_requests_as_alertmanager(reference: ReferenceRun, status: str) -> None:
    o = integration_from_config(OpsGenieIntegration, reference.config)
    ends = FAR_FUTURE if status == "firing" else RESOLVED_AT
    reference.vendor.clear()
    await o.notify(ctx(), to_alerts(api_alerts(2, ends_at=ends)))
    theirs = reference.firing if status == "firing" else reference.resolved
    ours = reference.vendor.requests
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        same_request(a, b)
