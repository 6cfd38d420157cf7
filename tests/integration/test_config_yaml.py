"""The specification's config.yaml, verbatim: check-config accepts it and `ampp serve` runs it,
on PostgreSQL (through the address it names) and with ``type: sqlite``; the README's older
spellings load the same; a bad value is refused alike by both commands, naming where."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import redis

from tests.integration.services import Services, psql, with_database
from tests.support.eventually import eventually
from tests.support.forward import forward, port_free
from tests.support.servers import ampp_command, free_port, run_ampp

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "config.yaml"
SPEC = ROOT.parent / "shared" / "seed" / "SPEC.md"
AMPP = [sys.executable, "-m", "ampp"]

SPEC_ENV = {
    "DB_PASSWORD": "spec-db-pw-7f3a",
    "REDIS_PASSWORD": "",  # the test Redis has none
    "LLM_API_KEY": "sk-spec-llm-key-91c2",
    "PAGERDUTY_KEY": "spec-pd-routing-key-55e1",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.example/services/T0/B0/spec-slack-secret",
}


def spec_block() -> str:
    """The yaml block under "Main Configuration (config.yaml)" in the specification."""
    text = SPEC.read_text()
    section = text.split("### Main Configuration (config.yaml)", 1)[1]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


def test_the_example_is_the_specification_verbatim() -> None:
    if not SPEC.exists():  # a clone without ../shared: the copy is checked where it was made
        assert EXAMPLE.read_text().startswith("# Server Configuration\nserver:\n")
        return
    assert EXAMPLE.read_text() == spec_block()


def run(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env, cwd=cwd)


def spec_env() -> dict[str, str]:
    return {**os.environ, **SPEC_ENV}


def test_check_config_accepts_it(tmp_path: Path) -> None:
    done = run([*AMPP, "check-config", str(EXAMPLE)], spec_env())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout and "3 receivers" in done.stdout, done.stdout


@contextlib.contextmanager
def serve(config: Path, workdir: Path, env: dict[str, str], *flags: str) -> Iterator[tuple[str, Path]]:
    port = free_port()
    log_path = workdir / f"ampp-{port}.log"
    args = [f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}", *flags]
    with run_ampp(args, f"http://127.0.0.1:{port}", log_path, env, workdir):
        yield f"http://127.0.0.1:{port}", log_path


@pytest.fixture
def spec_postgres(services: Services) -> Iterator[None]:
    """The specification's database as it names it: role and database ``alertmanager`` with
    ${DB_PASSWORD}, reached at localhost:5432 (forwarded to the test server)."""
    if not port_free(5432):
        pytest.fail("port 5432 is taken: the specification's config names localhost:5432")
    admin = services.pg_url
    pw = SPEC_ENV["DB_PASSWORD"]
    psql(admin, "DROP DATABASE IF EXISTS alertmanager WITH (FORCE)")
    psql(
        admin,
        "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'alertmanager') THEN "
        f"CREATE ROLE alertmanager LOGIN PASSWORD '{pw}'; ELSE "
        f"ALTER ROLE alertmanager LOGIN PASSWORD '{pw}'; END IF; END$$",
    )
    psql(admin, "CREATE DATABASE alertmanager OWNER alertmanager")
    target = urlsplit(admin)
    try:
        with forward(5432, (target.hostname or "127.0.0.1", target.port or 5432)):
            yield
    finally:
        psql(admin, "DROP DATABASE IF EXISTS alertmanager WITH (FORCE)")


@pytest.fixture
def spec_redis(services: Services) -> Iterator[redis.Redis]:
    """The specification's cache address, localhost:6379, forwarded to the test Redis."""
    if not port_free(6379):
        pytest.fail("port 6379 is taken: the specification's config names localhost:6379")
    target = urlsplit(services.redis_url)
    with forward(6379, (target.hostname or "127.0.0.1", target.port or 6379)):
        client = redis.Redis.from_url(services.redis_url)
        try:
            yield client
        finally:
            client.close()


