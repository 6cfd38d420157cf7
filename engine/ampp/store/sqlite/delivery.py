"""The delivery queue in SQLite (``ampp.db``): one process owns the file, so a claim is a plain
write transaction; the rules are delivery_common's.

Every function takes the state database's connection and runs on its thread; the caller
(SQLiteStorage) wraps the writing ones in a ``BEGIN IMMEDIATE`` transaction. Times are Unix
nanoseconds from the engine's clock. Payloads are JSON, compressed (zlib) into a BLOB: a flush
of a 2,000-alert group is a megabyte of JSON, about 85 KB so; rows written before are JSON text,
read as they are.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Sequence
from typing import Any

import orjson

from ...model.timefmt import NS
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

COLUMNS = (
    "id, key, state, attempts, next_attempt_at, claimed_by, claimed_until, last_error, outcome, "
    "created_at, updated_at, group_key, receiver, integration, idx, payload"
)
_TARGET = "group_key = ? AND receiver = ? AND integration = ? AND idx = ?"
NFLOG_UPSERT = "INSERT OR REPLACE INTO nflog VALUES (?,?,?,?,?,?,?,?)"


PAYLOAD_COMPRESSION = 1
"""zlib's fastest level: 2-3 ms for a megabyte of alerts, 13 times smaller. SQLite rewrites a
whole row on any update (a claim, the done mark), overflow pages included, so an uncompressed
payload was written three times over and its pages checkpointed again: most of the state
database's work under issue 21's load, which the alert commits a POST waits for queued behind."""


def _pack(payload: dict[str, Any]) -> bytes:
    return zlib.compress(orjson.dumps(payload), PAYLOAD_COMPRESSION)


def _unpack(stored: bytes | str) -> Any:
    """A payload as stored: compressed, or JSON text (rows written before compression)."""
    return orjson.loads(zlib.decompress(stored) if isinstance(stored, bytes) else stored)


def _delivery(r: Sequence[Any]) -> Delivery:
    (id_, key, state, attempts, due, by, until, error, outcome, created, updated, gk, rcv, integ, idx, p) = r
    return Delivery(
        id_, key, state, attempts, due, by, until, error, outcome, created, updated, gk, rcv, integ, idx,
        _unpack(p),
    )  # fmt: skip


def nflog_row(e: NflogEntry) -> tuple[Any, ...]:
    return (
        e.group_key, e.receiver, e.integration, e.idx, orjson.dumps(sorted(e.firing)),
        orjson.dumps(sorted(e.resolved)), e.timestamp, e.expires_at,
    )  # fmt: skip


def _nflog(c: sqlite3.Connection, t: Target) -> NflogEntry | None:
    r = c.execute(
        "SELECT firing, resolved, timestamp, expires_at FROM nflog "
        "WHERE group_key = ? AND receiver = ? AND integration = ? AND idx = ?",
        t,
    ).fetchone()
    if r is None:
        return None
    return NflogEntry(*t, frozenset(orjson.loads(r[0])), frozenset(orjson.loads(r[1])), r[2], r[3])


def _insert(
    c: sqlite3.Connection,
    job: NewDelivery,
    state: str,
    outcome: str | None,
    now: int,
    claim: tuple[str, int] | None = None,
) -> int:
    """A new row; ``claim`` (replica, lease end) inserts it claimed, its first attempt begun."""
    if claim is not None:
        state = "inflight"
    by, until = claim if claim is not None else (None, None)
    row = c.execute(
        "INSERT INTO delivery_queue (key, payload, state, outcome, attempts, next_attempt_at, "
        "created_at, updated_at, group_key, receiver, integration, idx, claimed_by, claimed_until) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (key) WHERE state IN ('pending', 'inflight') DO NOTHING RETURNING id",
        (job.key, _pack(job.payload), state, outcome, 0 if claim is None else 1,
         now, now, now, *job.target, by, until),
    ).fetchone()  # fmt: skip
    assert row is not None, "checked in the same transaction that no live row has this key"
    return int(row[0])


def _supersede(c: sqlite3.Connection, ids: Sequence[int], by: int, now: int, error: str = "") -> None:
    why = f"{error} (superseded by delivery {by})" if error else f"superseded by delivery {by}"
    c.executemany(
        "UPDATE delivery_queue SET state = 'done', outcome = 'superseded', last_error = ?, "
        "claimed_by = NULL, claimed_until = NULL, updated_at = ? WHERE id = ?",
        [(why, now, i) for i in ids],
    )


# -- enqueue ---------------------------------------------------------------------------------
def enqueue(
    c: sqlite3.Connection,
    jobs: Sequence[NewDelivery],
    policy: DeliveryPolicy,
    now: int,
    claim: ClaimAtEnqueue | None = None,
) -> list[EnqueueResult]:
    results = []
    free = claim.limit if claim is not None else 0
    for job in jobs:
        result = _enqueue_one(c, job, policy, now, claim if free > 0 else None)
        free -= result.claimed is not None
        results.append(result)
    return results


def _live(c: sqlite3.Connection, t: Target) -> list[LiveRow]:
    rows = c.execute(
        "SELECT id, key, state, CASE state WHEN 'pending' THEN payload END FROM delivery_queue"
        f" WHERE {_TARGET} AND state IN ('pending', 'inflight') ORDER BY id",
        t,
    ).fetchall()
    return [LiveRow(i, k, state, None if p is None else _unpack(p)) for i, k, state, p in rows]


def _enqueue_one(
    c: sqlite3.Connection, job: NewDelivery, policy: DeliveryPolicy, now: int, claim: ClaimAtEnqueue | None
) -> EnqueueResult:
    plan = plan_enqueue(job, _live(c, job.target), _nflog(c, job.target), policy, now)
    if plan.outcome == "refreshed":
        assert plan.id is not None
        c.execute(
            "UPDATE delivery_queue SET payload = ?, updated_at = ? WHERE id = ?",
            (_pack(plan.job.payload), now, plan.id),
        )
        _supersede(c, plan.supersede, plan.id, now)
        return plan.result()
    if plan.insert is None:  # deduplicated, busy
        return plan.result()
    if claim is not None and plan.claimable:
        until = now + int(claim.lease_s * NS)
        rid = _insert(c, plan.job, *plan.insert, now, (claim.replica, until))
        _supersede(c, plan.supersede, rid, now)
        claimed = Delivery(rid, plan.job.key, "inflight", 1, now, claim.replica, until, None, None, now, now,
                           *plan.job.target, plan.job.payload)  # fmt: skip
        return plan.result(rid, claimed=claimed)
    rid = _insert(c, plan.job, *plan.insert, now)
    _supersede(c, plan.supersede, rid, now)
    if plan.outcome == "recorded" and plan.entry is not None:
        c.execute(NFLOG_UPSERT, nflog_row(plan.entry))
    return plan.result(rid)


# -- the worker's side -----------------------------------------------------------------------
# INDEXED BY: the planner, not knowing how wide the rows are, would rather read them.
_CLAIMABLE = """
SELECT c.id FROM (
    SELECT id, next_attempt_at, group_key, receiver, integration, idx
      FROM delivery_queue INDEXED BY delivery_queue_due_target
     WHERE state = 'pending' AND next_attempt_at <= :now
    UNION ALL
    SELECT id, next_attempt_at, group_key, receiver, integration, idx
      FROM delivery_queue INDEXED BY delivery_queue_lease_target
     WHERE state = 'inflight' AND claimed_until < :now
) c
WHERE NOT EXISTS (
    SELECT 1 FROM delivery_queue o
     WHERE o.group_key = c.group_key AND o.receiver = c.receiver AND o.integration = c.integration
       AND o.idx = c.idx AND o.id < c.id AND o.state IN ('pending', 'inflight'))
