"""Choose the store from the storage settings: SQLite unless PostgreSQL is asked for.

``storage.url`` (``--storage.url``) wins over ``storage.type``: a ``postgres(ql)://`` URL is
PostgreSQL, ``sqlite:///folder`` SQLite; without one, ``type: postgresql`` connects with the
``postgresql:`` block, ``type: sqlite`` keeps its files under ``sqlite.path``
(``--storage.path``). ``url`` and ``path`` are the flags, for callers that hold no settings.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from ..config.settings import StorageSettings
from .base import Storage

DEFAULT_PATH = "data/"
POSTGRES_SCHEMES = ("postgres", "postgresql")


class StorageConfigError(ValueError):
    """A storage URL or backend this build cannot use."""


@dataclass
class _Target:
    sqlite_path: str | None = None
    dsn: str | None = None
    connect: dict[str, Any] = field(default_factory=dict)
    max_connections: int = 10
    max_idle: int = 2


def _target(url: str | None, path: str | None, settings: StorageSettings | None) -> _Target:
    s = settings or StorageSettings()
    url = url or (str(s.url) if s.url else None)
    if url:
        parts = urlsplit(url)
        if parts.scheme in POSTGRES_SCHEMES:
            pg = s.postgresql
            return _Target(dsn=url, max_connections=pg.max_connections, max_idle=pg.max_idle)
        if parts.scheme == "sqlite":  # sqlite:///var/lib/ampp (a folder, like --storage.path)
            return _Target(sqlite_path=unquote(parts.netloc + parts.path) or DEFAULT_PATH)
        raise StorageConfigError(
            f"unsupported storage URL scheme {parts.scheme!r} (postgres://, postgresql:// or sqlite://)"
        )
    pg = s.postgresql
    if s.type == "postgresql":
        connect: dict[str, Any] = {"host": pg.host, "port": pg.port, "database": pg.database, "user": pg.user}
        if pg.password is not None:
            connect["password"] = str(pg.password)
        return _Target(connect=connect, max_connections=pg.max_connections, max_idle=pg.max_idle)
    return _Target(sqlite_path=path or s.sqlite.path or DEFAULT_PATH)


def open_storage(url: str | None, path: str | None, settings: StorageSettings | None = None) -> Storage:
    """Build the configured store, not yet connected: Engine.start() calls its open().

    asyncpg is imported only when PostgreSQL is chosen, so the embedded default needs nothing
    beyond the standard library.
    """
    t = _target(url, path, settings)
    if t.sqlite_path is not None:
        from .sqlite.storage import SQLiteStorage

        return SQLiteStorage(t.sqlite_path)
    from .postgres.storage import PostgresStorage

    return PostgresStorage(t.dsn, max_connections=t.max_connections, max_idle=t.max_idle, **t.connect)


async def migrate(url: str | None, path: str | None, settings: StorageSettings | None = None) -> int:
    """Bring the store's schema up to date and return its version (what ``ampp migrate`` runs).

    Safe while engines run against the same database: the same lock as their own start-up
    migration serializes it, and migrations only add. Run it as a Helm pre-upgrade hook or a
    Job to keep schema changes out of the replicas' start-up.
    """
    t = _target(url, path, settings)
    if t.sqlite_path is not None:
        from .sqlite.schema import HISTORY_MIGRATIONS, STATE_MIGRATIONS
        from .sqlite.schema import migrate as migrate_sqlite

        directory = t.sqlite_path

        def run() -> int:
            os.makedirs(directory, exist_ok=True)
            versions = []
            for name, migrations in (("ampp.db", STATE_MIGRATIONS), ("history.db", HISTORY_MIGRATIONS)):
                conn = sqlite3.connect(os.path.join(directory, name), isolation_level=None)
                try:
                    conn.execute("PRAGMA journal_mode=WAL")
                    conn.execute("PRAGMA busy_timeout=5000")
                    versions.append(migrate_sqlite(conn, migrations))
                finally:
                    conn.close()
            return versions[0]

        return await asyncio.to_thread(run)

    import asyncpg

    from .postgres.schema import migrate as migrate_pg

    conn = await asyncpg.connect(
        t.dsn, timeout=10, server_settings={"application_name": "ampp-migrate"}, **t.connect
    )
    try:
        return await migrate_pg(conn)
    finally:
        await conn.close()
