"""Telegram Bot API (sendMessage), as Alertmanager's notify/telegram sends through telebot.

The request is telebot's: ``POST <api_url>/bot<token>/sendMessage`` with a JSON object of
strings (chat_id, text, parse_mode, disable_web_page_preview "true", disable_notification,
message_thread_id). The message is rendered as HTML when parse_mode is HTML (escaping what
the alerts carry); Telegram takes 4096 characters at most, so a longer text is cut, except
in HTML where a cut would break the markup and a short explanation is sent instead, as
upstream does.

Telegram answers ``{"ok": false, "error_code": ..., "description": ...}``. Alertmanager
retries every failure; here a 4xx (a wrong chat, a bad token) is permanent, a 429 retries
after the ``retry_after`` Telegram gives, and 5xx or unreadable answers retry.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import httpx
import orjson

from ...config.notifiers import TelegramConfig
from ...model.alert import Alert
from ..gojson import go_json
from ..http import parse_retry_after
from ..stage import FlushContext, NotifyError
from ._common import HTTPIntegration, read_secret_file, truncate_in_runes

log = logging.getLogger("ampp.notify.telegram")

MAX_MESSAGE_RUNES = 4096
HTML_TOO_LONG = (
    "Alertmanager notification could not be sent: message length exceeds Telegram limits.\n"
    "\t\t\tPlease check the template used for producing the message content."
)


class TelegramIntegration(HTTPIntegration[TelegramConfig]):
    name = "telegram"

    def _token(self) -> str:
        c = self.conf
        if c.bot_token_file:
            return read_secret_file(c.bot_token_file, "bot_token_file")
        return str(c.bot_token or "")

    def _chat_id(self) -> int:
        c = self.conf
        if c.chat_id_file:
            text = read_secret_file(c.chat_id_file, "chat_id_file")
            try:
                return int(text)
            except ValueError:
                raise NotifyError(
                    f"could not parse chat_id from {c.chat_id_file}: invalid syntax", retry=False
                ) from None
        return int(c.chat_id)

    async def notify(self, ctx: FlushContext, alerts: Sequence[Alert]) -> None:
        c = self.conf
        r = self.renderer(ctx, alerts)
        if c.parse_mode == "HTML":
            text = r.html(c.message, "message")
            if len(text) > MAX_MESSAGE_RUNES:
                text = HTML_TOO_LONG
        else:
            text, cut = truncate_in_runes(r.text(c.message, "message"), MAX_MESSAGE_RUNES)
            if cut:
                log.warning("Truncated message key=%s max_runes=%d", ctx.group_key, MAX_MESSAGE_RUNES)
        params = {"chat_id": str(self._chat_id()), "text": text, "disable_web_page_preview": "true"}
        if c.disable_notifications:
            params["disable_notification"] = "true"
        if c.message_thread_id:
            params["message_thread_id"] = str(c.message_thread_id)
        if c.parse_mode:
            params["parse_mode"] = c.parse_mode
        url = f"{str(c.api_url).rstrip('/')}/bot{self._token()}/sendMessage"
        resp = await self.sender.post(url, go_json(dict(sorted(params.items()))), secret_url=True)
        _check(resp)


def _check(resp: httpx.Response) -> None:
    try:
        body = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict) and body.get("ok") is True and resp.status_code // 100 == 2:
        return
    if not isinstance(body, dict):
        raise NotifyError(f"telegram: unexpected response (status {resp.status_code}): {resp.text[:512]}")
    code = int(body.get("error_code") or resp.status_code)
    message = f"telegram: {body.get('description', '')} ({code})"
    if code == 429:
        params = body.get("parameters") or {}
        after = params.get("retry_after") if isinstance(params, dict) else None
        delay = (
            float(after)
            if isinstance(after, (int, float))
            else parse_retry_after(resp.headers.get("Retry-After"))
        )
        raise NotifyError(message, retry_after=delay)
    raise NotifyError(message, retry=not 400 <= code < 500)
