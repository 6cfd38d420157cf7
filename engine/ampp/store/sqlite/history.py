"""History in SQLite: the summary tables kept on write, and /history, /report and the timeline
answered in SQL (see history_common for what the tables hold).

Every function takes the history database's connection and runs on its thread. JSON columns
are TEXT (json_extract, json_each); times are Unix nanoseconds.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from typing import Any

import orjson

from ..history_common import (
    COUNT_CAP,
    FLAP_DEPTH,
    INT64_MAX,
    INT64_MIN,
    STATE_KINDS,
    add_changes,
    changes_from_spans,
    flap_hour,
    flap_state,
    flap_window_ns,
    group_marks,
    like_pattern,
    max_changes,
    nearest_rank,
    regex_label_names,
    sort_expr,
    summarize,
    where,
)
from ..history_query import HistoryPage, HistoryQuery, OccurrenceRow, Report, Timeline
from ..records import HISTORY_FIELDS, HistoryEvent
from .batch import insert_rows, transaction

MIGRATION = """
    CREATE TABLE alert_fingerprints (
        fingerprint TEXT PRIMARY KEY,
        labels TEXT NOT NULL DEFAULT '{}',
        changes INTEGER NOT NULL DEFAULT 0,
        flap_hour INTEGER NOT NULL DEFAULT 0,
        last_change INTEGER NOT NULL DEFAULT 0,
        recent TEXT NOT NULL DEFAULT '[]',
        spans TEXT NOT NULL DEFAULT '[]'
    );
    CREATE TABLE alert_label_values (
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (name, value)
    ) WITHOUT ROWID;
    CREATE TABLE alert_occurrences (
        fingerprint TEXT NOT NULL,
        starts_at INTEGER NOT NULL,
        ends_at INTEGER,
        alertname TEXT NOT NULL DEFAULT '',
        severity TEXT NOT NULL DEFAULT '',
        namespace TEXT NOT NULL DEFAULT '',
        cluster TEXT NOT NULL DEFAULT '',
        service TEXT NOT NULL DEFAULT '',
        silenced INTEGER NOT NULL DEFAULT 0,
        inhibited INTEGER NOT NULL DEFAULT 0,
        receivers TEXT NOT NULL DEFAULT '[]',
        sent INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        changes INTEGER NOT NULL DEFAULT 0,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (fingerprint, starts_at)
    );
    CREATE INDEX alert_occurrences_starts ON alert_occurrences (starts_at, fingerprint);
    CREATE INDEX alert_occurrences_ends ON alert_occurrences (ends_at);
    CREATE INDEX alert_occurrences_firing ON alert_occurrences (starts_at, fingerprint)
        WHERE ends_at IS NULL;
    CREATE INDEX alert_occurrences_alertname ON alert_occurrences (alertname, starts_at);
    CREATE INDEX alert_occurrences_namespace ON alert_occurrences (namespace, starts_at);
    CREATE TABLE alert_occurrence_annotations (
        fingerprint TEXT NOT NULL,
        starts_at INTEGER NOT NULL,
        annotations TEXT NOT NULL,
        search TEXT NOT NULL,
        PRIMARY KEY (fingerprint, starts_at)
    );
    CREATE TABLE history_summary_pending (upto INTEGER NOT NULL);
    INSERT INTO history_summary_pending SELECT COALESCE(MAX(id), 0) FROM history_events
"""
"""The summary tables; events already stored are summarized by ``prepare`` on the next start."""

_STATE_IN = "('alert.firing', 'alert.resolved')"
_NOTIFY_IN = "('notify.sent', 'notify.failed')"
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def configure_reader(conn: sqlite3.Connection) -> None:
    """The reading connection's settings."""
    conn.execute("PRAGMA case_sensitive_like = ON")  # the q filter: LIKE as a substring test


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
            apply(conn, [_event(r[1:]) for r in rows])
            last = int(rows[-1][0])
        conn.execute("DELETE FROM history_summary_pending")


def _event(r: Sequence[Any]) -> HistoryEvent:
    e = HistoryEvent(*r)
    e.labels = orjson.loads(r[3])
    e.annotations = orjson.loads(r[4])
    e.details = None if r[14] is None else orjson.loads(r[14])
    return e


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


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
        (found,) = conn.execute(_STORED_FLAP_STATE, (_json(list(s.changes)),)).fetchone()
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
            _RESOLVE_MARKS, (_json([[m.fingerprint, m.starts_at] for m in marks]),)
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
        times = _change_times(conn, fp, None, None)
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


