"""The delivery queue in PostgreSQL, shared by every replica: the rules are delivery_common's.

Claims are ``FOR UPDATE SKIP LOCKED`` with a lease (``CLAIM``): replicas claiming at once never
get the same row and never wait for each other; a replica that dies mid-send leaves a lease
that runs out, and the row is claimed again. Everything that reads or writes a target's
notification log (enqueue, complete, retry, redrive) first takes a transaction-scoped advisory
lock on the target, so under READ COMMITTED the next statement sees what the previous holder
committed: a flush that another replica has just sent is seen as sent, never queued again.
Queue times (due, lease, created) come from the database clock, so replicas with skewed
clocks agree; notification-log times are the engine's, as everywhere else.

Functions take a connection; the writing ones expect the caller to hold a transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from ..delivery_common import (
    Claim,
    ClaimAtEnqueue,
    Delivery,
    DeliveryPolicy,
    EnqueueResult,
    LiveRow,
    NewDelivery,
    RedriveResult,
    Target,
    merge_into_newer,
    plan_enqueue,
)
from ..records import NflogEntry

Conn: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"

TARGET_LOCK_CLASS = int.from_bytes(b"ampq", "big")
"""First key of pg_advisory_xact_lock(int, int) for targets; the second is hashtext(target)."""

COLUMNS = (
    "id, key, state, attempts, next_attempt_at, claimed_by, claimed_until, last_error, outcome, "
    "created_at, updated_at, group_key, receiver, integration, idx, payload"
)

CLAIM = f"""
UPDATE delivery_queue q
   SET state = 'inflight', claimed_by = $1, attempts = q.attempts + 1,
       claimed_until = now() + make_interval(secs => $2), updated_at = now()
 WHERE q.id IN (
        SELECT c.id FROM delivery_queue c
         WHERE ((c.state = 'pending' AND c.next_attempt_at <= now())
             OR (c.state = 'inflight' AND c.claimed_until < now()))
           AND NOT EXISTS (
                SELECT 1 FROM delivery_queue o
                 WHERE o.group_key = c.group_key AND o.receiver = c.receiver
                   AND o.integration = c.integration AND o.idx = c.idx
                   AND o.id < c.id AND o.state IN ('pending', 'inflight'))
         ORDER BY c.next_attempt_at, c.id
         LIMIT $3
           FOR UPDATE OF c SKIP LOCKED)
RETURNING {", ".join("q." + c for c in COLUMNS.split(", "))}
"""
"""How a replica claims due deliveries ($1 replica, $2 lease seconds, $3 batch size).

Rows locked by another replica's claim are skipped, not waited for; a lease that ran out (the
claimer died mid-send) makes the row claimable again. A row waits while an older row of its
target is live, so one target's notifications go out one at a time and in order.
"""

_NEXT_DUE = """
SELECT EXTRACT(EPOCH FROM MIN(next_attempt_at) - now())::float8 FROM delivery_queue
 WHERE state = 'pending' AND next_attempt_at > now()
"""

_UPSERT_NFLOG = """
INSERT INTO nflog (group_key, receiver, integration, idx, firing, resolved,
                   "timestamp", timestamp_ns, expires_at, expires_at_ns)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (group_key, receiver, integration, idx) DO UPDATE SET
    firing = EXCLUDED.firing, resolved = EXCLUDED.resolved,
    "timestamp" = EXCLUDED."timestamp", timestamp_ns = EXCLUDED.timestamp_ns,
    expires_at = EXCLUDED.expires_at, expires_at_ns = EXCLUDED.expires_at_ns
