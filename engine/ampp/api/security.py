"""What every request goes through before its handler: header size limits, CORS, rate limits,
authentication and the route's role (ampp.api.access); and the secure headers on every answer.

Order matters: the per-address and global limits come before any credential is checked, and a
client that failed to log in too often is refused before its password costs a bcrypt check.
With no ``auth:`` section nobody is authenticated (the API is open, as Alertmanager's is) and
rate limits are off unless ``security.rate_limits.enabled`` turns them on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

import orjson
from aiohttp import web

from ..auth.audit import AuditEvent
from ..auth.authenticator import Failure
from ..auth.identity import OPEN, Identity
from ..auth.roles import Role
from ..config.security import SecuritySettings
from ..ingest.webhook import SOURCE_HEADER
from .access import ADMIN_ONLY, AUDIT, IDENTITY, Access, access_of
from .webconfig import WEB_USER

if TYPE_CHECKING:
    from ..engine import Engine

log = logging.getLogger("ampp.api")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _refuse(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=orjson.dumps(message), status=status, content_type="application/json", headers=headers
    )


class Security:
    """The security middleware and response headers of one API application."""

    def __init__(self, engine: Engine, route_prefix: str) -> None:
        self.engine = engine
        self.prefix = route_prefix.rstrip("/")

    @property
    def settings(self) -> SecuritySettings:
        return self.engine.access.security

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        settings = self.settings
        too_big = _headers_too_big(
            request, settings.limits.max_header_bytes, settings.limits.max_headers_bytes
        )
        if too_big:
            return _refuse(431, too_big)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            return self._preflight(request, settings)
        match = request.match_info
        access = access_of(match.handler)
        budget = access.budget if access is not None else "api"
        control = self.engine.access
        address = request.remote or ""
        limiter = control.limiter
        if limiter is not None:
            wait = await limiter.before_auth(budget, address)
            if wait is not None:
                return _too_many(wait)
        auth = control.authenticator
        if auth is None:
            request[IDENTITY] = OPEN
            return await self._call(request, handler, access, OPEN)
        if match.http_exception is not None:  # no such route: 404/405 once authenticated
            required = Role.VIEWER
        else:
            required = (access or ADMIN_ONLY).role
            if self._public(request, auth.settings.public):
                request[IDENTITY] = auth.anonymous
                return await handler(request)
        # Only a password costs a bcrypt check worth guarding; keys and tokens are unguessable.
        password = request.headers.get("Authorization", "")[:6].lower() == "basic "
        if password and limiter is not None:
            wait = await limiter.login_blocked(address)
            if wait is not None:
                return _too_many(wait, "too many failed logins from this address")
        found = await auth.authenticate(request.headers, address, request.get(WEB_USER))
        if isinstance(found, Failure):
            log.info("Authentication failed method=%s user=%s address=%s reason=%s",
                     found.method, found.user, address, found.reason)  # fmt: skip
            if limiter is not None:
                await limiter.login_failed(address)
            await self._audit_failure(request, found)
            return _refuse(401, "authentication failed", _challenge(request, auth.tokens is not None))
        identity: Identity = found
        if identity.role < required:
            if not identity.authenticated:
                return _refuse(401, "authentication required", _challenge(request, auth.tokens is not None))
            return _refuse(403, f"{identity.role.label} may not do this: it needs {required.label}")
        if identity.sources is not None:
            refusal = _outside_scope(request, access, identity.sources)
            if refusal is not None:
                return _refuse(403, refusal)
        if limiter is not None and identity.authenticated:
            wait = await limiter.after_auth(budget, f"{identity.method}:{identity.name}")
            if wait is not None:
                return _too_many(wait)
        request[IDENTITY] = identity
        return await self._call(request, handler, access, identity)

    async def _call(
        self, request: web.Request, handler: Handler, access: Access | None, who: Identity
    ) -> web.StreamResponse:
        """The handler, and the audit record of the call when its route is audited. Alerts are
        audited when a person posts them, not a program (Prometheus, an API key)."""
        if access is None or access.audit is None:
            return await handler(request)
        if access.budget == "ingest" and (who.machine or not who.authenticated):
            return await handler(request)
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as e:
            status = e.status
            raise
        finally:
            details = request.get(AUDIT) or {}
            target = details.get("target") or "/".join(request.match_info.values())
            await self.engine.audit.record(
                AuditEvent(time.time(), who.name, who.role.label, who.method, request.remote or "",
                           access.audit, str(target), status, details.get("before"), details.get("after"))
            )  # fmt: skip

    async def _audit_failure(self, request: web.Request, failure: Failure) -> None:
        await self.engine.audit.record(
            AuditEvent(time.time(), failure.user, "", failure.method, request.remote or "", "login.failed",
                       request.path, 401, None, {"reason": failure.reason})
        )  # fmt: skip

    def _public(self, request: web.Request, public: Sequence[str]) -> bool:
        resource = request.match_info.route.resource
        if resource is None or not public:
            return False
        return resource.canonical.removeprefix(self.prefix) in public

    def _preflight(self, request: web.Request, settings: SecuritySettings) -> web.Response:
        origin = request.headers.get("Origin", "")
        cors = settings.cors
        if not _origin_allowed(origin, cors.allowed_origins):
            return _refuse(403, f"cross-origin requests from {origin or 'this origin'} are not allowed")
        headers = {
            "Access-Control-Allow-Methods": ", ".join(cors.allowed_methods),
            "Access-Control-Allow-Headers": ", ".join(cors.allowed_headers),
            "Access-Control-Max-Age": str(int(cors.max_age)),
        }
        return web.Response(status=204, headers=headers)

    async def add_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        """on_response_prepare: every answer (errors, 401s, 404s included) carries them; an
        answer that sets its own Cache-Control or Content-Security-Policy (the UI) keeps it."""
        h = self.settings.headers
        out = response.headers
        out["X-Content-Type-Options"] = "nosniff"
        out["X-Frame-Options"] = "DENY"
        if "Content-Security-Policy" not in out:  # the dashboard's pages send their own
            out["Content-Security-Policy"] = h.content_security_policy
        out["Referrer-Policy"] = h.referrer_policy
        if "Cache-Control" not in out:
            out["Cache-Control"] = h.cache_control
            out["Pragma"] = "no-cache"
        if request.secure:
            out["Strict-Transport-Security"] = h.strict_transport_security
        origin = request.headers.get("Origin")
        if origin is not None:
            allowed = self.settings.cors.allowed_origins
            if _origin_allowed(origin, allowed):
                out["Access-Control-Allow-Origin"] = "*" if "*" in allowed else origin
                if "*" not in allowed:
                    out["Access-Control-Allow-Credentials"] = "true"
                out["Access-Control-Expose-Headers"] = "Retry-After"
                out.add("Vary", "Origin")


def _origin_allowed(origin: str, allowed: list[str]) -> bool:
    return bool(origin) and ("*" in allowed or origin in allowed)


def _challenge(request: web.Request, bearer: bool) -> dict[str, str]:
    """The 401's challenge; none for a script that says so (``X-Requested-With``, as the
    dashboard's requests do): a Basic challenge would make the browser hold the request for its
    own password prompt instead of answering the script, which has a sign-in page of its own."""
    if request.headers.get("X-Requested-With", "").lower() == "xmlhttprequest":
        return {}
    return {"WWW-Authenticate": 'Bearer realm="Alertmanager++"' if bearer else 'Basic realm="Alertmanager++"'}


def _too_many(wait: float, why: str = "rate limit exceeded") -> web.Response:
    seconds = str(int(wait))
    return _refuse(429, f"{why}; retry in {seconds}s", {"Retry-After": seconds})


def _headers_too_big(request: web.Request, per_line: int, total_max: int) -> str | None:
    total = 0
    for name, value in request.raw_headers:
        size = len(name) + len(value) + 4  # ": " and CRLF
        if size > per_line:
            shown = name.decode("latin-1")[:64]
            return f"request header {shown} is {size} bytes; at most {per_line} are accepted"
        total += size
    if total > total_max:
        return f"request headers are {total} bytes; at most {total_max} are accepted"
    return None


def _outside_scope(request: web.Request, access: Access | None, sources: frozenset[str]) -> str | None:
    """Why a source-scoped API key may not make this request: it posts alerts of its own
    sources, named by the path or the header, to a route that takes them, and nothing else."""
    allowed = ", ".join(sorted(sources))
    if access is None or not access.sources:
        return f"this API key may only post alerts of its sources ({allowed}) to /webhook/{{source}}"
    source = request.match_info.get("source") or request.headers.get(SOURCE_HEADER, "")
    if not source:
        return (
            f"this API key is scoped to its sources ({allowed}): name the source, "
            "/webhook/{source} or the X-Ampp-Source header"
        )
    if source not in sources:
        return f"this API key may not post alerts of source {source!r} (its sources: {allowed})"
    return None
