"""``GET /api/ampp/v1/enrichment/{fingerprint}``: the latest enrichment of an alert."""

from __future__ import annotations

import re

from aiohttp import web

from ..auth.roles import Role
from .access import requires
from .keys import ENGINE
from .responses import json_response

_FINGERPRINT = re.compile(r"^[0-9a-f]{16}$")


@requires(Role.VIEWER)
async def get_enrichment(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    fp = request.match_info["fingerprint"]
    if not _FINGERPRINT.match(fp):
        return json_response({"error": f"fingerprint must be 16 lower-case hex digits, not {fp!r}"}, 400)
    enricher = engine.enricher
    if enricher is None:
        return json_response({"error": "enrichment is disabled (ai.enabled: false)"}, 404)
    found = enricher.lookup(int(fp, 16))
    if found is None:
        return json_response({"error": f"no enrichment for alert {fp}"}, 404)
    return json_response({"fingerprint": fp, "enrichment": found.to_json()})


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_get(f"{prefix}/api/ampp/v1/enrichment/{{fingerprint}}", get_enrichment)
