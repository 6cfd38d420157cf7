"""API keys and the audit log on SQLite and PostgreSQL alike: kept across a restart, a key
revoked through one instance refused by another, the audit log filtered, paged and purged; and
a whole run of `ampp serve` (create, use, list, revoke a key; CLI too) leaves the clear key in
no database file, dump or log."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
import pytest
from ampp.auth.apikeys import ApiKeys
from ampp.auth.audit import AuditEvent, AuditLog, AuditQuery
from ampp.auth.roles import Role
from ampp.store.factory import open_storage

from tests.integration.services import psql
from tests.support.secured import config_yaml, key_headers
from tests.support.servers import ampp_command, run_server

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgres"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    if request.param == "sqlite":
        return "sqlite", str(tmp_path / "data")
    return "postgres", str(request.getfixturevalue("pg_url"))


def storage_of(location: tuple[str, str]):  # type: ignore[no-untyped-def]
    kind, where = location
    return open_storage(None, where) if kind == "sqlite" else open_storage(where, None)


async def test_a_keys_sources_are_kept(location: tuple[str, str]) -> None:
    first, second = storage_of(location), storage_of(location)
    await first.open()
    await second.open()
    try:
        _, secret = await ApiKeys(first).create("dd", Role.OPERATOR, "jane", sources=("datadog", "sentry"))
        _, open_secret = await ApiKeys(first).create("all", Role.OPERATOR, "jane")
        found, unscoped = await ApiKeys(second).verify(secret), await ApiKeys(second).verify(open_secret)
        assert found is not None and found.sources == ("datadog", "sentry")
        assert unscoped is not None and unscoped.sources == ()
        assert [k.sources for k in await ApiKeys(second).list()] == [("datadog", "sentry"), ()]
    finally:
        await first.close()
        await second.close()


async def test_keys_and_audit_are_kept_and_shared(location: tuple[str, str]) -> None:
    first, second = storage_of(location), storage_of(location)
    await first.open()
    await second.open()
    try:
        a, b = ApiKeys(first), ApiKeys(second)
        record, secret = await a.create("ci", Role.OPERATOR, "jane", time.time() + 3600, machine=True)
        found = await b.verify(secret)
        assert found is not None and (found.id, found.name, found.role) == (record.id, "ci", Role.OPERATOR)
        assert found.last_used_at is not None, "a use is recorded"
        assert [k.name for k in await b.list()] == ["ci"]
        await a.revoke(record.id)
        b._cache.clear()  # the other instance's cache would expire within CACHE_S
        assert await b.verify(secret) is None
        assert (await b.list())[0].revoked_at is not None

        log = AuditLog(first)
        t0 = time.time()
        for i in range(5):
            await log.record(AuditEvent(t0 + i, f"user{i % 2}", "operator", "basic", "10.0.0.1",
                                        "silence.set" if i % 2 else "alerts.post", f"t{i}", 200,
                                        None, {"n": i, "password": "hunter2"}))  # fmt: skip
        page = await AuditLog(second).query(AuditQuery(limit=2))
        assert [e.target for e in page.events] == ["t4", "t3"] and page.next_cursor is not None
        rest = await AuditLog(second).query(AuditQuery(limit=10, before_id=page.next_cursor))
        assert [e.target for e in rest.events] == ["t2", "t1", "t0"] and rest.next_cursor is None
        assert rest.events[0].after == {"n": 2, "password": "<redacted>"}
        by_actor = await log.query(AuditQuery(actor="user1", action="silence."))
        assert [e.target for e in by_actor.events] == ["t3", "t1"]
        window = await log.query(AuditQuery(since=t0 + 1, until=t0 + 3))
        assert [e.target for e in window.events] == ["t2", "t1"]
        assert await log.purge(t0 + 2) == 2
        assert [e.target for e in (await log.query(AuditQuery())).events] == ["t4", "t3", "t2"]
    finally:
        await first.close()
        await second.close()


def test_the_clear_key_is_stored_and_logged_nowhere(tmp_path: Path, pg_url: str) -> None:
    """SQLite's files (WAL included) and the server's log after a whole run, and a dump of every
    row of the PostgreSQL database after the same with the CLI."""
    seen: list[str] = []
    with run_server("ampp", config_yaml(), tmp_path / "sqlite", client={}) as srv:
        created = httpx.post(f"{srv.url}/api/ampp/v1/apikeys", json={"name": "t", "role": "operator"},
                             headers=key_headers("admin"), timeout=10).json()  # fmt: skip
        secret = created["key"]
        seen.append(secret)
        for headers in ({"X-API-Key": secret}, {"Authorization": f"Bearer {secret}"}):
            assert httpx.get(f"{srv.url}/api/v2/status", headers=headers, timeout=10).status_code == 200
        httpx.get(f"{srv.url}/api/v2/status", headers={"X-API-Key": secret + "x"}, timeout=10)
        httpx.delete(
            f"{srv.url}/api/ampp/v1/apikeys/{created['id']}", headers=key_headers("admin"), timeout=10
        )
        assert (
            httpx.get(f"{srv.url}/api/v2/status", headers={"X-API-Key": secret}, timeout=10).status_code
            == 401
        )
        files = [p for p in srv.storage_path.rglob("*") if p.is_file()]
        assert any(p.name.startswith("ampp.db") for p in files)
        for path in [*files, srv.log_path]:
            assert secret.encode() not in path.read_bytes(), f"the clear key is in {path}"

    cli = subprocess.run([*ampp_command()[:-1], "apikey", "create", "--name", "cli", "--role", "viewer",
                          f"--storage.url={pg_url}"], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    secret = next(line.split()[-1] for line in cli.stdout.splitlines() if line.startswith("key:"))
    with run_server("ampp", config_yaml(), tmp_path / "pg", extra_args=[f"--storage.url={pg_url}"],
                    client={}) as srv:  # fmt: skip
        assert (
            httpx.get(f"{srv.url}/api/v2/status", headers={"X-API-Key": secret}, timeout=10).status_code
            == 200
        )
        log = srv.log_path.read_text(errors="replace")
    dump = psql(pg_url, "SELECT row_to_json(k)::text FROM api_keys k UNION ALL "
                        "SELECT row_to_json(a)::text FROM audit_log a")  # fmt: skip
    assert "cli" in dump and secret not in dump and secret not in log and secret not in cli.stderr


def test_the_cli_makes_a_key_scoped_to_a_source(tmp_path: Path) -> None:
    data = tmp_path / "data"

    def apikey(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*ampp_command()[:-1], "apikey", *args, f"--storage.path={data}"],
                              capture_output=True, text=True, timeout=60)  # fmt: skip

    made = apikey("create", "--name", "dd", "--role", "operator", "--source", "datadog")
    assert made.returncode == 0, made.stderr
    assert "sources: datadog" in made.stdout
    listed = apikey("list")
    assert listed.returncode == 0 and listed.stdout.splitlines()[1].split()[-1] == "datadog", listed.stdout
    bad = apikey("create", "--name", "x", "--role", "operator", "--source", "shipments")
    assert bad.returncode == 1
    assert (
        "--source: no webhook source 'shipments' (give --config.file for its webhook.sources)" in bad.stderr
    )
