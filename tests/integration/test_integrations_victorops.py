"""VictorOps against a local stand-in of its REST endpoint, and side by side with 0.25."""

from __future__ import annotations

import hashlib

import pytest
from ampp.notify.integrations.victorops import VictorOpsIntegration
from ampp.notify.stage import NotifyError

from tests.support.integrations import Compared, build_integration, ctx, integration_from_config
from tests.support.vendors import (
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


def victorops(receiver_yaml: str) -> VictorOpsIntegration:
    return build_integration(VictorOpsIntegration, receiver_yaml)


BASE = """\
  victorops_configs:
  - api_url: '{url}/integrations/generic/20131114/alert/'
    api_key: AP1K3Y
    routing_key: '{{ .CommonLabels.alertname }}-team'
    message_type: '{{ if eq .CommonLabels.severity "warning" }}WARNING{{ else }}BOGUS{{ end }}'
    entity_display_name: Disk
    state_message: full
    monitoring_tool: ampp
    custom_fields:
      runbook: http://runbook.example
"""


async def test_trigger_and_recovery(vendor: VendorServer) -> None:
    v = victorops(
        BASE.replace("{url}", vendor.url).replace("'{{ .CommonLabels.alertname }}-team'", "storage")
    )
    await v.notify(ctx(), to_alerts(api_alerts(1)))
    await v.notify(ctx(), to_alerts(api_alerts(1, ends_at=RESOLVED_AT)))
    trigger, recovery = vendor.requests
    assert trigger.path == "/integrations/generic/20131114/alert/AP1K3Y/storage"
    entity = hashlib.sha256(GROUP_KEY.encode()).hexdigest()
    # a flat object, keys sorted (a Go map); an unknown message type becomes CRITICAL
    assert trigger.body == (
        b'{"entity_display_name":"Disk","entity_id":"' + entity.encode() + b'","message_type":"CRITICAL",'
        b'"monitoring_tool":"ampp","runbook":"http://runbook.example","state_message":"full"}\n'
    )
    assert recovery.json()["message_type"] == "RECOVERY" and recovery.json()["entity_id"] == entity


async def test_failures_hide_the_api_key(vendor: VendorServer) -> None:
    v = victorops(BASE.replace("{url}", vendor.url))
    vendor.reply("/alert/AP1K3Y/Disk-team", Reply(500, "x"))
    with pytest.raises(NotifyError) as e:
        await v.notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry
    vendor.reply("/alert/AP1K3Y/Disk-team", Reply(400, "bad"))
    with pytest.raises(NotifyError) as e:
        await v.notify(ctx(), to_alerts(api_alerts(1)))
    assert not e.value.retry and "AP1K3Y" not in str(e.value)


COMPARED = Compared(BASE)


@pytest.mark.parametrize("status", ["firing", "resolved"])
async def test_same_request_as_alertmanager(reference: ReferenceRun, status: str) -> None:
    v = integration_from_config(VictorOpsIntegration, reference.config)
    reference.vendor.clear()
    await v.notify(ctx(), to_alerts(api_alerts(2, ends_at=FAR_FUTURE if status == "firing" else RESOLVED_AT)))
    theirs = (reference.firing if status == "firing" else reference.resolved)[0]
    same_request(reference.vendor.requests[0], theirs)
