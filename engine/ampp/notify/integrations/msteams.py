"""Microsoft Teams: the legacy incoming-webhook connector (``msteams``, a MessageCard) and
Workflows / Power Automate (``msteamsv2``, an Adaptive Card), as upstream's two notifiers.

Both post one card per flush: a title and a text rendered from their templates, coloured by
the group's status (red while firing, green once resolved). 5xx retry, other failures do
not; a 429 retries after the Retry-After Teams gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from ...config.notifiers import MSTeamsConfig, MSTeamsV2Config
from ...model.alert import Alert
from ..gojson import go_json
from ..http import check_response
from ..stage import FlushContext
from ._common import HTTPIntegration, alerts_status, read_secret_file

_Teams = TypeVar("_Teams", MSTeamsConfig, MSTeamsV2Config)


class _TeamsBase(HTTPIntegration[_Teams]):
    def _url(self) -> str:
        if self.conf.webhook_url:
            return str(self.conf.webhook_url)
        return read_secret_file(self.conf.webhook_url_file, "webhook_url_file")

    def _card(self, ctx: FlushContext, alerts: Sequence[Alert]) -> dict[str, Any]:
        raise NotImplementedError

    async def notify(self, ctx: FlushContext, alerts: Sequence[Alert]) -> None:
        body = go_json(self._card(ctx, alerts))
        resp = await self.sender.post(self._url(), body, secret_url=True)
        check_response(resp)


class MSTeamsIntegration(_TeamsBase[MSTeamsConfig]):
    """An Office 365 connector MessageCard."""

    name = "msteams"

    def _card(self, ctx: FlushContext, alerts: Sequence[Alert]) -> dict[str, Any]:
        c = self.conf
        r = self.renderer(ctx, alerts)
        title, text, summary = r.text(c.title, "title"), r.text(c.text, "text"), r.text(c.summary, "summary")
        firing = alerts_status(alerts, ctx.now) == "firing"
        return {
            "@context": "http://schema.org/extensions",
            "type": "MessageCard",
            "title": title,
            "summary": summary,
            "text": text,
            "themeColor": "8C1A1A" if firing else "2DC72D",
        }


class MSTeamsV2Integration(_TeamsBase[MSTeamsV2Config]):
    """An Adaptive Card posted to a Workflows (Power Automate) webhook."""

    name = "msteamsv2"

    def _card(self, ctx: FlushContext, alerts: Sequence[Alert]) -> dict[str, Any]:
        c = self.conf
        r = self.renderer(ctx, alerts)
        title, text = r.text(c.title, "title"), r.text(c.text, "text")
        firing = alerts_status(alerts, ctx.now) == "firing"
        return {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": None,
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": "1.2",
                        "body": [
                            {
                                "type": "TextBlock",
                                "text": title,
                                "weight": "Bolder",
                                "size": "Medium",
                                "wrap": True,
                                "style": "heading",
                                "color": "Attention" if firing else "Good",
                            },
                            {"type": "TextBlock", "text": text, "wrap": True},
                        ],
                        "msteams": {"width": "full"},
                    },
                }
            ],
        }
