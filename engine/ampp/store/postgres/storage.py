"""PostgreSQL storage through asyncpg: the production store that several replicas share.

Times are kept as ``timestamptz`` (microseconds, queryable with SQL and Grafana) plus a
``*_ns`` column with the sub-microsecond rest (0-999), so the engine's int nanoseconds round-trip
exactly, Go's zero time (year 1, beyond int64 nanoseconds) included. Every pool connection
carries two codecs: ``timestamptz`` is a Python int of Unix *microseconds* (exact, no
datetime), and ``jsonb`` is encoded and decoded with orjson.

Migrations are append-only, run on ``open()``, one transaction each, serialized across replicas
by a transaction-scoped advisory lock; they never drop or rewrite data, so a replica on the
previous version keeps working while a newer one migrates (rolling upgrades).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy

from ...config.matchers import MatchType, new_matcher
from ...model.alert import Alert
from ...model.labels import share_values
from ...model.silence import Silence
from ..delivery_common import Claim, Delivery, DeliveryPolicy, EnqueueResult, NewDelivery, RedriveResult
from ..records import HISTORY_FIELDS, HistoryEvent, NflogEntry
from . import delivery, history

if TYPE_CHECKING:
    from ..history_query import HistoryPage, HistoryQuery, Report, Timeline

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key for migrations: b"amppmigr" as a (positive) bigint.
MIGRATION_LOCK = int.from_bytes(b"amppmigr", "big")

_US_2000 = 946_684_800_000_000  # PostgreSQL's timestamp epoch (2000-01-01) in Unix microseconds

MIGRATIONS: list[str] = [
    # 1: the engine's own state (what the SQLite store keeps, same meaning)
    """
    CREATE TABLE alerts (
        fingerprint TEXT PRIMARY KEY,
        labels JSONB NOT NULL,
        annotations JSONB NOT NULL,
        starts_at TIMESTAMPTZ NOT NULL,
        starts_at_ns SMALLINT NOT NULL CHECK (starts_at_ns BETWEEN 0 AND 999),
        ends_at TIMESTAMPTZ NOT NULL,
        ends_at_ns SMALLINT NOT NULL CHECK (ends_at_ns BETWEEN 0 AND 999),
        generator_url TEXT NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL,
        updated_at_ns SMALLINT NOT NULL CHECK (updated_at_ns BETWEEN 0 AND 999),
        timeout BOOLEAN NOT NULL
    );
    COMMENT ON COLUMN alerts.starts_at_ns IS 'nanoseconds beyond the microsecond in starts_at';
    CREATE INDEX alerts_labels ON alerts USING GIN (labels);
    CREATE INDEX alerts_ends_at ON alerts (ends_at);

    CREATE TABLE silences (
        id TEXT PRIMARY KEY,
        matchers JSONB NOT NULL,
        starts_at TIMESTAMPTZ NOT NULL,
        starts_at_ns SMALLINT NOT NULL CHECK (starts_at_ns BETWEEN 0 AND 999),
        ends_at TIMESTAMPTZ NOT NULL,
        ends_at_ns SMALLINT NOT NULL CHECK (ends_at_ns BETWEEN 0 AND 999),
        updated_at TIMESTAMPTZ NOT NULL,
        updated_at_ns SMALLINT NOT NULL CHECK (updated_at_ns BETWEEN 0 AND 999),
        created_by TEXT NOT NULL,
        comment TEXT NOT NULL,
        annotations JSONB NOT NULL DEFAULT '{}'
    );
    COMMENT ON COLUMN silences.matchers IS 'API v2 shape: [{"name","value","isRegex","isEqual"}]';
    CREATE INDEX silences_ends_at ON silences (ends_at);

    CREATE TABLE nflog (
        group_key TEXT NOT NULL,
        receiver TEXT NOT NULL,
        integration TEXT NOT NULL,
        idx INTEGER NOT NULL,
        firing JSONB NOT NULL,
        resolved JSONB NOT NULL,
        "timestamp" TIMESTAMPTZ NOT NULL,
        timestamp_ns SMALLINT NOT NULL CHECK (timestamp_ns BETWEEN 0 AND 999),
        expires_at TIMESTAMPTZ NOT NULL,
        expires_at_ns SMALLINT NOT NULL CHECK (expires_at_ns BETWEEN 0 AND 999),
        PRIMARY KEY (group_key, receiver, integration, idx)
    );
    COMMENT ON COLUMN nflog.firing IS 'sorted alert fingerprints (uint64 numbers)';
    CREATE INDEX nflog_expires_at ON nflog (expires_at);
    """,
    # 2: append-only history and the durable delivery queue (tables only; wired later)
    """
    CREATE TABLE history_events (
        id BIGSERIAL PRIMARY KEY,
        at TIMESTAMPTZ NOT NULL,
        at_ns SMALLINT NOT NULL DEFAULT 0 CHECK (at_ns BETWEEN 0 AND 999),
        kind TEXT NOT NULL,
        fingerprint TEXT,
        labels JSONB NOT NULL DEFAULT '{}',
        annotations JSONB NOT NULL DEFAULT '{}',
        group_key TEXT,
        receiver TEXT,
        integration TEXT,
        outcome TEXT,
        latency_ms DOUBLE PRECISION,
        error TEXT,
        silence_id TEXT,
        actor TEXT,
        comment TEXT,
        replica TEXT,
        details JSONB
    );
    COMMENT ON TABLE history_events IS
        'append-only: alert state changes, notifications sent/failed, silence changes; '
        'deleted only by the retention job, oldest first, in bounded batches';
    COMMENT ON COLUMN history_events.kind IS
        'alert.firing, alert.resolved, notify.sent, notify.failed, silence.created, ...';
    CREATE INDEX history_events_at ON history_events (at, id);
    CREATE INDEX history_events_kind_at ON history_events (kind, at);
    CREATE INDEX history_events_fingerprint_at ON history_events (fingerprint, at)
        WHERE fingerprint IS NOT NULL;
    CREATE INDEX history_events_receiver_at ON history_events (receiver, at)
        WHERE receiver IS NOT NULL;
    CREATE INDEX history_events_silence_at ON history_events (silence_id, at)
        WHERE silence_id IS NOT NULL;
    CREATE INDEX history_events_labels ON history_events USING GIN (labels jsonb_path_ops);

    CREATE TABLE delivery_queue (
        id BIGSERIAL PRIMARY KEY,
        key TEXT NOT NULL,
        payload JSONB NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending'
            CHECK (state IN ('pending', 'inflight', 'done', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        claimed_by TEXT,
        claimed_until TIMESTAMPTZ,
        last_error TEXT,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    COMMENT ON COLUMN delivery_queue.key IS
        'idempotency key (group key, receiver, integration, idx, flush); one live row per key';
    CREATE UNIQUE INDEX delivery_queue_live_key ON delivery_queue (key)
        WHERE state IN ('pending', 'inflight');
    CREATE INDEX delivery_queue_due ON delivery_queue (next_attempt_at) WHERE state = 'pending';
    CREATE INDEX delivery_queue_lease ON delivery_queue (claimed_until) WHERE state = 'inflight';
    CREATE INDEX delivery_queue_finished ON delivery_queue (updated_at)
        WHERE state IN ('done', 'dead');
    """,
    # 3: the occurrence summary /history and /report read (history)
    history.MIGRATION,
    # 4: the delivery queue's target columns and done outcome (delivery)
    delivery.MIGRATION,
    # 5: indexes that let /history counts and /report read no rows (history)
    history.READ_INDEXES,
]

CLAIM_DELIVERIES = delivery.CLAIM
"""How a replica claims due deliveries (see delivery; kept under this name)."""


# -- row encodings ---------------------------------------------------------------------------
def split_ns(ns: int) -> tuple[int, int]:
    """Unix nanoseconds -> (Unix microseconds for a timestamptz, the 0-999 rest)."""
    return divmod(ns, 1000)


def join_ns(us: int, rest: int) -> int:
    return us * 1000 + rest


def _ts_encode(us: int) -> tuple[int]:
    return (us - _US_2000,)


def _ts_decode(value: tuple[int]) -> int:
    return value[0] + _US_2000


def _jsonb_encode(value: Any) -> bytes:
    return b"\x01" + orjson.dumps(value)  # jsonb binary format: version 1, then the text


def _jsonb_decode(data: bytes) -> Any:
    return orjson.loads(data[1:])


async def init_connection(conn: asyncpg.Connection[Any]) -> None:
    """Codecs for every connection: timestamptz as int Unix microseconds, jsonb via orjson."""
    await conn.set_type_codec(
        "timestamptz", schema="pg_catalog", encoder=_ts_encode, decoder=_ts_decode, format="tuple"
    )
    await conn.set_type_codec(
        "jsonb", schema="pg_catalog", encoder=_jsonb_encode, decoder=_jsonb_decode, format="binary"
    )


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


# -- migrations ------------------------------------------------------------------------------
async def migrate(conn: asyncpg.Connection[Any] | PoolConnectionProxy[Any]) -> int:
    """Apply the migrations not yet applied, each in its own transaction; return the version.

    Every transaction first takes the advisory lock, so replicas starting together apply each
    migration once; the others wait, then see it done. A database migrated by a newer release
    (version above ours) is left alone: migrations only add, so this release still works.
    """
    version = 0
    for target, sql in enumerate(MIGRATIONS, start=1):
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY,"
                " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            version = int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))
            if version >= target:
                continue
            log.info("applying PostgreSQL migration version=%d", target)
            await conn.execute(sql)
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", target)
            version = target
    if version > len(MIGRATIONS):
        log.warning("PostgreSQL schema version %d is newer than this release's %d", version, len(MIGRATIONS))
    await history.prepare(conn)  # summarize the events a migration left pending
    return version


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
        self, jobs: Sequence[NewDelivery], policy: DeliveryPolicy, now: int
    ) -> list[EnqueueResult]:
        async with self.pool.acquire() as conn, conn.transaction():
            return await delivery.enqueue(conn, jobs, policy, now)

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
        rows = []
        for e in events:
            us, rest = split_ns(e.at)
            rows.append(
                (
                    us, rest, e.kind, e.fingerprint, e.labels or {}, e.annotations or {}, e.group_key,
                    e.receiver, e.integration, e.outcome, e.latency_ms, e.error, e.silence_id, e.actor,
                    e.comment, e.details,
                )
            )  # fmt: skip
        cols = "at, at_ns, " + ", ".join(HISTORY_FIELDS[1:])
        params = ", ".join(f"${i}" for i in range(1, 17))
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.executemany(f"INSERT INTO history_events ({cols}) VALUES ({params})", rows)
            await history.apply(conn, events)  # the summary, in the same transaction

    async def delete_history_before(self, cutoff: int, limit: int) -> int:
        async with self.pool.acquire() as conn, conn.transaction():
            return await history.delete_before(conn, split_ns(cutoff)[0], limit)

    async def prune_label_values(self) -> int:
        async with self.pool.acquire() as conn, conn.transaction():
            return await history.prune_label_values(conn)

    async def query_history(self, query: HistoryQuery, now: int) -> HistoryPage:
        return await history.history(self.pool, query, now)

    async def history_report(
        self, from_: int | None, to: int | None, flap_threshold: int, flap_window_s: float
    ) -> Report:
        return await history.report(self.pool, from_, to, flap_threshold, flap_window_s)

    async def history_timeline(self, fingerprint: str, limit: int) -> Timeline | None:
        return await history.timeline(self.pool, fingerprint, limit)