def _change_times(conn: sqlite3.Connection, fp: str, lo: int | None, hi: int | None) -> list[int]:
    rows = conn.execute(
        f"SELECT at FROM history_events WHERE fingerprint = ? AND kind IN {_STATE_IN} AND at BETWEEN ? AND ?"
        " ORDER BY at, id",
        (fp, INT64_MIN if lo is None else lo, INT64_MAX if hi is None else hi),
    ).fetchall()
    return [int(r[0]) for r in rows]


# -- read ------------------------------------------------------------------------------------
class _Dialect:
    def __init__(self, now: int, values: dict[str, list[str]]) -> None:
        self.args: list[Any] = []
        self._now = now
        self._now_param: str | None = None
        self._values = values

    def param(self, value: Any) -> str:
        self.args.append(value)
        return f":p{len(self.args)}"  # named: one may be used twice (now), or not at all

    def named(self) -> dict[str, Any]:
        return {f"p{i}": v for i, v in enumerate(self.args, start=1)}

    def now(self) -> str:
        if self._now_param is None:
            self._now_param = self.param(self._now)
        return self._now_param

    def values(self, name: str) -> list[str]:
        return self._values.get(name, [])

    def in_list(self, expr: str, values: list[str], negate: bool) -> str:
        if not values:
            return "1" if negate else "0"
        return f"{expr} {'NOT IN' if negate else 'IN'} ({', '.join(self.param(v) for v in values)})"

    def _label(self, name: str) -> str:
        if _PLAIN_NAME.match(name):
            return f"json_extract(f.labels, '$.\"{name}\"')"
        return f"(SELECT j.value FROM json_each(f.labels) j WHERE j.key = {self.param(name)})"

    def fingerprint_label_in(self, name: str, values: list[str], missing: bool) -> str:
        parts = [self.in_list(self._label(name), values, False)] if values else []
        if missing:
            parts.append(f"COALESCE({self._label(name)}, '') = ''")
        return "(" + " OR ".join(parts) + ")" if parts else "0"

    def any_receiver(self, receivers: list[str]) -> str:
        vals = ", ".join(self.param(r) for r in receivers)
        return f"EXISTS (SELECT 1 FROM json_each(o.receivers) j WHERE j.value IN ({vals}))"

    def flap_span(self, n: int) -> str:
        return f"json_extract(f.spans, '$[{int(n) - 1}]')"

    def text_search(self, text: str) -> str:
        return (
            "EXISTS (SELECT 1 FROM alert_occurrence_annotations a WHERE a.fingerprint = o.fingerprint"
            f" AND a.starts_at = o.starts_at AND a.search LIKE {self.param(like_pattern(text))} ESCAPE '\\')"
        )

    def active(self, t: str) -> str:
        return f"o.starts_at <= {t} AND (o.ends_at IS NULL OR o.ends_at >= {t})"

    def overlaps(self, lo: str, hi: str | None) -> str:
        return f"(o.ends_at IS NULL OR o.ends_at >= {lo})" + (
            "" if hi is None else f" AND o.starts_at <= {hi}"
        )


_PAGE_COLUMNS = (
    "o.fingerprint, o.starts_at, o.ends_at, COALESCE(f.labels, '{}'), COALESCE(a.annotations, '{}'),"
    " o.silenced, o.inhibited, o.receivers, o.sent, o.failed, f.changes, f.spans"
)
_JOIN = (
    "LEFT JOIN alert_fingerprints f ON f.fingerprint = o.fingerprint"
    " LEFT JOIN alert_occurrence_annotations a ON a.fingerprint = o.fingerprint AND a.starts_at = o.starts_at"
)


def _row(r: Sequence[Any]) -> OccurrenceRow:
    return OccurrenceRow(r[0], r[1], r[2], orjson.loads(r[3]), orjson.loads(r[4]), bool(r[5]), bool(r[6]),
                         orjson.loads(r[7]), r[8], r[9])  # fmt: skip


def _flaps_of(conn: sqlite3.Connection, rows: Sequence[Sequence[Any]], window_s: float) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        n = changes_from_spans(r[10] or 0, orjson.loads(r[11] or "[]"), window_s)
        out[r[0]] = n if n is not None else max_changes(_change_times(conn, r[0], None, None), window_s)
    return out


