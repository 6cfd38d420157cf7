"""/api/ampp/v1/apikeys and /api/ampp/v1/audit: thin handlers over ampp.auth (admin only).

A created key's secret is in the creation answer and nowhere else: neither stored (only its
SHA-256) nor logged nor audited. A bad parameter is a 400 whose JSON string body names it.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from ..auth.apikeys import ApiKey, ApiKeyNotFound
from ..auth.audit import AuditEvent, AuditQuery
from ..auth.roles import Role
from ..engine import Engine
from ..ingest.webhook import source_names
from ..model.timefmt import NS, format_rfc3339millis, parse_rfc3339
from .access import AUDIT, identity, requires
from .keys import ENGINE
from .responses import json_response

PREFIX = "/api/ampp/v1"
ROLES = ("viewer", "operator", "admin")


class BadParameter(ValueError):
    """A parameter or body field that does not parse; the message names it."""


def _time(seconds: float | None) -> str | None:
    return None if seconds is None else format_rfc3339millis(int(seconds * NS))


def key_json(k: ApiKey) -> dict[str, Any]:
    """A key as listed: everything but the secret (which is not kept)."""
    return {
        "id": k.id,
        "name": k.name,
        "role": k.role.label,
        "createdAt": _time(k.created_at) if not k.static else None,
        "createdBy": k.created_by,
        "expiresAt": _time(k.expires_at),
        "lastUsedAt": _time(k.last_used_at),
        "revokedAt": _time(k.revoked_at),
        "machine": k.machine,
        "sources": list(k.sources),
        "source": "config" if k.static else "api",
    }


def _engine(request: web.Request) -> Engine:
    return request.app[ENGINE]


@requires(Role.ADMIN)
async def list_keys(request: web.Request) -> web.Response:
    return json_response([key_json(k) for k in await _engine(request).api_keys.list()])


def _parse_new_key(body: Any, known: list[str]) -> tuple[str, Role, float | None, bool, tuple[str, ...]]:
    """``known``: the webhook sources a key may be scoped to."""
    if not isinstance(body, dict):
        raise BadParameter("the body must be a JSON object with name and role")
    unknown = set(body) - {"name", "role", "expiresAt", "machine", "sources"}
    if unknown:
        raise BadParameter(f"{sorted(unknown)[0]}: unknown field (name, role, expiresAt, machine, sources)")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise BadParameter("name: required, a non-empty string of at most 200 characters")
    role = body.get("role")
    if role not in ROLES:
        raise BadParameter(f"role: must be one of {', '.join(ROLES)}, got {role!r}")
    expires = body.get("expiresAt")
    expires_at = None
    if expires is not None:
        if not isinstance(expires, str):
            raise BadParameter("expiresAt: must be an RFC 3339 date-time")
        try:
            expires_at = parse_rfc3339(expires) / NS
        except ValueError as e:
            raise BadParameter(f"expiresAt: {e}") from None
    machine = body.get("machine", True)
    if not isinstance(machine, bool):
        raise BadParameter("machine: must be true or false")
    sources = body.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise BadParameter("sources: must be a list of webhook source names")
    for i, s in enumerate(sources):
        if s not in known:
            raise BadParameter(f"sources[{i}]: no webhook source {s!r} (the formats and webhook.sources: "
                               f"{', '.join(known)})")  # fmt: skip
    return name.strip(), Role.parse(role), expires_at, machine, tuple(dict.fromkeys(sources))


@requires(Role.ADMIN, audit="apikey.create")
async def create_key(request: web.Request) -> web.Response:
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError as e:
        return json_response(f"the body is not valid JSON: {e}", 400)
    engine = _engine(request)
    try:
        name, role, expires_at, machine, sources = _parse_new_key(body, source_names(engine.config.webhook))
    except BadParameter as e:
        return json_response(str(e), 400)
    who = identity(request)
    record, secret = await engine.api_keys.create(name, role, who.name, expires_at, machine, sources)
    shown = key_json(record)
    request[AUDIT] = {"target": record.id, "after": shown}
    return json_response({**shown, "key": secret}, 201)


@requires(Role.ADMIN, audit="apikey.revoke")
async def revoke_key(request: web.Request) -> web.Response:
    key_id = request.match_info["id"]
    try:
        found = await _engine(request).api_keys.revoke(key_id)
    except ApiKeyNotFound:
        return json_response(
            f"id: no API key {key_id!r} (keys from the config are revoked by removing them)", 404
        )
    shown = key_json(found)
    request[AUDIT] = {"target": key_id, "after": shown}
    return json_response(shown)


def event_json(e: AuditEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": _time(e.at),
        "actor": e.actor,
        "role": e.role,
        "method": e.method,
        "address": e.address,
        "action": e.action,
        "target": e.target,
        "status": e.status,
        "before": e.before,
        "after": e.after,
    }


def _audit_query(request: web.Request) -> AuditQuery:
    q = request.query
    known = ("actor", "action", "since", "until", "limit", "cursor")
    for name in q:
        if name not in known:
            raise BadParameter(f"{name}: unknown parameter ({', '.join(known)})")

    def when(name: str) -> float | None:
        raw = q.get(name)
        if not raw:
            return None
        try:
            return parse_rfc3339(raw) / NS
        except ValueError as e:
            raise BadParameter(f"{name}: {e}") from None

    def count(name: str, default: int | None, most: int) -> int | None:
        raw = q.get(name)
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if not 1 <= value <= most:
            raise BadParameter(f"{name}: must be an integer from 1 to {most}, got {raw!r}")
        return value

    limit = count("limit", 100, 1000)
    assert limit is not None
    return AuditQuery(
        actor=q.get("actor"), action=q.get("action") or None, since=when("since"), until=when("until"),
        limit=limit, before_id=count("cursor", None, 2**62),
    )  # fmt: skip


@requires(Role.ADMIN)
async def list_audit(request: web.Request) -> web.Response:
    try:
        query = _audit_query(request)
    except BadParameter as e:
        return json_response(str(e), 400)
    page = await _engine(request).audit.query(query)
    return json_response({"events": [event_json(e) for e in page.events], "nextCursor": page.next_cursor})


def add_routes(router: web.UrlDispatcher, prefix: str) -> None:
    base = f"{prefix}{PREFIX}"
    router.add_get(f"{base}/apikeys", list_keys)
    router.add_post(f"{base}/apikeys", create_key)
    router.add_delete(f"{base}/apikeys/{{id}}", revoke_key)
    router.add_get(f"{base}/audit", list_audit)
