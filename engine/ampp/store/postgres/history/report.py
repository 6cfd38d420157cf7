"""/report in PostgreSQL: the hourly and daily rollups kept on write (occurrences by the hour
they started, per label value and per receiver; a histogram of their durations;
notifications by the hour they were sent) plus the rows of the two partial hours at the
window's edges, so its cost does not grow with the window.

Percentiles stay exact: the histogram finds the bucket, one indexed lookup the value.
Flapping for the default window comes from per-change counts kept on write. Which alerts were
still firing when the window starts is read from indexes alone, and the rows the rollups miss
are read once.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from ...history_common import (
    FLAP_WINDOW_S,
    HOUR,
    INT64_MAX,
    INT64_MIN,
    SATURATED,
    max_changes,
    nearest_rank,
)
from ...history_query import Report
from .read import count_flaps, flapping_fps
from .shared import FIRING_AT, NOTIFY_IN, RESOLVED_AT, Pool, at_range, change_times, fetch

NOISIEST_SCAN_SPAN_S = 6 * 3600
"""Up to this long a report's window, its noisiest alerts are counted by a scan; beyond,
alerts are probed busiest first until no other can make the top ten."""


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
        return " OR ".join(f"({at_range(a, b, args)})" for a, b in self.raw) or "false"


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
            f"o.starts_at < {lo_s} AND (({RESOLVED_AT.format(t=lo_s)}) OR ({FIRING_AT.format(t=lo_s)}))"
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
                f"o.starts_at < {lo_s} AND {RESOLVED_AT.format(t=lo_s)}",
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
        return await flapping_fps(pool, n, window_s, lo, hi)
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
        fetch(pool, late_sql) if parts else asyncio.sleep(0, []),
        change_times(pool, early_fps, lo, early_end) if lo is not None else asyncio.sleep(0, {}),
    )
    out = {fp: int(most) for fp, most in late_rows if most != SATURATED}
    again = sorted(fp for fp, most in late_rows if most == SATURATED)
    out.update(await count_flaps(pool, again, n, window_s, lo, hi))  # over the whole window
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
    row = (await fetch(pool, f"SELECT {lookups[0]}, {lookups[1]}"))[0]
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
        rows = await fetch(
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
                cands = await fetch(
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
            fetch(pool, before_sql) if win.before_apart else asyncio.sleep(0, []), probe()
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
         WHERE kind IN {NOTIFY_IN} AND receiver IS NOT NULL AND ({win.span.events(args)}) GROUP BY 2, 3
        UNION ALL
        SELECT 's', COALESCE(actor, ''), '', count(*)::numeric, 0::numeric FROM history_events
         WHERE kind = 'silence.created' AND {at_range(lo, hi, args)} GROUP BY 2
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
        rolled, raw = await asyncio.gather(fetch(pool, rolled_sql, *args), fetch(pool, raw_sql))
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
