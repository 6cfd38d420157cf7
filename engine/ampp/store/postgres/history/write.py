"""History writes in PostgreSQL: the events, and in the same transaction the summary tables
(store.history_common) and the hourly and daily rollups /report reads.

Appends from several replicas are serialized by a transaction-scoped advisory lock
(HISTORY_LOCK), so the read-modify-write of the summary never races; retention and the
backfill of events a migration left unsummarized take the same lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...history_common import (
    FLAP_WINDOW_S,
    HOUR,
    NOTIFY_KINDS,
    STATE_KINDS,
    OccurrenceMark,
    add_changes,
    counts_at,
    flap_hour,
    flap_state,
    group_marks,
    summarize,
    ttr_bucket,
)
from ...records import HistoryEvent
from ..codec import join_ns, split_ns
from .shared import EVENT_COLUMNS, Conn, change_times, event

HISTORY_LOCK = int.from_bytes(b"ampphist", "big")
"""pg_advisory_xact_lock key that serializes summary writes (appends, retention, backfill)."""


_INSERT_EVENTS = (
    f"INSERT INTO history_events ({EVENT_COLUMNS}) VALUES ({', '.join(f'${i}' for i in range(1, 17))})"
)


async def append(conn: Conn, events: Sequence[HistoryEvent]) -> None:
    """Append ``events`` and bring the summary up to date with them (inside the caller's
    transaction)."""
    rows = []
    for e in events:
        us, rest = split_ns(e.at)
        rows.append(
            (
                us, rest, e.kind, e.fingerprint, e.labels or {}, e.annotations or {}, e.group_key,
                e.receiver, e.integration, e.outcome, e.latency_ms, e.error, e.silence_id, e.actor,
                e.comment, e.details,
            )
        )  # fmt: skip
    await conn.executemany(_INSERT_EVENTS, rows)
    await apply(conn, events)  # the summary, in the same transaction


async def prepare(conn: Conn) -> None:
    """After the migrations: summarize the events a migration left pending (once, under the
    lock; concurrent starts wait, then find nothing to do)."""
    if await conn.fetchval("SELECT count(*) FROM history_summary_pending") == 0:
        return
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", HISTORY_LOCK)
        upto = await conn.fetchval("SELECT max(upto) FROM history_summary_pending")
        if upto is None:
            return
        last = 0
        while last < upto:
            rows = await conn.fetch(
                f"SELECT id, {EVENT_COLUMNS} FROM history_events WHERE id > $1 AND id <= $2"
                " ORDER BY id LIMIT 20000",
                last,
                upto,
            )
            if not rows:
                break
            await apply(conn, [event(tuple(r)[1:]) for r in rows], locked=True)
            last = rows[-1][0]
        await conn.execute("DELETE FROM history_summary_pending")


_UPSERT = """
WITH input AS (
    SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::text[],
                         $8::text[], $9::int4[], $10::int8[], $11::int2[])
             AS u(fingerprint, starts_at, ends_at, alertname, severity, namespace, cluster, service, changes,
                  updated_at, ttr_bucket)),
before AS (
    SELECT o.fingerprint, o.starts_at, o.duration, o.ttr_bucket
      FROM alert_occurrences o JOIN input i ON o.fingerprint = i.fingerprint AND o.starts_at = i.starts_at),
upserted AS (
    INSERT INTO alert_occurrences AS o (fingerprint, starts_at, ends_at, alertname, severity, namespace,
        cluster, service, changes, updated_at, ttr_bucket)
    SELECT * FROM input
    ON CONFLICT (fingerprint, starts_at) DO UPDATE SET
        ends_at = EXCLUDED.ends_at,
        alertname = EXCLUDED.alertname, severity = EXCLUDED.severity, namespace = EXCLUDED.namespace,
        cluster = EXCLUDED.cluster, service = EXCLUDED.service,
        changes = o.changes + EXCLUDED.changes,
        updated_at = EXCLUDED.updated_at, ttr_bucket = EXCLUDED.ttr_bucket
    RETURNING xmax = 0 AS inserted, fingerprint, starts_at, severity, namespace, alertname, duration,
              ttr_bucket)
SELECT u.inserted, u.fingerprint, u.starts_at, u.severity, u.namespace, u.alertname, u.duration, u.ttr_bucket,
       b.duration, b.ttr_bucket
  FROM upserted u LEFT JOIN before b ON b.fingerprint = u.fingerprint AND b.starts_at = u.starts_at