def _flapping_fps(
    conn: sqlite3.Connection, n: int, window_s: float, lo: int | None, hi: int | None
) -> dict[str, int]:
    """Fingerprints with more than ``n`` changes within ``window_s`` (counting those in
    [lo, hi]), with that most: candidates from alert_fingerprints, counted from the events."""
    since = INT64_MIN if lo is None else lo
    if 1 <= n <= FLAP_DEPTH:
        test, args = f"{_Dialect(0, {}).flap_span(n)} <= ?", (flap_window_ns(window_s), since)
    else:
        test, args = "f.changes > ?", (n, since)
    cands = conn.execute(
        f"SELECT f.fingerprint FROM alert_fingerprints f WHERE {test} AND f.last_change >= ?", args
    ).fetchall()
    out: dict[str, int] = {}
    for (fp,) in cands:
        c = max_changes(_change_times(conn, fp, lo, hi), window_s)
        if c > n:
            out[fp] = c
    return out


def _label_values(conn: sqlite3.Connection, names: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name in names:
        out[name] = [
            r[0] for r in conn.execute("SELECT value FROM alert_label_values WHERE name = ?", (name,))
        ]
    return out


def history(conn: sqlite3.Connection, h: HistoryQuery, now: int) -> HistoryPage:
    d = _Dialect(now, _label_values(conn, regex_label_names(h)))
    flapping = None
    if h.flapping is not None and h.flapping > FLAP_DEPTH:
        flapping = sorted(_flapping_fps(conn, h.flapping, h.flapping_window, None, None))
    cond = " AND ".join(where(h, d, flapping)) or "1"
    total = conn.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM alert_occurrences o WHERE {cond} LIMIT {COUNT_CAP + 1})",
        d.named(),
    ).fetchone()[0]
    key = sort_expr(h.sort, d)
    page_cond = cond
    if h.cursor is not None:
        op = ">" if h.direction == "asc" else "<"
        after = ", ".join(d.param(v) for v in h.cursor)
        page_cond += f" AND ({key}, o.fingerprint, o.starts_at) {op} ({after})"
    dirn = "ASC" if h.direction == "asc" else "DESC"
    order = f"ORDER BY {key} {dirn}, o.fingerprint {dirn}, o.starts_at {dirn}"
    rows = conn.execute(
        f"WITH page AS (SELECT * FROM alert_occurrences o WHERE {page_cond} {order} LIMIT {h.limit + 1})"
        f" SELECT {_PAGE_COLUMNS} FROM page o {_JOIN} {order}",
        d.named(),
    ).fetchall()
    flaps = _flaps_of(conn, rows[: h.limit], h.flapping_window)
    return HistoryPage([_row(r) for r in rows], min(total, COUNT_CAP), flaps, total <= COUNT_CAP)


def timeline(conn: sqlite3.Connection, fp: str, limit: int) -> Timeline | None:
    cols = ", ".join(HISTORY_FIELDS)
    own = conn.execute(
        f"SELECT id, {cols} FROM history_events WHERE fingerprint = ? ORDER BY at DESC, id DESC LIMIT ?",
        (fp, limit + 1),
    ).fetchall()
    if not own:
        return None
    first = own[-1][1]
    events = {int(r[0]): _event(r[1:]) for r in own}
    silences = sorted(
        {s for e in events.values() if e.kind == "alert.silenced" for s in (e.details or {}).get("by", [])}
    )
    # an alert is notified after its first event: only later notifications can carry it
    more = conn.execute(
        f"SELECT id, {cols} FROM history_events WHERE kind IN {_NOTIFY_IN} AND at >= ?"
        " AND EXISTS (SELECT 1 FROM json_each(details, '$.fingerprints') j WHERE j.value = ?)"
        " ORDER BY at DESC, id DESC LIMIT ?",
        (first, fp, limit + 1),
    ).fetchall()
    if silences:
        more += conn.execute(
            f"SELECT id, {cols} FROM history_events WHERE silence_id IN ({', '.join('?' * len(silences))})"
            " ORDER BY at DESC, id DESC LIMIT ?",
            (*silences, limit + 1),
        ).fetchall()
    for r in more:
        events.setdefault(int(r[0]), _event(r[1:]))
    ordered = sorted(events.items(), key=lambda kv: (kv[1].at, kv[0]))
    occ = conn.execute(
        f"SELECT {_PAGE_COLUMNS} FROM alert_occurrences o {_JOIN} WHERE o.fingerprint = ?"
        " ORDER BY o.starts_at DESC LIMIT 1000",
        (fp,),
    ).fetchall()
    return Timeline(
        ordered[-limit:], len(ordered) > limit, [_row(r) for r in occ], _flaps_of(conn, occ[:1], 3600.0)
    )