def metric(url: str, name: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    assert found, f"{name} not in /metrics"
    return float(found.group(1))


def test_serve_runs_it_on_postgresql(
    tmp_path: Path, services: Services, spec_postgres: None, spec_redis: redis.Redis
) -> None:
    with serve(EXAMPLE, tmp_path, spec_env()) as (url, log_path):
        # storage: the alertmanager database on localhost:5432 holds what was posted
        name = f"SpecPG{free_port()}"  # a query of its own: an earlier run's answer may still be in Redis
        alert = [{"labels": {"alertname": name, "severity": "warning"}}]
        assert httpx.post(f"{url}/api/v2/alerts", json=alert, timeout=10).status_code == 200
        db = with_database(services.pg_url, "alertmanager")
        eventually(lambda: name in psql(db, "SELECT labels::text FROM alerts"), "the alert in PostgreSQL")
        owner = psql(db, "SELECT tableowner FROM pg_tables WHERE tablename = 'alerts'").strip()
        assert owner == "alertmanager", "created by the specification's user"
        # max_idle: 5 connections opened up front and kept; max_connections: 25 at most
        count = "SELECT count(*) FROM pg_stat_activity WHERE usename = 'alertmanager'"
        assert 5 <= int(psql(db, count)) <= 25
        # cache: Redis at localhost:6379, db 0, answers kept for ttl (5m)
        before = set(spec_redis.keys("ampp:q:*"))
        assert httpx.get(f"{url}/history?alertname={name}", timeout=10).status_code == 200
        keys = set(spec_redis.keys("ampp:q:*")) - before
        assert keys, "the history answer was cached in Redis db 0"
        ttl_ms = max(int(spec_redis.pttl(k)) for k in keys)
        assert 290_000 < ttl_ms <= 300_000, ttl_ms
        assert metric(url, "ampp_cache_up") == 1
        # logging: json at info
        first = log_path.read_text().splitlines()[0]
        assert first.startswith("{") and '"level": "info"' in first, first


def spec_with_sqlite(tmp_path: Path, block: bool) -> Path:
    text = EXAMPLE.read_text().replace("type: postgresql  # or sqlite", "type: sqlite")
    if block:
        text = text.replace(
            "  retention: 30d", f"  sqlite:\n    path: {tmp_path / 'state'}\n\n  retention: 30d"
        )
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("block", [False, True], ids=["default-path", "sqlite-block"])
def test_serve_runs_it_with_sqlite(tmp_path: Path, block: bool) -> None:
    config = spec_with_sqlite(tmp_path, block)
    assert run([*AMPP, "check-config", str(config)], spec_env()).returncode == 0
    with serve(config, tmp_path, spec_env(), "--cache.url=") as (url, _):
        alert = [{"labels": {"alertname": "SpecSQLite"}}]
        assert httpx.post(f"{url}/api/v2/alerts", json=alert, timeout=10).status_code == 200
    where = tmp_path / "state" if block else tmp_path / "data"  # data/ relative to the working dir
    assert (where / "ampp.db").exists(), sorted(p.name for p in tmp_path.iterdir())


README_FORM = """
server:   {listen_address: ":9093", external_url: "https://alerts.example.com"}
storage:  {backend: postgres, host: db, database: am, user: am, password: "pw", max_connections: 10,
           retention: 7d}
cache:    {url: "redis://cache:6379/1"}
alerting:
  route: {receiver: default}
  receivers: [{name: default}]
"""

SPEC_FORM = """
server:   {address: ":9093", external_url: "https://alerts.example.com"}
storage:
  type: postgresql
  postgresql: {host: db, database: am, user: am, password: "pw", max_connections: 10}
  retention: 7d
cache:    {url: "redis://cache:6379/1"}
alerting:
  route: {receiver: default}
  receivers: [{name: default}]
"""


def test_both_spellings_load_the_same(tmp_path: Path) -> None:
    from ampp.config.loader import load_text

    old, new = load_text(README_FORM, environ={}), load_text(SPEC_FORM, environ={})
    for section in ("server", "storage", "cache"):
        assert getattr(old, section) == getattr(new, section), section
    assert new.storage.uses_postgres and new.storage.postgresql.host == "db"


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (
            "server: {address: ':1', listen_address: ':2'}\n",
            ":2: server",
            "server.listen_address and server.address are the same setting",
        ),
        (
            "storage: {type: postgresql, host: a, postgresql: {host: b}}\n",
            ":2: storage",
            "storage.host and storage.postgresql.host are the same setting",
        ),
        ("storage:\n  type: mysql\n", ":3: storage.type", "Input should be 'sqlite' or 'postgresql'"),
        ("cache: {address: 'no port'}\n", ":2: cache.address", "is not host:port"),
        ("logging: {format: xml}\n", ":2: logging.format", "Input should be 'logfmt' or 'json'"),
        ("metrics: {path: metrics}\n", ":2: metrics.path", "must be a path"),
        ("server: {read_timeout: -1s}\n", ":2: server.read_timeout", "not a valid duration"),
        (
            "tracing: {enabled: true, provider: jaeger, endpoint: 'localhost:6831'}\n",
            ":2: tracing",
            "Jaeger ingests OTLP on 4317",
        ),
    ],
)
def test_check_config_and_serve_refuse_alike(tmp_path: Path, text: str, where: str, message: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("\n" + text + "alerting:\n  route: {receiver: r}\n  receivers: [{name: r}]\n")
    checked = run([*AMPP, "check-config", str(path)], dict(os.environ))
    assert checked.returncode == 1
    assert f"{path}{where}: " in checked.stdout and message in checked.stdout, checked.stdout
    served = run([*ampp_command(), f"--config.file={path}", f"--web.listen-address=127.0.0.1:{free_port()}"],
                 dict(os.environ), cwd=tmp_path)  # fmt: skip
    assert served.returncode == 1
    assert f"{path}{where}: " in served.stderr and message in served.stderr, served.stderr
    assert "Traceback" not in checked.stdout + checked.stderr + served.stdout + served.stderr


def test_config_show_effective_hides_secrets_and_names_origins(tmp_path: Path) -> None:
    env = {**spec_env(), "AMPP_NOTIFY_WORKERS": "3", "AMPP_STORAGE_RETENTION": "1d"}
    done = run(
        [*AMPP, "config", "show", "--effective", f"--config.file={EXAMPLE}", "--log.level=debug",
         "--storage.url=postgresql://u:flag-pw-0c1d@db/am"],
        env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for secret in (*SPEC_ENV.values(), "flag-pw-0c1d"):
        assert not secret or secret not in out, secret
    assert "  level: debug  # flag --log.level" in out
    assert "  url: <secret>  # flag --storage.url" in out
    assert "  workers: 3  # environment AMPP_NOTIFY_WORKERS" in out
    assert f"  retention: 4w2d  # {EXAMPLE}:20" in out, "the file wins over the environment"
    assert f"  address: :9093  # {EXAMPLE}:3" in out
