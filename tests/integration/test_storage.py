"""The storage backends keep exactly what the engine gives them, across restarts and replicas.

Every test in the first part runs against SQLite and against a real PostgreSQL (a fresh
database per test, from scripts/services.sh); the PostgreSQL-only tests cover what only it
has to do: several replicas migrating at once and claiming deliveries without duplicates.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import asyncpg
import httpx
import pydantic
import pytest
from ampp.config.settings import StorageSettings
from ampp.model.alert import Alert
from ampp.model.matchers import MatchType, new_matcher
from ampp.model.silence import Silence
from ampp.model.timefmt import ZERO, now_ns, parse_rfc3339
from ampp.store.base import Storage
from ampp.store.factory import StorageConfigError, migrate, open_storage
from ampp.store.postgres.delivery import CLAIM
from ampp.store.postgres.schema import MIGRATIONS
from ampp.store.postgres.storage import PostgresStorage
from ampp.store.records import NflogEntry
from ampp.store.sqlite.schema import HISTORY_MIGRATIONS as SQLITE_HISTORY_MIGRATIONS
from ampp.store.sqlite.schema import STATE_MIGRATIONS as SQLITE_MIGRATIONS
from ampp.store.sqlite.storage import SQLiteStorage

from tests.integration import services as svc
from tests.support.capture import CaptureServer
from tests.support.prereq import SERVICES_INSTALL
from tests.support.servers import run_server

pytestmark = pytest.mark.integration

VERSION = len(MIGRATIONS)
T0 = 1_700_000_000_123_456_789  # a time with all nine fraction digits set


@dataclass
class Backend:
    kind: str
    location: str
    """SQLite's folder or the PostgreSQL database URL."""

    def new(self) -> Storage:
        """A new store instance on the same data: what a restart or another replica gets."""
        if self.kind == "sqlite":
            return open_storage(None, self.location)
        return open_storage(self.location, None)

    @property
    def version(self) -> int:
        """The schema version of the engine's state (SQLite keeps the history in a file of its own)."""
        return len(SQLITE_MIGRATIONS if self.kind == "sqlite" else MIGRATIONS)

    async def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.kind == "sqlite":
            name = "history.db" if "history_" in sql else "ampp.db"
            conn = sqlite3.connect(os.path.join(self.location, name), isolation_level=None)
            try:
                return [tuple(r) for r in conn.execute(sql).fetchall()]
            finally:
                conn.close()
        pg = await asyncpg.connect(self.location)
        try:
            return [tuple(r) for r in await pg.fetch(sql)]
        finally:
            await pg.close()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return Backend("sqlite", str(tmp_path / "data"))
    return Backend("postgres", request.getfixturevalue("pg_url"))


def alert_state(a: Alert) -> tuple[Any, ...]:
    return (
        a.fingerprint,
        a.labels,
        a.annotations,
        a.starts_at,
        a.ends_at,
        a.generator_url,
        a.updated_at,
        a.timeout,
    )


def alerts_state(alerts: Sequence[Alert]) -> dict[int, tuple[Any, ...]]:
    return {a.fingerprint: alert_state(a) for a in alerts}


def silence_state(s: Silence) -> tuple[Any, ...]:
    return (
        s.id,
        [(m.name, m.type, m.value) for m in s.matchers],
        s.starts_at,
        s.ends_at,
        s.updated_at,
        s.created_by,
        s.comment,
    )


def nflog_state(entries: Sequence[NflogEntry]) -> dict[tuple[str, str, str, int], NflogEntry]:
    return {e.key: e for e in entries}


def tricky_alerts() -> list[Alert]:
    """Unicode everywhere, every nanosecond digit, pre-1970 times, both timeout values."""
    return [
        Alert(
            {"alertname": "Ünïcødé 🚨", "team": "日本語", "q": 'a"b\\c\nd', "emoji.label/name": "✓"},
            {"summary": "ça déborde — 100 %", "empty": ""},
            T0,
            T0 + 3_600_000_000_001,
            "http://prometheus:9090/graph?g0.expr=up%3D%3D0&ü=1",
            T0 + 7,
            True,
        ),
        Alert({"alertname": "NoAnnotations"}, {}, 1, 999, "", 123_456_789, False),
        Alert({"alertname": "Before1970"}, {"a": "b"}, -1_234_567_891, -5, "", -999_999_999, False),
        # a fingerprint with the top bit set (beyond a signed 64-bit integer)
        Alert({"alertname": "HighFingerprint"}, {}, T0, T0 + 1, "", T0, False, fp=2**64 - 1),
        Alert({"alertname": "ZeroFingerprint"}, {}, T0, T0 + 1, "", T0, False, fp=0),
    ]