def report(
    conn: sqlite3.Connection, lo: int | None, hi: int | None, threshold: int, window_s: float
) -> Report:
    lo_v = INT64_MIN if lo is None else lo
    hi_v = INT64_MAX if hi is None else hi
    win = "o.starts_at <= ? AND (o.ends_at IS NULL OR o.ends_at >= ?)"
    wargs = (hi_v, lo_v)
    counts: dict[str, dict[str, int]] = {
        k: {} for k in ("severity", "status", "receiver", "namespace", "alertname")
    }
    total = 0
    for col in ("severity", "namespace", "alertname"):
        for k, n in conn.execute(
            f"SELECT o.{col}, count(*) FROM alert_occurrences o WHERE {win} GROUP BY 1", wargs
        ).fetchall():
            counts[col][k] = n
    for firing, n in conn.execute(
        f"SELECT o.ends_at IS NULL, count(*) FROM alert_occurrences o WHERE {win} GROUP BY 1", wargs
    ).fetchall():
        counts["status"]["firing" if firing else "resolved"] = n
        total += n
    for k, n in conn.execute(
        f"SELECT j.value, count(*) FROM alert_occurrences o, json_each(o.receivers) j WHERE {win} GROUP BY 1",
        wargs,
    ).fetchall():
        counts["receiver"][k] = n
    noisy_rows = conn.execute(
        f"SELECT o.fingerprint, count(*) AS n FROM alert_occurrences o WHERE {win}"
        " GROUP BY o.fingerprint ORDER BY n DESC, o.fingerprint LIMIT 10",
        wargs,
    ).fetchall()
    rwin = f"{win} AND o.ends_at IS NOT NULL"
    count, mean = conn.execute(
        f"SELECT count(*), avg(o.ends_at - o.starts_at) FROM alert_occurrences o WHERE {rwin}", wargs
    ).fetchone()
    p50 = p95 = None
    if count:
        pick = (
            f"SELECT o.ends_at - o.starts_at AS d FROM alert_occurrences o WHERE {rwin}"
            " ORDER BY d LIMIT 1 OFFSET ?"
        )
        p50 = conn.execute(pick, (*wargs, nearest_rank(count, 50))).fetchone()[0]
        p95 = conn.execute(pick, (*wargs, nearest_rank(count, 95))).fetchone()[0]
    flapping_fps = _flapping_fps(conn, threshold, window_s, lo, hi)
    labels = _labels(conn, [r[0] for r in noisy_rows] + sorted(flapping_fps))
    notifications: dict[str, dict[str, int]] = {}
    for receiver, outcome, n in conn.execute(
        f"SELECT receiver, outcome, count(*) FROM history_events WHERE kind IN {_NOTIFY_IN}"
        " AND at BETWEEN ? AND ? AND receiver IS NOT NULL GROUP BY 1, 2",
        (lo_v, hi_v),
    ).fetchall():
        slot = notifications.setdefault(receiver, {"sent": 0, "failed": 0})
        slot["sent" if outcome == "sent" else "failed"] += n
    by_actor: dict[str, int] = {}
    for actor, n in conn.execute(
        "SELECT COALESCE(actor, ''), count(*) FROM history_events WHERE kind = 'silence.created'"
        " AND at BETWEEN ? AND ? GROUP BY 1",
        (lo_v, hi_v),
    ).fetchall():
        by_actor[actor] = by_actor.get(actor, 0) + n
    return Report(
        total, counts, [(fp, labels.get(fp, {}), int(n)) for fp, n in noisy_rows],
        (int(count), mean if count else None, p50, p95),
        [(fp, labels.get(fp, {}), n) for fp, n in sorted(flapping_fps.items())],
        notifications, sum(by_actor.values()), by_actor,
    )  # fmt: skip


def _labels(conn: sqlite3.Connection, fps: list[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for fp in fps:
        row = conn.execute("SELECT labels FROM alert_fingerprints WHERE fingerprint = ?", (fp,)).fetchone()
        if row is not None:
            out[fp] = orjson.loads(row[0])
    return out
