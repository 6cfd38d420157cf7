"""Slack: an incoming webhook (api_url) or the Web API's chat.postMessage with an app token.

As Alertmanager's notify/slack: one message with one attachment, every field rendered from
its template, the title cut at 1024 characters. Slack answers an incoming webhook with the
text ``ok`` and the Web API with ``{"ok": ...}`` and status 200 even on failure, so a 2xx is
only a success once the body says so (upstream's slackResponseHandler). With
``update_message`` the first message of a group is edited afterwards (chat.update) rather
than a new one posted; the message's channel and timestamp are kept per group key.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import httpx
import orjson

from ...config.notifiers import SlackConfig
from ...model.alert import Alert
from ...model.labels import go_quote
from ..gojson import go_json
from ..http import check_response
from ..stage import FlushContext, NotifyError
from ._common import HTTPIntegration, Renderer, read_secret_file, truncate_in_runes

log = logging.getLogger("ampp.notify.slack")

MAX_TITLE_RUNES = 1024
"""https://api.slack.com/reference/messaging/attachments#legacy_fields"""

UPDATE_URL = "https://slack.com/api/chat.update"


def _omit_empty(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in ("", None, [], False)}


class SlackIntegration(HTTPIntegration[SlackConfig]):
    name = "slack"

    def timeout(self) -> float | None:
        return self.conf.timeout or None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.update_url = UPDATE_URL
        self._messages: dict[str, tuple[str, str]] = {}
        """group key -> (channel id, message ts) of the message update_message edits."""

    def _url(self) -> str:
        if self.conf.api_url:
            return str(self.conf.api_url)
        return read_secret_file(self.conf.api_url_file, "api_url_file")

    def _attachment(self, r: Renderer, group_key: str) -> dict[str, Any]:
        c = self.conf
        title, truncated = truncate_in_runes(r.text(c.title, "title"), MAX_TITLE_RUNES)
        if truncated:
            log.warning("Truncated title key=%s max_runes=%d", group_key, MAX_TITLE_RUNES)
        fields = [
            {
                # SlackField: title and value omitempty, short a pointer (always present here)
                **_omit_empty(
                    {"title": r.text(f.title, "fields.title"), "value": r.text(f.value, "fields.value")}
                ),
                "short": c.short_fields if f.short is None else f.short,
            }
            for f in c.fields
        ]
        actions = []
        for a in c.actions:
            action = _omit_empty(
                {
                    "type": r.text(a.type, "actions.type"),
                    "text": r.text(a.text, "actions.text"),
                    "url": r.text(a.url, "actions.url"),
                    "style": r.text(a.style, "actions.style"),
                    "name": r.text(a.name, "actions.name"),
                    "value": r.text(a.value, "actions.value"),
                }
            )
            if a.confirm is not None:
                action["confirm"] = _omit_empty(
                    {
                        "text": r.text(a.confirm.text, "actions.confirm.text"),
                        "title": r.text(a.confirm.title, "actions.confirm.title"),
                        "ok_text": r.text(a.confirm.ok_text, "actions.confirm.ok_text"),
                        "dismiss_text": r.text(a.confirm.dismiss_text, "actions.confirm.dismiss_text"),
                    }
                )
            actions.append(action)
        att: dict[str, Any] = {}
        att.update(
            _omit_empty(
                {
                    "title": title,
                    "title_link": r.text(c.title_link, "title_link"),
                    "pretext": r.text(c.pretext, "pretext"),
                }
            )
        )
        att["text"] = r.text(c.text, "text")
        att["fallback"] = r.text(c.fallback, "fallback")
        att["callback_id"] = r.text(c.callback_id, "callback_id")
        att.update(
            _omit_empty(
                {
                    "fields": fields,
                    "actions": actions,
                    "image_url": r.text(c.image_url, "image_url"),
                    "thumb_url": r.text(c.thumb_url, "thumb_url"),
                }
            )
        )
        att["footer"] = r.text(c.footer, "footer")
        att.update(
            _omit_empty(
                {
                    "color": r.text(c.color, "color"),
                    "mrkdwn_in": list(c.mrkdwn_in) or ["fallback", "pretext", "text"],
                }
            )
        )
        return att

    async def notify(self, ctx: FlushContext, alerts: Sequence[Alert]) -> None:
        c = self.conf
        r = self.renderer(ctx, alerts)
        attachment = self._attachment(r, ctx.group_key)
        url = self._url()
        req: dict[str, Any] = {"channel": r.text(c.channel, "channel")}
        update = self._messages.get(ctx.group_key) if c.update_message else None
        if update is not None:
            url = self.update_url
            req = {"channel": update[0], "ts": update[1]}
        req.update(
            {
                "username": r.text(c.username, "username"),
                "icon_emoji": r.text(c.icon_emoji, "icon_emoji"),
                "icon_url": r.text(c.icon_url, "icon_url"),
                "link_names": c.link_names,
                "text": r.text(c.message_text, "message_text"),
            }
        )
        body = {**_omit_empty(req), "attachments": [attachment]}
        resp = await self.sender.post(url, go_json(body), secret_url=True)
        channel = req["channel"]
        check_response(resp, prefix=f"channel {go_quote(channel)}: ")
        reply = self._check_body(resp, channel)
        if c.update_message and reply is not None:
            ts, chan = reply.get("ts"), reply.get("channel")
            if isinstance(ts, str) and isinstance(chan, str) and ts and chan:
                self._messages[ctx.group_key] = (chan, ts)

    @staticmethod
    def _check_body(resp: httpx.Response, channel: str) -> dict[str, Any] | None:
        """A 2xx from Slack: JSON ``{"ok": false}`` and any text but ``ok`` are failures."""
        prefix = f"channel {go_quote(channel)}: "
        if not resp.headers.get("Content-Type", "").startswith("application/json"):
            if resp.content != b"ok":
                raise NotifyError(f"{prefix}received an error response from Slack: {resp.text}", retry=False)
            return None
        try:
            data = orjson.loads(resp.content)
        except orjson.JSONDecodeError as e:
            raise NotifyError(
                f"{prefix}could not unmarshal JSON response {go_quote(resp.text)}: {e}"
            ) from None
        if not isinstance(data, dict) or not data.get("ok"):
            error = data.get("error", "") if isinstance(data, dict) else ""
            raise NotifyError(f"{prefix}error response from Slack: {error}", retry=False)
        return data