"""
"""The upsert, saying for each occurrence whether it is new and what its duration was: the
rollups count an occurrence once, and a resolution (or a re-firing) moves it in the histogram."""

_UPSERT_ANNOTATIONS = """
INSERT INTO alert_occurrence_annotations (fingerprint, starts_at, annotations, search)
SELECT * FROM unnest($1::text[], $2::int8[], $3::jsonb[], $4::text[])
ON CONFLICT (fingerprint, starts_at) DO UPDATE SET
    annotations = EXCLUDED.annotations, search = EXCLUDED.search
"""

_RESOLVE = """
SELECT COALESCE(
    (SELECT o.starts_at FROM alert_occurrences o WHERE o.fingerprint = d.fp AND o.starts_at = d.st),
    (SELECT max(o.starts_at) FROM alert_occurrences o WHERE o.fingerprint = d.fp))
FROM unnest($1::text[], $2::int8[]) WITH ORDINALITY AS d(fp, st, i) ORDER BY d.i
"""

_MARK = """
UPDATE alert_occurrences o SET
    silenced = o.silenced OR d.sil, inhibited = o.inhibited OR d.inh,
    receivers = CASE WHEN cardinality(d.recv) = 0 THEN o.receivers
                     ELSE ARRAY(SELECT DISTINCT x FROM unnest(o.receivers || d.recv) x ORDER BY x) END,
    sent = o.sent + d.sent, failed = o.failed + d.failed
FROM (SELECT u.fp, u.st, u.sil, u.inh, u.recv::text[] AS recv, u.sent, u.failed
        FROM unnest($1::text[], $2::int8[], $3::bool[], $4::bool[], $5::text[], $6::int4[], $7::int4[])
             AS u(fp, st, sil, inh, recv, sent, failed)) d
WHERE o.fingerprint = d.fp AND o.starts_at = d.st
"""

_UPSERT_FINGERPRINTS = """
INSERT INTO alert_fingerprints AS f (fingerprint, labels, changes, last_change, recent, spans, flap_hour)
SELECT u.fp, u.labels, u.changes, u.last, u.recent::int8[], u.spans::int8[], u.flap_hour
  FROM unnest($1::text[], $2::jsonb[], $3::int4[], $4::int8[], $5::text[], $6::text[], $7::int2[])
       AS u(fp, labels, changes, last, recent, spans, flap_hour)
ON CONFLICT (fingerprint) DO UPDATE SET
    labels = CASE WHEN EXCLUDED.labels = '{}' THEN f.labels ELSE EXCLUDED.labels END,
    changes = EXCLUDED.changes, last_change = EXCLUDED.last_change, flap_hour = EXCLUDED.flap_hour,
    recent = EXCLUDED.recent, spans = EXCLUDED.spans
"""

_BUMP_OCCURRENCES = """
UPDATE alert_fingerprints f SET occurrences = f.occurrences + d.n
  FROM unnest($1::text[], $2::int4[]) AS d(fp, n) WHERE f.fingerprint = d.fp
