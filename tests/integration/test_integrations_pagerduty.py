"""PagerDuty against a local stand-in of the Events API v2 and v1, and side by side with 0.25."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from ampp.notify.integrations.pagerduty import PagerDutyIntegration
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

DEDUP_KEY = hashlib.sha256(GROUP_KEY.encode()).hexdigest()


def pagerduty(receiver_yaml: str, vendor: VendorServer | None = None) -> PagerDutyIntegration:
    p = build_integration(PagerDutyIntegration, receiver_yaml)
    if vendor is not None:
        p.api_v1 = f"{vendor.url}/generic/2010-04-15/create_event.json"
    return p


V2 = """\
  pagerduty_configs:
  - routing_key: R0UT1NG
    url: {url}/v2/enqueue
    client: ampp
    client_url: http://am.example/
    description: Disk is full
    severity: critical
    class: disk
    component: storage
    group: prod
    source: host0
    details:
      runbook: http://runbook.example/disk
      firing: ''
      resolved: ''
      num_firing: ''
      num_resolved: ''
    images:
    - src: http://img.example/a.png
      alt: graph
      href: http://grafana.example
    - src: ''
      alt: dropped when src renders empty
    links:
    - href: http://runbook.example/disk
      text: Runbook
"""


async def test_v2_trigger_event(vendor: VendorServer) -> None:
    p = pagerduty(V2.replace("{url}", vendor.url))
    await p.notify(ctx(), to_alerts(api_alerts(2)))
    (req,) = vendor.requests
    assert req.path == "/v2/enqueue" and req.headers["Content-Type"] == "application/json"
    assert req.json() == {
        "routing_key": "R0UT1NG",
        "dedup_key": DEDUP_KEY,
        "event_action": "trigger",
        "payload": {
            "summary": "Disk is full",
            "source": "host0",
            "severity": "critical",
            "class": "disk",
            "component": "storage",
            "group": "prod",
            "custom_details": {
                "firing": "",
                "num_firing": "",
                "num_resolved": "",
                "resolved": "",
                "runbook": "http://runbook.example/disk",
            },
        },
        "client": "ampp",
        "client_url": "http://am.example/",
        "images": [{"src": "http://img.example/a.png", "alt": "graph", "href": "http://grafana.example"}],
        "links": [{"href": "http://runbook.example/disk", "text": "Runbook"}],
    }
    assert list(req.json()) == [
        "routing_key",
        "dedup_key",
        "event_action",
        "payload",
        "client",
        "client_url",
        "images",
        "links",
    ]


async def test_v2_resolve_event_has_the_same_dedup_key(vendor: VendorServer) -> None:
    p = pagerduty(V2.replace("{url}", vendor.url))
    await p.notify(ctx(), to_alerts(api_alerts(2, ends_at=RESOLVED_AT)))
    body = vendor.requests[0].json()
    assert body["event_action"] == "resolve" and body["dedup_key"] == DEDUP_KEY


async def test_v2_defaults(vendor: VendorServer) -> None:
    p = pagerduty(f"  pagerduty_configs:\n  - routing_key: k\n    url: {vendor.url}/v2/enqueue\n")
    await p.notify(ctx(), to_alerts(api_alerts(2)))
    body = vendor.requests[0].json()
    assert body["payload"]["summary"] == "[FIRING:2] Disk (critical)"
    assert body["payload"]["severity"] == "error"  # PagerDuty requires one
    assert body["payload"]["source"] == body["client"] == "Alertmanager"
    assert body["client_url"] == f"{EXTERNAL_URL}/#/alerts?receiver=team-a"
    details = body["payload"]["custom_details"]
    assert details["num_firing"] == "2" and details["num_resolved"] == "0"
    assert details["firing"].startswith("Labels:\n - alertname = Disk\n - instance = host0:9100\n")
    assert details["resolved"] == ""
    assert "images" not in body and "links" not in body


async def test_routing_key_file_is_read_at_send_time(vendor: VendorServer, tmp_path: Path) -> None:
    f = tmp_path / "key"
    f.write_text("first\n")
    p = pagerduty(f"  pagerduty_configs:\n  - routing_key_file: {f}\n    url: {vendor.url}/v2/enqueue\n")
    await p.notify(ctx(), to_alerts(api_alerts(1)))
    f.write_text("rotated")
    await p.notify(ctx(), to_alerts(api_alerts(1)))
    assert [r.json()["routing_key"] for r in vendor.requests] == ["first", "rotated"]


async def test_structured_details_are_rendered_leaf_by_leaf(vendor: VendorServer) -> None:
    p = pagerduty(
        f"  pagerduty_configs:\n  - routing_key: k\n    url: {vendor.url}/v2/enqueue\n"
        "    details:\n      owners: {team: storage, oncall: [alice, bob]}\n      count: 3\n"
    )
    await p.notify(ctx(), to_alerts(api_alerts(1)))
    details = vendor.requests[0].json()["payload"]["custom_details"]
    assert details["owners"] == {"oncall": ["alice", "bob"], "team": "storage"}
    assert details["count"] == 3


async def test_oversized_event_drops_its_details(vendor: VendorServer) -> None:
    big = "x" * 600_000
    p = pagerduty(
        f"  pagerduty_configs:\n  - routing_key: k\n    url: {vendor.url}/v2/enqueue\n"
        f"    details:\n      blob: {big}\n"
    )
    await p.notify(ctx(), to_alerts(api_alerts(1)))
    body = vendor.requests[0].json()
    assert body["payload"]["custom_details"] == {
        "error": "Custom details have been removed because the original event exceeds the maximum "
        "size of 512KB"
    }


@pytest.mark.parametrize(
    ("reply", "retry", "text"),
    [
        (Reply(500, "oops"), True, "unexpected status code 500"),
        (Reply(502), True, "unexpected status code 502"),
        (
            Reply(
                400,
                {
                    "status": "invalid event",
                    "message": "Event object is invalid",
                    "errors": ["Length of 'routing_key' is incorrect (should be 32 characters)"],
                },
            ),
            False,
            "unexpected status code 400: Event object is invalid: Length of 'routing_key' is incorrect",
        ),
        (Reply(403, "forbidden"), False, "unexpected status code 403"),
    ],
)
async def test_v2_status_codes(vendor: VendorServer, reply: Reply, retry: bool, text: str) -> None:
    p = pagerduty(V2.replace("{url}", vendor.url))
    vendor.reply("/v2/enqueue", reply)
    with pytest.raises(NotifyError) as e:
        await p.notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry is retry and text in str(e.value)


async def test_v2_rate_limit_is_retried_after_retry_after(vendor: VendorServer) -> None:
    p = pagerduty(V2.replace("{url}", vendor.url))
    vendor.reply("/v2/enqueue", Reply(429, {"status": "throttle"}, headers={"Retry-After": "12"}))
    with pytest.raises(NotifyError) as e:
        await p.notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry and e.value.retry_after == 12.0


async def test_empty_routing_key_after_templating_is_permanent(vendor: VendorServer) -> None:
    p = pagerduty(
        "  pagerduty_configs:\n  - routing_key: '{{ .CommonLabels.nope }}'\n"
        f"    url: {vendor.url}/v2/enqueue\n"
    )
    with pytest.raises(NotifyError) as e:
        await p.notify(ctx(), to_alerts(api_alerts(1)))
    assert not e.value.retry and str(e.value) == "routing key cannot be empty"
    assert vendor.requests == []


async def test_v1_service_key(vendor: VendorServer) -> None:
    p = pagerduty(
        "  pagerduty_configs:\n  - service_key: S3RV1CE\n    description: Disk is full\n"
        "    client: ampp\n    client_url: http://am.example/\n"
        "    details: {firing: '', resolved: '', num_firing: '', num_resolved: '', a: b}\n",
        vendor,
    )
    await p.notify(ctx(), to_alerts(api_alerts(1)))
    await p.notify(ctx(), to_alerts(api_alerts(1, ends_at=RESOLVED_AT)))
    trigger, resolve = vendor.requests
    assert trigger.path == "/generic/2010-04-15/create_event.json"
    details = {"a": "b", "firing": "", "num_firing": "", "num_resolved": "", "resolved": ""}
    # v1 and v2 share a message type upstream: event_action and payload are always written
    assert trigger.body.decode() == (
        '{"service_key":"S3RV1CE","incident_key":"' + DEDUP_KEY + '","event_type":"trigger",'
        '"description":"Disk is full","event_action":"","payload":null,"client":"ampp",'
        '"client_url":"http://am.example/","details":'
        + '{"a":"b","firing":"","num_firing":"","num_resolved":"","resolved":""}'
        + "}\n"
    )
    assert resolve.json() == {
        "service_key": "S3RV1CE",
        "incident_key": DEDUP_KEY,
        "event_type": "resolve",
        "description": "Disk is full",
        "event_action": "",
        "payload": None,
        "details": details,
    }


async def test_v1_retries_403(vendor: VendorServer) -> None:
    p = pagerduty("  pagerduty_configs:\n  - service_key: s\n", vendor)
    vendor.reply("/create_event.json", Reply(403, "rate limited"))
    with pytest.raises(NotifyError) as e:
        await p.notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry


# --------------------------------------------------------------------------------------------
# Side by side with Alertmanager 0.25

COMPARED = Compared(
    """\
  pagerduty_configs:
  - routing_key: 0123456789abcdef0123456789abcdef
    url: {url}/v2/enqueue
    severity: '{{ .CommonLabels.severity }}'
    class: '{{ .GroupLabels.alertname }}'
    component: storage
    group: '{{ .Status }}'
    details:
      instances: '{{ range .Alerts }}{{ .Labels.instance }},{{ end }}'
    images:
    - src: 'http://grafana.example/render/{{ .CommonLabels.alertname }}.png'
      alt: graph
      href: http://grafana.example
    links:
    - href: '{{ (index .Alerts 0).GeneratorURL }}'
      text: Source
"""
)


@pytest.mark.parametrize("status", ["firing", "resolved"])
async def test_same_request_as_alertmanager(reference: ReferenceRun, status: str) -> None:
    p = integration_from_config(PagerDutyIntegration, reference.config)
    ends = FAR_FUTURE if status == "firing" else RESOLVED_AT
    reference.vendor.clear()
    await p.notify(ctx(), to_alerts(api_alerts(2, ends_at=ends)))
    theirs = reference.firing if status == "firing" else reference.resolved
    same_request(reference.vendor.requests[0], theirs[0])