def tricky_silences() -> list[Silence]:
    return [
        Silence(
            "6d0a9b8e-0c0d-4c57-9a0e-5d7c1f0f6a11",
            [
                new_matcher("alertname", MatchType.EQUAL, "Ünïcødé 🚨"),
                new_matcher("team", MatchType.NOT_EQUAL, "日本語"),
                new_matcher("instance", MatchType.REGEX, "host-[0-9]+\\.example\\.com"),
                new_matcher("job", MatchType.NOT_REGEX, "(a|b)?"),
            ],
            T0,
            T0 + 86_400_000_000_001,
            T0 + 3,
            "José <jose@example.com>",
            "maintenance: disque plein — ticket #42\nsecond line",
        ),
        Silence("s2", [new_matcher("a", MatchType.EQUAL, "")], -17, 999, 1, "", ""),
    ]


def tricky_nflog() -> list[NflogEntry]:
    return [
        NflogEntry(
            '{}/{team="日本語"}:{alertname="Ünïcødé 🚨"}',
            "on-call 🚨",
            "webhook",
            0,
            frozenset({0, 1, 2**63, 2**64 - 1}),
            frozenset({42}),
            T0,
            T0 + 432_000_000_000_001,
        ),
        NflogEntry("{}:{}", "team-b", "email", 3, frozenset(), frozenset(), -1, 1),
    ]


# -- migrations ----------------------------------------------------------------------------
async def test_migrations_apply_and_are_idempotent(backend: Backend) -> None:
    for _ in range(2):
        s = backend.new()
        await s.open()
        await s.close()
    versions = await backend.query("SELECT version FROM schema_migrations ORDER BY version")
    assert [v for (v,) in versions] == list(range(1, backend.version + 1))
    if backend.kind == "sqlite":
        history = await backend.query("SELECT version FROM schema_migrations /* history_ */")
        assert [v for (v,) in history] == list(range(1, len(SQLITE_HISTORY_MIGRATIONS) + 1))
    for table in ("alerts", "silences", "nflog", "history_events", "delivery_queue"):
        assert await backend.query(f"SELECT COUNT(*) FROM {table}") == [(0,)]
    # `ampp migrate` on an up-to-date store changes nothing
    if backend.kind == "sqlite":
        assert await migrate(None, backend.location) == backend.version
    else:
        assert await migrate(backend.location, None) == backend.version
    assert len(await backend.query("SELECT version FROM schema_migrations")) == backend.version


async def test_migrate_command_creates_the_schema(backend: Backend) -> None:
    if backend.kind == "sqlite":
        assert await migrate(None, backend.location) == backend.version
        assert (Path(backend.location) / "history.db").exists()
    else:
        assert await migrate(backend.location, None) == backend.version
    s = backend.new()
    await s.open()
    try:
        assert await s.load_alerts() == []
    finally:
        await s.close()


# -- round trips ---------------------------------------------------------------------------
async def test_alerts_round_trip_exactly(backend: Backend) -> None:
    s = backend.new()
    await s.open()
    try:
        want = tricky_alerts()
        await s.write_alerts(want, [])
        assert alerts_state(await s.load_alerts()) == alerts_state(want)
    finally:
        await s.close()


async def test_loaded_alerts_share_their_equal_label_values(backend: Backend) -> None:
    """After a restart as after ingestion: 100,000 alerts must not each hold "prod", "node"..."""
    s = backend.new()
    await s.open()
    try:
        now = now_ns()
        two = [Alert({"job": "node-exporter", "instance": f"h{i}"}, {}, now, ZERO, "", now) for i in range(2)]
        await s.write_alerts(two, [])
        a, b = await s.load_alerts()
        assert a.labels["job"] is b.labels["job"], "equal label values are held twice"
    finally:
        await s.close()


