"""Microsoft Teams (connector MessageCard and Workflows Adaptive Card) against a stand-in.

Alertmanager 0.25 has neither: the expected payloads are upstream's notify/msteams and
notify/msteamsv2 structures, field for field and in their order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ampp.notify.integrations.msteams import MSTeamsIntegration, MSTeamsV2Integration
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


def teams(receiver_yaml: str, v2: bool = False) -> Any:
    return build_integration(MSTeamsV2Integration if v2 else MSTeamsIntegration, receiver_yaml)


async def test_message_card(vendor: VendorServer) -> None:
    t = teams(
        f"  msteams_configs:\n  - webhook_url: {vendor.url}/webhookb2/abc\n"
        "    title: Disk\n    summary: Disk full\n    text: '**full**'\n"
    )
    await t.notify(ctx(), to_alerts(api_alerts(2)))
    await t.notify(ctx(), to_alerts(api_alerts(2, ends_at=RESOLVED_AT)))
    firing, resolved = vendor.requests
    assert firing.path == "/webhookb2/abc" and firing.headers["Content-Type"] == "application/json"
    assert firing.body == (
        b'{"@context":"http://schema.org/extensions","type":"MessageCard","title":"Disk",'
        b'"summary":"Disk full","text":"**full**","themeColor":"8C1A1A"}\n'
    )
    assert resolved.json()["themeColor"] == "2DC72D"


async def test_message_card_defaults(vendor: VendorServer) -> None:
    t = teams(f"  msteams_configs:\n  - webhook_url: {vendor.url}/webhookb2/abc\n")
    await t.notify(ctx(), to_alerts(api_alerts(2)))
    body = vendor.requests[0].json()
    assert body["title"] == body["summary"] == "[FIRING:2] Disk (critical)"
    assert "Alerts Firing" in body["text"] and "host1:9100" in body["text"]


async def test_adaptive_card(vendor: VendorServer) -> None:
    t = teams(
        f"  msteamsv2_configs:\n  - webhook_url: {vendor.url}/workflows/xyz\n"
        "    title: Disk\n    text: full\n",
        v2=True,
    )
    await t.notify(ctx(), to_alerts(api_alerts(1)))
    await t.notify(ctx(), to_alerts(api_alerts(1, ends_at=RESOLVED_AT)))
    firing, resolved = vendor.requests
    expected: dict[str, Any] = {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.2",
                    "body": [
                        {
                            "type": "TextBlock",
                            "text": "Disk",
                            "weight": "Bolder",
                            "size": "Medium",
                            "wrap": True,
                            "style": "heading",
                            "color": "Attention",
                        },
                        {"type": "TextBlock", "text": "full", "wrap": True},
                    ],
                    "msteams": {"width": "full"},
                },
            }
        ],
    }
    assert firing.json() == expected
    assert resolved.json()["attachments"][0]["content"]["body"][0]["color"] == "Good"


async def test_webhook_url_file(vendor: VendorServer, tmp_path: Path) -> None:
    f = tmp_path / "url"
    f.write_text(f"{vendor.url}/workflows/from-file\n")
    t = teams(f"  msteamsv2_configs:\n  - webhook_url_file: {f}\n    title: t\n    text: x\n", v2=True)
    await t.notify(ctx(), to_alerts(api_alerts(1)))
    assert vendor.requests[0].path == "/workflows/from-file"


async def test_failures(vendor: VendorServer) -> None:
    t = teams(f"  msteams_configs:\n  - webhook_url: {vendor.url}/webhookb2/SECRET\n    title: t\n")
    vendor.reply("/webhookb2/SECRET", Reply(500, "x"))
    with pytest.raises(NotifyError) as e:
        await t.notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry
    vendor.reply("/webhookb2/SECRET", Reply(400, "Bad payload"))
    with pytest.raises(NotifyError) as e:
        await t.notify(ctx(), to_alerts(api_alerts(1)))
    assert not e.value.retry and str(e.value) == "unexpected status code 400: Bad payload"
    vendor.reply("/webhookb2/SECRET", Reply(429, "", headers={"Retry-After": "30"}))
    with pytest.raises(NotifyError) as rl:
        await t.notify(ctx(), to_alerts(api_alerts(1)))
    assert rl.value.retry_after == 30.0
