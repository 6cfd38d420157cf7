"""The webhook integration: Alertmanager's payload, version "4"."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...model.alert import Alert
from ..data import go_json, template_data
from ..http import HTTPSender, check_status
from ..stage import FlushContext, NotifyError


class WebhookIntegration:
    name = "webhook"

    def __init__(self, index: int, conf: Any, receiver: str, external_url: str) -> None:
        self.index = index
        self.conf = conf
        self.receiver = receiver
        self.external_url = external_url
        timeout = getattr(conf, "timeout", None)
        self.sender = HTTPSender(getattr(conf, "http_config", None), float(timeout) if timeout else None)

    @property
    def send_resolved(self) -> bool:
        return bool(getattr(self.conf, "send_resolved", True))

    def _url(self) -> str:
        url = getattr(self.conf, "url", None)
        if url:
            return str(url)
        path = getattr(self.conf, "url_file", None)
        try:
            return Path(str(path)).read_text().strip()
        except OSError as e:
            raise NotifyError(f"unable to read url_file: {e.strerror}", retry=False) from None

    async def notify(self, ctx: FlushContext, alerts: Sequence[Alert]) -> None:
        max_alerts = int(getattr(self.conf, "max_alerts", 0) or 0)
        truncated = 0
        if max_alerts and len(alerts) > max_alerts:
            truncated = len(alerts) - max_alerts
            alerts = alerts[:max_alerts]
        payload = template_data(self.receiver, ctx.group_labels, alerts, self.external_url, ctx.now)
        payload.update({"version": "4", "groupKey": ctx.group_key, "truncatedAlerts": truncated})
        resp = await self.sender.post(self._url(), go_json(payload), secret_url=True)
        check_status(resp)

    async def close(self) -> None:
        await self.sender.close()
