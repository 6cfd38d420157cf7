"""History in PostgreSQL: the summary tables kept on write, and /history, /report and the
timeline answered in SQL (see history_common for what the tables hold).

Summary times are BIGINT Unix nanoseconds (``to_timestamp(starts_at / 1e9)`` for a human);
``history_events`` keeps its ``timestamptz`` + ``at_ns``. Fingerprint labels are JSONB with a
GIN index (equality matchers are ``labels @> {...}``). "Firing at t" uses a GiST index on
resolved occurrences' time ranges and the firing index for the others. The ``q`` filter uses
a trigram index when the pg_trgm extension can be created (a trusted extension: the database
owner may), else it scans.

/report reads hourly rollups kept on write (occurrences by the hour they started, per label
value and per receiver; a histogram of their durations; notifications by the hour they were
sent) plus the rows of the two partial hours at the window's edges, so its cost does not grow
with the window. Percentiles stay exact: the histogram finds the bucket, one indexed lookup
the value. Flapping for the default window comes from per-change counts kept on write. What
only needs indexed columns is read from indexes alone (a /history count restricted to label
values; which alerts were still firing when a report's window starts), and what needs the rows
reads them once.

Appends from several replicas are serialized by a transaction-scoped advisory lock, so the
read-modify-write of the summary never races.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from ..history_common import (
    COUNT_CAP,
    FLAP_DEPTH,
    FLAP_WINDOW_S,
    HOUR,
    INT64_MAX,
    INT64_MIN,
    NOTIFY_KINDS,
    SATURATED,
    STATE_KINDS,
    OccurrenceMark,
    add_changes,
    changes_from_spans,
    counts_at,
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
    ttr_bucket,
    where,
)
from ..history_query import HistoryPage, HistoryQuery, OccurrenceRow, Report, Timeline
from ..records import HISTORY_FIELDS, HistoryEvent

Conn: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"
Pool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"

HISTORY_LOCK = int.from_bytes(b"ampphist", "big")
"""pg_advisory_xact_lock key that serializes summary writes (appends, retention, backfill)."""
NOISIEST_SCAN_SPAN_S = 6 * 3600
"""Up to this long a report's window, its noisiest alerts are counted by a scan; beyond,
alerts are probed busiest first until no other can make the top ten."""

_RANGE = "int8range(o.starts_at, GREATEST(o.starts_at, o.ends_at), '[]')"
"""A resolved occurrence's time range; the GiST index is on this expression. Firing ones are
not in it (open-ended ranges would widen every box of the tree): the firing index has them."""
_RESOLVED_AT = "o.ends_at IS NOT NULL AND " + _RANGE + " @> {t}::int8"
_FIRING_AT = "o.ends_at IS NULL AND o.starts_at <= {t}::int8"

MIGRATION = f"""
    CREATE TABLE alert_fingerprints (
        fingerprint TEXT PRIMARY KEY,
        labels JSONB NOT NULL DEFAULT '{{}}',
        occurrences INTEGER NOT NULL DEFAULT 0,
        changes INTEGER NOT NULL DEFAULT 0,
        flap_hour SMALLINT NOT NULL DEFAULT 0,
        last_change BIGINT NOT NULL DEFAULT 0,
        recent BIGINT[] NOT NULL DEFAULT '{{}}',
        spans BIGINT[] NOT NULL DEFAULT '{{}}'
    );
    COMMENT ON TABLE alert_fingerprints IS
        'per alert: its labels, its occurrences, its state changes (for flapping); kept with history_events';
    COMMENT ON COLUMN alert_fingerprints.spans IS
        'spans[k]: the shortest time (ns) covering k+1 consecutive state changes, k = 1..16';
    CREATE INDEX alert_fingerprints_labels ON alert_fingerprints USING GIN (labels jsonb_path_ops);
    CREATE INDEX alert_fingerprints_busiest ON alert_fingerprints (occurrences DESC, fingerprint);
    CREATE INDEX alert_fingerprints_flapping ON alert_fingerprints (flap_hour) WHERE flap_hour > 1;
    CREATE INDEX alert_fingerprints_flap_hour ON alert_fingerprints (fingerprint) INCLUDE (flap_hour);

    CREATE TABLE alert_label_values (
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (name, value)
    );

    CREATE TABLE alert_occurrences (
        fingerprint TEXT NOT NULL,
        starts_at BIGINT NOT NULL,
        ends_at BIGINT,
        alertname TEXT NOT NULL DEFAULT '',
        severity TEXT NOT NULL DEFAULT '',
        namespace TEXT NOT NULL DEFAULT '',
        cluster TEXT NOT NULL DEFAULT '',
        service TEXT NOT NULL DEFAULT '',
        silenced BOOLEAN NOT NULL DEFAULT false,
        inhibited BOOLEAN NOT NULL DEFAULT false,
        receivers TEXT[] NOT NULL DEFAULT '{{}}',
        sent INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        changes INTEGER NOT NULL DEFAULT 0,
        updated_at BIGINT NOT NULL,
        ttr_bucket SMALLINT,
        duration BIGINT GENERATED ALWAYS AS (ends_at - starts_at) STORED,
        PRIMARY KEY (fingerprint, starts_at)
    ) WITH (fillfactor = 80);
    COMMENT ON TABLE alert_occurrences IS
        'one row per alert occurrence (fingerprint, startsAt), kept with history_events in the same '
        'transaction; times in Unix nanoseconds, ends_at NULL while firing';
    CREATE INDEX alert_occurrences_starts ON alert_occurrences (starts_at, fingerprint);
    CREATE INDEX alert_occurrences_ends ON alert_occurrences
        ((COALESCE(ends_at, 9223372036854775807)), fingerprint, starts_at);
    CREATE INDEX alert_occurrences_duration ON alert_occurrences (duration, fingerprint, starts_at)
        WHERE ends_at IS NOT NULL;
    CREATE INDEX alert_occurrences_firing ON alert_occurrences (starts_at, fingerprint)
        INCLUDE (severity, namespace, alertname) WHERE ends_at IS NULL;
    CREATE INDEX alert_occurrences_alertname ON alert_occurrences (alertname, starts_at);
    CREATE INDEX alert_occurrences_namespace ON alert_occurrences (namespace, starts_at);
    CREATE INDEX alert_occurrences_cluster ON alert_occurrences (cluster, starts_at);
    CREATE INDEX alert_occurrences_service ON alert_occurrences (service, starts_at);
    CREATE INDEX alert_occurrences_range ON alert_occurrences USING GIST (({_RANGE.replace("o.", "")}))
        WHERE ends_at IS NOT NULL;
    CREATE INDEX alert_occurrences_ttr ON alert_occurrences (ttr_bucket, duration)
        INCLUDE (starts_at, ends_at) WHERE ends_at IS NOT NULL;

    CREATE TABLE alert_occurrence_annotations (
        fingerprint TEXT NOT NULL,
        starts_at BIGINT NOT NULL,
        annotations JSONB NOT NULL,
        search TEXT NOT NULL,
        PRIMARY KEY (fingerprint, starts_at)
    );
    DO $$
    BEGIN
        IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
            BEGIN
                CREATE EXTENSION IF NOT EXISTS pg_trgm;
            EXCEPTION WHEN insufficient_privilege THEN
                RAISE NOTICE 'pg_trgm not created (%): the q filter will scan', SQLERRM;
            END;
        END IF;
        IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
            CREATE INDEX alert_occurrence_annotations_search ON alert_occurrence_annotations
                USING GIN (search gin_trgm_ops);
        END IF;
    END $$;

    -- state changes that had company: how many changes (itself included) the hour before held
    CREATE TABLE alert_changes (
        fingerprint TEXT NOT NULL,
        at BIGINT NOT NULL,
        in_hour SMALLINT NOT NULL
    );
    CREATE INDEX alert_changes_at ON alert_changes (at) INCLUDE (fingerprint, in_hour);

    -- rollups for /report, per hour (g = 1, t = Unix ns div 3600e9) and per day (g = 24, t = that
    -- div 24): occurrences by when they started, per label value (label '' = all) and per
    -- receiver; the histogram of their durations; notifications by when they were attempted;
    -- per alert, the most state changes an hour held (alert_changes.in_hour) in the bucket
    CREATE TABLE alert_occurrence_rollup (
        g SMALLINT NOT NULL,
        t BIGINT NOT NULL,
        label TEXT NOT NULL,
        value TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (g, t, label, value)
    );
    CREATE TABLE alert_duration_rollup (
        g SMALLINT NOT NULL,
        t BIGINT NOT NULL,
        bucket SMALLINT NOT NULL,
        n INTEGER NOT NULL,
        total BIGINT NOT NULL,
        PRIMARY KEY (g, t, bucket)
    );
    CREATE TABLE history_notify_rollup (
        g SMALLINT NOT NULL,
        t BIGINT NOT NULL,
        receiver TEXT NOT NULL,
        sent INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        PRIMARY KEY (g, t, receiver)
    );
    CREATE TABLE alert_flap_rollup (
        g SMALLINT NOT NULL,
        t BIGINT NOT NULL,
        fingerprint TEXT NOT NULL,
        most SMALLINT NOT NULL,
        PRIMARY KEY (g, t, fingerprint)
    );

    CREATE INDEX history_events_changes ON history_events (fingerprint, at) INCLUDE (at_ns)
        WHERE kind IN ('alert.firing', 'alert.resolved');
    CREATE INDEX history_events_notify_fps ON history_events USING GIN ((details -> 'fingerprints'))
        WHERE kind IN ('notify.sent', 'notify.failed');

    CREATE TABLE history_summary_pending (upto BIGINT NOT NULL);
    INSERT INTO history_summary_pending SELECT COALESCE(max(id), 0) FROM history_events;
