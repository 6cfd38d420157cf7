"""API keys and the audit log in ``ampp.db`` (ampp.auth.apikeys, ampp.auth.audit).

Keys are kept as SHA-256 digests only. Times are Unix seconds (REAL). Functions take the
connection of the store's thread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import orjson

from ...auth.apikeys import ApiKey
from ...auth.audit import AuditEvent, AuditQuery
from ...auth.roles import Role

_KEY_COLUMNS = (
    "id, name, role, digest, created_at, created_by, expires_at, last_used_at, revoked_at, machine, sources"
)


def _key(row: Sequence[Any]) -> ApiKey:
    i, name, role, digest, created, by, expires, used, revoked, machine, sources = row
    return ApiKey(
        i, name, Role.parse(role), digest, created, by, expires, used, revoked, bool(machine),
        sources=tuple(orjson.loads(sources)),
    )  # fmt: skip


def insert_key(c: sqlite3.Connection, k: ApiKey) -> None:
    c.execute(
        f"INSERT INTO api_keys ({_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (k.id, k.name, k.role.label, k.digest, k.created_at, k.created_by, k.expires_at, k.last_used_at,
         k.revoked_at, int(k.machine), orjson.dumps(list(k.sources)).decode()),
    )  # fmt: skip


def key_by_digest(c: sqlite3.Connection, digest: str) -> ApiKey | None:
    row = c.execute(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE digest = ?", (digest,)).fetchone()
    return _key(row) if row else None


def list_keys(c: sqlite3.Connection) -> list[ApiKey]:
    return [_key(r) for r in c.execute(f"SELECT {_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id")]


def revoke_key(c: sqlite3.Connection, key_id: str, at: float) -> ApiKey | None:
    c.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (at, key_id))
    row = c.execute(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE id = ?", (key_id,)).fetchone()
    return _key(row) if row else None


def touch_key(c: sqlite3.Connection, key_id: str, at: float) -> None:
    c.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (at, key_id))


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def append_audit(c: sqlite3.Connection, events: Sequence[AuditEvent]) -> None:
    c.executemany(
        "INSERT INTO audit_log (at, actor, role, method, address, action, target, status, before, after)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(e.at, e.actor, e.role, e.method, e.address, e.action, e.target, e.status, _json(e.before),
          _json(e.after)) for e in events],
    )  # fmt: skip


def query_audit(c: sqlite3.Connection, q: AuditQuery) -> list[AuditEvent]:
    """Newest first, one more than ``q.limit`` (so the caller knows whether a page follows)."""
    where: list[str] = ["1 = 1"]
    args: list[Any] = []
    if q.actor is not None:
        where.append("actor = ?")
        args.append(q.actor)
    if q.action is not None:
        if q.action.endswith("."):
            where.append("substr(action, 1, ?) = ?")
            args += [len(q.action), q.action]
        else:
            where.append("action = ?")
            args.append(q.action)
    for clause, value in (("at >= ?", q.since), ("at < ?", q.until), ("id < ?", q.before_id)):
        if value is not None:
            where.append(clause)
            args.append(value)
    rows = c.execute(
        "SELECT id, at, actor, role, method, address, action, target, status, before, after FROM audit_log"
        f" WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
        [*args, q.limit + 1],
    ).fetchall()
    return [
        AuditEvent(at, actor, role, method, address, action, target, status,
                   orjson.loads(before) if before else None, orjson.loads(after) if after else None, i)
        for i, at, actor, role, method, address, action, target, status, before, after in rows
    ]  # fmt: skip


def delete_audit_before(c: sqlite3.Connection, cutoff: float, limit: int) -> int:
    cur = c.execute(
        "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ? ORDER BY id LIMIT ?)",
        (cutoff, limit),
    )
    return cur.rowcount
