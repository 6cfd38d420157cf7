"""/report in SQLite: counted from the occurrence summary over the window (no rollups: an
embedded store's history is small enough to count)."""

from __future__ import annotations

import sqlite3

import orjson

from ...history_common import (
    INT64_MAX,
    INT64_MIN,
    nearest_rank,
)
from ...history_query import Report
from .read import flapping_fps
from .shared import NOTIFY_IN


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
    flapping = flapping_fps(conn, threshold, window_s, lo, hi)
    labels = _labels(conn, [r[0] for r in noisy_rows] + sorted(flapping))
    notifications: dict[str, dict[str, int]] = {}
    for receiver, outcome, n in conn.execute(
        f"SELECT receiver, outcome, count(*) FROM history_events WHERE kind IN {NOTIFY_IN}"
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
        [(fp, labels.get(fp, {}), n) for fp, n in sorted(flapping.items())],
        notifications, sum(by_actor.values()), by_actor,
    )  # fmt: skip


def _labels(conn: sqlite3.Connection, fps: list[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for fp in fps:
        row = conn.execute("SELECT labels FROM alert_fingerprints WHERE fingerprint = ?", (fp,)).fetchone()
        if row is not None:
            out[fp] = orjson.loads(row[0])
    return out