@pytest.mark.parametrize(
    "ns",
    [ZERO, parse_rfc3339("9999-12-31T23:59:59.999999999Z"), parse_rfc3339("1000-01-01T00:00:00.000000001Z")],
    ids=["go-zero-time", "year-9999", "year-1000"],
)
async def test_times_beyond_int64_nanoseconds_round_trip(
    backend: Backend, ns: int, request: pytest.FixtureRequest
) -> None:
    """Go's zero time and API-accepted years outside 1677-2262 do not fit int64 nanoseconds."""
    s = backend.new()
    await s.open()
    try:
        a = Alert({"alertname": "FarTime"}, {}, ns, ns, "", ns, False)
        await s.write_alerts([a], [])
        assert alerts_state(await s.load_alerts()) == alerts_state([a])
    finally:
        await s.close()


async def test_silences_round_trip_and_upsert(backend: Backend) -> None:
    s = backend.new()
    await s.open()
    try:
        want = tricky_silences()
        for sil in want:
            await s.save_silence(sil)
        got = {x.id: silence_state(x) for x in await s.load_silences()}
        assert got == {x.id: silence_state(x) for x in want}

        # updating in place keeps one row; a regex matcher still matches after the round trip
        changed = want[0].clone()
        changed.ends_at = T0 + 1
        changed.comment = "ended early"
        await s.save_silence(changed)
        loaded = {x.id: x for x in await s.load_silences()}
        assert len(loaded) == 2
        assert silence_state(loaded[changed.id]) == silence_state(changed)
        assert loaded[changed.id].matches(
            {"alertname": "Ünïcødé 🚨", "team": "x", "instance": "host-1.example.com", "job": "c"}
        )

        await s.delete_silences(["s2", "does-not-exist"])
        await s.delete_silences([])
        assert [x.id for x in await s.load_silences()] == [changed.id]
    finally:
        await s.close()


async def test_nflog_round_trip_upsert_and_delete(backend: Backend) -> None:
    s = backend.new()
    await s.open()
    try:
        want = tricky_nflog()
        for e in want:
            await s.save_nflog(e)
        assert nflog_state(await s.load_nflog()) == nflog_state(want)

        newer = NflogEntry(*want[0].key, frozenset({7}), frozenset(), T0 + 1, T0 + 2)
        await s.save_nflog(newer)
        got = nflog_state(await s.load_nflog())
        assert got[newer.key] == newer and len(got) == 2

        await s.delete_nflog([want[1].key, ("nope", "nope", "nope", 9)])
        await s.delete_nflog([])
        assert nflog_state(await s.load_nflog()) == {newer.key: newer}
    finally:
        await s.close()


# -- batches -------------------------------------------------------------------------------
def many_alerts(n: int, start: int = 0, version: int = 0) -> list[Alert]:
    return [
        Alert(
            {"alertname": "Batch", "i": str(i), "ü": "é"},
            {"v": str(version)},
            T0 + i,
            T0 + i + 10**12,
            f"http://x/{i}",
            T0 + version,
            i % 2 == 0,
        )
        for i in range(start, start + n)
    ]


async def test_batch_upserts_and_deletes(backend: Backend) -> None:
    s = backend.new()
    await s.open()
    try:
        first = many_alerts(1000)
        await s.write_alerts(first, [])
        assert alerts_state(await s.load_alerts()) == alerts_state(first)

        # one call: 500 updated, 300 deleted, 200 new
        updated = many_alerts(500, 0, version=1)
        deleted = [a.fingerprint for a in first[500:800]]
        added = many_alerts(200, 1000, version=1)
        await s.write_alerts(updated + added, deleted)
        want = alerts_state(updated + first[800:] + added)
        assert alerts_state(await s.load_alerts()) == want

        # the last version of a fingerprint given twice wins; an upsert also deleted ends deleted
        a, b = many_alerts(1, 5000, version=1)[0], many_alerts(1, 5000, version=2)[0]
        c = many_alerts(1, 6000)[0]
        await s.write_alerts([a, b, c], [c.fingerprint])
        got = alerts_state(await s.load_alerts())
        assert got[b.fingerprint] == alert_state(b)
        assert c.fingerprint not in got

        await s.write_alerts([], [])
        await s.write_alerts([], [a.fingerprint for a in updated + added + first[800:]])
        assert alerts_state(await s.load_alerts()) == {b.fingerprint: alert_state(b)}
    finally:
        await s.close()