ORDER BY c.next_attempt_at, c.id
LIMIT :limit
"""


def idle(c: sqlite3.Connection, now: int) -> Claim | None:
    """Without a transaction: an empty claim if nothing is claimable (the idle poll then never
    takes the write lock the alert commits need), else None."""
    if c.execute(_CLAIMABLE, {"now": now, "limit": 1}).fetchone() is not None:
        return None
    return Claim([], _next_due(c, now))


def _next_due(c: sqlite3.Connection, now: int) -> float | None:
    nxt = c.execute(
        "SELECT MIN(next_attempt_at) FROM delivery_queue INDEXED BY delivery_queue_due_target"
        " WHERE state = 'pending' AND next_attempt_at > ?",
        (now,),
    ).fetchone()[0]
    return None if nxt is None else (nxt - now) / NS


def claim(c: sqlite3.Connection, replica: str, lease_ns: int, limit: int, now: int) -> Claim:
    """Due rows (and rows whose lease ran out), the oldest of each target only."""
    ids = [r[0] for r in c.execute(_CLAIMABLE, {"now": now, "limit": limit}).fetchall()]
    jobs: list[Delivery] = []
    if ids:
        marks = ",".join("?" * len(ids))
        rows = c.execute(
            f"UPDATE delivery_queue SET state = 'inflight', claimed_by = ?, attempts = attempts + 1, "
            f"claimed_until = ?, updated_at = ? WHERE id IN ({marks}) RETURNING {COLUMNS}",
            (replica, now + lease_ns, now, *ids),
        ).fetchall()
        jobs = sorted((_delivery(r) for r in rows), key=lambda d: (d.next_attempt_at, d.id))
    return Claim(jobs, _next_due(c, now))


def complete(c: sqlite3.Connection, id_: int, entry: NflogEntry | None, outcome: str, now: int) -> None:
    c.execute(
        "UPDATE delivery_queue SET state = 'done', outcome = ?, claimed_by = NULL, claimed_until = NULL, "
        "updated_at = ? WHERE id = ?",
        (outcome, now, id_),
    )
    if entry is not None:
        c.execute(NFLOG_UPSERT, nflog_row(entry))


def retry(
    c: sqlite3.Connection, id_: int, error: str, delay_ns: int, policy: DeliveryPolicy, now: int
) -> str:
    """Back to pending after ``delay_ns``; or, if a newer flush for the target waits, merged into
    it (``"superseded"``): the newer one is what the receiver should hear next."""
    row = c.execute(f"SELECT {COLUMNS} FROM delivery_queue WHERE id = ?", (id_,)).fetchone()
    if row is None:
        return "gone"
    d = _delivery(row)
    newer = c.execute(
        f"SELECT id, payload FROM delivery_queue WHERE {_TARGET} AND state IN ('pending', 'inflight') "
        "AND state = 'pending' AND id > ? ORDER BY id DESC LIMIT 1",  # the IN: the live index
        (*d.target, id_),
    ).fetchone()
    if newer is not None:
        merged = merge_into_newer(d.payload, _unpack(newer[1]), policy)
        _supersede(c, [id_], int(newer[0]), now, error)  # first: the merged key may be this row's
        c.execute(
            "UPDATE delivery_queue SET key = ?, payload = ?, updated_at = ? WHERE id = ?",
            (merged.key, _pack(merged.payload), now, newer[0]),
        )
        return "superseded"
    c.execute(
        "UPDATE delivery_queue SET state = 'pending', next_attempt_at = ?, last_error = ?, "
        "claimed_by = NULL, claimed_until = NULL, updated_at = ? WHERE id = ?",
        (now + delay_ns, error, now, id_),
    )
    return "pending"


def fail(c: sqlite3.Connection, id_: int, error: str, now: int) -> None:
    c.execute(
        "UPDATE delivery_queue SET state = 'dead', last_error = ?, claimed_by = NULL, claimed_until = NULL, "
        "updated_at = ? WHERE id = ?",
        (error, now, id_),
    )


def release(c: sqlite3.Connection, ids: Sequence[int] | None, now: int) -> int:
    """Inflight rows back to pending. One process owns the SQLite file, so at start-up every
    inflight row is a leftover of a crash, whoever claimed it."""
    sql = (
        "UPDATE delivery_queue SET state = 'pending', claimed_by = NULL, claimed_until = NULL, "
        "updated_at = ? WHERE state = 'inflight'"
    )
    if ids is None:
        return c.execute(sql, (now,)).rowcount
    return sum(c.execute(sql + " AND id = ?", (now, i)).rowcount for i in ids)


# -- the API's side --------------------------------------------------------------------------
def list_(
    c: sqlite3.Connection, state: str | None, receiver: str | None, limit: int, before_id: int | None
) -> list[Delivery]:
    where: list[str] = ["1 = 1"]
    args: list[Any] = []
    for column, value in (("state", state), ("receiver", receiver)):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    if before_id is not None:
        where.append("id < ?")
        args.append(before_id)
    sql = f"SELECT {COLUMNS} FROM delivery_queue WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?"
    return [_delivery(r) for r in c.execute(sql, (*args, limit)).fetchall()]


def get(c: sqlite3.Connection, id_: int) -> Delivery | None:
    r = c.execute(f"SELECT {COLUMNS} FROM delivery_queue WHERE id = ?", (id_,)).fetchone()
    return None if r is None else _delivery(r)


def redrive(c: sqlite3.Connection, id_: int, now: int) -> RedriveResult:
    d = get(c, id_)
    if d is None:
        return RedriveResult("not_found")
    if d.state != "dead":
        return RedriveResult("not_dead", d)
    newer = c.execute(
        f"SELECT MAX(id) FROM delivery_queue WHERE {_TARGET} "
        "AND (id > ? OR state IN ('pending', 'inflight'))",
        (*d.target, id_),
    ).fetchone()[0]
    if newer is not None:
        return RedriveResult("superseded", d, int(newer))
    r = c.execute(
        "UPDATE delivery_queue SET state = 'pending', attempts = 0, next_attempt_at = ?, claimed_by = NULL, "
        f"claimed_until = NULL, updated_at = ? WHERE id = ? RETURNING {COLUMNS}",
        (now, now, id_),
    ).fetchone()
    return RedriveResult("redriven", _delivery(r))


def redrive_all(c: sqlite3.Connection, receiver: str | None, now: int) -> tuple[int, int]:
    sql, args = "SELECT id FROM delivery_queue WHERE state = 'dead'", []
    if receiver is not None:
        sql, args = sql + " AND receiver = ?", [receiver]
    results = [redrive(c, r[0], now).outcome for r in c.execute(sql + " ORDER BY id", args).fetchall()]
    done = results.count("redriven")
    return done, len(results) - done


def counts(c: sqlite3.Connection) -> dict[str, int]:
    out = {"pending": 0, "inflight": 0, "dead": 0}
    for state in out:
        out[state] = c.execute("SELECT COUNT(*) FROM delivery_queue WHERE state = ?", (state,)).fetchone()[0]
    return out


def purge(c: sqlite3.Connection, before: int, limit: int) -> int:
    return c.execute(
        "DELETE FROM delivery_queue WHERE id IN (SELECT id FROM delivery_queue "
        "WHERE state IN ('done', 'dead') AND updated_at < ? LIMIT ?)",
        (before, limit),
    ).rowcount
