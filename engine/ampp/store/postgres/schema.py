"""The PostgreSQL schema: its migrations (migrations/, see store.migrations) and how they are
applied.

Migrations run on ``open()`` (and ``ampp migrate``), one transaction each, serialized across
replicas by a transaction-scoped advisory lock; they never drop or rewrite data, so a replica
on the previous version keeps working while a newer one migrates (rolling upgrades).
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from ..migrations import load
from .history import write as history_write

log = logging.getLogger(__name__)

MIGRATIONS = load(__package__, "migrations")

MIGRATION_LOCK = int.from_bytes(b"amppmigr", "big")
"""pg_advisory_xact_lock key for migrations: b"amppmigr" as a (positive) bigint."""


async def migrate(conn: asyncpg.Connection[Any] | PoolConnectionProxy[Any]) -> int:
    """Apply the migrations not yet applied, each in its own transaction; return the version.

    Every transaction first takes the advisory lock, so replicas starting together apply each
    migration once; the others wait, then see it done. A database migrated by a newer release
    (version above ours) is left alone: migrations only add, so this release still works.
    """
    version = 0
    for target, sql in enumerate(MIGRATIONS, start=1):
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY,"
                " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            version = int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))
            if version >= target:
                continue
            log.info("applying PostgreSQL migration version=%d", target)
            await conn.execute(sql)
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", target)
            version = target
    if version > len(MIGRATIONS):
        log.warning("PostgreSQL schema version %d is newer than this release's %d", version, len(MIGRATIONS))
    await history_write.prepare(conn)  # summarize the events a migration left pending
    return version