# -- restarts ------------------------------------------------------------------------------
async def test_restart_finds_everything(backend: Backend) -> None:
    s = backend.new()
    await s.open()
    alerts, silences, nflog = tricky_alerts() + many_alerts(300), tricky_silences(), tricky_nflog()
    await s.write_alerts(alerts, [])
    for sil in silences:
        await s.save_silence(sil)
    for e in nflog:
        await s.save_nflog(e)
    await s.close()

    again = backend.new()
    await again.open()
    try:
        assert alerts_state(await again.load_alerts()) == alerts_state(alerts)
        assert {x.id: silence_state(x) for x in await again.load_silences()} == {
            x.id: silence_state(x) for x in silences
        }
        assert nflog_state(await again.load_nflog()) == nflog_state(nflog)
    finally:
        await again.close()


async def test_history_and_queue_tables_take_rows(backend: Backend) -> None:
    """The tables the history and delivery-queue work will use exist with the designed columns."""
    columns = (
        "at, kind, fingerprint, labels, annotations, group_key, receiver, integration, outcome, "
        "latency_ms, error, silence_id, actor, comment, replica, details"
    )
    s = backend.new()
    await s.open()
    await s.close()
    if backend.kind == "sqlite":
        at = str(T0)
        labels, empty = """'{"alertname":"Ünïcødé"}'""", "'{}'"
        queue = (
            "INSERT INTO delivery_queue (key, payload, next_attempt_at, created_at, updated_at)"
            f" VALUES ('k', '{{}}', {T0}, {T0}, {T0})"
        )
        by_label = "json_extract(labels, '$.alertname') = 'Ünïcødé'"
    else:
        at = "now()"
        labels, empty = """'{"alertname":"Ünïcødé"}'::jsonb""", "'{}'::jsonb"
        queue = "INSERT INTO delivery_queue (key, payload) VALUES ('k', '{}')"
        by_label = """labels @> '{"alertname":"Ünïcødé"}'"""
    await backend.query(
        f"INSERT INTO history_events ({columns}) VALUES ({at}, 'notify.sent', '0123456789abcdef', "
        f"{labels}, {empty}, 'gk', 'hook', 'webhook', 'success', 12.5, NULL, NULL, 'ampp', NULL, "
        "'replica-0', NULL) RETURNING id"
    )
    await backend.query(queue + " RETURNING id")
    assert await backend.query(f"SELECT kind, receiver FROM history_events WHERE {by_label}") == [
        ("notify.sent", "hook")
    ]
    assert await backend.query("SELECT state, attempts FROM delivery_queue") == [("pending", 0)]


# -- PostgreSQL only -----------------------------------------------------------------------
async def test_postgres_concurrent_opens_do_not_race(pg_url: str) -> None:
    """Replicas starting at once against an empty database: each migration applied once."""
    stores = [PostgresStorage(pg_url, max_idle=1) for _ in range(8)]
    try:
        await asyncio.gather(*(s.open() for s in stores))
        assert {s.schema_version for s in stores} == {VERSION}
        await asyncio.gather(*(s.write_alerts(many_alerts(50, 10 * i), []) for i, s in enumerate(stores)))
    finally:
        await asyncio.gather(*(s.close() for s in stores))
    pg = await asyncpg.connect(pg_url)
    try:
        assert [r[0] for r in await pg.fetch("SELECT version FROM schema_migrations ORDER BY 1")] == list(
            range(1, VERSION + 1)
        )
        assert await pg.fetchval("SELECT COUNT(*) FROM alerts") == 120
    finally:
        await pg.close()


async def test_postgres_concurrent_overlapping_batches_do_not_deadlock(pg_url: str) -> None:
    """Two replicas writing the same alerts in opposite orders: rows are locked in one order."""
    a, b = PostgresStorage(pg_url), PostgresStorage(pg_url)
    await asyncio.gather(a.open(), b.open())
    try:
        batch = many_alerts(400)
        for _ in range(5):
            await asyncio.gather(a.write_alerts(batch, []), b.write_alerts(list(reversed(batch)), []))
        assert len(await a.load_alerts()) == 400
    finally:
        await asyncio.gather(a.close(), b.close())


