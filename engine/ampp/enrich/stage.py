"""The notification pipeline's enrichment stage, between the muting stages and the fan-out to
the receiver's integrations (so muted alerts cost no tokens, and one call serves every
integration): the flush's alerts go on unchanged, and the context carries each one's
enrichment (``FlushContext.enrichment``) for the payloads, the templates and the delivery
queue's jobs.

It never costs the notification: the enricher answers within ``ai.timeout`` (the fallback's
answer, or none, past it); this stage bounds the wait again, a little later, against anything
else, and sends without enrichment on any failure, which the history records
(``alert.not_enriched``) as it records every enrichment (``alert.enriched``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

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
        by_fp = {a.fingerprint: f.to_json() if (f := found.get(a.fingerprint)) else None for a in alerts}
        return ctx.with_(enrichment=by_fp), alerts
