"""Mattermost incoming webhooks, as upstream Alertmanager's notify/mattermost.

One message: with ``attachments`` configured, each is rendered and the text goes at the top
level (cut at 16383 characters); without, one attachment is built from the top-level fields
and carries the text. ``priority`` is normalised to urgent, important or standard (an
unknown one becomes standard; requested_ack needs more than standard, persistent
notifications need urgent). 5xx retry; a 429 retries after Retry-After.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ...config.notifiers import MattermostConfig
from ...model.alert import Alert
from ...model.labels import go_quote
from ..gojson import go_json
from ..http import check_response
from ..stage import FlushContext, NotifyError
from ._common import HTTPIntegration, Renderer, read_secret_file, truncate_in_runes

log = logging.getLogger("ampp.notify.mattermost")

MAX_TEXT_RUNES = 16383
PRIORITIES = ("urgent", "important", "standard")


def _omit(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in ("", None, [], False)}


class MattermostIntegration(HTTPIntegration[MattermostConfig]):
    name = "mattermost"

    def _url(self) -> str:
        c = self.conf
        url = (
            str(c.webhook_url) if c.webhook_url else read_secret_file(c.webhook_url_file, "webhook_url_file")
        )
        if not url:
            raise NotifyError("webhook url missing", retry=False)
        return url

    @staticmethod
    def _fields(r: Renderer, fields: Sequence[Any]) -> list[dict[str, Any]]:
        out = []
        for f in fields:
            item = _omit({"title": r.text(f.title, "fields.title"), "value": r.text(f.value, "fields.value")})
            if f.short is not None:
                item["short"] = f.short
            out.append(item)
        return out

    def _attachment(self, r: Renderer, a: Any, text: str | None = None) -> dict[str, Any]:
        return _omit(
            {
                "fallback": r.text(a.fallback, "fallback"),
                "color": r.text(a.color, "color"),
                "pretext": r.text(a.pretext, "pretext"),
                "text": text if text is not None else r.text(a.text, "attachments.text"),
                "author_name": r.text(a.author_name, "author_name"),
                "author_link": r.text(a.author_link, "author_link"),
                "author_icon": r.text(a.author_icon, "author_icon"),
                "title": r.text(a.title, "title"),
                "title_link": r.text(a.title_link, "title_link"),
                "fields": self._fields(r, a.fields),
                "thumb_url": r.text(a.thumb_url, "thumb_url"),
                "footer": r.text(a.footer, "footer"),
                "footer_icon": r.text(a.footer_icon, "footer_icon"),
                "image_url": r.text(a.image_url, "image_url"),
            }
        )

    def _request(self, r: Renderer, group_key: str) -> dict[str, Any]:
        c = self.conf
        text = r.text(c.text, "text")
        top_text = ""
        if c.attachments:
            attachments = [self._attachment(r, a) for a in c.attachments]
            top_text = text
        else:
            attachments = [self._attachment(r, c, text)]
        top_text, cut = truncate_in_runes(top_text, MAX_TEXT_RUNES)
        if cut:
            log.warning("Truncated text key=%s max_runes=%d", group_key, MAX_TEXT_RUNES)
        req = _omit(
            {
                "text": top_text,
                "channel": r.text(c.channel, "channel"),
                "username": r.text(c.username, "username"),
                "icon_url": r.text(c.icon_url, "icon_url"),
                "icon_emoji": r.text(c.icon_emoji, "icon_emoji"),
                "attachments": attachments,
                "type": r.text(c.type, "type"),
            }
        )
        if c.props is not None and c.props.card:
            req["props"] = {"card": r.text(c.props.card, "props.card")}
        if c.priority is not None and c.priority.priority:
            priority = r.text(c.priority.priority, "priority").lower()
            if priority not in PRIORITIES:
                log.warning("Priority is set to standard due to invalid value key=%s", group_key)
                priority = "standard"
            ack = c.priority.requested_ack and priority != "standard"
            persistent = c.priority.persistent_notifications and priority == "urgent"
            req["priority"] = _omit(
                {"priority": priority, "requested_ack": ack, "persistent_notifications": persistent}
            )
        return req

    async def notify(self, ctx: FlushContext, alerts: Sequence[Alert]) -> None:
        url = self._url()
        req = self._request(self.renderer(ctx, alerts), ctx.group_key)
        resp = await self.sender.post(url, go_json(req), secret_url=True)
        check_response(resp, prefix=f"channel {go_quote(req.get('channel', ''))}: ")
