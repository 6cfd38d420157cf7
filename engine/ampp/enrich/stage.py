"""The notification pipeline's enrichment stage, between the muting stages and the fan-out to
the receiver's integrations (so muted alerts cost no tokens, and one call serves every
integration): the flush's alerts go on unchanged, and the context carries each one's
enrichment (``FlushContext.enrichment``) for the payloads, the templates and the delivery
queue's jobs.

A flush of resolved alerts only asks the provider nothing: they carry the enrichment they had
while firing (kept by fingerprint, since this process started). It never costs the
notification: the enricher answers within ``ai.timeout`` (the fallback's answer, or none, past
it); this stage bounds the wait again, a little later, against anything else, and sends
without enrichment on any failure, which the history records (``alert.not_enriched``) as it
records every enrichment (``alert.enriched``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from ..model.alert import Alert
from ..notify.stage import FlushContext
from .model import Enrichment
from .service import Enricher

log = logging.getLogger("ampp.enrich")

GRACE_S = 0.25
"""How long past ``ai.timeout`` the stage waits before it stops waiting for the enricher."""


class EnrichStage:
    def __init__(self, enricher: Callable[[], Enricher | None]) -> None:
        self.enricher = enricher
        """The current enricher (replaced on reload), or None while ai is disabled."""

    async def exec(self, ctx: FlushContext, alerts: list[Alert]) -> tuple[FlushContext, list[Alert]]:
        enricher = self.enricher()
        if enricher is None or not enricher.enabled or ctx.enrichment is not None:
            return ctx, alerts  # off (the payloads stay Alertmanager's), or enriched already (proxy)
        found: dict[int, Enrichment]
        if all(a.resolved_at(ctx.now) for a in alerts):  # a resolve: what they had, at no cost
            found = {a.fingerprint: e for a in alerts if (e := enricher.lookup(a.fingerprint)) is not None}
            return ctx.with_(enrichment=_json(alerts, found)), alerts
        try:
            async with asyncio.timeout(enricher.settings.timeout + GRACE_S):
                found = await enricher.enrich(alerts, ctx.now)
        except TimeoutError:
            log.warning(
                "enrichment took longer than ai.timeout; notifying without it group=%s", ctx.group_key
            )
            enricher.not_enriched(alerts, "timeout")
            found = {}
        except Exception as e:  # enrichment must never cost the notification
            log.exception("enrichment failed; notifying without it group=%s", ctx.group_key)
            enricher.not_enriched(alerts, f"error: {type(e).__name__}")
            found = {}
        return ctx.with_(enrichment=_json(alerts, found)), alerts


def _json(alerts: list[Alert], found: dict[int, Enrichment]) -> dict[int, dict[str, Any] | None]:
    return {a.fingerprint: e.to_json() if (e := found.get(a.fingerprint)) else None for a in alerts}
