"""Telegram against a local stand-in of the Bot API, and side by side with Alertmanager 0.25."""

from __future__ import annotations

from pathlib import Path

import pytest
from ampp.notify.integrations.telegram import HTML_TOO_LONG, TelegramIntegration
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


def telegram(receiver_yaml: str) -> TelegramIntegration:
    return build_integration(TelegramIntegration, receiver_yaml)


async def test_send_message(vendor: VendorServer) -> None:
    t = telegram(
        f"  telegram_configs:\n  - api_url: {vendor.url}\n    bot_token: '123:ABC'\n    chat_id: -1001\n"
        "    message: 'Disk <b>full</b>'\n    parse_mode: ''\n    disable_notifications: true\n"
        "    message_thread_id: 9\n"
    )
    await t.notify(ctx(), to_alerts(api_alerts(1)))
    (req,) = vendor.requests
    assert req.path == "/bot123:ABC/sendMessage" and req.headers["Content-Type"] == "application/json"
    # telebot's parameters: a JSON object of strings, keys sorted
    assert req.body == (
        b'{"chat_id":"-1001","disable_notification":"true","disable_web_page_preview":"true",'
        b'"message_thread_id":"9","text":"Disk \\u003cb\\u003efull\\u003c/b\\u003e"}\n'
    )


async def test_html_mode_escapes_what_alerts_carry(vendor: VendorServer) -> None:
    t = telegram(
        f"  telegram_configs:\n  - api_url: {vendor.url}\n    bot_token: t\n    chat_id: 1\n"
        "    message: '<b>{{ .CommonAnnotations.description }}</b>'\n"
    )
    await t.notify(ctx(), to_alerts(api_alerts(1)))
    body = vendor.requests[0].json()
    assert body["parse_mode"] == "HTML"
    assert body["text"] == "<b>Less than &lt;5%&gt; &amp; falling</b>"


async def test_long_messages(vendor: VendorServer) -> None:
    plain = telegram(
        f"  telegram_configs:\n  - api_url: {vendor.url}\n    bot_token: t\n    chat_id: 1\n"
        f"    parse_mode: Markdown\n    message: '{'x' * 5000}'\n"
    )
    await plain.notify(ctx(), to_alerts(api_alerts(1)))
    assert vendor.requests[0].json()["text"] == "x" * 4095 + "\u2026"
    html = telegram(
        f"  telegram_configs:\n  - api_url: {vendor.url}\n    bot_token: t\n    chat_id: 1\n"
        f"    message: '<b>{'x' * 5000}</b>'\n"
    )
    await html.notify(ctx(), to_alerts(api_alerts(1)))
    assert vendor.requests[1].json()["text"] == HTML_TOO_LONG  # a cut would break the markup


async def test_token_and_chat_from_files(vendor: VendorServer, tmp_path: Path) -> None:
    (tmp_path / "token").write_text("999:XYZ\n")
    (tmp_path / "chat").write_text(" -42 \n")
    t = telegram(
        f"  telegram_configs:\n  - api_url: {vendor.url}\n    bot_token_file: {tmp_path / 'token'}\n"
        f"    chat_id_file: {tmp_path / 'chat'}\n    message: hi\n"
    )
    await t.notify(ctx(), to_alerts(api_alerts(1)))
    req = vendor.requests[0]
    assert req.path == "/bot999:XYZ/sendMessage" and req.json()["chat_id"] == "-42"


async def test_telegram_errors(vendor: VendorServer) -> None:
    t = telegram(
        f"  telegram_configs:\n  - api_url: {vendor.url}\n"
        "    bot_token: S3CR3T\n    chat_id: 1\n    message: hi\n"
    )
    vendor.reply(
        "/sendMessage",
        Reply(400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}),
    )
    with pytest.raises(NotifyError) as e:
        await t.notify(ctx(), to_alerts(api_alerts(1)))
    assert not e.value.retry and str(e.value) == "telegram: Bad Request: chat not found (400)"
    vendor.reply(
        "/sendMessage",
        Reply(
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 5",
                "parameters": {"retry_after": 5},
            },
        ),
    )
    with pytest.raises(NotifyError) as rl:
        await t.notify(ctx(), to_alerts(api_alerts(1)))
    assert rl.value.retry_after == 5.0
    vendor.reply("/sendMessage", Reply(502, "<html>bad gateway</html>", content_type="text/html"))
    with pytest.raises(NotifyError) as e:
        await t.notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry
    bad = telegram(
        "  telegram_configs:\n  - api_url: http://127.0.0.1:1\n    bot_token: S3CR3T\n    chat_id: 1\n"
    )
    with pytest.raises(NotifyError) as e:
        await bad.notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry and "S3CR3T" not in str(e.value)  # the token is part of the URL


COMPARED = Compared(
    """\
  telegram_configs:
  - api_url: {url}
    bot_token: '123456:ABC-DEF'
    chat_id: -1001234567890
"""
)


@pytest.mark.parametrize("status", ["firing", "resolved"])
async def test_same_request_as_alertmanager(reference: ReferenceRun, status: str) -> None:
    t = integration_from_config(TelegramIntegration, reference.config)
    reference.vendor.clear()
    await t.notify(ctx(), to_alerts(api_alerts(2, ends_at=FAR_FUTURE if status == "firing" else RESOLVED_AT)))
    theirs = (reference.firing if status == "firing" else reference.resolved)[0]
    same_request(reference.vendor.requests[0], theirs, headers=("Content-Type",))