"""

_TARGET = "group_key = $1 AND receiver = $2 AND integration = $3 AND idx = $4"


def _ns(us: int | None) -> int | None:
    return None if us is None else us * 1000


def _delivery(r: asyncpg.Record, payload: dict[str, Any] | None = None) -> Delivery:
    """The row; ``payload`` when the caller holds it already (not read back)."""
    return Delivery(
        r["id"], r["key"], r["state"], r["attempts"], r["next_attempt_at"] * 1000, r["claimed_by"],
        _ns(r["claimed_until"]), r["last_error"], r["outcome"], r["created_at"] * 1000,
        r["updated_at"] * 1000, r["group_key"], r["receiver"], r["integration"], r["idx"],
        r["payload"] if payload is None else payload,
    )  # fmt: skip


async def _lock(conn: Conn, t: Target) -> None:
    await conn.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))", TARGET_LOCK_CLASS, "\x1f".join(map(str, t))
    )


async def _nflog(conn: Conn, t: Target) -> NflogEntry | None:
    r = await conn.fetchrow(
        f'SELECT firing, resolved, "timestamp", timestamp_ns, expires_at, expires_at_ns FROM nflog '
        f"WHERE {_TARGET}",
        *t,
    )
    if r is None:
        return None
    return NflogEntry(*t, frozenset(r[0]), frozenset(r[1]), r[2] * 1000 + r[3], r[4] * 1000 + r[5])


async def save_nflog(conn: Conn, e: NflogEntry) -> None:
    """The notification-log upsert: the store's save_nflog and a finished delivery both write it."""
    ts, ts_ns = divmod(e.timestamp, 1000)
    exp, exp_ns = divmod(e.expires_at, 1000)
    await conn.execute(
        _UPSERT_NFLOG, e.group_key, e.receiver, e.integration, e.idx, sorted(e.firing), sorted(e.resolved),
        ts, ts_ns, exp, exp_ns,
    )  # fmt: skip


_CLAIMED_INSERT = f"""
INSERT INTO delivery_queue (key, payload, state, attempts, claimed_by, claimed_until,
                            group_key, receiver, integration, idx)
VALUES ($1, $2, 'inflight', 1, $3, now() + make_interval(secs => $4), $5, $6, $7, $8)
ON CONFLICT (key) WHERE state IN ('pending', 'inflight') DO NOTHING
RETURNING {COLUMNS.removesuffix(", payload")}
"""
"""A new row claimed by its enqueuer ($3 replica, $4 lease seconds), its first attempt begun."""


async def _insert_claimed(conn: Conn, job: NewDelivery, claim: ClaimAtEnqueue) -> Delivery | None:
    r = await conn.fetchrow(_CLAIMED_INSERT, job.key, job.payload, claim.replica, claim.lease_s, *job.target)
    return None if r is None else _delivery(r, job.payload)


async def _insert(conn: Conn, job: NewDelivery, state: str, outcome: str | None) -> int | None:
    return await conn.fetchval(  # type: ignore[no-any-return]
        "INSERT INTO delivery_queue (key, payload, state, outcome, group_key, receiver, integration, idx) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
        "ON CONFLICT (key) WHERE state IN ('pending', 'inflight') DO NOTHING RETURNING id",
        job.key, job.payload, state, outcome, *job.target,
    )  # fmt: skip


async def _supersede(conn: Conn, ids: Sequence[int], by: int, state: str, error: str = "") -> int:
    """Mark ``ids`` (still in ``state``) done as superseded; how many were."""
    if not ids:
        return 0
    why = f"{error} (superseded by delivery {by})" if error else f"superseded by delivery {by}"
    rows = await conn.fetch(
        "UPDATE delivery_queue SET state = 'done', outcome = 'superseded', last_error = $1, "
        "claimed_by = NULL, claimed_until = NULL, updated_at = now() "
        "WHERE id = ANY($2::bigint[]) AND state = $3 RETURNING id",
        why, list(ids), state,
    )  # fmt: skip
    return len(rows)


# -- enqueue ---------------------------------------------------------------------------------
async def enqueue(
    conn: Conn,
    jobs: Sequence[NewDelivery],
    policy: DeliveryPolicy,
    now: int,
    claim: ClaimAtEnqueue | None = None,
) -> list[EnqueueResult]:
    """Each job under its target's lock, targets locked in one order (no deadlocks)."""
    results: dict[int, EnqueueResult] = {}
    free = claim.limit if claim is not None else 0
    for i in sorted(range(len(jobs)), key=lambda i: jobs[i].target):
        results[i] = await _enqueue_one(conn, jobs[i], policy, now, claim if free > 0 else None)
        free -= results[i].claimed is not None
    return [results[i] for i in range(len(jobs))]


