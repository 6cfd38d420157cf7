"""PostgreSQL storage through asyncpg: the production store that several replicas share.

A connection pool that ``open()`` creates and migrates (postgres.schema); the alerts, silences
and notification log are written here, the delivery queue in postgres.delivery and the
history in postgres.history. How times and JSON cross to PostgreSQL: postgres.codec.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

import asyncpg

from ...auth.apikeys import ApiKey
from ...auth.audit import AuditEvent, AuditQuery
from ...model.alert import Alert
from ...model.labels import share_values
from ...model.matchers import MatchType, new_matcher
from ...model.silence import Silence
from ..delivery_common import (
    Claim,
    ClaimAtEnqueue,
    Delivery,
    DeliveryPolicy,
    EnqueueResult,
    NewDelivery,
    RedriveResult,
)
from ..history_query import HistoryPage, HistoryQuery, Report, Timeline
from ..records import HistoryEvent, NflogEntry
from . import access, delivery
from .codec import init_connection, join_ns, split_ns
from .history import read as history_read
from .history import report as history_report
from .history import write as history_write
from .schema import migrate

log = logging.getLogger(__name__)

# -- rows ------------------------------------------------------------------------------------
_MATCH_FLAGS = {
    MatchType.EQUAL: (False, True),
    MatchType.NOT_EQUAL: (False, False),
    MatchType.REGEX: (True, True),
    MatchType.NOT_REGEX: (True, False),
}
_MATCH_TYPES = {flags: t for t, flags in _MATCH_FLAGS.items()}


def _alert_args(a: Alert) -> tuple[Any, ...]:
    return (
        f"{a.fingerprint:016x}",
        a.labels,
        a.annotations,
        *split_ns(a.starts_at),
        *split_ns(a.ends_at),
        a.generator_url,
        *split_ns(a.updated_at),
        a.timeout,
    )


def _alert(r: asyncpg.Record) -> Alert:
    return Alert(
        share_values(r["labels"]),
        r["annotations"],
        join_ns(r["starts_at"], r["starts_at_ns"]),
        join_ns(r["ends_at"], r["ends_at_ns"]),
        r["generator_url"],
        join_ns(r["updated_at"], r["updated_at_ns"]),
        r["timeout"],
        int(r["fingerprint"], 16),
    )


def _silence(r: asyncpg.Record) -> Silence:
    ms = [
        new_matcher(m["name"], _MATCH_TYPES[(m["isRegex"], m["isEqual"])], m["value"]) for m in r["matchers"]
    ]
    return Silence(
        r["id"],
        ms,
        join_ns(r["starts_at"], r["starts_at_ns"]),
        join_ns(r["ends_at"], r["ends_at_ns"]),
        join_ns(r["updated_at"], r["updated_at_ns"]),
        r["created_by"],
        r["comment"],
        dict(r["annotations"]),
    )


_ALERT_COLUMNS = (
    "fingerprint, labels, annotations, starts_at, starts_at_ns, ends_at, ends_at_ns, "
    "generator_url, updated_at, updated_at_ns, timeout"
)
_UPSERT_ALERTS = f"""
INSERT INTO alerts ({_ALERT_COLUMNS})
SELECT * FROM unnest($1::text[], $2::jsonb[], $3::jsonb[], $4::timestamptz[], $5::int2[],
                     $6::timestamptz[], $7::int2[], $8::text[], $9::timestamptz[], $10::int2[],
                     $11::bool[])
ON CONFLICT (fingerprint) DO UPDATE SET
    labels = EXCLUDED.labels, annotations = EXCLUDED.annotations,
    starts_at = EXCLUDED.starts_at, starts_at_ns = EXCLUDED.starts_at_ns,
    ends_at = EXCLUDED.ends_at, ends_at_ns = EXCLUDED.ends_at_ns,
    generator_url = EXCLUDED.generator_url,
    updated_at = EXCLUDED.updated_at, updated_at_ns = EXCLUDED.updated_at_ns,
    timeout = EXCLUDED.timeout