"""
_BUMP_OCCURRENCE_ROLLUP = """
INSERT INTO alert_occurrence_rollup AS r
SELECT * FROM unnest($1::int2[], $2::int8[], $3::text[], $4::text[], $5::int4[])
ON CONFLICT (g, t, label, value) DO UPDATE SET n = r.n + EXCLUDED.n
"""
_BUMP_DURATION_ROLLUP = """
INSERT INTO alert_duration_rollup AS r
SELECT * FROM unnest($1::int2[], $2::int8[], $3::int2[], $4::int4[], $5::int8[])
ON CONFLICT (g, t, bucket) DO UPDATE SET n = r.n + EXCLUDED.n, total = r.total + EXCLUDED.total
"""
_BUMP_NOTIFY_ROLLUP = """
INSERT INTO history_notify_rollup AS r
SELECT * FROM unnest($1::int2[], $2::int8[], $3::text[], $4::int4[], $5::int4[])
ON CONFLICT (g, t, receiver) DO UPDATE SET sent = r.sent + EXCLUDED.sent, failed = r.failed + EXCLUDED.failed
"""
_RAISE_FLAP_ROLLUP = """
INSERT INTO alert_flap_rollup AS r SELECT * FROM unnest($1::int2[], $2::int8[], $3::text[], $4::int2[])
ON CONFLICT (g, t, fingerprint) DO UPDATE SET most = GREATEST(r.most, EXCLUDED.most)
"""


def _buckets(ns: int) -> list[tuple[int, int]]:
    """(g, t) of the hour and of the day that hold ``ns``."""
    hour = ns // HOUR
    return [(1, hour), (24, hour // 24)]


class _Deltas:
    """Rollup changes of one batch, added up per key before they are written."""

    def __init__(self) -> None:
        self.labels: dict[tuple[int, int, str, str], int] = {}
        self.durations: dict[tuple[int, int, int], tuple[int, int]] = {}
        self.notify: dict[tuple[int, int, str], tuple[int, int]] = {}
        self.flaps: dict[tuple[int, int, str], int] = {}
        self.occurrences: dict[str, int] = {}

    def occurrence(self, sign: int, fp: str, starts_at: int, sev: str, ns: str, name: str) -> None:
        for g, t in _buckets(starts_at):
            for label, value in (("", ""), ("severity", sev), ("namespace", ns), ("alertname", name)):
                key = (g, t, label, value)
                self.labels[key] = self.labels.get(key, 0) + sign
        self.occurrences[fp] = self.occurrences.get(fp, 0) + sign

    def receiver(self, sign: int, starts_at: int, receiver: str) -> None:
        for g, t in _buckets(starts_at):
            key = (g, t, "receiver", receiver)
            self.labels[key] = self.labels.get(key, 0) + sign

    def duration(self, sign: int, starts_at: int, bucket: int, duration: int) -> None:
        for g, t in _buckets(starts_at):
            n, total = self.durations.get((g, t, bucket), (0, 0))
            self.durations[(g, t, bucket)] = (n + sign, total + sign * duration)

    def notification(self, sign: int, at: int, receiver: str, sent: bool) -> None:
        for g, t in _buckets(at):
            s, f = self.notify.get((g, t, receiver), (0, 0))
            self.notify[(g, t, receiver)] = (s + sign, f) if sent else (s, f + sign)

    def flap(self, at: int, fp: str, count: int) -> None:
        for g, t in _buckets(at):
            self.flaps[(g, t, fp)] = max(self.flaps.get((g, t, fp), 0), count)

    async def write(self, conn: Conn) -> None:
        for sql, deltas in (
            (_BUMP_OCCURRENCE_ROLLUP, self.labels),
            (_BUMP_DURATION_ROLLUP, self.durations),
            (_BUMP_NOTIFY_ROLLUP, self.notify),
            (_RAISE_FLAP_ROLLUP, self.flaps),
            (_BUMP_OCCURRENCES, self.occurrences),
        ):
            rows = [
                (*(k if isinstance(k, tuple) else (k,)), *(v if isinstance(v, tuple) else (v,)))
                for k, v in sorted(deltas.items())
                if v
            ]
            if rows:
                await conn.execute(sql, *_columns(rows, len(rows[0])))


def _pg_array(values: Sequence[Any]) -> str:
    """A PostgreSQL array literal of numbers or of names (quoted)."""
    items = [
        str(v) if isinstance(v, int) else '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
        for v in values
    ]
    return "{" + ",".join(items) + "}"


def _columns(rows: Sequence[Sequence[Any]], n: int) -> list[list[Any]]:
    cols: list[list[Any]] = [[] for _ in range(n)]
    for row in rows:
        for i, v in enumerate(row):
            cols[i].append(v)
    return cols


async def apply(conn: Conn, events: Sequence[HistoryEvent], *, locked: bool = False) -> None:
    """Bring the summary up to date with ``events``, inside the caller's transaction."""
    s = summarize(events)
    deltas = _Deltas()
    for e in events:
        if e.kind in NOTIFY_KINDS and e.receiver is not None:
            deltas.notification(1, e.at, e.receiver, e.outcome == "sent")
    if not (s.occurrences or s.marks or s.changes or deltas.notify):
        return
    if not locked:
        await conn.execute("SELECT pg_advisory_xact_lock($1)", HISTORY_LOCK)
    if s.changes:  # fingerprints first: every occurrence has its row there
        await _apply_fingerprints(conn, s.changes, s.labels, deltas)
    if s.occurrences:
        occs = [s.occurrences[k] for k in sorted(s.occurrences)]
        rows = [
            (o.fingerprint, o.starts_at, o.ends_at, *o.columns(), o.changes, o.updated_at,
             None if o.ends_at is None else ttr_bucket(o.ends_at - o.starts_at))
            for o in occs
        ]  # fmt: skip
        for inserted, fp, st, sev, ns, name, dur, bucket, old_dur, old_bucket in await conn.fetch(
            _UPSERT, *_columns(rows, 11)
        ):
            if inserted:
                deltas.occurrence(1, fp, st, sev, ns, name)
            if old_dur is not None:
                deltas.duration(-1, st, old_bucket, old_dur)
            if dur is not None:
                deltas.duration(1, st, bucket, dur)
        annotated = [(o.fingerprint, o.starts_at, o.annotations, o.search()) for o in occs if o.annotations]
        if annotated:
            await conn.execute(_UPSERT_ANNOTATIONS, *_columns(annotated, 4))
    if s.marks:
        marks = list(s.marks.values())
        resolved = await conn.fetch(_RESOLVE, [m.fingerprint for m in marks], [m.starts_at for m in marks])
        grouped = list(group_marks(marks, [r[0] for r in resolved]).values())
        await _count_new_receivers(conn, [m for m in grouped if m.receivers], deltas)
        if grouped:
            marked = [
                (
                    m.fingerprint,
                    m.starts_at,
                    m.silenced,
                    m.inhibited,
                    _pg_array(sorted(m.receivers)),
                    m.sent,
                    m.failed,
                )
                for m in grouped
            ]
            await conn.execute(_MARK, *_columns(marked, 7))
    await deltas.write(conn)


