"""The SQLite schema: the migrations of ``ampp.db`` and ``history.db`` (migrations/state and
migrations/history, see store.migrations) and how they are applied.

history.db is a file of its own, written by a process of its own (history_worker), so that
the history's volume (an event per alert change) never queues in front of the engine's own
commits, which POST /api/v2/alerts waits for, nor takes the engine's GIL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence

from ..migrations import load
from .batch import transaction

STATE_MIGRATIONS = load(__package__, "migrations/state")
"""ampp.db: the alerts, silences, notification log and delivery queue."""
HISTORY_MIGRATIONS = load(__package__, "migrations/history")
"""history.db: the history events and their summary."""


def statements(script: str) -> Iterator[str]:
    """The statements of ``script`` one by one (sqlite3 runs one per call, and executescript
    would commit the migration's transaction): split at each semicolon that ends a complete
    statement, so one inside a string, a comment or a trigger's body stays where it is."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\r\n;"):
                yield pending
            pending = ""
    if pending.strip(" \t\r\n;"):
        yield pending


def migrate(conn: sqlite3.Connection, migrations: Sequence[str]) -> int:
    """Apply the migrations not yet applied, each in its own transaction; return the version."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)")
    current = 0
    for version, sql in enumerate(migrations, start=1):
        with transaction(conn):
            # Read inside the write lock: another process may have just applied it.
            row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
            current = int(row[0])
            if version <= current:
                continue
            for statement in statements(sql):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations VALUES (?)", (version,))
        current = version
    return current
