"""The webhook integration: Alertmanager's payload, version "4"."""

from __future__ import annotations

from collections.abc import Sequence

from ... import tracing
from ...config.notifiers import WebhookConfig
from ...model.alert import Alert
from ..gojson import go_json
from ..http import check_response
from ..stage import FlushContext
from ._common import HTTPIntegration, read_secret_file


class WebhookIntegration(HTTPIntegration[WebhookConfig]):
    """template.Data plus the message's envelope, as JSON; the only integration that renders
    no template (so a webhook-only config loads none)."""

    name = "webhook"

    def timeout(self) -> float | None:
        return self.conf.timeout or None

    def _url(self) -> str:
        if self.conf.url:
            return str(self.conf.url)
        return read_secret_file(self.conf.url_file, "url_file")

    async def notify(self, ctx: FlushContext, alerts: Sequence[Alert]) -> None:
        max_alerts = int(self.conf.max_alerts or 0)
        truncated = 0
        if max_alerts and len(alerts) > max_alerts:
            truncated = len(alerts) - max_alerts
            alerts = alerts[:max_alerts]
        payload = self.message(ctx, alerts)
        payload.update({"version": "4", "groupKey": ctx.group_key, "truncatedAlerts": truncated})
        # The attempt's W3C trace context (tracing on), so the receiver can continue the trace.
        headers = tracing.headers()
        resp = await self.sender.post(self._url(), go_json(payload), headers=headers, secret_url=True)
        check_response(resp)
