"""VictorOps (Splunk On-Call) REST endpoint, as Alertmanager's notify/victorops.

``POST <api_url><api_key>/<routing_key>`` with a flat JSON object: message_type (CRITICAL
unless the template says INFO or WARNING; RECOVERY once all alerts are resolved), entity_id
(the SHA-256 of the group key, so the recovery closes the incident), entity_display_name,
state_message (20480 characters at most), monitoring_tool, and the rendered custom_fields.
The API key is in the URL: errors never show it. 5xx retry.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

from ...config.notifiers import VictorOpsConfig
from ...model.alert import Alert
from ..gojson import go_json
from ..http import check_response
from ..stage import FlushContext
from ._common import HTTPIntegration, alerts_status, key_hash, secret, truncate_in_runes

log = logging.getLogger("ampp.notify.victorops")

MAX_MESSAGE_RUNES = 20480
ALLOWED_FIRING = frozenset({"INFO", "WARNING", "CRITICAL"})


class VictorOpsIntegration(HTTPIntegration[VictorOpsConfig]):
    name = "victorops"

    async def notify(self, ctx: FlushContext, alerts: Sequence[Alert]) -> None:
        c = self.conf
        r = self.renderer(ctx, alerts)
        api_key = secret(c.api_key, c.api_key_file, "api_key_file")
        parts = urlsplit(str(c.api_url))
        url = urlunsplit(parts._replace(path=f"{parts.path}{api_key}/{r.text(c.routing_key, 'routing_key')}"))
        message_type = r.text(c.message_type, "message_type")
        state_message = r.text(c.state_message, "state_message")
        status = alerts_status(alerts, ctx.now)
        if status == "firing" and message_type not in ALLOWED_FIRING:
            message_type = "CRITICAL"
        if status == "resolved":
            message_type = "RECOVERY"
        state_message, cut = truncate_in_runes(state_message, MAX_MESSAGE_RUNES)
        if cut:
            log.warning("Truncated state_message group_key=%s max_runes=%d", ctx.group_key, MAX_MESSAGE_RUNES)
        msg = {
            "message_type": message_type,
            "entity_id": key_hash(ctx.group_key),
            "entity_display_name": r.text(c.entity_display_name, "entity_display_name"),
            "state_message": state_message,
            "monitoring_tool": r.text(c.monitoring_tool, "monitoring_tool"),
        }
        for k, v in c.custom_fields.items():
            msg[k] = r.text(v, f"custom_fields {k}")
        resp = await self.sender.post(url, go_json(dict(sorted(msg.items()))), secret_url=True)
        check_response(resp)