async def test_postgres_times_are_queryable_timestamps(pg_url: str) -> None:
    """SQL users (and Grafana) see real timestamps; the nanoseconds ride in *_ns."""
    s = PostgresStorage(pg_url)
    await s.open()
    try:
        await s.write_alerts(tricky_alerts()[:1], [])
    finally:
        await s.close()
    pg = await asyncpg.connect(pg_url)
    try:
        row = await pg.fetchrow(
            "SELECT to_char(starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), starts_at_ns,"
            " labels->>'team' FROM alerts"
        )
    finally:
        await pg.close()
    assert row is not None and tuple(row) == ("2023-11-14T22:13:20.123456", 789, "日本語")


async def test_postgres_delivery_claims_are_exclusive(pg_url: str) -> None:
    """Two replicas claiming at once never get the same delivery; an expired lease is reclaimed."""
    s = PostgresStorage(pg_url, max_connections=4)
    await s.open()
    try:
        await s.pool.executemany(
            "INSERT INTO delivery_queue (key, payload) VALUES ($1, $2)",
            [(f"k{i}", {"i": i, "ü": "é"}) for i in range(50)],
        )

        async def claim(replica: str) -> list[int]:
            async with s.pool.acquire() as conn, conn.transaction():
                rows = await conn.fetch(CLAIM, replica, 30.0, 30)
                await asyncio.sleep(0.2)  # hold the row locks while the other replica claims
                return [r["id"] for r in rows]

        one, two = await asyncio.gather(claim("r1"), claim("r2"))
        assert not set(one) & set(two)
        assert len(one) + len(two) == 50
        assert await claim("r3") == []  # all leased

        await s.pool.execute(
            "UPDATE delivery_queue SET claimed_until = now() - interval '1s' WHERE id = $1", one[0]
        )
        again = await s.pool.fetch(CLAIM, "r3", 30.0, 10)
        assert [(r["id"], r["attempts"], r["payload"]["ü"]) for r in again] == [(one[0], 2, "é")]
    finally:
        await s.close()


async def test_postgres_label_queries_can_use_the_gin_indexes(pg_url: str) -> None:
    s = PostgresStorage(pg_url)
    await s.open()
    await s.close()
    pg = await asyncpg.connect(pg_url)
    try:
        await pg.execute("SET enable_seqscan = off")
        for table in ("alerts", "history_events"):
            plan = "\n".join(
                r[0]
                for r in await pg.fetch(f"""EXPLAIN SELECT * FROM {table} WHERE labels @> '{{"a":"b"}}'""")
            )
            assert f"{table}_labels" in plan, plan
    finally:
        await pg.close()


async def test_postgres_unreachable_fails_open_after_startup_timeout() -> None:
    s = PostgresStorage("postgresql://postgres@127.0.0.1:1/none", startup_timeout=0.5)
    t = time.monotonic()
    with pytest.raises(OSError):
        await s.open()
    assert time.monotonic() - t < 5


