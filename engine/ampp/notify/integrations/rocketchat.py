"""Rocket.Chat chat.postMessage with a personal access token, as upstream's notify/rocketchat.

One message with one attachment (title cut at 1024 characters, title_link, text, image,
thumb, colour, fields with short defaulting to ``short_fields``, buttons), the token and user
id in X-Auth-Token and X-User-Id. Rocket.Chat may refuse with a 200 and
``{"success": false, "error": ...}``: that is a permanent failure; an unreadable answer
retries, as do 5xx.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson

from ...config.notifiers import RocketchatConfig
from ...model.alert import Alert
from ...model.labels import go_quote
from ..gojson import go_json
from ..http import check_response
from ..stage import FlushContext, NotifyError
from ._common import HTTPIntegration, read_secret_file, truncate_in_runes

log = logging.getLogger("ampp.notify.rocketchat")

MAX_TITLE_RUNES = 1024


def _omit(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in ("", None, [], False)}


def _join(base: str, path: str) -> str:
    parts = urlsplit(base)
    joined = parts.path.rstrip("/") + "/" + path
    return urlunsplit(parts._replace(path=joined))


class RocketchatIntegration(HTTPIntegration[RocketchatConfig]):
    name = "rocketchat"

    def _credentials(self) -> tuple[str, str]:
        c = self.conf
        token = read_secret_file(c.token_file, "token_file") if c.token_file else str(c.token or "")
        token_id = (
            read_secret_file(c.token_id_file, "token_id_file") if c.token_id_file else str(c.token_id or "")
        )
        return token, token_id

    async def notify(self, ctx: FlushContext, alerts: Sequence[Alert]) -> None:
        c = self.conf
        r = self.renderer(ctx, alerts)
        title, cut = truncate_in_runes(r.text(c.title, "title"), MAX_TITLE_RUNES)
        if cut:
            log.warning("Truncated title key=%s max_runes=%d", ctx.group_key, MAX_TITLE_RUNES)
        fields = [
            {
                "short": c.short_fields if f.short is None else f.short,
                **_omit({"title": r.text(f.title, "fields.title"), "value": r.text(f.value, "fields.value")}),
            }
            for f in c.fields
        ]
        actions = []
        for a in c.actions:
            action: dict[str, Any] = {"type": "button"}
            action.update(
                _omit({"text": r.text(a.text, "actions.text"), "url": r.text(a.url, "actions.url")})
            )
            action["is_webview"] = False
            action.update(_omit({"msg": r.text(a.msg, "actions.msg")}))
            action["msg_in_chat_window"] = False
            actions.append(action)
        attachment = _omit(
            {
                "title": title,
                "title_link": r.text(c.title_link, "title_link"),
                "text": r.text(c.text, "text"),
                "image_url": r.text(c.image_url, "image_url"),
                "thumb_url": r.text(c.thumb_url, "thumb_url"),
                "color": r.text(c.color, "color"),
                "fields": fields,
                "actions": actions,
            }
        )
        channel = r.text(c.channel, "channel")
        body = _omit(
            {
                "channel": channel,
                "emoji": r.text(c.emoji, "emoji"),
                "avatar": r.text(c.icon_url, "icon_url"),
                "attachments": [attachment],
            }
        )
        token, token_id = self._credentials()
        url = _join(str(c.api_url), "api/v1/chat.postMessage")
        resp = await self.sender.post(
            url, go_json(body), headers={"X-Auth-Token": token, "X-User-Id": token_id}
        )
        prefix = f"channel {go_quote(channel)}: "
        check_response(resp, prefix=prefix)
        _check_body(resp, prefix)


def _check_body(resp: httpx.Response, prefix: str) -> None:
    try:
        data = orjson.loads(resp.content)
    except orjson.JSONDecodeError as e:
        raise NotifyError(f"{prefix}could not unmarshal JSON response {go_quote(resp.text)}: {e}") from None
    if not isinstance(data, dict) or not data.get("success"):
        error = data.get("error", "") if isinstance(data, dict) else ""
        raise NotifyError(f"{prefix}error response from Rocketchat: {error}", retry=False)
