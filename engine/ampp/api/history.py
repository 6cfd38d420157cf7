"""GET /history, /history/{fingerprint} and /report: thin handlers over ampp.history.service."""

from __future__ import annotations

import orjson
from aiohttp import web

from ..auth.roles import Role
from ..engine import Engine
from ..history.query import BadParameter
from .access import requires
from .keys import ENGINE
from .responses import json_response


def _params(request: web.Request) -> dict[str, list[str]]:
    return {k: request.query.getall(k) for k in set(request.query.keys())}


def _engine(request: web.Request) -> Engine:
    return request.app[ENGINE]


@requires(Role.VIEWER)
async def get_history(request: web.Request) -> web.Response:
    try:
        return json_response(orjson.Fragment(await _engine(request).history.history(_params(request))))
    except BadParameter as e:
        return json_response(str(e), 400)


@requires(Role.VIEWER)
async def get_timeline(request: web.Request) -> web.Response:
    try:
        body = await _engine(request).history.timeline(request.match_info["fingerprint"])
    except BadParameter as e:
        return json_response(str(e), 400)
    if body is None:
        return json_response("fingerprint: no history for this alert", 404)
    return json_response(orjson.Fragment(body))


@requires(Role.VIEWER)
async def get_report(request: web.Request) -> web.Response:
    try:
        return json_response(orjson.Fragment(await _engine(request).history.report(_params(request))))
    except BadParameter as e:
        return json_response(str(e), 400)


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_get(f"{prefix}/history", get_history)
    router.add_get(f"{prefix}/history/{{fingerprint}}", get_timeline)
    router.add_get(f"{prefix}/report", get_report)
