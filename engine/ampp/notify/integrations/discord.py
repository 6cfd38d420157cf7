"""Discord webhooks, as Alertmanager's notify/discord: one embed, coloured by status.

The embed's title (256 characters at most) and description (4096) come from ``title`` and
``message``; ``content`` (2000) is the plain text above it. Red while firing, green once
resolved. ``username`` and ``avatar_url`` override the webhook's own, as given (not
templated, as upstream). 5xx retry; a 429 retries after Discord's Retry-After.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from ...config.notifiers import DiscordConfig
from ...model.alert import Alert
from ..gojson import go_json
from ..http import check_response
from ..stage import FlushContext
from ._common import HTTPIntegration, alerts_status, read_secret_file, truncate_in_runes

log = logging.getLogger("ampp.notify.discord")

MAX_TITLE_RUNES = 256
MAX_DESCRIPTION_RUNES = 4096
MAX_CONTENT_RUNES = 2000

COLOR_RED = 0x992D22
COLOR_GREEN = 0x2ECC71


class DiscordIntegration(HTTPIntegration[DiscordConfig]):
    name = "discord"

    def _url(self) -> str:
        if self.conf.webhook_url:
            return str(self.conf.webhook_url)
        return read_secret_file(self.conf.webhook_url_file, "webhook_url_file")

    async def notify(self, ctx: FlushContext, alerts: Sequence[Alert]) -> None:
        c = self.conf
        r = self.renderer(ctx, alerts)
        title, cut = truncate_in_runes(r.text(c.title, "title"), MAX_TITLE_RUNES)
        if cut:
            log.warning("Truncated title key=%s max_runes=%d", ctx.group_key, MAX_TITLE_RUNES)
        description, cut = truncate_in_runes(r.text(c.message, "message"), MAX_DESCRIPTION_RUNES)
        if cut:
            log.warning("Truncated message key=%s max_runes=%d", ctx.group_key, MAX_DESCRIPTION_RUNES)
        content, cut = truncate_in_runes(r.text(c.content, "content"), MAX_CONTENT_RUNES)
        if cut:
            log.warning("Truncated content key=%s max_runes=%d", ctx.group_key, MAX_CONTENT_RUNES)
        color = COLOR_RED if alerts_status(alerts, ctx.now) == "firing" else COLOR_GREEN
        body: dict[str, Any] = {
            "content": content,
            "embeds": [{"title": title, "description": description, "color": color}],
        }
        if c.username:
            body["username"] = c.username
        if c.avatar_url:
            try:
                urlsplit(c.avatar_url)
                body["avatar_url"] = c.avatar_url
            except ValueError:
                log.warning("Bad avatar url key=%s", ctx.group_key)
        resp = await self.sender.post(self._url(), go_json(body), secret_url=True)
        check_response(resp)