async def _live(conn: Conn, t: Target) -> list[LiveRow]:
    rows = await conn.fetch(
        "SELECT id, key, state, CASE WHEN state = 'pending' THEN payload END FROM delivery_queue"
        f" WHERE {_TARGET} AND state IN ('pending', 'inflight') ORDER BY id",
        *t,
    )
    return [LiveRow(r[0], r[1], r[2], r[3]) for r in rows]


async def _enqueue_one(
    conn: Conn, job: NewDelivery, policy: DeliveryPolicy, now: int, claim: ClaimAtEnqueue | None
) -> EnqueueResult:
    await _lock(conn, job.target)
    plan = plan_enqueue(job, await _live(conn, job.target), await _nflog(conn, job.target), policy, now)
    if plan.outcome == "refreshed":
        assert plan.id is not None
        await conn.execute(
            "UPDATE delivery_queue SET payload = $1, updated_at = now() WHERE id = $2",
            plan.job.payload,
            plan.id,
        )
        return plan.result(superseded=await _supersede(conn, plan.supersede, plan.id, "pending"))
    if plan.insert is None:  # deduplicated, busy
        return plan.result()
    if claim is not None and plan.claimable:
        claimed = await _insert_claimed(conn, plan.job, claim)
        if claimed is None:  # only without the lock (rows written by something else): leave it be
            return EnqueueResult("busy")
        n = await _supersede(conn, plan.supersede, claimed.id, "pending")
        return plan.result(claimed.id, n, claimed)
    rid = await _insert(conn, plan.job, *plan.insert)
    if rid is None:  # only without the lock (rows written by something else): leave it be
        return EnqueueResult("busy")
    n = await _supersede(conn, plan.supersede, rid, "pending")
    if plan.outcome == "recorded" and plan.entry is not None:
        await save_nflog(conn, plan.entry)
    return plan.result(rid, n)


# -- the worker's side -----------------------------------------------------------------------
async def claim(conn: Conn, replica: str, lease_s: float, limit: int) -> Claim:
    rows = await conn.fetch(CLAIM, replica, lease_s, limit)
    jobs = sorted((_delivery(r) for r in rows), key=lambda d: (d.next_attempt_at, d.id))
    return Claim(jobs, await conn.fetchval(_NEXT_DUE))


async def _row(conn: Conn, id_: int, lock: bool = False) -> Delivery | None:
    r = await conn.fetchrow(f"SELECT {COLUMNS} FROM delivery_queue WHERE id = $1", id_)
    if r is None or not lock:
        return None if r is None else _delivery(r)
    d = _delivery(r)
    await _lock(conn, d.target)
    r = await conn.fetchrow(f"SELECT {COLUMNS} FROM delivery_queue WHERE id = $1 FOR UPDATE", id_)
    return None if r is None else _delivery(r)


async def complete(conn: Conn, id_: int, entry: NflogEntry | None, outcome: str) -> None:
    if entry is not None:
        await _lock(conn, entry.key)
    await conn.execute(
        "UPDATE delivery_queue SET state = 'done', outcome = $2, claimed_by = NULL, claimed_until = NULL, "
        "updated_at = now() WHERE id = $1",
        id_,
        outcome,
    )
    if entry is not None:
        await save_nflog(conn, entry)


async def retry(conn: Conn, id_: int, error: str, delay_s: float, policy: DeliveryPolicy) -> str:
    """Back to pending after ``delay_s``, or merged into a newer pending flush of the target."""
    d = await _row(conn, id_, lock=True)
    if d is None:
        return "gone"
    newer = await conn.fetchrow(
        f"SELECT id, payload FROM delivery_queue WHERE {_TARGET} AND state = 'pending' AND id > $5 "
        "ORDER BY id DESC LIMIT 1",
        *d.target,
        id_,
    )
    if newer is not None:
        merged = merge_into_newer(d.payload, newer["payload"], policy)
        await _supersede(conn, [id_], newer["id"], d.state, error)  # first: the key may be this row's
        await conn.execute(
            "UPDATE delivery_queue SET key = $1, payload = $2, updated_at = now() WHERE id = $3",
            merged.key,
            merged.payload,
            newer["id"],
        )
        return "superseded"
    await conn.execute(
        "UPDATE delivery_queue SET state = 'pending', next_attempt_at = now() + make_interval(secs => $2), "
        "last_error = $3, claimed_by = NULL, claimed_until = NULL, updated_at = now() WHERE id = $1",
        id_,
        delay_s,
        error,
    )
    return "pending"


