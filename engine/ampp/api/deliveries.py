"""/api/ampp/v1/deliveries: list, inspect and re-drive the delivery queue's notifications.

Thin handlers over ampp.notify.queue.DeliveryQueue: parse, call, map outcomes to status codes.
A bad parameter is a 400 whose JSON string body names it.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..auth.roles import Role
from ..engine import Engine
from ..model.timefmt import format_rfc3339millis
from ..store.codec import from_ts
from ..store.delivery_common import STATES, Delivery
from .access import requires
from .keys import ENGINE
from .responses import json_response

PREFIX = "/api/ampp/v1"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_ID = 2**63 - 1
"""Ids are 64-bit signed integers in both stores (SQLite INTEGER, PostgreSQL BIGINT)."""


class BadParameter(ValueError):
    """A query or path parameter that does not parse; the message names it."""


def _engine(request: web.Request) -> Engine:
    return request.app[ENGINE]


def _positive_int(name: str, raw: str, maximum: int = MAX_ID) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter(f"{name}: must be a positive integer, got {raw!r}") from None
    if value < 1:
        raise BadParameter(f"{name}: must be a positive integer, got {raw!r}")
    if value > maximum:
        raise BadParameter(f"{name}: at most {maximum}, got {raw}")
    return value


def _query(request: web.Request) -> tuple[str | None, str | None, int, int | None]:
    q = request.query
    for name in q:
        if name not in ("state", "receiver", "limit", "cursor"):
            raise BadParameter(f"{name}: unknown parameter (state, receiver, limit, cursor)")
    state = q.get("state")
    if state is not None and state not in STATES:
        raise BadParameter(f"state: must be one of {', '.join(STATES)}, got {state!r}")
    limit = _positive_int("limit", q["limit"], MAX_LIMIT) if "limit" in q else DEFAULT_LIMIT
    cursor = _positive_int("cursor", q["cursor"]) if "cursor" in q else None
    return state, q.get("receiver") or None, limit, cursor


def _time(ns: int | None) -> str | None:
    return None if ns is None else format_rfc3339millis(ns)


def summary(d: Delivery) -> dict[str, Any]:
    """A row as the list shows it: where it goes, where it stands, how many alerts."""
    p = d.payload
    return {
        "id": d.id,
        "state": d.state,
        "outcome": d.outcome,
        "receiver": d.receiver,
        "integration": d.integration,
        "index": d.idx,
        "groupKey": d.group_key,
        "groupLabels": p.get("groupLabels", {}),
        "firing": len(p.get("firing", ())),
        "resolved": len(p.get("resolved", ())),
        "attempts": d.attempts,
        "lastError": d.last_error,
        "nextAttemptAt": _time(d.next_attempt_at) if d.state == "pending" else None,
        "claimedBy": d.claimed_by,
        "claimedUntil": _time(d.claimed_until) if d.state == "inflight" else None,
        "createdAt": _time(d.created_at),
        "updatedAt": _time(d.updated_at),
    }


def detail(d: Delivery) -> dict[str, Any]:
    """A row with the alerts it carries (labels, annotations, status at the flush, times)."""
    p = d.payload
    firing = set(p.get("firing", ()))
    alerts = []
    for a in p.get("alerts", ()):
        alerts.append(
            {
                "fingerprint": a.get("fingerprint"),
                "status": "firing" if a.get("fingerprint") in firing else "resolved",
                "labels": a.get("labels", {}),
                "annotations": a.get("annotations", {}),
                "startsAt": _time(from_ts(a["startsAt"])) if "startsAt" in a else None,
                "endsAt": _time(from_ts(a["endsAt"])) if "endsAt" in a else None,
                "generatorURL": a.get("generatorURL", ""),
            }
        )
    flushed = p.get("now")
    return {
        **summary(d),
        "key": d.key,
        "flushedAt": None if flushed is None else _time(from_ts(flushed)),
        "repeatInterval": p.get("repeatInterval"),
        "sendResolved": p.get("sendResolved"),
        "alerts": alerts,
    }


@requires(Role.VIEWER)
async def list_deliveries(request: web.Request) -> web.Response:
    try:
        state, receiver, limit, cursor = _query(request)
    except BadParameter as e:
        return json_response(str(e), 400)
    rows = await _engine(request).deliveries.list_deliveries(state, receiver, limit + 1, cursor)
    more = len(rows) > limit
    rows = rows[:limit]
    return json_response(
        {"deliveries": [summary(d) for d in rows], "nextCursor": str(rows[-1].id) if more else None}
    )


def _id(request: web.Request) -> int:
    return _positive_int("id", request.match_info["id"])


@requires(Role.VIEWER)
async def get_delivery(request: web.Request) -> web.Response:
    try:
        id_ = _id(request)
    except BadParameter as e:
        return json_response(str(e), 400)
    d = await _engine(request).deliveries.get_delivery(id_)
    if d is None:
        return json_response(f"id: no delivery {id_}", 404)
    return json_response(detail(d))


@requires(Role.OPERATOR, audit="delivery.redrive")
async def redrive_delivery(request: web.Request) -> web.Response:
    try:
        id_ = _id(request)
    except BadParameter as e:
        return json_response(str(e), 400)
    result = await _engine(request).deliveries.redrive(id_)
    if result.outcome == "not_found":
        return json_response(f"id: no delivery {id_}", 404)
    if result.outcome == "not_dead":
        assert result.delivery is not None
        state = result.delivery.state
        return json_response(f"delivery {id_} is {state}, not dead: only dead letters are re-driven", 409)
    if result.outcome == "superseded":
        return json_response(
            f"delivery {id_} is superseded by delivery {result.newer_id} for the same group and integration: "
            "re-driving it would send stale alerts",
            409,
        )
    assert result.delivery is not None
    return json_response(detail(result.delivery))


@requires(Role.OPERATOR, audit="delivery.redrive_all")
async def redrive_all(request: web.Request) -> web.Response:
    for name in request.query:
        if name != "receiver":
            return json_response(f"{name}: unknown parameter (receiver)", 400)
    receiver = request.query.get("receiver") or None
    done, skipped = await _engine(request).deliveries.redrive_all(receiver)
    return json_response({"redriven": done, "skipped": skipped})


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    base = f"{prefix}{PREFIX}/deliveries"
    router.add_get(base, list_deliveries)
    router.add_post(f"{base}/redrive", redrive_all)
    # Any id but "redrive", so that /deliveries/redrive is POST only (405 and Allow: POST for
    # any other method) instead of also matching GET /deliveries/{id}.
    one = f"{base}/{{id:(?!redrive$)[^/]+}}"
    router.add_get(one, get_delivery)
    router.add_post(f"{one}/redrive", redrive_delivery)