"""
"""The summary tables; events already stored are summarized by ``prepare`` right after."""

READ_INDEXES = """
    -- every label column, nothing else: a /history count restricted to label values (filters,
    -- matchers) reads this index alone instead of one heap page per match, whatever the
    -- combination (the leading column narrows, the others filter inside the index); one entry
    -- per distinct label set once deduplicated, so a whole scan of it stays small
    CREATE INDEX alert_occurrences_labels ON alert_occurrences
        (cluster, namespace, service, alertname, severity);
    -- /report flapping for a threshold of 2 or more (the default is 3): the few rollup rows that
    -- can qualify, without the many alerts that changed just twice in an hour
    CREATE INDEX alert_flap_rollup_above2 ON alert_flap_rollup (g, t) INCLUDE (fingerprint, most)
        WHERE most > 2;
    -- /report silences created by whom, without reading each event
    CREATE INDEX history_events_silence_created ON history_events (at) INCLUDE (at_ns, actor)
        WHERE kind = 'silence.created';
"""
"""Indexes that let /history counts and /report read indexes instead of rows (built over the
rows already there). The label columns were indexed already, so no occurrence update loses HOT;
only a flap rollup's maximum rising past 2 now updates an index."""

_STATE_IN = "('alert.firing', 'alert.resolved')"
_NOTIFY_IN = "('notify.sent', 'notify.failed')"
_COLS = "at, at_ns, " + ", ".join(HISTORY_FIELDS[1:])