async def _apply_fingerprints(
    conn: Conn, changes: dict[str, list[int]], labels: dict[str, dict[str, str]], deltas: _Deltas
) -> None:
    fps = sorted(changes)
    stored = {
        r[0]: r
        for r in await conn.fetch(
            "SELECT fingerprint, changes, recent, spans, labels FROM alert_fingerprints"
            " WHERE fingerprint = ANY($1::text[])",
            fps,
        )
    }
    rows: list[tuple[str, dict[str, str], int, list[int], list[int]]] = []
    pairs: set[tuple[str, str]] = set()
    counted: list[tuple[str, int, int]] = []
    for fp in fps:
        times = changes[fp]
        old = stored.get(fp)
        new_labels = labels.get(fp, {})
        recent: list[int] = [] if old is None else list(old[2])
        complete = old is None or old[1] <= len(recent)
        counted += [(fp, t, c) for t, c in counts_at(recent, complete, times, FLAP_WINDOW_S) if c > 1]
        if old is None:
            rows.append((fp, new_labels, len(times), *flap_state(sorted(times))))
        else:
            rows.append((fp, new_labels, old[1] + len(times), *add_changes(recent, list(old[3]), times)))
        if new_labels and (old is None or old[4] != new_labels):
            pairs.update(new_labels.items())
    await _save_fingerprints(conn, rows)
    for fp, t, c in counted:
        deltas.flap(t, fp, c)
    if counted:
        await conn.execute(
            "INSERT INTO alert_changes SELECT * FROM unnest($1::text[], $2::int8[], $3::int2[])",
            *_columns(counted, 3),
        )
    if pairs:
        names, values = zip(*sorted(pairs), strict=True)
        await conn.execute(
            "INSERT INTO alert_label_values SELECT * FROM unnest($1::text[], $2::text[])"
            " ON CONFLICT DO NOTHING",
            list(names),
            list(values),
        )


async def _count_new_receivers(conn: Conn, marks: list[OccurrenceMark], deltas: _Deltas) -> None:
    """The receiver rollup counts an occurrence once per receiver: only receivers new to it."""
    if not marks:
        return
    before = {
        (r[0], r[1]): set(r[2])
        for r in await conn.fetch(
            "SELECT o.fingerprint, o.starts_at, o.receivers FROM alert_occurrences o"
            " JOIN unnest($1::text[], $2::int8[]) AS d(fp, st)"
            " ON o.fingerprint = d.fp AND o.starts_at = d.st",
            [m.fingerprint for m in marks],
            [m.starts_at for m in marks],
        )
    }
    for m in marks:
        assert m.starts_at is not None
        for r in m.receivers - before.get((m.fingerprint, m.starts_at), set()):
            deltas.receiver(1, m.starts_at, r)


