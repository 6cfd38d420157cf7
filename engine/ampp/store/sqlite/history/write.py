"""History writes in SQLite: the events and, in the same transaction, the summary tables
(store.history_common). They run in the history writer's own process (history_worker), on
history.db's one writing connection, inside the caller's transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from typing import Any

import orjson

from ...history_common import (
    STATE_KINDS,
    add_changes,
    flap_hour,
    flap_state,
    group_marks,
    summarize,
)
from ...records import HISTORY_FIELDS, HistoryEvent
from ..batch import insert_rows, transaction
from .shared import change_times, event, to_json


def prepare(conn: sqlite3.Connection) -> None:
    """On open, in the writer: summarize the events a migration left pending."""
    row = conn.execute("SELECT upto FROM history_summary_pending").fetchone()
    if row is None:
        return
    with transaction(conn):
        upto, last = int(row[0]), 0
        while last < upto:
            rows = conn.execute(
                f"SELECT id, {', '.join(HISTORY_FIELDS)} FROM history_events WHERE id > ? AND id <= ?"
                " ORDER BY id LIMIT 5000",
                (last, upto),
            ).fetchall()
            if not rows:
                break
            apply(conn, [event(r[1:]) for r in rows])
            last = int(rows[-1][0])
        conn.execute("DELETE FROM history_summary_pending")


# -- write -----------------------------------------------------------------------------------
# The writes run in the history writer's own process (history_worker), where no event loop
# waits for the GIL: rows are bound value by value, which costs SQLite less CPU than taking
# them out of one JSON parameter (see batch). Reads of many values are one row of JSON.


def _write(conn: sqlite3.Connection, head: str, rows: Sequence[Sequence[Any]], tail: str = "") -> None:
    insert_rows(conn, head, rows, tail, bind=True)


_INSERT_EVENTS = f"INSERT INTO history_events ({', '.join(HISTORY_FIELDS)})"


def insert_events(conn: sqlite3.Connection, rows: Sequence[Sequence[Any]]) -> None:
    """Append events, each a row of HISTORY_FIELDS' values (inside the caller's transaction)."""
    _write(conn, _INSERT_EVENTS, rows)


_OCCURRENCE_UPSERT = """
ON CONFLICT (fingerprint, starts_at) DO UPDATE SET
    ends_at = excluded.ends_at,
    alertname = excluded.alertname, severity = excluded.severity, namespace = excluded.namespace,
    cluster = excluded.cluster, service = excluded.service,
    changes = o.changes + excluded.changes,
    updated_at = excluded.updated_at
"""

_FINGERPRINT_UPSERT = """
ON CONFLICT (fingerprint) DO UPDATE SET
    labels = CASE WHEN excluded.labels = '{}' THEN labels ELSE excluded.labels END,
    changes = excluded.changes, flap_hour = excluded.flap_hour, last_change = excluded.last_change,
    recent = excluded.recent, spans = excluded.spans
"""

_STORED_FLAP_STATE = """
SELECT json_group_array(json_array(fingerprint, changes, json(recent), json(spans)))
FROM alert_fingerprints WHERE fingerprint IN (SELECT value FROM json_each(?))
"""

_RESOLVE_MARKS = """
SELECT json_group_array(COALESCE(
    (SELECT o.starts_at FROM alert_occurrences o WHERE o.fingerprint = m.fp AND o.starts_at = m.st),
    (SELECT MAX(o.starts_at) FROM alert_occurrences o WHERE o.fingerprint = m.fp)))
FROM (SELECT json_extract(value, '$[0]') AS fp, json_extract(value, '$[1]') AS st
      FROM json_each(?) ORDER BY key) m
"""
"""Each mark's occurrence: the one its startsAt names, else the fingerprint's latest (NULL:
none), in the marks' order."""

_MARK_UPSERT = """
ON CONFLICT (fingerprint, starts_at) DO UPDATE SET
    silenced = o.silenced OR excluded.silenced,
    inhibited = o.inhibited OR excluded.inhibited,
    receivers = (SELECT json_group_array(value) FROM (
        SELECT value FROM json_each(o.receivers) UNION SELECT value FROM json_each(excluded.receivers)
        ORDER BY 1)),
    sent = o.sent + excluded.sent,
    failed = o.failed + excluded.failed
"""
"""Marks only ever name occurrences read in the same transaction: always the update."""


