"""Discord against a local stand-in webhook, and side by side with Alertmanager 0.25."""

from __future__ import annotations

from pathlib import Path

import pytest
from ampp.notify.integrations.discord import DiscordIntegration
from ampp.notify.stage import NotifyError

from tests.support.integrations import Compared, build_integration, ctx, integration_from_config
from tests.support.vendors import (
    FAR_FUTURE,
    RESOLVED_AT,
    ReferenceRun,
    Reply,
    VendorServer,
    api_alerts,
    same_request,
    to_alerts,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("built_integrations")]


def discord(receiver_yaml: str) -> DiscordIntegration:
    return build_integration(DiscordIntegration, receiver_yaml)


async def test_embed_colour_follows_status(vendor: VendorServer) -> None:
    d = discord(
        "  discord_configs:\n  - webhook_url: {url}/discord/123/T0K3N\n    title: Disk\n    message: full\n"
        "    content: '@here'\n    username: ampp\n    avatar_url: http://img.example/a.png\n".replace(
            "{url}", vendor.url
        )
    )
    await d.notify(ctx(), to_alerts(api_alerts(2)))
    await d.notify(ctx(), to_alerts(api_alerts(2, ends_at=RESOLVED_AT)))
    firing, resolved = vendor.requests
    assert firing.path == "/discord/123/T0K3N" and firing.headers["Content-Type"] == "application/json"
    assert firing.json() == {
        "content": "@here",
        "embeds": [{"title": "Disk", "description": "full", "color": 0x992D22}],
        "username": "ampp",
        "avatar_url": "http://img.example/a.png",
    }
    assert resolved.json()["embeds"][0]["color"] == 0x2ECC71


async def test_limits(vendor: VendorServer) -> None:
    d = discord(
        f"  discord_configs:\n  - webhook_url: {vendor.url}/discord/1/t\n"
        f"    title: '{'t' * 300}'\n    message: '{'m' * 5000}'\n    content: '{'c' * 2500}'\n"
    )
    await d.notify(ctx(), to_alerts(api_alerts(1)))
    body = vendor.requests[0].json()
    assert body["embeds"][0]["title"] == "t" * 255 + "\u2026"
    assert body["embeds"][0]["description"] == "m" * 4095 + "\u2026"
    assert body["content"] == "c" * 1999 + "\u2026"


async def test_defaults(vendor: VendorServer) -> None:
    d = discord(f"  discord_configs:\n  - webhook_url: {vendor.url}/discord/1/t\n")
    await d.notify(ctx(), to_alerts(api_alerts(2)))
    body = vendor.requests[0].json()
    assert body["content"] == ""
    assert body["embeds"][0]["title"] == "[FIRING:2] Disk (critical)"
    assert body["embeds"][0]["description"].startswith("\n\nAlerts Firing:\nLabels:\n - alertname = Disk\n")
    assert list(body) == ["content", "embeds"]


async def test_webhook_url_file(vendor: VendorServer, tmp_path: Path) -> None:
    f = tmp_path / "url"
    f.write_text(f"{vendor.url}/discord/from/file\n")
    d = discord(f"  discord_configs:\n  - webhook_url_file: {f}\n    title: t\n")
    await d.notify(ctx(), to_alerts(api_alerts(1)))
    assert vendor.requests[0].path == "/discord/from/file"


async def test_failures(vendor: VendorServer) -> None:
    d = discord(f"  discord_configs:\n  - webhook_url: {vendor.url}/discord/1/SECRET\n    title: t\n")
    vendor.reply("/discord/1/SECRET", Reply(502, "bad gateway"))
    with pytest.raises(NotifyError) as e:
        await d.notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry
    vendor.reply("/discord/1/SECRET", Reply(404, {"message": "Unknown Webhook", "code": 10015}))
    with pytest.raises(NotifyError) as e:
        await d.notify(ctx(), to_alerts(api_alerts(1)))
    assert not e.value.retry and "Unknown Webhook" in str(e.value)
    vendor.reply("/discord/1/SECRET", Reply(429, {"retry_after": 1.5}, headers={"Retry-After": "2"}))
    with pytest.raises(NotifyError) as rl:
        await d.notify(ctx(), to_alerts(api_alerts(1)))
    assert rl.value.retry_after == 2.0
    bad = discord("  discord_configs:\n  - webhook_url: http://127.0.0.1:1/discord/1/SECRET\n    title: t\n")
    with pytest.raises(NotifyError) as e:
        await bad.notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry and "SECRET" not in str(e.value)


COMPARED = Compared(
    """\
  discord_configs:
  - webhook_url: {url}/discord/42/T0K3N
    title: '{{ .CommonLabels.alertname }} on {{ len .Alerts }} hosts'
"""
)


@pytest.mark.parametrize("status", ["firing", "resolved"])
async def test_same_request_as_alertmanager(reference: ReferenceRun, status: str) -> None:
    d = integration_from_config(DiscordIntegration, reference.config)
    reference.vendor.clear()
    await d.notify(ctx(), to_alerts(api_alerts(2, ends_at=FAR_FUTURE if status == "firing" else RESOLVED_AT)))
    same_request(
        reference.vendor.requests[0], (reference.firing if status == "firing" else reference.resolved)[0]
    )
