"""Webex Teams messages, as Alertmanager's notify/webex: Markdown to one room.

``{"markdown": ..., "roomId": ...}`` to the messages API with the bot token as the
http_config authorization; the message is cut at 7439 bytes (Webex's limit). 5xx retry;
a 429 retries after Retry-After.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ...config.notifiers import WebexConfig
from ...model.alert import Alert
from ..gojson import go_json
from ..http import check_response
from ..stage import FlushContext
from ._common import HTTPIntegration, truncate_in_bytes

log = logging.getLogger("ampp.notify.webex")

MAX_MESSAGE_BYTES = 7439


class WebexIntegration(HTTPIntegration[WebexConfig]):
    name = "webex"

    async def notify(self, ctx: FlushContext, alerts: Sequence[Alert]) -> None:
        c = self.conf
        r = self.renderer(ctx, alerts)
        message, cut = truncate_in_bytes(r.text(c.message, "message"), MAX_MESSAGE_BYTES)
        if cut:
            log.debug("message truncated due to exceeding maximum allowed length by webex")
        body: dict[str, Any] = {"markdown": message}
        room = r.text(c.room_id, "room_id")
        if room:
            body["roomId"] = room
        resp = await self.sender.post(str(c.api_url), go_json(body))
        check_response(resp)
