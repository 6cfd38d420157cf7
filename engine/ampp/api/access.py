"""How a route says who may call it.

Every handler declares the least role it needs with ``@requires``; the security middleware
(ampp.api.security) reads the declaration of the route a request matched::

    @requires(Role.VIEWER)
    async def get_status(request: web.Request) -> web.Response: ...

    @requires(Role.OPERATOR, audit="silence.set")   # each call written to the audit log
    async def post_silences(request: web.Request) -> web.Response:
        ...
        request[AUDIT] = {"target": sid, "before": old, "after": new}   # optional details

    @requires(Role.OPERATOR, budget="ingest", audit="alerts.post")   # the ingestion rate budget;
    async def post_alerts(request: web.Request) -> web.Response: ... # audited for people only

A handler without a declaration needs ``admin`` (deny by default), and the route-matrix test
fails until the README's matrix lists it. The probes (``/-/healthy``, ``/-/ready``,
``/metrics``) can also be opened to anyone with ``auth.public``. With no ``auth:`` section
nothing is checked: the API is open, as Alertmanager's is. The caller is at
``request[IDENTITY]`` (an ampp.auth.identity.Identity) in every handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

from ..auth.identity import Identity
from ..auth.ratelimit import Budget
from ..auth.roles import Role

IDENTITY = web.RequestKey("identity", Identity)
"""The caller, as authentication found out."""


AUDIT = web.RequestKey("audit", dict[str, Any])
"""What an audited handler adds to its audit record: ``target``, ``before``, ``after``."""


@dataclass(frozen=True, slots=True)
class Access:
    role: Role
    budget: Budget = "api"
    audit: str | None = None
    """The action written to the audit log for each call (a mutating route names one)."""
    sources: bool = False
    """It takes alerts of a named source (``/webhook/{source}``, ``X-Ampp-Source``): an API key
    scoped to sources may call it for those, and no other route."""


ADMIN_ONLY = Access(Role.ADMIN)
_ATTR = "__ampp_access__"

H = TypeVar("H", bound=Callable[..., Awaitable[web.StreamResponse]])


def requires(
    role: Role, *, budget: Budget = "api", audit: str | None = None, sources: bool = False
) -> Callable[[H], H]:
    """Declare the least role a handler needs, which rate budget its requests count against, the
    action its calls are audited as (every mutating route names one), and whether source-scoped
    API keys may call it."""

    def mark(handler: H) -> H:
        setattr(handler, _ATTR, Access(role, budget, audit, sources))
        return handler

    return mark


def access_of(handler: Any) -> Access | None:
    """The handler's declaration; None when it has none (it then needs admin)."""
    found: Access | None = getattr(handler, _ATTR, None)
    return found


def identity(request: web.Request) -> Identity:
    return request[IDENTITY]