def _ns(us: int, rest: int) -> int:
    return us * 1000 + rest


def _event(r: Sequence[Any]) -> HistoryEvent:
    return HistoryEvent(_ns(r[0], r[1]), *(r[i] for i in range(2, 16)))


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
                f"SELECT id, {_COLS} FROM history_events WHERE id > $1 AND id <= $2 ORDER BY id LIMIT 20000",
                last,
                upto,
            )
            if not rows:
                break
            await apply(conn, [_event(tuple(r)[1:]) for r in rows], locked=True)
            last = rows[-1][0]
        await conn.execute("DELETE FROM history_summary_pending")


# -- write -----------------------------------------------------------------------------------
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
    upto = max(_ns(r[0], r[1]) for r in gone)
    fps = {r[3] for r in gone if r[2] in STATE_KINDS and r[3] is not None}
    for r in gone:
        if r[2] in NOTIFY_KINDS and r[4] is not None:
            deltas.notification(-1, _ns(r[0], r[1]), r[4], r[5] == "sent")
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
    times_by_fp = await _change_times(conn, sorted(fps), None, None)
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


def _at_range(lo: int | None, hi: int | None, args: list[Any]) -> str:
    """history_events.at (+ at_ns) within [lo, hi] nanoseconds, index-friendly."""
    conds = []
    if lo is not None:
        us, rest = divmod(lo, 1000)
        args += [us, rest]
        conds.append(f"at >= ${len(args) - 1} AND (at, at_ns) >= (${len(args) - 1}, ${len(args)})")
    if hi is not None:
        us, rest = divmod(hi, 1000)
        args += [us, rest]
        conds.append(f"at <= ${len(args) - 1} AND (at, at_ns) <= (${len(args) - 1}, ${len(args)})")
    return " AND ".join(conds) or "true"


async def _change_times(
    conn: Conn | Pool, fps: list[str] | str, lo: int | None, hi: int | None
) -> dict[str, list[int]]:
    """Each alert's state change times in [lo, hi], sorted; ``fps``: the alerts, or a query
    that lists them (one statement instead of two in a row). No tie-break on id: equal rows
    are the same time, and without it history_events_changes answers alone (no row read)."""
    if not fps:
        return {}
    args: list[Any] = [] if isinstance(fps, str) else [fps]
    among = f"IN ({fps})" if isinstance(fps, str) else "= ANY($1::text[])"
    rng = _at_range(lo, hi, args)
    rows = await conn.fetch(
        f"SELECT fingerprint, at, at_ns FROM history_events WHERE fingerprint {among}"
        f" AND kind IN {_STATE_IN} AND {rng} ORDER BY fingerprint, at, at_ns",
        *args,
    )
    out: dict[str, list[int]] = {}
    for fp, us, rest in rows:
        out.setdefault(fp, []).append(_ns(us, rest))
    return out


# -- read ------------------------------------------------------------------------------------
class _Dialect:
    def __init__(self, now: int, values: dict[str, list[str]]) -> None:
        self.args: list[Any] = []
        self._now = now
        self._now_param: str | None = None
        self._values = values

    def param(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def now(self) -> str:
        if self._now_param is None:
            self._now_param = self.param(self._now) + "::int8"
        return self._now_param

    def values(self, name: str) -> list[str]:
        return self._values.get(name, [])

    def in_list(self, expr: str, values: list[str], negate: bool) -> str:
        if not values:
            return "true" if negate else "false"
        if len(values) == 1:
            return f"{expr} {'<>' if negate else '='} {self.param(values[0])}::text"
        return f"{'NOT ' if negate else ''}{expr} = ANY({self.param(values)}::text[])"

    def fingerprint_label_in(self, name: str, values: list[str], missing: bool) -> str:
        parts = []
        if 0 < len(values) <= 16:  # a GIN lookup each
            parts += [f"f.labels @> {self.param({name: v})}::jsonb" for v in values]
        elif values:
            parts.append(f"f.labels ->> {self.param(name)}::text = ANY({self.param(values)}::text[])")
        if missing:
            parts.append(f"COALESCE(f.labels ->> {self.param(name)}::text, '') = ''")
        return "(" + " OR ".join(parts) + ")" if parts else "false"

    def any_receiver(self, receivers: list[str]) -> str:
        return f"o.receivers && {self.param(receivers)}::text[]"

    def flap_span(self, n: int) -> str:
        return f"f.spans[{int(n)}]"

    def text_search(self, text: str) -> str:
        return (
            "(o.fingerprint, o.starts_at) IN (SELECT a.fingerprint, a.starts_at"
            " FROM alert_occurrence_annotations a"
            f" WHERE a.search LIKE {self.param(like_pattern(text))}::text)"
        )

    def active(self, t: str) -> str:
        return f"(({_RESOLVED_AT.format(t=t)}) OR ({_FIRING_AT.format(t=t)}))"

    def overlaps(self, lo: str, hi: str | None) -> str:
        # started inside the window, or before it and still firing at its start
        inside = f"o.starts_at >= {lo}::int8" + ("" if hi is None else f" AND o.starts_at <= {hi}::int8")
        return f"(({inside}) OR ({_RESOLVED_AT.format(t=lo)}) OR ({_FIRING_AT.format(t=lo)}))"


_PAGE_COLUMNS = (
    "o.fingerprint, o.starts_at, o.ends_at, COALESCE(f.labels, '{}'), COALESCE(a.annotations, '{}'),"
    " o.silenced, o.inhibited, o.receivers, o.sent, o.failed, f.changes, f.spans"
)
_JOIN = (
    "LEFT JOIN alert_fingerprints f ON f.fingerprint = o.fingerprint"
    " LEFT JOIN alert_occurrence_annotations a ON a.fingerprint = o.fingerprint AND a.starts_at = o.starts_at"
)


def _row(r: Any) -> OccurrenceRow:
    return OccurrenceRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], list(r[7]), r[8], r[9])


