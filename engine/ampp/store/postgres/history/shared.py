"""What the history's write, read and report modules share: the connection types, how an
event row decodes, and the SQL fragments and reads all three use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from ...records import HISTORY_FIELDS, HistoryEvent
from ..codec import join_ns

Conn: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"
Pool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"

RANGE = "int8range(o.starts_at, GREATEST(o.starts_at, o.ends_at), '[]')"
"""A resolved occurrence's time range; the GiST index is on this expression. Firing ones are
not in it (open-ended ranges would widen every box of the tree): the firing index has them."""
RESOLVED_AT = "o.ends_at IS NOT NULL AND " + RANGE + " @> {t}::int8"
FIRING_AT = "o.ends_at IS NULL AND o.starts_at <= {t}::int8"

STATE_IN = "('alert.firing', 'alert.resolved')"
NOTIFY_IN = "('notify.sent', 'notify.failed')"
EVENT_COLUMNS = "at, at_ns, " + ", ".join(HISTORY_FIELDS[1:])


def event(r: Sequence[Any]) -> HistoryEvent:
    return HistoryEvent(join_ns(r[0], r[1]), *(r[i] for i in range(2, 16)))


def at_range(lo: int | None, hi: int | None, args: list[Any]) -> str:
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


async def change_times(
    conn: Conn | Pool, fps: list[str] | str, lo: int | None, hi: int | None
) -> dict[str, list[int]]:
    """Each alert's state change times in [lo, hi], sorted; ``fps``: the alerts, or a query
    that lists them (one statement instead of two in a row). No tie-break on id: equal rows
    are the same time, and without it history_events_changes answers alone (no row read)."""
    if not fps:
        return {}
    args: list[Any] = [] if isinstance(fps, str) else [fps]
    among = f"IN ({fps})" if isinstance(fps, str) else "= ANY($1::text[])"
    rng = at_range(lo, hi, args)
    rows = await conn.fetch(
        f"SELECT fingerprint, at, at_ns FROM history_events WHERE fingerprint {among}"
        f" AND kind IN {STATE_IN} AND {rng} ORDER BY fingerprint, at, at_ns",
        *args,
    )
    out: dict[str, list[int]] = {}
    for fp, us, rest in rows:
        out.setdefault(fp, []).append(join_ns(us, rest))
    return out


async def fetch(pool: Pool, sql: str, *args: Any) -> list[asyncpg.Record]:
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