def apply(
    conn: sqlite3.Connection,
    events: Sequence[HistoryEvent],
    known_label_values: AbstractSet[int] = frozenset(),
) -> set[tuple[str, str]]:
    """Bring the summary up to date with ``events`` (inside the caller's transaction).

    Returns the label (name, value) pairs it inserted: the caller remembers their
    ``hash((name, value))`` once the transaction commits and passes them back as
    ``known_label_values``, so that the labels of every event are not written again. Hashes,
    not the pairs: a quarter of the memory, and two of 100,000 pairs share a 64-bit hash about
    once in 10^9 remembered sets (that value would miss from regex filters until pruned).
    """
    s = summarize(events)
    stored: dict[str, tuple[int, list[int], list[int]]] = {}
    if s.changes:
        (found,) = conn.execute(_STORED_FLAP_STATE, (to_json(list(s.changes)),)).fetchone()
        stored = {fp: (int(n), recent, spans) for fp, n, recent, spans in orjson.loads(found)}
    rows = []
    for fp in sorted(s.changes):  # fingerprints first: every occurrence has its row there
        times = s.changes[fp]
        if fp in stored:
            n, recent, spans = stored[fp]
            changes = n + len(times)
            recent, spans = add_changes(recent, spans, times)
        elif len(times) == 1:  # a new alert's first change, most rows of a burst: no maths
            t = times[0]
            rows.append((fp, s.labels.get(fp, {}), 1, 1, t, [t], _FIRST_SPANS))
            continue
        else:
            changes, (recent, spans) = len(times), flap_state(sorted(times))
        rows.append(_fingerprint_row(fp, s.labels.get(fp, {}), changes, recent, spans))
    _write(conn, "INSERT INTO alert_fingerprints", rows, _FINGERPRINT_UPSERT)
    known = known_label_values
    new_values = {pair for labels in s.labels.values() for pair in labels.items() if hash(pair) not in known}
    _write(conn, "INSERT OR IGNORE INTO alert_label_values (name, value)", sorted(new_values))
    if s.occurrences:
        occs = list(s.occurrences.values())
        _write(
            conn,
            "INSERT INTO alert_occurrences AS o (fingerprint, starts_at, ends_at, alertname, severity,"
            " namespace, cluster, service, changes, updated_at)",
            [(o.fingerprint, o.starts_at, o.ends_at, *o.columns(), o.changes, o.updated_at) for o in occs],
            _OCCURRENCE_UPSERT,
        )
        _write(
            conn,
            "INSERT OR REPLACE INTO alert_occurrence_annotations"
            " (fingerprint, starts_at, annotations, search)",
            [(o.fingerprint, o.starts_at, o.annotations, o.search()) for o in occs if o.annotations],
        )
    if s.marks:
        marks = list(s.marks.values())
        (found,) = conn.execute(
            _RESOLVE_MARKS, (to_json([[m.fingerprint, m.starts_at] for m in marks]),)
        ).fetchone()
        _write(
            conn,
            "INSERT INTO alert_occurrences AS o (fingerprint, starts_at, silenced, inhibited, receivers,"
            " sent, failed, updated_at)",
            [
                (fp, st, m.silenced, m.inhibited, sorted(m.receivers), m.sent, m.failed, 0)
                for (fp, st), m in group_marks(marks, orjson.loads(found)).items()
            ],
            _MARK_UPSERT,
        )
    return new_values


_FIRST_SPANS = flap_state([0])[1]
"""The spans of an alert with one change: none covers two changes."""


def _fingerprint_row(
    fp: str, labels: dict[str, str], changes: int, recent: list[int], spans: list[int]
) -> tuple[str, dict[str, str], int, int, int, list[int], list[int]]:
    last = recent[-1] if recent else 0
    return (fp, labels, changes, flap_hour(changes, spans), last, recent, spans)


def _save_fingerprint(
    conn: sqlite3.Connection,
    fp: str,
    labels: dict[str, str],
    changes: int,
    recent: list[int],
    spans: list[int],
) -> None:
    _write(
        conn,
        "INSERT INTO alert_fingerprints",
        [_fingerprint_row(fp, labels, changes, recent, spans)],
        _FINGERPRINT_UPSERT,
    )


def delete_before(conn: sqlite3.Connection, cutoff: int, limit: int) -> int:
    """Retention: delete at most ``limit`` of the oldest events before ``cutoff``, the
    occurrences that ended with them, and recompute the flapping of the fingerprints whose
    state changes went (inside the caller's transaction)."""
    rows = conn.execute(
        "SELECT id, at, kind, fingerprint FROM history_events WHERE at < ? ORDER BY at, id LIMIT ?",
        (cutoff, limit),
    ).fetchall()
    if not rows:
        return 0
    conn.executemany("DELETE FROM history_events WHERE id = ?", [(r[0],) for r in rows])
    upto = max(r[1] for r in rows)
    ended = conn.execute(
        "SELECT fingerprint, starts_at FROM alert_occurrences WHERE ends_at IS NOT NULL AND ends_at <= ?",
        (upto,),
    ).fetchall()
    conn.executemany("DELETE FROM alert_occurrences WHERE fingerprint = ? AND starts_at = ?", ended)
    conn.executemany(
        "DELETE FROM alert_occurrence_annotations WHERE fingerprint = ? AND starts_at = ?", ended
    )
    fps = {r[3] for r in rows if r[2] in STATE_KINDS and r[3] is not None}
    for fp in sorted(fps):
        times = change_times(conn, fp, None, None)
        _save_fingerprint(conn, fp, {}, len(times), *flap_state(times))
    conn.executemany(
        "DELETE FROM alert_fingerprints WHERE fingerprint = ? AND changes = 0"
        " AND NOT EXISTS (SELECT 1 FROM alert_occurrences o"
        " WHERE o.fingerprint = alert_fingerprints.fingerprint)",
        [(fp,) for fp in sorted(fps | {r[0] for r in ended})],
    )
    return len(rows)


def prune_label_values(conn: sqlite3.Connection) -> int:
    """The label values no fingerprint carries any more (inside the caller's transaction). The
    values still carried are listed once; SQLite indexes that list for the NOT IN."""
    return conn.execute(
        "DELETE FROM alert_label_values WHERE (name, value) NOT IN"
        " (SELECT j.key, j.value FROM alert_fingerprints f, json_each(f.labels) j)"
    ).rowcount
