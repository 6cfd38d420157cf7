"""The alerts' journal in SQLite: what a POST waits for is one appended row, not an upsert per
alert.

A POST /api/v2/alerts is answered once its alerts are durable. Upserting each alert into
``alerts`` (a random-key B-tree, about 20 µs of SQLite work an alert) made that commit the
slowest step of the answer. Instead, a commit appends one ``alert_journal`` row holding the
whole batch as JSON (``{"put": [alert rows], "del": [fingerprints]}``): a sequential append,
about 1 µs an alert. ``fold`` later moves journal rows into ``alerts`` (the latest change of
each fingerprint wins) and deletes them, in one transaction, when the engine is quiet
(SQLiteStorage schedules it). What is durable is the same either way: ``alerts`` plus the
journal, which ``load`` reads after folding all of it. SQLite's JSON ends a string at a NUL
character, so a batch holding one (a generatorURL may) skips the journal (``append``).

Every function takes the state database's connection and runs on its thread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import orjson

from .batch import JSON_NUL, insert_rows, transaction

UPSERT_ALERT = (
    "ON CONFLICT(fingerprint) DO UPDATE SET "
    "labels=excluded.labels, annotations=excluded.annotations, starts_at=excluded.starts_at, "
    "ends_at=excluded.ends_at, generator_url=excluded.generator_url, "
    "updated_at=excluded.updated_at, timeout=excluded.timeout"
)

_LATEST = (
    "CREATE TEMP TABLE IF NOT EXISTS journal_latest"
    " (fingerprint TEXT PRIMARY KEY, seq INTEGER NOT NULL, pos INTEGER NOT NULL, row TEXT)"
)
"""The latest change of each fingerprint in the entries being folded; ``row`` NULL: deleted.
Within an entry a later put wins over an earlier one, and a delete over a put (``pos``)."""

_COLLECT = """
INSERT INTO temp.journal_latest (fingerprint, seq, pos, row)
    SELECT p.value->>0, j.seq, p.key, p.value
    FROM alert_journal j, json_each(j.doc, '$.put') p WHERE j.seq <= ?1
    UNION ALL
    SELECT d.value, j.seq, json_array_length(j.doc, '$.put') + d.key, NULL
    FROM alert_journal j, json_each(j.doc, '$.del') d WHERE j.seq <= ?1
ON CONFLICT (fingerprint) DO UPDATE SET seq = excluded.seq, pos = excluded.pos, row = excluded.row
    WHERE (excluded.seq, excluded.pos) > (journal_latest.seq, journal_latest.pos)
"""

_APPLY_PUTS = f"""
INSERT INTO alerts
    SELECT row->>0, row->>1, row->>2, row->>3, row->>4, row->>5, row->>6, row->>7
    FROM temp.journal_latest WHERE row IS NOT NULL
{UPSERT_ALERT}
"""

_APPLY_DELETES = (
    "DELETE FROM alerts WHERE fingerprint IN (SELECT fingerprint FROM temp.journal_latest WHERE row IS NULL)"
)

_UPTO = """
SELECT max(seq) FROM (
    SELECT seq, changes, sum(changes) OVER (ORDER BY seq ROWS UNBOUNDED PRECEDING) AS total
    FROM alert_journal)
WHERE total - changes < ?
"""
"""The last entry to fold so that about ``limit`` changes are folded (always the first one)."""


def append(conn: sqlite3.Connection, rows: Sequence[Sequence[Any]], deletes: Sequence[str]) -> None:
    """One entry (a single statement: atomic without a transaction).

    A batch with a NUL character is written to ``alerts`` instead, after folding the journal
    (older than it), as rows that ``insert_rows`` binds one by one.
    """
    doc = orjson.dumps({"put": rows, "del": deletes})
    if JSON_NUL not in doc:
        conn.execute(
            "INSERT INTO alert_journal (changes, doc) VALUES (?, ?)", (len(rows) + len(deletes), doc.decode())
        )
        return
    fold(conn)
    with transaction(conn):
        insert_rows(conn, "INSERT INTO alerts", rows, UPSERT_ALERT)
        conn.execute(
            "DELETE FROM alerts WHERE fingerprint IN (SELECT value FROM json_each(?))",
            (orjson.dumps(deletes).decode(),),
        )


def fold(conn: sqlite3.Connection, limit: int | None = None) -> int:
    """Move the oldest entries (about ``limit`` changes; all with None) into ``alerts``.

    Returns how many changes were folded. A fingerprint changed by several entries ends as its
    latest change says; entries are deleted in the same transaction, so a crash part way
    leaves the journal as it was.
    """
    conn.execute(_LATEST)
    with transaction(conn):
        if limit is None:
            upto = conn.execute("SELECT max(seq) FROM alert_journal").fetchone()[0]
        else:
            upto = conn.execute(_UPTO, (limit,)).fetchone()[0]
        if upto is None:
            return 0
        conn.execute("DELETE FROM temp.journal_latest")
        conn.execute(_COLLECT, (upto,))
        conn.execute(_APPLY_PUTS)
        conn.execute(_APPLY_DELETES)
        (folded,) = conn.execute(
            "SELECT COALESCE(sum(changes), 0) FROM alert_journal WHERE seq <= ?", (upto,)
        ).fetchone()
        conn.execute("DELETE FROM alert_journal WHERE seq <= ?", (upto,))
        conn.execute("DELETE FROM temp.journal_latest")
    return int(folded)
