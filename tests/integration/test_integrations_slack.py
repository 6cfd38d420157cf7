"""Slack against a local stand-in: the message, webhook and app-token modes, Slack's answers.

The last tests run the real Alertmanager 0.25 with the same receiver pointed at the same
stand-in and compare what both send for the same alerts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ampp.config.base import Secret
from ampp.notify.integrations.slack import SlackIntegration
from ampp.notify.stage import NotifyError

from tests.support.integrations import Compared, build_integration, ctx, integration_from_config
from tests.support.vendors import (
    EXTERNAL_URL,
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


def slack(receiver_yaml: str, global_yaml: str = "") -> SlackIntegration:
    return build_integration(SlackIntegration, receiver_yaml, global_yaml)


PLAIN = """\
  slack_configs:
  - api_url: {url}/slack/T000/B000/XXX
    channel: '#alerts'
    username: ampp
    title: Disk is full
    title_link: http://grafana.example/d/disk
    pretext: pre
    text: body
    fallback: fb
    callback_id: cb
    footer: foot
    icon_emoji: ':fire:'
    color: danger
    link_names: true
    short_fields: true
    fields:
    - title: Severity
      value: critical
    - title: Team
      value: storage
      short: false
    actions:
    - type: button
      text: Runbook
      url: http://runbook.example/disk
      style: primary
    - type: button
      text: Ack
      name: ack
      value: 'yes'
      confirm:
        text: Sure?
        ok_text: 'Yes'
