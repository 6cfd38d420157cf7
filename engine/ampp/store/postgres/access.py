"""API keys and the audit log in PostgreSQL (ampp.auth.apikeys, ampp.auth.audit), shared by
every replica: a key created or revoked on one is seen by the others (within the key cache's
few seconds). Keys are kept as SHA-256 digests only. Functions take a connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from ...auth.apikeys import ApiKey
from ...auth.audit import AuditEvent, AuditQuery
from ...auth.roles import Role

Conn: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"


_KEY_COLUMNS = (
    "id, name, role, digest, created_at, created_by, expires_at, last_used_at, revoked_at, machine, sources"
)


def _ts(value: float | None) -> int | None:
    """Unix seconds as the pool's timestamptz codec takes them (Unix microseconds)."""
    return None if value is None else round(value * 1_000_000)


def _s(value: int | None) -> float | None:
    return None if value is None else value / 1_000_000


def _key(r: asyncpg.Record) -> ApiKey:
    return ApiKey(
        r["id"], r["name"], Role.parse(r["role"]), r["digest"], r["created_at"] / 1_000_000, r["created_by"],
        _s(r["expires_at"]), _s(r["last_used_at"]), _s(r["revoked_at"]), r["machine"],
        sources=tuple(r["sources"]),
    )  # fmt: skip


async def insert_key(c: Conn, k: ApiKey) -> None:
    await c.execute(
        f"INSERT INTO api_keys ({_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        k.id, k.name, k.role.label, k.digest, _ts(k.created_at), k.created_by, _ts(k.expires_at),
        _ts(k.last_used_at), _ts(k.revoked_at), k.machine, list(k.sources),
    )  # fmt: skip


async def key_by_digest(c: Conn, digest: str) -> ApiKey | None:
    row = await c.fetchrow(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE digest = $1", digest)
    return _key(row) if row else None


async def list_keys(c: Conn) -> list[ApiKey]:
    return [_key(r) for r in await c.fetch(f"SELECT {_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id")]


async def revoke_key(c: Conn, key_id: str, at: float) -> ApiKey | None:
    row = await c.fetchrow(
        f"UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING {_KEY_COLUMNS}",
        key_id, _ts(at),
    )  # fmt: skip
    return _key(row) if row else None


async def touch_key(c: Conn, key_id: str, at: float) -> None:
    await c.execute("UPDATE api_keys SET last_used_at = $2 WHERE id = $1", key_id, _ts(at))


async def append_audit(c: Conn, events: Sequence[AuditEvent]) -> None:
    await c.executemany(
        "INSERT INTO audit_log (at, actor, role, method, address, action, target, status, before, after)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",  # jsonb: the pool's codec encodes
        [(_ts(e.at), e.actor, e.role, e.method, e.address, e.action, e.target, e.status, e.before, e.after)
         for e in events],
    )  # fmt: skip


async def query_audit(c: Conn, q: AuditQuery) -> list[AuditEvent]:
    """Newest first, one more than ``q.limit`` (so the caller knows whether a page follows)."""
    where: list[str] = ["TRUE"]
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if q.actor is not None:
        where.append(f"actor = {arg(q.actor)}")
    if q.action is not None:
        if q.action.endswith("."):
            where.append(f"starts_with(action, {arg(q.action)})")
        else:
            where.append(f"action = {arg(q.action)}")
    if q.since is not None:
        where.append(f"at >= {arg(_ts(q.since))}")
    if q.until is not None:
        where.append(f"at < {arg(_ts(q.until))}")
    if q.before_id is not None:
        where.append(f"id < {arg(q.before_id)}")
    rows = await c.fetch(
        "SELECT id, at, actor, role, method, address, action, target, status, before, after"
        f" FROM audit_log WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT {arg(q.limit + 1)}",
        *args,
    )
    return [
        AuditEvent(r["at"] / 1_000_000, r["actor"], r["role"], r["method"], r["address"], r["action"],
                   r["target"], r["status"], r["before"], r["after"], r["id"])
        for r in rows
    ]  # fmt: skip


async def delete_audit_before(c: Conn, cutoff: float, limit: int) -> int:
    status = await c.execute(
        "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 ORDER BY id LIMIT $2)",
        _ts(cutoff), limit,
    )  # fmt: skip
    return int(status.split()[-1])
