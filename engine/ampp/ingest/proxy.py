"""``POST /webhook/proxy``: enrichment in front of an existing receiver, without moving alerts
through the routing tree.

The body is read as ``/webhook`` reads it (any format), then three pipelines run on its alerts:
classify (the LLM enrichment, within ``ai.timeout``), filter (``webhook.proxy.drop`` matchers
and, with ``silences``, active silences), publish (to each ``webhook.proxy.targets`` receiver
through its integrations and the durable delivery queue, deduplicated by the notification log
like a route's notifications). The alerts are not stored as active alerts: the answer carries
them, enriched, with what happened to each.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from ..config.settings import ProxySettings
from ..enrich.model import Enrichment
from ..model.alert import Alert
from ..model.matchers import Matcher, parse_matcher
from ..model.timefmt import format_rfc3339millis

Enrich = Callable[[Sequence[Alert], int], Awaitable[dict[int, Enrichment] | None]]
"""Each alert's enrichment by fingerprint; None while enrichment is off."""
Silenced = Callable[[dict[str, str]], bool]
Send = Callable[[str, list[Alert], str, float, dict[int, dict[str, Any] | None] | None], Awaitable[None]]
"""(receiver, alerts, group key, repeat interval, each alert's enrichment as JSON or None while
enrichment is off)."""


class Proxy:
    def __init__(self, settings: ProxySettings) -> None:
        self.settings = settings
        self.drop: list[tuple[str, Matcher]] = [(text, parse_matcher(text)) for text in settings.drop]

    def _filtered(self, alert: Alert, silenced: Silenced) -> str | None:
        for text, matcher in self.drop:
            if matcher.matches(alert.labels.get(matcher.name, "")):
                return f"dropped by {text}"
        if self.settings.silences and silenced(alert.labels):
            return "silenced"
        return None

    async def run(
        self, alerts: list[Alert], now: int, enrich: Enrich, silenced: Silenced, send: Send
    ) -> list[dict[str, Any]]:
        """One entry per alert: the alert, its enrichment, whether it was filtered, where it went."""
        enriched = await enrich(alerts, now)
        found = enriched or {}
        verdicts = [self._filtered(a, silenced) for a in alerts]
        passing = [a for a, v in zip(alerts, verdicts, strict=True) if v is None]
        published: list[str] = []
        if passing:
            key = hashlib.sha256(
                ",".join(sorted(f"{a.fingerprint:016x}" for a in passing)).encode()
            ).hexdigest()
            told = None
            if enriched is not None:
                told = {
                    a.fingerprint: e.to_json() if (e := found.get(a.fingerprint)) else None for a in passing
                }
            for target in self.settings.targets:
                group_key = f"{{}}/proxy:{{}}:{key[:16]}"
                await send(target, passing, group_key, self.settings.repeat_interval, told)
                published.append(target)
        out = []
        for alert, verdict in zip(alerts, verdicts, strict=True):
            enrichment = found.get(alert.fingerprint)
            out.append(
                {
                    "labels": alert.labels,
                    "annotations": alert.annotations,
                    "startsAt": format_rfc3339millis(alert.starts_at),
                    "endsAt": format_rfc3339millis(alert.ends_at),
                    "generatorURL": alert.generator_url,
                    "enrichment": enrichment.to_json() if enrichment else None,
                    "filtered": verdict,
                    "published": [] if verdict else published,
                }
            )
        return out
