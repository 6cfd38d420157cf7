"""Discord against a local stand-in webhook, and side by side with Alertmanager 0.25."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from ampp.config.loader import load_text
from ampp.model.timefmt import now_ns
from ampp.notify.integrations._common import RetryLater
from ampp.notify.integrations.discord import DiscordIntegration
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

_made: list[DiscordIntegration] = []


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


def discord(receiver_yaml: str) -> DiscordIntegration:
    cfg = load_text(reference_config(receiver_yaml))
    d = DiscordIntegration(
        0, cfg.alerting.receivers[0].discord_configs[0], "team-a", EXTERNAL_URL, Templates.load([])
    )
    _made.append(d)
    return d


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
    with pytest.raises(RetryLater) as rl:
        await d.notify(ctx(), to_alerts(api_alerts(1)))
    assert rl.value.retry_after == 2.0
    bad = discord("  discord_configs:\n  - webhook_url: http://127.0.0.1:1/discord/1/SECRET\n    title: t\n")
    with pytest.raises(NotifyError) as e:
        await bad.notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry and "SECRET" not in str(e.value)


COMPARED = """\
  discord_configs:
  - webhook_url: {url}/discord/42/T0K3N
    title: '{{ .CommonLabels.alertname }} on {{ len .Alerts }} hosts'
"""


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceRun]:
    REFERENCE.require()
    with VendorServer() as v:
        yield capture_reference(COMPARED, tmp_path_factory.mktemp("discord-ref"), v)


@pytest.mark.parametrize("status", ["firing", "resolved"])
async def test_same_request_as_alertmanager(reference: ReferenceRun, status: str) -> None:
    conf = load_text(reference.config).alerting.receivers[0].discord_configs[0]
    d = DiscordIntegration(0, conf, "team-a", EXTERNAL_URL, Templates.load([]))
    _made.append(d)
    reference.vendor.clear()
    await d.notify(ctx(), to_alerts(api_alerts(2, ends_at=FAR_FUTURE if status == "firing" else RESOLVED_AT)))
    same_request(
        reference.vendor.requests[0], (reference.firing if status == "firing" else reference.resolved)[0]
    )