async def _flaps_of(pool: Pool, rows: Sequence[Any], window_s: float) -> dict[str, int]:
    """stateChanges for each page row's fingerprint, from the spans the page query joined."""
    out: dict[str, int] = {}
    exact: list[str] = []
    for r in rows:
        n = changes_from_spans(r[10] or 0, r[11] or [], window_s)
        if n is None:
            exact.append(r[0])
        else:
            out[r[0]] = n
    for fp, ts in (await _change_times(pool, sorted(set(exact)), None, None)).items():
        out[fp] = max_changes(ts, window_s)
    return out


async def _flapping_fps(
    conn: Conn | Pool, n: int, window_s: float, lo: int | None, hi: int | None
) -> dict[str, int]:
    """Fingerprints with more than ``n`` changes within ``window_s`` (counting those in
    [lo, hi]), with that most: candidates from alert_fingerprints, counted from the events."""
    since = INT64_MIN if lo is None else lo
    if 1 <= n <= FLAP_DEPTH:
        sql = f"SELECT fingerprint FROM alert_fingerprints f WHERE f.spans[{n}] <= $1 AND last_change >= $2"
        cands = await conn.fetch(sql, flap_window_ns(window_s), since)
    else:
        sql = "SELECT fingerprint FROM alert_fingerprints WHERE changes > $1 AND last_change >= $2"
        cands = await conn.fetch(sql, n, since)
    return await _count_flaps(conn, [r[0] for r in cands], n, window_s, lo, hi)


async def _count_flaps(
    conn: Conn | Pool, fps: list[str], n: int, window_s: float, lo: int | None, hi: int | None
) -> dict[str, int]:
    times = await _change_times(conn, fps, lo, hi)
    out = {fp: max_changes(ts, window_s) for fp, ts in times.items()}
    return {fp: c for fp, c in out.items() if c > n}


async def _read(pool: Pool, sql: str, *args: Any) -> list[asyncpg.Record]:
    """One read, planned for its parameters (a label on half the rows and one on a handful
    need different plans, which a cached generic plan would not tell apart), without parallel
    workers: the queries here are short and run several at once, and on a few cores starting
    workers costs more than they save (the 7-day report's p50 went from 55 to 44 ms)."""
    async with pool.acquire() as conn:
        # The session's settings, in one message (a transaction would cost two more round
        # trips, each counting on a few cores): the pool's reset (RESET ALL) undoes them when
        # the connection goes back.
        await conn.execute("SET plan_cache_mode = force_custom_plan; SET max_parallel_workers_per_gather = 0")
        return await conn.fetch(sql, *args)


async def _label_values(pool: Pool, names: list[str]) -> dict[str, list[str]]:
    if not names:
        return {}
    out: dict[str, list[str]] = {}
    for name, value in await pool.fetch(
        "SELECT name, value FROM alert_label_values WHERE name = ANY($1::text[])", names
    ):
        out.setdefault(name, []).append(value)
    return out


