"""incident.io alert sources, as upstream Alertmanager's notify/incidentio.

The webhook payload (template data plus ``version`` "1", ``groupKey`` and
``truncatedAlerts``), at most ``max_alerts`` alerts, and past 512 KiB only the first alert.
The alert source token, inline or from a file read at send time, is the Bearer credential.
429 and 5xx retry; errors show incident.io's message and errors.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import httpx
import orjson

from ...config.notifiers import IncidentioConfig
from ...model.alert import Alert
from ..gojson import go_json
from ..http import check_response
from ..stage import FlushContext
from ._common import HTTPIntegration, read_secret_file, secret

log = logging.getLogger("ampp.notify.incidentio")

MAX_PAYLOAD = 512 * 1024


def _details(resp: httpx.Response) -> str:
    try:
        body = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        return ""
    if not isinstance(body, dict):
        return ""
    parts = [str(body[k]) for k in ("message", "error") if body.get(k)]
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        parts.append(", ".join(str(e) for e in errors))
    return ": ".join(parts)


class IncidentioIntegration(HTTPIntegration[IncidentioConfig]):
    name = "incidentio"

    def timeout(self) -> float | None:
        return self.conf.timeout or None

    def _url(self) -> str:
        c = self.conf
        return str(c.url) if c.url else read_secret_file(c.url_file, "url_file")

    async def notify(self, ctx: FlushContext, alerts: Sequence[Alert]) -> None:
        c = self.conf
        truncated = 0
        if c.max_alerts and len(alerts) > c.max_alerts:
            truncated = len(alerts) - c.max_alerts
            alerts = alerts[: c.max_alerts]
        msg = self.message(ctx, alerts)
        msg.update({"version": "1", "groupKey": ctx.group_key, "truncatedAlerts": truncated})
        body = go_json(msg)
        if len(body) > MAX_PAYLOAD:
            size = len(body)
            msg["alerts"] = msg["alerts"][:1]
            body = go_json(msg)
            (log.warning if len(body) <= MAX_PAYLOAD else log.error)(
                "Truncated alert content due to incident.io payload size limit "
                "original_size=%d final_size=%d",
                size,
                len(body),
            )
        token = secret(c.alert_source_token, c.alert_source_token_file, "alert_source_token_file")
        headers = {"Authorization": f"Bearer {token}"} if token else None
        resp = await self.sender.post(self._url(), body, headers=headers, secret_url=True)
        check_response(resp, frozenset({429}), _details(resp))