"""


async def test_webhook_message_is_alertmanagers(vendor: VendorServer) -> None:
    s = slack(PLAIN.replace("{url}", vendor.url))
    await s.notify(ctx(), to_alerts(api_alerts(2)))
    (req,) = vendor.requests
    assert req.method == "POST" and req.path == "/slack/T000/B000/XXX"
    assert req.headers["Content-Type"] == "application/json"
    assert req.headers["User-Agent"].startswith("Alertmanager/")
    assert "Authorization" not in req.headers
    assert req.body.endswith(b"}\n")  # Go's json.Encoder
    assert req.json() == {
        "channel": "#alerts",
        "username": "ampp",
        "icon_emoji": ":fire:",
        "link_names": True,
        "attachments": [
            {
                "title": "Disk is full",
                "title_link": "http://grafana.example/d/disk",
                "pretext": "pre",
                "text": "body",
                "fallback": "fb",
                "callback_id": "cb",
                "fields": [
                    {"title": "Severity", "value": "critical", "short": True},
                    {"title": "Team", "value": "storage", "short": False},
                ],
                "actions": [
                    {
                        "type": "button",
                        "text": "Runbook",
                        "url": "http://runbook.example/disk",
                        "style": "primary",
                    },
                    {
                        "type": "button",
                        "text": "Ack",
                        "name": "ack",
                        "value": "yes",
                        "confirm": {"text": "Sure?", "ok_text": "Yes"},
                    },
                ],
                "footer": "foot",
                "color": "danger",
                "mrkdwn_in": ["fallback", "pretext", "text"],
            }
        ],
    }
    # Go's field order, so the bytes match Alertmanager's, not only the JSON value
    assert list(req.json()) == ["channel", "username", "icon_emoji", "link_names", "attachments"]


async def test_default_templates(vendor: VendorServer) -> None:
    s = slack(f"  slack_configs:\n  - api_url: {vendor.url}/slack/x\n")
    await s.notify(ctx(), to_alerts(api_alerts(2)))
    body = vendor.requests[0].json()
    att = body["attachments"][0]
    assert att["title"] == "[FIRING:2] Disk (critical)"
    assert att["title_link"] == f"{EXTERNAL_URL}/#/alerts?receiver=team-a"
    assert att["color"] == "danger"
    assert att["text"] == ""
    assert att["fallback"] == (f"[FIRING:2] Disk (critical) | {EXTERNAL_URL}/#/alerts?receiver=team-a")
    assert att["footer"] == "" and att["callback_id"] == ""
    assert body["username"] == "Alertmanager"  # ...the rest of the defaults are empty
    assert set(body) == {"username", "attachments"}


async def test_title_is_cut_at_1024_characters(vendor: VendorServer) -> None:
    long_title = "\u00e9" * 1100
    s = slack(f"  slack_configs:\n  - api_url: {vendor.url}/slack/x\n    title: '{long_title}'\n")
    await s.notify(ctx(), to_alerts(api_alerts(1)))
    title = vendor.requests[0].json()["attachments"][0]["title"]
    assert len(title) == 1024 and title.endswith("\u2026") and title[:-1] == "\u00e9" * 1023


async def test_api_url_file_is_read_at_send_time(vendor: VendorServer, tmp_path: Path) -> None:
    f = tmp_path / "slack-url"
    f.write_text(f"{vendor.url}/slack/first\n")
    s = slack(f"  slack_configs:\n  - api_url_file: {f}\n")
    await s.notify(ctx(), to_alerts(api_alerts(1)))
    f.write_text(f"{vendor.url}/slack/rotated")
    await s.notify(ctx(), to_alerts(api_alerts(1)))
    assert [r.path for r in vendor.requests] == ["/slack/first", "/slack/rotated"]


async def test_app_token_posts_to_chat_post_message_with_bearer(vendor: VendorServer) -> None:
    s = slack(
        "  slack_configs:\n  - app_token: xoxb-123\n    channel: '#ops'\n",
        f"  slack_app_url: {vendor.url}/api/chat.postMessage\n",
    )
    await s.notify(ctx(), to_alerts(api_alerts(1)))
    (req,) = vendor.requests
    assert req.path == "/api/chat.postMessage"
    assert req.headers["Authorization"] == "Bearer xoxb-123"
    assert req.json()["channel"] == "#ops"
    # Slack's Web API says 200 even when it refuses: the body decides
    vendor.reply("/api/chat.postMessage", Reply(200, {"ok": False, "error": "channel_not_found"}))
    with pytest.raises(NotifyError) as e:
        await s.notify(ctx(), to_alerts(api_alerts(1)))
    assert not e.value.retry
    assert str(e.value) == 'channel "#ops": error response from Slack: channel_not_found'


async def test_webhook_answer_other_than_ok_is_a_failure(vendor: VendorServer) -> None:
    s = slack(f"  slack_configs:\n  - api_url: {vendor.url}/slack/x\n    channel: '#c'\n")
    vendor.reply("/slack/x", Reply(200, "invalid_payload", content_type="text/html"))
    with pytest.raises(NotifyError) as e:
        await s.notify(ctx(), to_alerts(api_alerts(1)))
    assert not e.value.retry and "received an error response from Slack: invalid_payload" in str(e.value)


@pytest.mark.parametrize(
    ("reply", "retry", "text"),
    [
        (Reply(503, "upstream down"), True, 'channel "#c": unexpected status code 503: upstream down'),
        (Reply(404, "no_service"), False, 'channel "#c": unexpected status code 404: no_service'),
        (Reply(410, "channel_is_archived"), False, "410: channel_is_archived"),
    ],
)
async def test_status_codes(vendor: VendorServer, reply: Reply, retry: bool, text: str) -> None:
    s = slack(f"  slack_configs:\n  - api_url: {vendor.url}/slack/x\n    channel: '#c'\n")
    vendor.reply("/slack/x", reply)
    with pytest.raises(NotifyError) as e:
        await s.notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry is retry and text in str(e.value)
    assert e.value.retry_after is None


async def test_rate_limit_retries_after_the_delay_slack_asks(vendor: VendorServer) -> None:
    s = slack(f"  slack_configs:\n  - api_url: {vendor.url}/slack/x\n")
    vendor.reply("/slack/x", Reply(429, "rate_limited", headers={"Retry-After": "7"}))
    with pytest.raises(NotifyError) as e:
        await s.notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry and e.value.retry_after == 7.0


async def test_connection_errors_retry_and_never_show_the_url(vendor: VendorServer) -> None:
    s = slack("  slack_configs:\n  - api_url: http://127.0.0.1:1/services/T/B/SECRET\n")
    with pytest.raises(NotifyError) as e:
        await s.notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry and "SECRET" not in str(e.value) and "<redacted>" in str(e.value)


async def test_template_error_is_permanent_and_names_the_field(vendor: VendorServer) -> None:
    s = slack(
        f"  slack_configs:\n  - api_url: {vendor.url}/slack/x\n    pretext: '{{{{ .Nope.Missing }}}}'\n"
    )
    with pytest.raises(NotifyError) as e:
        await s.notify(ctx(), to_alerts(api_alerts(1)))
    assert not e.value.retry and "pretext" in str(e.value)
    assert vendor.requests == []


async def test_update_message_edits_the_groups_first_message(vendor: VendorServer) -> None:
    s = slack(
        "  slack_configs:\n  - api_url: https://slack.com/api/chat.postMessage\n"
        "    http_config: {authorization: {credentials: xoxb-1}}\n"
        "    channel: '#ops'\n    update_message: true\n"
    )
    s.conf.api_url = Secret(f"{vendor.url}/api/chat.postMessage")  # the stand-in plays slack.com
    s.update_url = f"{vendor.url}/api/chat.update"
    await s.notify(ctx(), to_alerts(api_alerts(1)))
    await s.notify(ctx(), to_alerts(api_alerts(2)))
    first, second = vendor.requests
    assert first.path == "/api/chat.postMessage" and "ts" not in first.json()
    assert first.json()["channel"] == "#ops"
    assert second.path == "/api/chat.update"
    assert second.headers["Authorization"] == "Bearer xoxb-1"
    # the channel's id and the message's timestamp from Slack's first answer
    assert second.json()["channel"] == "C0123" and second.json()["ts"] == "1700000000.000100"
    assert list(second.json())[:2] == ["channel", "ts"]


# --------------------------------------------------------------------------------------------
# Side by side with Alertmanager 0.25

COMPARED = Compared(
    """\
  slack_configs:
  - api_url: {url}/slack/T000/B000/XXX
    send_resolved: true
    channel: '#alerts'
    fields:
    - title: Instances
      value: '{{ range .Alerts }}{{ .Labels.instance }} {{ end }}'
    actions:
    - type: button
      text: 'Silence {{ .CommonLabels.alertname }}'
      url: '{{ .ExternalURL }}/#/silences/new'
"""
)


@pytest.mark.parametrize("status", ["firing", "resolved"])
async def test_same_request_as_alertmanager(reference: ReferenceRun, status: str) -> None:
    s = integration_from_config(SlackIntegration, reference.config)
    ends = FAR_FUTURE if status == "firing" else RESOLVED_AT
    reference.vendor.clear()
    await s.notify(ctx(), to_alerts(api_alerts(2, ends_at=ends)))
    theirs = reference.firing if status == "firing" else reference.resolved
    same_request(reference.vendor.requests[0], theirs[0])