async def _save_fingerprints(
    conn: Conn, rows: list[tuple[str, dict[str, str], int, list[int], list[int]]]
) -> None:
    await conn.execute(
        _UPSERT_FINGERPRINTS,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3][-1] if r[3] else 0 for r in rows],
        [_pg_array(r[3]) for r in rows],
        [_pg_array(r[4]) for r in rows],
        [flap_hour(r[2], r[4]) for r in rows],
    )


async def prune_label_values(conn: Conn) -> int:
    """The label values no fingerprint carries any more (inside the caller's transaction,
    under the lock appends take: an append may be about to reference a value it found)."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", HISTORY_LOCK)
    status = await conn.execute(
        """
        DELETE FROM alert_label_values v WHERE NOT EXISTS (
            SELECT 1 FROM alert_fingerprints f CROSS JOIN LATERAL jsonb_each_text(f.labels) l
             WHERE l.key = v.name AND l.value = v.value)
        """
    )
    return int(status.rsplit(" ", 1)[1])


async def delete_before(conn: Conn, cutoff_us: int, limit: int) -> int:
    """Retention: delete at most ``limit`` of the oldest events before ``cutoff_us``, the
    occurrences that ended with them (and their share of the rollups), and recompute the
    flapping of the fingerprints whose state changes went (inside the caller's transaction)."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", HISTORY_LOCK)
    gone = await conn.fetch(
        """
        DELETE FROM history_events WHERE id IN
            (SELECT id FROM history_events WHERE at < $1 ORDER BY at, id LIMIT $2)
        RETURNING at, at_ns, kind, fingerprint, receiver, outcome
        """,
        cutoff_us,
        limit,
    )
    if not gone:
        return 0
    deltas = _Deltas()
    upto = max(join_ns(r[0], r[1]) for r in gone)
    fps = {r[3] for r in gone if r[2] in STATE_KINDS and r[3] is not None}
    for r in gone:
        if r[2] in NOTIFY_KINDS and r[4] is not None:
            deltas.notification(-1, join_ns(r[0], r[1]), r[4], r[5] == "sent")
    ended = await conn.fetch(
        """
        WITH o AS (DELETE FROM alert_occurrences WHERE ends_at IS NOT NULL AND ends_at <= $1
                   RETURNING fingerprint, starts_at, severity, namespace, alertname, receivers, duration,
                             ttr_bucket),
             a AS (DELETE FROM alert_occurrence_annotations t USING o
                    WHERE t.fingerprint = o.fingerprint AND t.starts_at = o.starts_at)
        SELECT * FROM o
        """,
        upto,
    )
    for fp, st, sev, ns, name, receivers, dur, bucket in ended:
        deltas.occurrence(-1, fp, st, sev, ns, name)
        deltas.duration(-1, st, bucket, dur)
        for r in receivers:
            deltas.receiver(-1, st, r)
    await deltas.write(conn)
    await conn.execute("DELETE FROM alert_occurrence_rollup WHERE n <= 0")
    await conn.execute("DELETE FROM alert_duration_rollup WHERE n <= 0")
    await conn.execute("DELETE FROM history_notify_rollup WHERE sent <= 0 AND failed <= 0")
    await conn.execute("DELETE FROM alert_changes WHERE at <= $1", upto)
    # a maximum cannot be taken back: buckets wholly gone go; the one at the edge keeps its own
    await conn.execute(
        "DELETE FROM alert_flap_rollup WHERE (g = 1 AND t < $1) OR (g = 24 AND t < $2)",
        (upto + 1) // HOUR,
        (upto + 1) // (24 * HOUR),
    )
    times_by_fp = await change_times(conn, sorted(fps), None, None)
    rows: list[tuple[str, dict[str, str], int, list[int], list[int]]] = []
    for fp in sorted(fps):
        ts = times_by_fp.get(fp, [])
        rows.append((fp, {}, len(ts), *flap_state(ts)))
    if rows:
        await _save_fingerprints(conn, rows)
    await conn.execute(
        "DELETE FROM alert_fingerprints f WHERE f.fingerprint = ANY($1::text[]) AND f.changes = 0"
        " AND NOT EXISTS (SELECT 1 FROM alert_occurrences o WHERE o.fingerprint = f.fingerprint)",
        sorted(fps | {r[0] for r in ended}),
    )
    return len(gone)
