"""The audit log: every mutating call (silences, alerts posted by a person, re-drives, reloads,
API keys) and every refused login, with who, their role, where from, what, the answer, and
before/after where that applies. Secrets are redacted before anything is stored.

Kept in the engine's storage (SQLite or PostgreSQL) under the history retention, and read
through ``GET /api/ampp/v1/audit`` with filters and paging.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger("ampp.audit")

SECRET_KEY = re.compile(r"(?i)(pass(word)?|secret|token|api[_-]?key|credentials?|authorization|^key$)")
REDACTED = "<redacted>"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    at: float
    """Unix seconds."""
    actor: str
    role: str
    method: str
    """How the actor authenticated (basic, api-key, jwt, proxy, none, ...)."""
    address: str
    action: str
    """What was asked, e.g. ``silence.create``, ``apikey.revoke``, ``login.failed``."""
    target: str = ""
    status: int = 0
    """The HTTP status of the answer."""
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class AuditQuery:
    actor: str | None = None
    action: str | None = None
    """An exact action, or a prefix ending in ``.`` (``silence.``)."""
    since: float | None = None
    until: float | None = None
    limit: int = 100
    before_id: int | None = None
    """Paging: only events older than this id (the previous page's ``nextCursor``)."""


@dataclass(slots=True)
class AuditPage:
    events: list[AuditEvent] = field(default_factory=list)
    next_cursor: int | None = None


class AuditStore(Protocol):
    async def append_audit(self, events: Sequence[AuditEvent]) -> None: ...
    async def query_audit(self, query: AuditQuery) -> list[AuditEvent]: ...
    async def delete_audit_before(self, cutoff: float, limit: int) -> int: ...


def _secret(key: Any) -> bool:
    return isinstance(key, str) and SECRET_KEY.search(key) is not None


def redact(value: Any) -> Any:
    """A copy of ``value`` with every secret-looking field's value replaced."""
    if isinstance(value, dict):
        return {
            k: REDACTED if isinstance(k, str) and SECRET_KEY.search(k) else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


class AuditLog:
    def __init__(self, store: AuditStore) -> None:
        self.store = store

    async def record(self, event: AuditEvent) -> None:
        """Store one event (redacted); a storage failure is logged, never fails the request."""
        clean = AuditEvent(
            event.at or time.time(), event.actor, event.role, event.method, event.address, event.action,
            event.target, event.status, redact(event.before), redact(event.after),
        )  # fmt: skip
        try:
            await self.store.append_audit([clean])
        except Exception as e:
            log.error("Writing the audit log failed action=%s actor=%s err=%s", event.action, event.actor, e)

    async def query(self, query: AuditQuery) -> AuditPage:
        events = await self.store.query_audit(query)
        more = len(events) > query.limit
        events = events[: query.limit]
        return AuditPage(events, events[-1].id if more and events else None)

    async def purge(self, cutoff: float, limit: int = 10_000) -> int:
        return await self.store.delete_audit_before(cutoff, limit)