async def fail(conn: Conn, id_: int, error: str) -> None:
    await conn.execute(
        "UPDATE delivery_queue SET state = 'dead', last_error = $2, claimed_by = NULL, claimed_until = NULL, "
        "updated_at = now() WHERE id = $1",
        id_,
        error,
    )


async def release(conn: Conn, replica: str, ids: Sequence[int] | None) -> int:
    """This replica's inflight rows back to pending (at start-up: what its previous run, killed
    mid-send, left; at shutdown: what it was sending). Other replicas' rows wait for their lease."""
    sql = (
        "UPDATE delivery_queue SET state = 'pending', claimed_by = NULL, claimed_until = NULL, "
        "updated_at = now() WHERE state = 'inflight' AND claimed_by = $1"
    )
    if ids is None:
        status = await conn.execute(sql, replica)
    else:
        status = await conn.execute(sql + " AND id = ANY($2::bigint[])", replica, list(ids))
    return int(status.rsplit(" ", 1)[-1])


# -- the API's side --------------------------------------------------------------------------
async def list_(
    conn: Conn, state: str | None, receiver: str | None, limit: int, before_id: int | None
) -> list[Delivery]:
    where, args = ["true"], []
    for condition, value in (("state =", state), ("receiver =", receiver), ("id <", before_id)):
        if value is not None:
            args.append(value)
            where.append(f"{condition} ${len(args)}")
    args.append(limit)
    sql = f"SELECT {COLUMNS} FROM delivery_queue WHERE {' AND '.join(where)} ORDER BY id DESC"
    sql += f" LIMIT ${len(args)}"
    return [_delivery(r) for r in await conn.fetch(sql, *args)]


async def get(conn: Conn, id_: int) -> Delivery | None:
    return await _row(conn, id_)


async def redrive(conn: Conn, id_: int) -> RedriveResult:
    d = await _row(conn, id_, lock=True)
    if d is None:
        return RedriveResult("not_found")
    if d.state != "dead":
        return RedriveResult("not_dead", d)
    newer = await conn.fetchval(
        f"SELECT MAX(id) FROM delivery_queue WHERE {_TARGET} "
        "AND (id > $5 OR state IN ('pending', 'inflight'))",
        *d.target,
        id_,
    )
    if newer is not None:
        return RedriveResult("superseded", d, newer)
    r = await conn.fetchrow(
        "UPDATE delivery_queue SET state = 'pending', attempts = 0, next_attempt_at = now(), "
        f"claimed_by = NULL, claimed_until = NULL, updated_at = now() WHERE id = $1 RETURNING {COLUMNS}",
        id_,
    )
    assert r is not None  # locked above
    return RedriveResult("redriven", _delivery(r))


async def dead_ids(conn: Conn, receiver: str | None) -> list[int]:
    if receiver is None:
        rows = await conn.fetch("SELECT id FROM delivery_queue WHERE state = 'dead' ORDER BY id")
    else:
        rows = await conn.fetch(
            "SELECT id FROM delivery_queue WHERE state = 'dead' AND receiver = $1 ORDER BY id", receiver
        )
    return [r[0] for r in rows]


async def counts(conn: Conn) -> dict[str, int]:
    out = {"pending": 0, "inflight": 0, "dead": 0}
    for state, n in await conn.fetch(
        "SELECT state, COUNT(*) FROM delivery_queue WHERE state IN ('pending', 'inflight', 'dead') GROUP BY 1"
    ):
        out[state] = n
    return out


async def purge(conn: Conn, before_us: int, limit: int) -> int:
    status = await conn.execute(
        "DELETE FROM delivery_queue WHERE id IN (SELECT id FROM delivery_queue "
        "WHERE state IN ('done', 'dead') AND updated_at < $1 LIMIT $2)",
        before_us,
        limit,
    )
    return int(status.rsplit(" ", 1)[-1])
