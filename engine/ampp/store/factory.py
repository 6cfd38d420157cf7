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


def where(url: str | None, path: str | None, settings: StorageSettings | None = None) -> str:
    """The store as a URL without its password (``postgresql://am@db:5432/alertmanager``)."""
    t = _target(url, path, settings)
    if t.sqlite_path is not None:
        return f"sqlite://{os.path.abspath(t.sqlite_path)}"
    if t.dsn is not None:
        parts = urlsplit(t.dsn)
        user = f"{parts.username}@" if parts.username else ""
        host = parts.hostname or "localhost"
        return f"postgresql://{user}{host}:{parts.port or 5432}{parts.path}"
    c = t.connect
    return f"postgresql://{c['user']}@{c['host']}:{c['port']}/{c['database']}"


async def probe(url: str | None, path: str | None, settings: StorageSettings | None = None) -> str:
    """Reach the store without changing it (``ampp doctor``): what it is and its schema version
    against this release's; raises what connecting or reading raised."""
    t = _target(url, path, settings)
    if t.sqlite_path is not None:
        from .sqlite.schema import HISTORY_MIGRATIONS, STATE_MIGRATIONS

        return await asyncio.to_thread(
            _probe_sqlite, t.sqlite_path, (("ampp.db", STATE_MIGRATIONS), ("history.db", HISTORY_MIGRATIONS))
        )
    import asyncpg

    from .postgres.schema import MIGRATIONS

    conn = await asyncpg.connect(
        t.dsn, timeout=10, server_settings={"application_name": "ampp-doctor"}, **t.connect
    )
    try:
        server = await conn.fetchval("SHOW server_version")
        where = await conn.fetchval("SELECT 'as ' || current_user")
        exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
        version = await conn.fetchval("SELECT MAX(version) FROM schema_migrations") if exists else 0
    finally:
        await conn.close()
    return f"PostgreSQL {server}, {where}; {_schema(version or 0, len(MIGRATIONS))}"


def _probe_sqlite(directory: str, files: tuple[tuple[str, list[str]], ...]) -> str:
    if not os.path.isdir(directory):
        parent = os.path.dirname(os.path.abspath(directory))
        if not os.access(parent, os.W_OK):
            raise PermissionError(f"{directory} does not exist and {parent} is not writable")
        return "not created yet (serve creates it)"
    if not os.access(directory, os.W_OK):
        raise PermissionError(f"{directory} is not writable")
    found = []
    for name, migrations in files:
        file = os.path.join(directory, name)
        if not os.path.exists(file):
            found.append(f"{name} not created yet")
            continue
        conn = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
        try:
            exists = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'").fetchone()
            row = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone() if exists else None
        finally:
            conn.close()
        found.append(f"{name} {_schema(int(row[0] or 0) if row else 0, len(migrations))}")
    return f"SQLite {sqlite3.sqlite_version}: {', '.join(found)}"


def _schema(version: int, latest: int) -> str:
    if version == latest:
        return f"schema version {version}"
    if version < latest:
        return f"schema version {version}, this release's {latest} (serve or ampp migrate applies it)"
    return f"schema version {version}, newer than this release's {latest} (it works with it)"
