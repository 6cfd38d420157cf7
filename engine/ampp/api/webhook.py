"""``POST /webhook`` and ``POST /webhook/{source}``: the thin HTTP side of ampp.ingest.webhook.

The body is read up to ``webhook.max_body_bytes`` (413 beyond; api.body reads it, inflated if
compressed, and frees it on refusal); the alerts are stored the way
``POST /api/v2/alerts`` stores them (same counters, same durability wait).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from ..auth.roles import Role
from ..engine import Engine
from ..enrich.model import Enrichment
from ..ingest.proxy import Proxy
from ..ingest.webhook import SOURCE_HEADER, Outcome, WebhookIngest
from ..model.alert import Alert
from ..model.timefmt import NS, now_ns
from ..store.writebehind import StorageUnavailable
from .access import requires
from .body import read_body
from .keys import ENGINE
from .responses import json_response

log = logging.getLogger("ampp.api.webhook")

INGEST: web.AppKey[list[WebhookIngest]] = web.AppKey("webhook_ingest", list)


def ingest_for(app: web.Application, engine: Engine) -> WebhookIngest:
    """The ingest built from the running config's ``webhook:`` section, rebuilt when a reload
    changed it (new sources and limits apply at once; remembered idempotency keys are kept)."""
    held = app[INGEST]
    settings = engine.config.webhook
    if held and held[-1].settings is settings:
        return held[-1]
    fresh = WebhookIngest(settings)
    if held:
        fresh.idempotency.adopt(held[-1].idempotency)
    held.append(fresh)  # the retired ones are closed with the app
    return fresh


async def store(engine: Engine, alerts: list[Alert]) -> None:
    """What /api/v2/alerts does with valid alerts: put them, wait for durability."""
    await engine.put_alerts(alerts)


async def receive(request: web.Request, proxy: bool = False) -> web.Response:
    engine = request.app[ENGINE]
    ingest = ingest_for(request.app, engine)
    source = request.match_info.get("source") or request.headers.get(SOURCE_HEADER)
    try:
        raw: bytearray | None = await read_body(request, ingest.settings.max_body_bytes)
    except web.HTTPRequestEntityTooLarge:
        raw = None
    if raw is None:
        outcome = Outcome(413, {"error": f"the body is larger than {ingest.settings.max_body_bytes} bytes"})
    else:
        headers = {k.lower(): v for k, v in request.headers.items()}
        resolve_timeout = int(engine.config.alerting.global_.resolve_timeout * NS)
        now = now_ns()
        put = (
            (lambda alerts: publish(engine, alerts, now)) if proxy else (lambda alerts: store(engine, alerts))
        )
        try:
            outcome = await ingest.receive(
                bytes(raw), headers, source, now, resolve_timeout, put, scope="proxy" if proxy else ""
            )
        except StorageUnavailable as e:  # nothing acknowledged: the sender should try again
            response = web.json_response({"error": f"{e}; try again later"}, status=503)
            response.headers["Retry-After"] = str(e.retry_after_s)
            return response
    m = engine.metrics
    if proxy:
        pass  # proxied alerts are not received as alerts of this engine
    elif not outcome.replayed:
        m.received_firing.inc(outcome.firing)
        m.received_resolved.inc(outcome.resolved)
        if outcome.refused:
            m.alerts_invalid.inc(outcome.refused)
    m.webhook_requests.labels(outcome.format or source or "unknown", str(outcome.status)).inc()
    if outcome.status >= 400:
        log.warning("webhook refused: %s", outcome.body.get("error", outcome.body))
    response = json_response(outcome.body, outcome.status)
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


async def publish(engine: Engine, alerts: list[Alert], now: int) -> list[dict[str, Any]]:
    """The proxy's three pipelines: classify, filter, publish (ampp.ingest.proxy)."""
    proxy = Proxy(engine.config.webhook.proxy)
    enricher = engine.enricher

    async def enrich(group: Sequence[Alert], at: int) -> dict[int, Enrichment] | None:
        return await enricher.enrich(group, at) if enricher is not None else None

    def silenced(labels: dict[str, str]) -> bool:
        return bool(engine.silences.matching(labels)[0])

    return await proxy.run(alerts, now, enrich, silenced, engine.notify_receiver)


@requires(Role.OPERATOR, budget="ingest", sources=True)
async def post_webhook(request: web.Request) -> web.Response:
    return await receive(request)


@requires(Role.OPERATOR, budget="ingest", sources=True)
async def post_proxy(request: web.Request) -> web.Response:
    return await receive(request, proxy=True)


async def close(app: web.Application) -> None:
    for ingest in app[INGEST]:
        await ingest.close()


def add_routes(app: web.Application, prefix: str) -> None:
    app[INGEST] = []
    app.on_cleanup.append(close)
    app.router.add_post(f"{prefix}/webhook", post_webhook)
    app.router.add_post(f"{prefix}/webhook/proxy", post_proxy)  # before {source}, which would take it
    app.router.add_post(f"{prefix}/webhook/{{source}}", post_webhook)
