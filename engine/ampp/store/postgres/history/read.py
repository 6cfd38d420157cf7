"""/history and the timeline in PostgreSQL, answered in SQL from the occurrence summary.

Fingerprint labels are JSONB with a GIN index (equality matchers are ``labels @> {...}``).
"Firing at t" uses a GiST index on resolved occurrences' time ranges and the firing index for
the others. The ``q`` filter uses a trigram index when the pg_trgm extension could be created
(a trusted extension: the database owner may), else it scans. What only needs indexed columns
is read from indexes alone (a count restricted to label values).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from ...history_common import (
    COUNT_CAP,
    FLAP_DEPTH,
    INT64_MIN,
    changes_from_spans,
    flap_window_ns,
    like_pattern,
    max_changes,
    regex_label_names,
    sort_expr,
    where,
)
from ...history_query import HistoryPage, HistoryQuery, OccurrenceRow, Timeline
from .shared import EVENT_COLUMNS, FIRING_AT, NOTIFY_IN, RESOLVED_AT, Conn, Pool, change_times, event, fetch


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
        return f"(({RESOLVED_AT.format(t=t)}) OR ({FIRING_AT.format(t=t)}))"

    def overlaps(self, lo: str, hi: str | None) -> str:
        # started inside the window, or before it and still firing at its start
        inside = f"o.starts_at >= {lo}::int8" + ("" if hi is None else f" AND o.starts_at <= {hi}::int8")
        return f"(({inside}) OR ({RESOLVED_AT.format(t=lo)}) OR ({FIRING_AT.format(t=lo)}))"


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
    for fp, ts in (await change_times(pool, sorted(set(exact)), None, None)).items():
        out[fp] = max_changes(ts, window_s)
    return out


async def flapping_fps(
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
    return await count_flaps(conn, [r[0] for r in cands], n, window_s, lo, hi)


async def count_flaps(
    conn: Conn | Pool, fps: list[str], n: int, window_s: float, lo: int | None, hi: int | None
) -> dict[str, int]:
    times = await change_times(conn, fps, lo, hi)
    out = {fp: max_changes(ts, window_s) for fp, ts in times.items()}
    return {fp: c for fp, c in out.items() if c > n}


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
        flapping = sorted(await flapping_fps(pool, h.flapping, h.flapping_window, None, None))
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
        fetch(pool, count_sql, *count_args), fetch(pool, page_sql, *d.args)
    )
    flaps = await _flaps_of(pool, fetched[: h.limit], h.flapping_window)
    total = int(counted[0][0])
    return HistoryPage([_row(r) for r in fetched], min(total, COUNT_CAP), flaps, total <= COUNT_CAP)


async def timeline(pool: Pool, fp: str, limit: int) -> Timeline | None:
    own = await pool.fetch(
        f"SELECT id, {EVENT_COLUMNS} FROM history_events WHERE fingerprint = $1"
        " ORDER BY at DESC, at_ns DESC, id DESC LIMIT $2",
        fp,
        limit + 1,
    )
    if not own:
        return None
    events = {int(r[0]): event(tuple(r)[1:]) for r in own}
    silences = sorted(
        {s for e in events.values() if e.kind == "alert.silenced" for s in (e.details or {}).get("by", [])}
    )
    # MATERIALIZED: the planner cannot estimate the GIN lookup and would rather walk every
    # notification, newest first, looking for this alert's.
    notify_sql = f"""
        WITH n AS MATERIALIZED (SELECT id, {EVENT_COLUMNS} FROM history_events
                                 WHERE kind IN {NOTIFY_IN} AND details -> 'fingerprints' ? $1)
        SELECT * FROM n ORDER BY at DESC, at_ns DESC, id DESC LIMIT $2
    """
    silence_sql = (
        f"SELECT id, {EVENT_COLUMNS} FROM history_events WHERE silence_id = ANY($1::text[])"
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
        events.setdefault(int(r[0]), event(tuple(r)[1:]))
    ordered = sorted(events.items(), key=lambda kv: (kv[1].at, kv[0]))
    flaps = await _flaps_of(pool, occ[:1], 3600.0)
    return Timeline(ordered[-limit:], len(ordered) > limit, [_row(r) for r in occ], flaps)