async def history(pool: Pool, h: HistoryQuery, now: int) -> HistoryPage:
    d = _Dialect(now, await _label_values(pool, regex_label_names(h)))
    flapping = None
    if h.flapping is not None and h.flapping > FLAP_DEPTH:
        flapping = sorted(await _flapping_fps(pool, h.flapping, h.flapping_window, None, None))
    cond = " AND ".join(where(h, d, flapping)) or "true"
    count_args = list(d.args)  # before the sort key may bind "now"
    key = sort_expr(h.sort, d)
    if h.active_at is not None:
        # A few thousand occurrences at most are firing at one instant, often far back: sorting
        # them beats walking the time index from now back to there (which the planner,
        # assuming matches spread evenly, would rather do).
        key = f"({key} || '')" if h.sort in ("alertname", "severity") else f"({key} + 0)"
    dirn = "ASC" if h.direction == "asc" else "DESC"
    order = f"ORDER BY {key} {dirn}, o.fingerprint {dirn}, o.starts_at {dirn}"
    page_cond = cond
    op = ">" if h.direction == "asc" else "<"
    after = ""
    if h.cursor is not None:
        after = ", ".join(d.param(v) for v in h.cursor)
        page_cond += f" AND ({key}, o.fingerprint, o.starts_at) {op} ({after})"
    count_sql = (
        f"SELECT count(*) FROM (SELECT 1 FROM alert_occurrences o WHERE {cond} LIMIT {COUNT_CAP + 1}) m"
    )
    source = "alert_occurrences o"
    if h.sort == "duration" and h.active_at is None:
        # No index orders by a duration that grows while firing: resolved ones are read in the
        # order of their (stored) duration, firing ones in that of their start, and merged.
        branches = []
        for state, k in (
            ("o.ends_at IS NOT NULL", "o.duration"),
            ("o.ends_at IS NULL", f"({d.now()} - o.starts_at)"),
        ):
            c = f"{cond} AND {state}"
            if h.cursor is not None:
                c += f" AND ({k}, o.fingerprint, o.starts_at) {op} ({after})"
            branches.append(
                f"(SELECT * FROM alert_occurrences o WHERE {c}"
                f" ORDER BY {k} {dirn}, o.fingerprint {dirn}, o.starts_at {dirn} LIMIT {h.limit + 1})"
            )
        source, page_cond = f"({' UNION ALL '.join(branches)}) o", "true"
    page_sql = (
        f"WITH page AS (SELECT * FROM {source} WHERE {page_cond} {order} LIMIT {h.limit + 1})"
        f" SELECT {_PAGE_COLUMNS} FROM page o {_JOIN} {order}"
    )
    counted, fetched = await asyncio.gather(
        _read(pool, count_sql, *count_args), _read(pool, page_sql, *d.args)
    )
    flaps = await _flaps_of(pool, fetched[: h.limit], h.flapping_window)
    total = int(counted[0][0])
    return HistoryPage([_row(r) for r in fetched], min(total, COUNT_CAP), flaps, total <= COUNT_CAP)


async def timeline(pool: Pool, fp: str, limit: int) -> Timeline | None:
    own = await pool.fetch(
        f"SELECT id, {_COLS} FROM history_events WHERE fingerprint = $1"
        " ORDER BY at DESC, at_ns DESC, id DESC LIMIT $2",
        fp,
        limit + 1,
    )
    if not own:
        return None
    events = {int(r[0]): _event(tuple(r)[1:]) for r in own}
    silences = sorted(
        {s for e in events.values() if e.kind == "alert.silenced" for s in (e.details or {}).get("by", [])}
    )
    # MATERIALIZED: the planner cannot estimate the GIN lookup and would rather walk every
    # notification, newest first, looking for this alert's.
    notify_sql = f"""
        WITH n AS MATERIALIZED (SELECT id, {_COLS} FROM history_events
                                 WHERE kind IN {_NOTIFY_IN} AND details -> 'fingerprints' ? $1)
        SELECT * FROM n ORDER BY at DESC, at_ns DESC, id DESC LIMIT $2
    """
    silence_sql = (
        f"SELECT id, {_COLS} FROM history_events WHERE silence_id = ANY($1::text[])"
        " ORDER BY at DESC, at_ns DESC, id DESC LIMIT $2"
    )
    occ_sql = (
        f"SELECT {_PAGE_COLUMNS} FROM alert_occurrences o {_JOIN} WHERE o.fingerprint = $1"
        " ORDER BY o.starts_at DESC LIMIT 1000"
    )
    notified, silenced, occ = await asyncio.gather(
        pool.fetch(notify_sql, fp, limit + 1),
        pool.fetch(silence_sql, silences, limit + 1),
        pool.fetch(occ_sql, fp),
    )
    for r in [*notified, *silenced]:
        events.setdefault(int(r[0]), _event(tuple(r)[1:]))
    ordered = sorted(events.items(), key=lambda kv: (kv[1].at, kv[0]))
    flaps = await _flaps_of(pool, occ[:1], 3600.0)
    return Timeline(ordered[-limit:], len(ordered) > limit, [_row(r) for r in occ], flaps)


