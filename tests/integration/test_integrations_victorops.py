"""VictorOps against a local stand-in of its REST endpoint, and side by side with 0.25."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator

import pytest
from ampp.config.loader import load_text
from ampp.model.timefmt import now_ns
from ampp.notify.integrations.victorops import VictorOpsIntegration
from ampp.notify.stage import FlushContext, NotifyError
from ampp.notify.templates import Templates

from tests.support.prereq import REFERENCE
from tests.support.vendors import (
    EXTERNAL_URL,
    FAR_FUTURE,
    GROUP_KEY,
    GROUP_LABELS,
    RESOLVED_AT,
    ReferenceRun,
    Reply,
    VendorServer,
    api_alerts,
    capture_reference,
    reference_config,
    same_request,
    to_alerts,
)

pytestmark = pytest.mark.integration

_made: list[VictorOpsIntegration] = []


@pytest.fixture(autouse=True)
async def _close_integrations() -> AsyncIterator[None]:
    yield
    while _made:
        await _made.pop().close()


@pytest.fixture
def vendor() -> Iterator[VendorServer]:
    with VendorServer() as v:
        yield v


def ctx() -> FlushContext:
    return FlushContext(GROUP_KEY, dict(GROUP_LABELS), "team-a", 3600, now_ns())


def victorops(receiver_yaml: str) -> VictorOpsIntegration:
    cfg = load_text(reference_config(receiver_yaml))
    v = VictorOpsIntegration(
        0, cfg.alerting.receivers[0].victorops_configs[0], "team-a", EXTERNAL_URL, Templates.load([])
    )
    _made.append(v)
    return v


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


COMPARED = BASE


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceRun]:
    REFERENCE.require()
    with VendorServer() as v:
        yield capture_reference(COMPARED, tmp_path_factory.mktemp("victorops-ref"), v)


@pytest.mark.parametrize("status", ["firing", "resolved"])
async def test_same_request_as_alertmanager(reference: ReferenceRun, status: str) -> None:
    conf = load_text(reference.config).alerting.receivers[0].victorops_configs[0]
    v = VictorOpsIntegration(0, conf, "team-a", EXTERNAL_URL, Templates.load([]))
    _made.append(v)
    reference.vendor.clear()
    await v.notify(ctx(), to_alerts(api_alerts(2, ends_at=FAR_FUTURE if status == "firing" else RESOLVED_AT)))
    theirs = (reference.firing if status == "firing" else reference.resolved)[0]
    same_request(reference.vendor.requests[0], theirs)