"""

_UPSERT_SILENCE = """
INSERT INTO silences (id, matchers, starts_at, starts_at_ns, ends_at, ends_at_ns,
                      updated_at, updated_at_ns, created_by, comment, annotations)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (id) DO UPDATE SET
    matchers = EXCLUDED.matchers,
    starts_at = EXCLUDED.starts_at, starts_at_ns = EXCLUDED.starts_at_ns,
    ends_at = EXCLUDED.ends_at, ends_at_ns = EXCLUDED.ends_at_ns,
    updated_at = EXCLUDED.updated_at, updated_at_ns = EXCLUDED.updated_at_ns,
    created_by = EXCLUDED.created_by, comment = EXCLUDED.comment, annotations = EXCLUDED.annotations
"""

_DELETE_NFLOG = """
DELETE FROM nflog n
 USING unnest($1::text[], $2::text[], $3::text[], $4::int4[]) AS d(g, r, i, x)
 WHERE n.group_key = d.g AND n.receiver = d.r AND n.integration = d.i AND n.idx = d.x
"""


# -- the store -------------------------------------------------------------------------------
_RETRYABLE_CONNECT = (OSError, TimeoutError, asyncpg.CannotConnectNowError)


class PostgresStorage:
    """The Storage Protocol on a connection pool; safe to share one database between replicas.

    ``dsn`` is a ``postgres://`` or ``postgresql://`` URL (libpq syntax, so ``sslmode`` etc.
    work); ``connect`` adds or overrides asyncpg.connect arguments (host, port, user, ...).
    ``max_idle`` connections are opened up front and kept; the pool grows to
    ``max_connections``. ``open()`` retries unreachable servers for ``startup_timeout`` seconds
    because in Kubernetes the database often becomes ready after the engine starts.
    """

    def __init__(
        self,
        dsn: str | None = None,
        *,
        max_connections: int = 10,
        max_idle: int = 2,
        startup_timeout: float = 30.0,
        **connect: Any,
    ) -> None:
        self.dsn = dsn
        self.max_connections = max(1, max_connections)
        self.max_idle = max(0, min(max_idle, self.max_connections))
        self.startup_timeout = startup_timeout
        self.connect_args = connect
        self.schema_version = 0
        self._pool: asyncpg.Pool[asyncpg.Record] | None = None

    @property
    def pool(self) -> asyncpg.Pool[asyncpg.Record]:
        """The open pool, for the parts of the engine that come next (history, delivery queue)."""
        if self._pool is None:
            raise RuntimeError("PostgresStorage is not open")
        return self._pool

    async def open(self) -> None:
        if self._pool is not None:
            return
        deadline = time.monotonic() + self.startup_timeout
        delay = 0.1
        while True:
            try:
                pool = await asyncpg.create_pool(
                    self.dsn,
                    min_size=self.max_idle,
                    max_size=self.max_connections,
                    init=init_connection,
                    timeout=10,
                    server_settings={"application_name": "ampp"},
                    **self.connect_args,
                )
                break
            except _RETRYABLE_CONNECT as e:
                if time.monotonic() + delay > deadline:
                    raise
                log.warning("PostgreSQL not reachable yet, retrying: %s", e)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        try:
            async with pool.acquire() as conn:
                self.schema_version = await migrate(conn)
        except BaseException:
            await pool.close()
            raise
        self._pool = pool

    async def connect(self) -> asyncpg.Connection[asyncpg.Record]:
        """A connection of its own, outside the pool (the cluster's LISTEN), with the codecs."""
        conn: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(
            self.dsn, timeout=10, server_settings={"application_name": "ampp"}, **self.connect_args
        )
        await init_connection(conn)
        return conn

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            await asyncio.wait_for(pool.close(), 10)
        except TimeoutError:
            pool.terminate()

    # -- alerts ------------------------------------------------------------------------------
    async def load_alerts(self) -> list[Alert]:
        rows = await self.pool.fetch(f"SELECT {_ALERT_COLUMNS} FROM alerts")
        return [_alert(r) for r in rows]

    async def fetch_alerts(self, fps: Sequence[int]) -> list[Alert]:
        """The stored versions of ``fps`` (those that exist): what another replica wrote."""
        rows = await self.pool.fetch(
            f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE fingerprint = ANY($1::text[])",
            [f"{fp:016x}" for fp in fps],
        )
        return [_alert(r) for r in rows]

    async def write_alerts(self, upserts: Sequence[Alert], deletes: Sequence[int]) -> None:
        """One transaction, one statement per kind, whatever the batch size.

        Rows go in fingerprint order so that two replicas writing overlapping batches take
        row locks in the same order and cannot deadlock. As in SQLite (upserts, then deletes),
        a fingerprint in both ends deleted, and one given twice keeps its last version
        (ON CONFLICT may touch a row only once per statement).
        """
        dead = set(deletes)
        latest = {a.fingerprint: a for a in upserts if a.fingerprint not in dead}
        rows = [_alert_args(latest[fp]) for fp in sorted(latest)]
        columns: list[list[Any]] = [list(c) for c in zip(*rows, strict=True)] if rows else []
        gone = sorted(f"{fp:016x}" for fp in dead)
        if not rows and not gone:
            return
        async with self.pool.acquire() as conn, conn.transaction():
            if rows:
                await conn.execute(_UPSERT_ALERTS, *columns)
            if gone:
                await conn.execute("DELETE FROM alerts WHERE fingerprint = ANY($1::text[])", gone)

    # -- silences ----------------------------------------------------------------------------
    async def load_silences(self) -> list[Silence]:
        rows = await self.pool.fetch("SELECT * FROM silences")
        return [_silence(r) for r in rows]

    async def fetch_silences(self, ids: Sequence[str]) -> list[Silence]:
        rows = await self.pool.fetch("SELECT * FROM silences WHERE id = ANY($1::text[])", list(ids))
        return [_silence(r) for r in rows]

    async def save_silence(self, silence: Silence) -> None:
        matchers = [
            {
                "name": m.name,
                "value": m.value,
                "isRegex": _MATCH_FLAGS[m.type][0],
                "isEqual": _MATCH_FLAGS[m.type][1],
            }
            for m in silence.matchers
        ]
        await self.pool.execute(
            _UPSERT_SILENCE,
            silence.id,
            matchers,
            *split_ns(silence.starts_at),
            *split_ns(silence.ends_at),
            *split_ns(silence.updated_at),
            silence.created_by,
            silence.comment,
            silence.annotations,
        )

    async def delete_silences(self, ids: Sequence[str]) -> None:
        if ids:
            await self.pool.execute("DELETE FROM silences WHERE id = ANY($1::text[])", list(ids))

    # -- notification log --------------------------------------------------------------------
    async def load_nflog(self) -> list[NflogEntry]:
        rows = await self.pool.fetch("SELECT * FROM nflog")
        return [
            NflogEntry(
                r["group_key"],
                r["receiver"],
                r["integration"],
                r["idx"],
                frozenset(r["firing"]),
                frozenset(r["resolved"]),
                join_ns(r["timestamp"], r["timestamp_ns"]),
                join_ns(r["expires_at"], r["expires_at_ns"]),
            )
            for r in rows
        ]

    async def save_nflog(self, entry: NflogEntry) -> None:
        async with self.pool.acquire() as conn:
            await delivery.save_nflog(conn, entry)

    async def delete_nflog(self, keys: Sequence[tuple[str, str, str, int]]) -> None:
        if not keys:
            return
        g, r, i, x = (list(c) for c in zip(*sorted(set(keys)), strict=True))
        await self.pool.execute(_DELETE_NFLOG, g, r, i, x)

    # -- delivery queue (ampp.notify.queue; the SQL and its rules in postgres.delivery) --
    async def enqueue_deliveries(
        self,
        jobs: Sequence[NewDelivery],
        policy: DeliveryPolicy,
        now: int,
        claim: ClaimAtEnqueue | None = None,
    ) -> list[EnqueueResult]:
        async with self.pool.acquire() as conn, conn.transaction():
            return await delivery.enqueue(conn, jobs, policy, now, claim)

    async def claim_deliveries(self, replica: str, lease_s: float, limit: int) -> Claim:
        async with self.pool.acquire() as conn:
            return await delivery.claim(conn, replica, lease_s, limit)

    async def complete_delivery(self, id_: int, entry: NflogEntry | None, outcome: str) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await delivery.complete(conn, id_, entry, outcome)

    async def retry_delivery(self, id_: int, error: str, delay_s: float, policy: DeliveryPolicy) -> str:
        async with self.pool.acquire() as conn, conn.transaction():
            return await delivery.retry(conn, id_, error, delay_s, policy)

    async def fail_delivery(self, id_: int, error: str) -> None:
        async with self.pool.acquire() as conn:
            await delivery.fail(conn, id_, error)

    async def release_deliveries(self, replica: str, ids: Sequence[int] | None = None) -> int:
        async with self.pool.acquire() as conn:
            return await delivery.release(conn, replica, ids)

    async def list_deliveries(
        self, state: str | None, receiver: str | None, limit: int, before_id: int | None = None
    ) -> list[Delivery]:
        async with self.pool.acquire() as conn:
            return await delivery.list_(conn, state, receiver, limit, before_id)

    async def get_delivery(self, id_: int) -> Delivery | None:
        async with self.pool.acquire() as conn:
            return await delivery.get(conn, id_)

    async def redrive_delivery(self, id_: int) -> RedriveResult:
        async with self.pool.acquire() as conn, conn.transaction():
            return await delivery.redrive(conn, id_)

    async def redrive_deliveries(self, receiver: str | None) -> tuple[int, int]:
        """Each dead row in a transaction of its own (each takes its target's lock)."""
        done = skipped = 0
        async with self.pool.acquire() as conn:
            for id_ in await delivery.dead_ids(conn, receiver):
                async with conn.transaction():
                    ok = (await delivery.redrive(conn, id_)).outcome == "redriven"
                done, skipped = done + ok, skipped + (not ok)
        return done, skipped

    async def count_deliveries(self) -> dict[str, int]:
        async with self.pool.acquire() as conn:
            return await delivery.counts(conn)

    async def purge_deliveries(self, before: int, limit: int = 10_000) -> int:
        async with self.pool.acquire() as conn:
            return await delivery.purge(conn, split_ns(before)[0], limit)

    # -- history (ampp.history) -----------------------------------------------------------
    async def append_history(self, events: Sequence[HistoryEvent]) -> None:
        if not events:
            return
        async with self.pool.acquire() as conn, conn.transaction():
            await history_write.append(conn, events)

    async def delete_history_before(self, cutoff: int, limit: int) -> int:
        async with self.pool.acquire() as conn, conn.transaction():
            return await history_write.delete_before(conn, split_ns(cutoff)[0], limit)

    async def prune_label_values(self) -> int:
        async with self.pool.acquire() as conn, conn.transaction():
            return await history_write.prune_label_values(conn)

    async def query_history(self, query: HistoryQuery, now: int) -> HistoryPage:
        return await history_read.history(self.pool, query, now)

    async def history_report(
        self, from_: int | None, to: int | None, flap_threshold: int, flap_window_s: float
    ) -> Report:
        return await history_report.report(self.pool, from_, to, flap_threshold, flap_window_s)

    async def history_timeline(self, fingerprint: str, limit: int) -> Timeline | None:
        return await history_read.timeline(self.pool, fingerprint, limit)

    # -- API keys and the audit log (ampp.auth) ------------------------------------------
    async def insert_api_key(self, key: ApiKey) -> None:
        async with self.pool.acquire() as conn:
            await access.insert_key(conn, key)

    async def api_key_by_digest(self, digest: str) -> ApiKey | None:
        async with self.pool.acquire() as conn:
            return await access.key_by_digest(conn, digest)

    async def list_api_keys(self) -> list[ApiKey]:
        async with self.pool.acquire() as conn:
            return await access.list_keys(conn)

    async def revoke_api_key(self, key_id: str, at: float) -> ApiKey | None:
        async with self.pool.acquire() as conn:
            return await access.revoke_key(conn, key_id, at)

    async def touch_api_key(self, key_id: str, at: float) -> None:
        async with self.pool.acquire() as conn:
            await access.touch_key(conn, key_id, at)

    async def append_audit(self, events: Sequence[AuditEvent]) -> None:
        async with self.pool.acquire() as conn:
            await access.append_audit(conn, events)

    async def query_audit(self, query: AuditQuery) -> list[AuditEvent]:
        async with self.pool.acquire() as conn:
            return await access.query_audit(conn, query)

    async def delete_audit_before(self, cutoff: float, limit: int) -> int:
        async with self.pool.acquire() as conn:
            return await access.delete_audit_before(conn, cutoff, limit)
