"""Mattermost and Rocket.Chat against local stand-ins (upstream-only integrations: the
expected payloads are upstream's structures, field for field and in their order)."""

from __future__ import annotations

from typing import Any

import pytest
from ampp.notify.integrations.mattermost import MattermostIntegration
from ampp.notify.integrations.rocketchat import RocketchatIntegration
from ampp.notify.stage import NotifyError

from tests.support.integrations import build_integration, ctx
from tests.support.vendors import (
    Reply,
    VendorServer,
    api_alerts,
    to_alerts,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("built_integrations")]


def build(kind: str, receiver_yaml: str) -> Any:
    cls = {"mattermost": MattermostIntegration, "rocketchat": RocketchatIntegration}[kind]
    return build_integration(cls, receiver_yaml)


MATTERMOST = """\
  mattermost_configs:
  - webhook_url: '{url}/hooks/xyz'
    channel: town-square
    username: ampp
    icon_emoji: ':fire:'
    text: 'Disk full'
    fallback: fb
    color: '#FF0000'
    title: Disk
    title_link: http://grafana.example
    fields:
    - title: Severity
      value: critical
      short: true
    priority:
      priority: URGENT
      requested_ack: true
      persistent_notifications: true
    props:
      card: '**details**'
"""


async def test_mattermost_message(vendor: VendorServer) -> None:
    m = build("mattermost", MATTERMOST.replace("{url}", vendor.url))
    await m.notify(ctx(), to_alerts(api_alerts(1)))
    (req,) = vendor.requests
    assert req.path == "/hooks/xyz"
    assert req.body.decode() == (
        '{"channel":"town-square","username":"ampp","icon_emoji":":fire:","attachments":[{"fallback":"fb",'
        '"color":"#FF0000","text":"Disk full","title":"Disk","title_link":"http://grafana.example",'
        '"fields":[{"title":"Severity","value":"critical","short":true}]}],"props":{"card":"**details**"},'
        '"priority":{"priority":"urgent","requested_ack":true,"persistent_notifications":true}}\n'
    )


async def test_mattermost_attachments_put_the_text_on_top_and_priorities_are_checked(
    vendor: VendorServer,
) -> None:
    m = build(
        "mattermost",
        f"  mattermost_configs:\n  - webhook_url: {vendor.url}/hooks/x\n    text: '{'t' * 17000}'\n"
        "    attachments:\n    - title: A\n      text: a\n    - title: B\n"
        "    priority: {priority: bogus, requested_ack: true, persistent_notifications: true}\n",
    )
    await m.notify(ctx(), to_alerts(api_alerts(1)))
    body = vendor.requests[0].json()
    assert body["text"] == "t" * 16382 + "\u2026"
    assert body["attachments"] == [{"text": "a", "title": "A"}, {"title": "B"}]
    assert body["priority"] == {"priority": "standard"}  # ack and persistence need more


async def test_mattermost_failure(vendor: VendorServer) -> None:
    m = build("mattermost", f"  mattermost_configs:\n  - webhook_url: {vendor.url}/hooks/x\n    channel: c\n")
    vendor.reply("/hooks/x", Reply(400, "Unable to parse incoming data"))
    with pytest.raises(NotifyError) as e:
        await m.notify(ctx(), to_alerts(api_alerts(1)))
    assert not e.value.retry
    assert str(e.value) == 'channel "c": unexpected status code 400: Unable to parse incoming data'


ROCKETCHAT = """\
  rocketchat_configs:
  - api_url: '{url}/rc/'
    token: t0k3n
    token_id: us3r1d
    channel: '#alerts'
    title: Disk
    title_link: http://grafana.example
    text: full
    emoji: ':fire:'
    icon_url: http://img.example/a.png
    color: red
    short_fields: true
    fields:
    - title: Severity
      value: critical
    - title: Team
      value: storage
      short: false
    actions:
    - text: Runbook
      url: http://runbook.example
"""


async def test_rocketchat_post_message(vendor: VendorServer) -> None:
    vendor.reply("/chat.postMessage", Reply(200, {"success": True, "ts": 1}))
    rc = build("rocketchat", ROCKETCHAT.replace("{url}", vendor.url))
    await rc.notify(ctx(), to_alerts(api_alerts(1)))
    (req,) = vendor.requests
    assert req.path == "/rc/api/v1/chat.postMessage"
    assert req.headers["X-Auth-Token"] == "t0k3n" and req.headers["X-User-Id"] == "us3r1d"
    assert req.body.decode() == (
        '{"channel":"#alerts","emoji":":fire:","avatar":"http://img.example/a.png","attachments":[{'
        '"title":"Disk","title_link":"http://grafana.example","text":"full","color":"red",'
        '"fields":[{"short":true,"title":"Severity","value":"critical"},{"short":false,"title":"Team",'
        '"value":"storage"}],"actions":[{"type":"button","text":"Runbook","url":"http://runbook.example",'
        '"is_webview":false,"msg_in_chat_window":false}]}]}\n'
    )


async def test_rocketchat_refusal_in_a_200(vendor: VendorServer) -> None:
    vendor.reply("/chat.postMessage", Reply(200, {"success": False, "error": "error-invalid-channel"}))
    rc = build("rocketchat", ROCKETCHAT.replace("{url}", vendor.url))
    with pytest.raises(NotifyError) as e:
        await rc.notify(ctx(), to_alerts(api_alerts(1)))
    assert not e.value.retry
    assert str(e.value) == 'channel "#alerts": error response from Rocketchat: error-invalid-channel'
    vendor.reply("/chat.postMessage", Reply(200, "<html>proxy</html>", content_type="text/html"))
    with pytest.raises(NotifyError) as e:
        await rc.notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry
