"""/history and the timeline in SQLite, answered in SQL from the occurrence summary, on the
engine's reading connection to history.db."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from typing import Any

import orjson

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
from ...records import HISTORY_FIELDS
from .shared import NOTIFY_IN, change_times, event

_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def configure_reader(conn: sqlite3.Connection) -> None:
    """The reading connection's settings."""
    conn.execute("PRAGMA case_sensitive_like = ON")  # the q filter: LIKE as a substring test


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
        out[r[0]] = n if n is not None else max_changes(change_times(conn, r[0], None, None), window_s)
    return out


def flapping_fps(
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
        c = max_changes(change_times(conn, fp, lo, hi), window_s)
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
        flapping = sorted(flapping_fps(conn, h.flapping, h.flapping_window, None, None))
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
    events = {int(r[0]): event(r[1:]) for r in own}
    silences = sorted(
        {s for e in events.values() if e.kind == "alert.silenced" for s in (e.details or {}).get("by", [])}
    )
    # an alert is notified after its first event: only later notifications can carry it
    more = conn.execute(
        f"SELECT id, {cols} FROM history_events WHERE kind IN {NOTIFY_IN} AND at >= ?"
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
        events.setdefault(int(r[0]), event(r[1:]))
    ordered = sorted(events.items(), key=lambda kv: (kv[1].at, kv[0]))
    occ = conn.execute(
        f"SELECT {_PAGE_COLUMNS} FROM alert_occurrences o {_JOIN} WHERE o.fingerprint = ?"
        " ORDER BY o.starts_at DESC LIMIT 1000",
        (fp,),
    ).fetchall()
    return Timeline(
        ordered[-limit:], len(ordered) > limit, [_row(r) for r in occ], _flaps_of(conn, occ[:1], 3600.0)
    )
