"""The cluster's rows in PostgreSQL: the members' heartbeats (ampp.cluster reads them).

Times here are the database's clock, so replicas with skewed clocks agree on who is alive.
Functions take a connection (the pool's or the listener's own).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:  # MemberRow is read without the driver (ampp.cluster.ownership)
    import asyncpg
    from asyncpg.pool import PoolConnectionProxy

Conn: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"

ALERTS_CHANNEL = "ampp_alerts"
"""NOTIFY channel of the alerts table's trigger: "fingerprint updated_at_us updated_at_ns" or
"fingerprint -" for a deleted row (migration 0007)."""
SILENCES_CHANNEL = "ampp_silences"
"""NOTIFY channel of the silences table's trigger: the silence id."""
CONFIG_CHANNEL = "ampp_config"
"""NOTIFY channel on which a replica that reloaded its config says so: "name hash"."""


@dataclass(frozen=True, slots=True)
class MemberRow:
    name: str
    address: str
    run_id: str
    started_at: int
    """Unix microseconds, database clock (as every time here)."""
    heartbeat_at: int


_BEAT = """
INSERT INTO cluster_members (name, address, run_id, started_at, heartbeat_at)
VALUES ($1, $2, $3, now(), now())
ON CONFLICT (name) DO UPDATE SET
    address = EXCLUDED.address, heartbeat_at = EXCLUDED.heartbeat_at,
    started_at = CASE WHEN cluster_members.run_id = EXCLUDED.run_id
                      THEN cluster_members.started_at ELSE EXCLUDED.started_at END,
    run_id = EXCLUDED.run_id
"""


async def heartbeat(conn: Conn, name: str, address: str, run_id: str) -> tuple[int, list[MemberRow]]:
    """Renew this replica's row (a new ``run_id`` joins anew) and read every row: (the
    database's now, the rows), both in one transaction so they agree."""
    async with conn.transaction():
        await conn.execute(_BEAT, name, address, run_id)
        rows = await conn.fetch(
            "SELECT name, address, run_id, started_at, heartbeat_at, now() AS now FROM cluster_members"
        )
        now = rows[0]["now"] if rows else await conn.fetchval("SELECT now()")
    return now, [MemberRow(r[0], r[1], r[2], r[3], r[4]) for r in rows]


async def leave(conn: Conn, name: str, run_id: str) -> None:
    """A replica stopping on purpose: the others take its groups at once."""
    await conn.execute("DELETE FROM cluster_members WHERE name = $1 AND run_id = $2", name, run_id)


async def forget(conn: Conn, older_than_s: float) -> int:
    """Drop the rows not renewed for ``older_than_s`` (--cluster.reconnect-timeout)."""
    status = await conn.execute(
        "DELETE FROM cluster_members WHERE heartbeat_at < now() - make_interval(secs => $1)", older_than_s
    )
    return int(status.rsplit(" ", 1)[-1])


async def announce_config(conn: Conn, name: str, digest: str) -> None:
    await conn.execute("SELECT pg_notify($1, $2)", CONFIG_CHANNEL, f"{name} {digest}")


async def release_dead(conn: Conn, name: str, dead_after_s: float) -> int:
    """A dead replica's claimed notifications back to pending, as delivery.release does for a
    replica's own at its start, but only while its heartbeat is still out of date (it may have
    come back since the caller read the rows)."""
    status = await conn.execute(
        "UPDATE delivery_queue SET state = 'pending', claimed_by = NULL, claimed_until = NULL, "
        "updated_at = now() WHERE state = 'inflight' AND claimed_by = $1 AND NOT EXISTS ("
        " SELECT 1 FROM cluster_members WHERE name = $1"
        " AND heartbeat_at > now() - make_interval(secs => $2))",
        name,
        dead_after_s,
    )
    return int(status.rsplit(" ", 1)[-1])
