"""Pushover messages API, as Alertmanager's notify/pushover sends them.

Everything travels in the query string of a bodiless POST (upstream's choice, kept: Pushover
accepts it): token, user, title (250 characters at most), message (1024, rendered as HTML
with ``html``; an empty one becomes "(no details)", which Pushover requires), url (512),
url_title, priority, retry and expire in seconds, device, sound, ttl when set. The URL holds
the secrets, so it is never shown in errors. 5xx retry; a 429 retries after Retry-After.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from ...config.notifiers import PushoverConfig
from ...model.alert import Alert
from ..http import check_response
from ..stage import FlushContext
from ._common import HTTPIntegration, secret, truncate_in_runes

log = logging.getLogger("ampp.notify.pushover")

MAX_TITLE_RUNES = 250
MAX_MESSAGE_RUNES = 1024
MAX_URL_RUNES = 512


class PushoverIntegration(HTTPIntegration[PushoverConfig]):
    name = "pushover"

    API_URL = "https://api.pushover.net/1/messages.json"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.api_url = self.API_URL

    async def notify(self, ctx: FlushContext, alerts: Sequence[Alert]) -> None:
        c = self.conf
        r = self.renderer(ctx, alerts)
        params: list[tuple[str, str]] = [
            ("token", r.text(secret(c.token, c.token_file, "token_file"), "token")),
            ("user", r.text(secret(c.user_key, c.user_key_file, "user_key_file"), "user_key")),
        ]
        title, cut = truncate_in_runes(r.text(c.title, "title"), MAX_TITLE_RUNES)
        if cut:
            log.warning("Truncated title incident=%s max_runes=%d", ctx.group_key, MAX_TITLE_RUNES)
        params.append(("title", title))
        if c.html:
            params.append(("html", "1"))
            message = r.html(c.message, "message")
        else:
            message = r.text(c.message, "message")
        if c.monospace:
            params.append(("monospace", "1"))
        message, cut = truncate_in_runes(message, MAX_MESSAGE_RUNES)
        if cut:
            log.warning("Truncated message incident=%s max_runes=%d", ctx.group_key, MAX_MESSAGE_RUNES)
        params.append(("message", message.strip() or "(no details)"))
        url, cut = truncate_in_runes(r.text(c.url, "url"), MAX_URL_RUNES)
        if cut:
            log.warning("Truncated URL incident=%s max_runes=%d", ctx.group_key, MAX_URL_RUNES)
        params += [
            ("url", url),
            ("url_title", r.text(c.url_title, "url_title")),
            ("priority", r.text(c.priority, "priority")),
            ("retry", str(int(c.retry))),
            ("expire", str(int(c.expire))),
            ("device", r.text(c.device, "device")),
            ("sound", r.text(c.sound, "sound")),
        ]
        if int(c.ttl) > 0:
            params.append(("ttl", str(int(c.ttl))))
        query = urlencode(sorted(params, key=lambda kv: kv[0]))  # url.Values.Encode sorts by key
        resp = await self.sender.post(f"{self.api_url}?{query}", b"", "text/plain", secret_url=True)
        check_response(resp)
