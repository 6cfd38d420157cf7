"""incident.io against a local stand-in alert source endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
from ampp.notify.integrations.incidentio import IncidentioIntegration
from ampp.notify.stage import NotifyError

from tests.support.integrations import build_integration, ctx
from tests.support.vendors import (
    GROUP_KEY,
    Reply,
    VendorServer,
    api_alerts,
    to_alerts,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("built_integrations")]


def incidentio(receiver_yaml: str) -> IncidentioIntegration:
    return build_integration(IncidentioIntegration, receiver_yaml)


async def test_webhook_payload_version_1_with_the_token(vendor: VendorServer) -> None:
    i = incidentio(
        f"  incidentio_configs:\n  - url: {vendor.url}/v2/alert_events/http/01H\n"
        "    alert_source_token: s0urc3\n    max_alerts: 2\n"
    )
    await i.notify(ctx(), to_alerts(api_alerts(3)))
    (req,) = vendor.requests
    assert req.headers["Authorization"] == "Bearer s0urc3"
    body = req.json()
    assert body["version"] == "1" and body["groupKey"] == GROUP_KEY and body["truncatedAlerts"] == 1
    assert len(body["alerts"]) == 2 and body["receiver"] == "team-a" and body["status"] == "firing"
    assert list(body)[-3:] == ["version", "groupKey", "truncatedAlerts"]


async def test_token_file_and_oversized_payload(vendor: VendorServer, tmp_path: Path) -> None:
    f = tmp_path / "token"
    f.write_text("fr0mf1le\n")
    i = incidentio(f"  incidentio_configs:\n  - url: {vendor.url}/in\n    alert_source_token_file: {f}\n")
    alerts = to_alerts(api_alerts(3))
    for a in alerts:
        a.annotations["blob"] = "x" * 200_000
    await i.notify(ctx(), alerts)
    req = vendor.requests[0]
    assert req.headers["Authorization"] == "Bearer fr0mf1le"
    assert len(req.json()["alerts"]) == 1  # past 512 KiB only the first alert is kept


async def test_errors(vendor: VendorServer) -> None:
    i = incidentio(f"  incidentio_configs:\n  - url: {vendor.url}/in\n    alert_source_token: t\n")
    vendor.reply("/in", Reply(422, {"message": "invalid payload", "errors": ["title is required"]}))
    with pytest.raises(NotifyError) as e:
        await i.notify(ctx(), to_alerts(api_alerts(1)))
    assert (
        not e.value.retry and str(e.value) == "unexpected status code 422: invalid payload: title is required"
    )
    vendor.reply("/in", Reply(429, {"error": "slow down"}, headers={"Retry-After": "4"}))
    with pytest.raises(NotifyError) as rl:
        await i.notify(ctx(), to_alerts(api_alerts(1)))
    assert rl.value.retry_after == 4.0