# -- the report ------------------------------------------------------------------------------
class _Span:
    """A time range [a, b] (ns, inclusive; None: unbounded) as the rollups see it: whole days,
    then whole hours, from the rollup tables (``rollup``: a condition on their g and t, the OR
    of the disjoint ``parts``), and the partial hours at the edges (``raw``: ns ranges) from
    the rows."""

    def __init__(self, a: int | None, b: int | None) -> None:
        self.raw: list[tuple[int, int]] = []
        self.parts: list[str] = []
        if a is not None and b is not None and a > b:
            self.rollup = "false"
            return
        h0 = None if a is None else -(-a // HOUR)  # the first whole hour
        h1 = None if b is None else (b + 1) // HOUR  # the hour after the last whole one
        if h0 is not None and h1 is not None and h0 >= h1:
            self.rollup, self.raw = "false", [(a, b)]  # type: ignore[list-item]
            return
        if a is not None and h0 is not None and a < h0 * HOUR:
            self.raw.append((a, h0 * HOUR - 1))
        if b is not None and h1 is not None and h1 * HOUR <= b:
            self.raw.append((h1 * HOUR, b))
        d0 = None if h0 is None else -(-h0 // 24)
        d1 = None if h1 is None else h1 // 24
        if d0 is not None and d1 is not None and d0 >= d1:
            self.parts = [f"(g = 1 AND t >= {h0} AND t < {h1})"]
            self.rollup = self.parts[0]
            return
        days = (
            ["g = 24"]
            + ([f"t >= {d0}"] if d0 is not None else [])
            + ([f"t < {d1}"] if d1 is not None else [])
        )
        parts = [f"({' AND '.join(days)})"]
        if h0 is not None and d0 is not None and h0 < d0 * 24:
            parts.append(f"(g = 1 AND t >= {h0} AND t < {d0 * 24})")
        if h1 is not None and d1 is not None and d1 * 24 < h1:
            parts.append(f"(g = 1 AND t >= {d1 * 24} AND t < {h1})")
        self.parts = parts
        self.rollup = "(" + " OR ".join(parts) + ")"

    def events(self, args: list[Any]) -> str:
        """history_events.at in the raw ranges."""
        return " OR ".join(f"({_at_range(a, b, args)})" for a, b in self.raw) or "false"


class _Window:
    """A report's window in SQL: the occurrences that started in it (the rollups, and the rows
    of the partial hours at its edges) and those that started before it and were still firing
    at its start. Its bounds are our own integers, written into the SQL, so every statement
    binds only what it uses."""

    def __init__(self, lo: int | None, hi: int | None) -> None:
        self.lo, self.hi = lo, hi
        self.lo_v = INT64_MIN if lo is None else lo
        self.hi_v = INT64_MAX if hi is None else hi
        self.span = _Span(lo, hi)
        lo_s, hi_s = f"({self.lo_v})::int8", f"({self.hi_v})::int8"  # -x::int8 would be -(x::int8)
        self.inside = f"o.starts_at >= {lo_s} AND o.starts_at <= {hi_s}"
        self.before = (
            f"o.starts_at < {lo_s} AND (({_RESOLVED_AT.format(t=lo_s)}) OR ({_FIRING_AT.format(t=lo_s)}))"
            if lo is not None
            else "false"
        )
        edges = " OR ".join(
            f"(o.starts_at >= ({a})::int8 AND o.starts_at <= ({b})::int8)" for a, b in self.span.raw
        )
        self.raw = f"(({edges or 'false'}) OR ({self.before}))"
        """The occurrences the rollups do not count."""
        self.all = f"(({self.inside}) OR ({self.before}))"
        self.before_apart = (
            [
                f"o.ends_at IS NULL AND o.starts_at < {lo_s}",
                f"o.starts_at < {lo_s} AND {_RESOLVED_AT.format(t=lo_s)}",
            ]
            if lo is not None
            else []
        )
        """``before`` as two disjoint conditions, each answered by one index (still firing: the
        firing index, whose entries hold the fingerprint; resolved since: the range index), for
        what needs only their fingerprints: as one condition they would be read from the rows."""

    def fingerprints(self, *conds: str) -> str:
        """The fingerprint of each occurrence matching one of ``conds`` (disjoint), as a UNION
        ALL whose branches each read one index."""
        return " UNION ALL ".join(f"SELECT o.fingerprint FROM alert_occurrences o WHERE {c}" for c in conds)


async def _flapping_in_window(
    pool: Pool, n: int, window_s: float, lo: int | None, hi: int | None
) -> dict[str, int]:
    """The report's flapping alerts. For the default window, each change's count of the hour
    before it was kept on write, and their maximum per alert and hour/day: the answer is a
    maximum over those, except for the window's first hour (whose counts reach before the
    window) and counts the kept times could not tell, which the events count again."""
    if window_s != FLAP_WINDOW_S or n < 1:
        return await _flapping_fps(pool, n, window_s, lo, hi)
    w = int(window_s * 1_000_000_000)
    hi_v = INT64_MAX if hi is None else hi
    late = _Span(None if lo is None else lo + w, hi)
    # one branch per rollup range: each a range of the index of those above 2 (as one OR of
    # ranges it would be read whole)
    parts = [
        f"SELECT fingerprint, most FROM alert_flap_rollup WHERE {part} AND most > {int(n)}"
        for part in late.parts
    ]
    parts += [
        f"SELECT fingerprint, in_hour FROM alert_changes WHERE at >= ({a})::int8 AND at <= ({b})::int8"
        f" AND in_hour > {int(n)}"
        for a, b in late.raw
    ]
    late_sql = (
        f"SELECT fingerprint, max(most) FROM ({' UNION ALL '.join(parts)}) c(fingerprint, most) GROUP BY 1"
    )
    early_end = None if lo is None else min(lo + w - 1, hi_v)
    early_fps = (  # their change times in the first hour, read in the same statement
        "SELECT fingerprint FROM alert_changes"
        f" WHERE at >= ({lo})::int8 AND at <= ({early_end})::int8 AND in_hour > {int(n)}"
    )
    late_rows, early = await asyncio.gather(
        _read(pool, late_sql) if parts else asyncio.sleep(0, []),
        _change_times(pool, early_fps, lo, early_end) if lo is not None else asyncio.sleep(0, {}),
    )
    out = {fp: int(most) for fp, most in late_rows if most != SATURATED}
    again = sorted(fp for fp, most in late_rows if most == SATURATED)
    out.update(await _count_flaps(pool, again, n, window_s, lo, hi))  # over the whole window
    for fp, ts in early.items():
        if fp not in again:
            most = max(max_changes(ts, window_s), out.get(fp, 0))
            if most > n:
                out[fp] = most
    return out


async def _flapping_labelled(
    pool: Pool, n: int, window_s: float, lo: int | None, hi: int | None
) -> list[tuple[str, dict[str, str], int]]:
    """The report's flapping alerts with their labels, looked up as soon as they are known (a
    few hundred scattered rows: while the report's other statements still run)."""
    fps = await _flapping_in_window(pool, n, window_s, lo, hi)
    labels = await _labels_of(pool, sorted(fps))
    return [(fp, labels.get(fp, {}), most) for fp, most in sorted(fps.items())]


async def _percentiles(
    pool: Pool, win: _Window, buckets: dict[int, int], count: int
) -> tuple[int | None, int | None]:
    """p50 and p95 (nearest rank) of the window's durations: the histogram says in which bucket
    and at which place in it, one lookup each on (ttr_bucket, duration) reads the value."""
    if not count:
        return None, None
    lookups: list[str] = []
    for p in (50, 95):
        k = nearest_rank(count, p)
        for bucket in sorted(buckets):
            if k < buckets[bucket]:
                lookups.append(
                    f"(SELECT o.duration FROM alert_occurrences o WHERE o.ends_at IS NOT NULL"
                    f" AND o.ttr_bucket = {int(bucket)} AND {win.all}"
                    f" ORDER BY o.duration LIMIT 1 OFFSET {int(k)})"
                )
                break
            k -= buckets[bucket]
        else:
            lookups.append("NULL::int8")
    row = (await _read(pool, f"SELECT {lookups[0]}, {lookups[1]}"))[0]
    return row[0], row[1]


def _probes_noisiest(win: _Window) -> bool:
    """Whether the window is long enough that its noisiest alerts are probed, not scanned."""
    return win.hi_v - win.lo_v > NOISIEST_SCAN_SPAN_S * 1_000_000_000


async def _noisiest(pool: Pool, win: _Window) -> list[tuple[str, dict[str, str], int]]:
    """The ten alerts with the most occurrences in the window (ties by fingerprint). A short
    window is counted in one statement that reads only indexes; for a long one, alerts are
    probed busiest first (their count of all time bounds their count in the window) until none
    left can reach the tenth, while the few that started before the window and still fired in
    it are counted aside. The probe ranks by the count of those that started inside the
    window, never more than the full count, so it stops no earlier than it must."""
    if not _probes_noisiest(win):
        rows = await _read(
            pool,
            f"SELECT fingerprint, count(*) AS n FROM ({win.fingerprints(win.inside, *win.before_apart)}) c"
            " GROUP BY fingerprint ORDER BY n DESC, fingerprint LIMIT 10",
        )
        top = [(int(r[1]), r[0]) for r in rows]
    else:
        inside: dict[str, int] = {}

        async def probe() -> None:
            best: list[int] = []  # the ten highest counts inside the window so far, highest first
            offset, batch = 0, 50
            while True:
                # the next candidates and, from the primary key alone, their count in the window
                cands = await _read(
                    pool,
                    "SELECT f.fingerprint, f.occurrences, (SELECT count(*) FROM alert_occurrences o"
                    f"  WHERE o.fingerprint = f.fingerprint AND {win.inside})"
                    " FROM (SELECT fingerprint, occurrences FROM alert_fingerprints"
                    "        ORDER BY occurrences DESC, fingerprint LIMIT $1 OFFSET $2) f"
                    " ORDER BY f.occurrences DESC, f.fingerprint",
                    batch,
                    offset,
                )
                if not cands:
                    return
                inside.update((r[0], int(r[2])) for r in cands)
                best = sorted([*best, *(int(r[2]) for r in cands if r[2])], reverse=True)[:10]
                if len(best) == 10 and cands[-1][1] < best[-1]:
                    return  # none left can reach the tenth, even with those from before the window
                offset, batch = offset + batch, batch * 4

        before_sql = f"SELECT fingerprint, count(*) FROM ({win.fingerprints(*win.before_apart)}) c GROUP BY 1"
        before, _ = await asyncio.gather(
            _read(pool, before_sql) if win.before_apart else asyncio.sleep(0, []), probe()
        )
        earlier = {r[0]: int(r[1]) for r in before}
        totals = [(n + earlier.get(fp, 0), fp) for fp, n in inside.items()]
        top = sorted([x for x in totals if x[0]], key=lambda x: (-x[0], x[1]))[:10]
    labels = await _labels_of(pool, [fp for _, fp in top])
    return [(fp, labels.get(fp, {}), n) for n, fp in top]


async def _labels_of(pool: Pool, fps: list[str]) -> dict[str, dict[str, str]]:
    if not fps:
        return {}
    return {
        r[0]: r[1]
        for r in await pool.fetch(
            "SELECT fingerprint, labels FROM alert_fingerprints WHERE fingerprint = ANY($1::text[])", fps
        )
    }


async def report(pool: Pool, lo: int | None, hi: int | None, threshold: int, window_s: float) -> Report:
    """Three chains at once: the rollups and small counts with the rows the rollups miss, then
    the two percentile lookups; the flapping, then its alerts' labels; the noisiest."""
    win = _Window(lo, hi)
    cond = win.span.rollup
    args: list[Any] = []
    rolled_sql = f"""
        SELECT 'l', label, value, sum(n)::numeric, 0::numeric FROM alert_occurrence_rollup
         WHERE {cond} GROUP BY label, value
        UNION ALL
        SELECT 'd', bucket::text, '', sum(n)::numeric, sum(total)::numeric FROM alert_duration_rollup
         WHERE {cond} GROUP BY bucket
        UNION ALL
        SELECT 'n', receiver, '', sum(sent)::numeric, sum(failed)::numeric FROM history_notify_rollup
         WHERE {cond} GROUP BY receiver
        UNION ALL
        SELECT 'f', '', '', count(*)::numeric, 0::numeric FROM alert_occurrences o
         WHERE o.ends_at IS NULL AND o.starts_at <= ({win.hi_v})::int8
        UNION ALL
        SELECT 'e', receiver, outcome, count(*)::numeric, 0::numeric FROM history_events
         WHERE kind IN {_NOTIFY_IN} AND receiver IS NOT NULL AND ({win.span.events(args)}) GROUP BY 2, 3
        UNION ALL
        SELECT 's', COALESCE(actor, ''), '', count(*)::numeric, 0::numeric FROM history_events
         WHERE kind = 'silence.created' AND {_at_range(lo, hi, args)} GROUP BY 2
    """
    # The rows the rollups miss, read once: those from before the window are spread over the
    # whole table, and the three counts each reading them again cost more than keeping them.
    raw_sql = f"""
        WITH r AS MATERIALIZED (
            SELECT o.severity, o.namespace, o.alertname, o.receivers, o.ttr_bucket, o.duration,
                   o.ends_at IS NOT NULL AS resolved
              FROM alert_occurrences o WHERE {win.raw})
        SELECT CASE WHEN GROUPING(r.severity) = 0 THEN 'severity'
                    WHEN GROUPING(r.namespace) = 0 THEN 'namespace'
                    WHEN GROUPING(r.alertname) = 0 THEN 'alertname' ELSE '' END,
               COALESCE(r.severity, r.namespace, r.alertname, ''), count(*)::numeric, 0::numeric
          FROM r GROUP BY GROUPING SETS ((r.severity), (r.namespace), (r.alertname), ())
        UNION ALL
        SELECT 'receiver', x, count(*)::numeric, 0::numeric FROM (SELECT unnest(r.receivers) AS x FROM r) u
         GROUP BY x
        UNION ALL
        SELECT 'bucket', r.ttr_bucket::text, count(*)::numeric, sum(r.duration)::numeric
          FROM r WHERE r.resolved GROUP BY r.ttr_bucket
    """

    async def summed() -> Report:
        """The counts, then the percentiles they locate (while the flapping and the noisiest
        may still run)."""
        rolled, raw = await asyncio.gather(_read(pool, rolled_sql, *args), _read(pool, raw_sql))
        counts: dict[str, dict[str, int]] = {
            k: {} for k in ("severity", "status", "receiver", "namespace", "alertname")
        }
        buckets: dict[int, int] = {}
        total = durations = n_firing = 0
        notifications: dict[str, dict[str, int]] = {}
        by_actor: dict[str, int] = {}

        def notified(receiver: str, sent: int, failed: int) -> None:
            slot = notifications.setdefault(receiver, {"sent": 0, "failed": 0})
            slot["sent"] += sent
            slot["failed"] += failed

        for kind, key, value, n_, extra_ in rolled:
            n, extra = int(n_), int(extra_)
            if kind == "l" and key == "":
                total += n
            elif kind == "l":
                counts[key][value] = counts[key].get(value, 0) + n
            elif kind == "d":
                buckets[int(key)] = buckets.get(int(key), 0) + n
                durations += extra
            elif kind == "n":
                notified(key, n, extra)
            elif kind == "e":
                notified(key, n if value == "sent" else 0, 0 if value == "sent" else n)
            elif kind == "f":
                n_firing = n
            else:
                by_actor[key] = n
        for kind, key, n_, extra_ in raw:
            n, extra = int(n_), int(extra_)
            if kind == "":
                total += n
            elif kind == "bucket":
                buckets[int(key)] = buckets.get(int(key), 0) + n
                durations += extra
            else:
                counts[kind][key] = counts[kind].get(key, 0) + n
        counts["status"] = {"firing": n_firing, "resolved": total - n_firing}
        counts = {k: {v: n for v, n in c.items() if n} for k, c in counts.items()}
        notifications = {r: c for r, c in notifications.items() if c["sent"] or c["failed"]}
        resolved = sum(buckets.values())
        p50, p95 = await _percentiles(pool, win, buckets, resolved)
        mean = durations / resolved if resolved else None
        by = sum(by_actor.values())
        return Report(total, counts, [], (resolved, mean, p50, p95), [], notifications, by, by_actor)

    summary, flapping, noisiest = await asyncio.gather(
        summed(), _flapping_labelled(pool, threshold, window_s, lo, hi), _noisiest(pool, win)
    )
    return dataclasses.replace(summary, noisiest=noisiest, flapping=flapping)