# -- choosing the backend ------------------------------------------------------------------
def test_factory_chooses_the_backend(tmp_path: Path) -> None:
    sqlite = open_storage(None, str(tmp_path))
    assert isinstance(sqlite, SQLiteStorage) and sqlite.path == str(tmp_path / "ampp.db")
    assert isinstance(open_storage(f"sqlite://{tmp_path}/x", None), SQLiteStorage)
    pg = open_storage(
        "postgres://u:p@db:5432/am",
        None,
        StorageSettings.model_validate({"max_connections": 7, "max_idle": 3}),
    )
    assert isinstance(pg, PostgresStorage)
    assert (pg.dsn, pg.max_connections, pg.max_idle) == ("postgres://u:p@db:5432/am", 7, 3)
    assert isinstance(open_storage("postgresql://db/am", "ignored"), PostgresStorage)

    settings = StorageSettings.model_validate(
        {
            "backend": "postgres",
            "host": "db",
            "port": 6543,
            "database": "d",
            "user": "u",
            "password": "s3cr3t",
        }
    )
    pg = open_storage(None, "data/", settings)
    assert isinstance(pg, PostgresStorage) and pg.dsn is None
    assert pg.connect_args == {"host": "db", "port": 6543, "database": "d", "user": "u", "password": "s3cr3t"}
    # the flag wins over the file
    url_settings = StorageSettings.model_validate({"url": "postgres://file/db"})
    chosen = open_storage("postgres://flag/db", None, url_settings)
    assert isinstance(chosen, PostgresStorage) and chosen.dsn == "postgres://flag/db"
    from_file = open_storage(None, None, url_settings)
    assert isinstance(from_file, PostgresStorage) and from_file.dsn == "postgres://file/db"
    in_file = open_storage(None, None, StorageSettings.model_validate({"path": str(tmp_path / "f")}))
    assert isinstance(in_file, SQLiteStorage) and in_file.path == str(tmp_path / "f" / "ampp.db")
    nested = StorageSettings.model_validate({"type": "sqlite", "sqlite": {"path": str(tmp_path / "n")}})
    assert cast(SQLiteStorage, open_storage(None, None, nested)).path == str(tmp_path / "n" / "ampp.db")

    with pytest.raises(StorageConfigError):
        open_storage("mysql://db/am", None)
    with pytest.raises(pydantic.ValidationError, match="sqlite"):
        StorageSettings.model_validate({"backend": "oracle"})


# -- end to end ----------------------------------------------------------------------------
def test_serve_with_postgres_survives_kill_9(pg_url: str, tmp_path: Path) -> None:
    config = """
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs: [{url: "%s/hook"}]
"""
    now = datetime.now(UTC)
    with CaptureServer() as hook:
        args = [f"--storage.url={pg_url}"]
        with run_server("ampp", config % hook.url, tmp_path / "a", extra_args=args) as s:
            r = httpx.post(
                f"{s.url}/api/v2/alerts", json=[{"labels": {"alertname": "PgAlert", "team": "日本語"}}]
            )
            assert r.status_code == 200, r.text
            r = httpx.post(
                f"{s.url}/api/v2/silences",
                json={
                    "matchers": [{"name": "alertname", "value": "Other", "isRegex": False}],
                    "startsAt": now.isoformat().replace("+00:00", "Z"),
                    "endsAt": (now + timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
                    "createdBy": "test",
                    "comment": "in PostgreSQL",
                },
            )
            assert r.status_code == 200, r.text
            hook.wait_for(1)
            time.sleep(0.3)  # let the notification log entry land
            os.kill(s.process.pid, signal.SIGKILL)
            s.process.wait()
        rows = svc.psql(pg_url, "SELECT labels->>'alertname' FROM alerts")
        assert rows.split() == ["PgAlert"]  # in PostgreSQL, not in a SQLite file
        with run_server("ampp", config % hook.url, tmp_path / "b", extra_args=args) as s:
            alerts = httpx.get(f"{s.url}/api/v2/alerts").json()
            assert [a["labels"] for a in alerts] == [{"alertname": "PgAlert", "team": "日本語"}]
            silences = httpx.get(f"{s.url}/api/v2/silences").json()
            assert [x["comment"] for x in silences] == ["in PostgreSQL"]
            time.sleep(1.5)  # a group_interval: the notification log says it was sent already
        assert len(hook.requests) == 1
        assert not list((tmp_path / "a" / "data").glob("ampp.db*"))


def test_services_env_is_parseable() -> None:
    assert svc.parse_env(
        "export AMPP_TEST_PG_URL=postgresql://h:1/p AMPP_TEST_REDIS_URL=redis://h:2/0\n"
    ) == {
        "AMPP_TEST_PG_URL": "postgresql://h:1/p",
        "AMPP_TEST_REDIS_URL": "redis://h:2/0",
    }


async def test_redis_from_services_answers(services: svc.Services) -> None:
    """services.sh also runs Redis (for the cache work); it answers PING over plain RESP."""
    if not services.redis_url:
        pytest.skip(f"{svc.REDIS_ENV} is not set beside {svc.PG_ENV}: {SERVICES_INSTALL}")
    host_port = services.redis_url.split("//", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(b"*1\r\n$4\r\nPING\r\n")
        await writer.drain()
        assert await asyncio.wait_for(reader.readline(), 5) == b"+PONG\r\n"
    finally:
        writer.close()
        await writer.wait_closed()
