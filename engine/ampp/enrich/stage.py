"""The notification pipeline's enrichment stage: enriches the flushed alerts within
``ai.timeout`` and passes them on unchanged (the enrichment is kept by fingerprint for the
payloads and templates). Its failures never fail the flush."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..model.alert import Alert
from ..notify.stage import FlushContext
from .service import Enricher

log = logging.getLogger("ampp.enrich")


class EnrichStage:
    def __init__(self, enricher: Callable[[], Enricher | None]) -> None:
        self.enricher = enricher
        """The current enricher (replaced on reload), or None when ai is disabled."""

    async def exec(self, ctx: FlushContext, alerts: list[Alert]) -> tuple[FlushContext, list[Alert]]:
        enricher = self.enricher()
        if enricher is None or not enricher.enabled:
            return ctx, alerts
        try:
            found = await enricher.enrich(alerts, ctx.now)
        except Exception:  # enrichment must never cost the notification
            log.exception("enrichment failed; notifying without it")
            return ctx, alerts
        if found:
            ctx = ctx.with_(extra={**ctx.extra, "enrichment": found})
        return ctx, alerts
