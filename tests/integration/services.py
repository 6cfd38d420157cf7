"""Real PostgreSQL and Redis for the integration tests, started by scripts/services.sh.

AMPP_TEST_PG_URL (and AMPP_TEST_REDIS_URL), when set, point at servers someone else runs
(a CI service container, a developer's own); otherwise the script starts private ones on
fixed ports and reuses them across sessions. Each test gets its own database, so tests never
see each other's rows and can run in parallel.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.support.prereq import SERVICES_INSTALL

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "services.sh"
PG_ENV = "AMPP_TEST_PG_URL"
REDIS_ENV = "AMPP_TEST_REDIS_URL"


class ServicesUnavailable(RuntimeError):
    """The script could not start PostgreSQL or Redis (packages missing, ports taken, ...)."""


@dataclass(frozen=True)
class Services:
    pg_url: str
    """An admin URL (may CREATE DATABASE) of the server."""
    redis_url: str


def parse_env(text: str) -> dict[str, str]:
    """The NAME=value pairs of `services.sh env` output (``export A=1 B=2``)."""
    return dict(re.findall(r"\b(AMPP_TEST_[A-Z_]+)=(\S+)", text))


def start_services() -> Services:
    if os.environ.get(PG_ENV):
        return Services(os.environ[PG_ENV], os.environ.get(REDIS_ENV, ""))
    try:
        done = subprocess.run(
            ["bash", str(SCRIPT), "start"], capture_output=True, text=True, timeout=180, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ServicesUnavailable(f"{SCRIPT} start: {e}") from e
    env = parse_env(done.stdout)
    if done.returncode != 0 or PG_ENV not in env:
        raise ServicesUnavailable(f"{SCRIPT} start exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    return Services(env[PG_ENV], env.get(REDIS_ENV, ""))


def psql_binary() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))
    exe = found[-1] if found else shutil.which("psql")
    if not exe:
        raise ServicesUnavailable("psql not found (apt-get install postgresql-client)")
    return exe


def psql(url: str, sql: str) -> str:
    done = subprocess.run(
        [psql_binary(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"psql {sql!r}: {done.stderr.strip()}")
    return done.stdout


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def create_database(admin_url: str) -> str:
    """A new empty database on the server; returns its URL."""
    name = "ampp_test_" + uuid.uuid4().hex[:16]
    psql(admin_url, f'CREATE DATABASE "{name}"')
    return with_database(admin_url, name)


def drop_database(admin_url: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    psql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- the fixtures (the integration and e2e tiers both import them into their namespace) -------
@pytest.fixture(scope="session")
def services() -> Services:
    """PostgreSQL and Redis for the session; skips (fails under CI) with the script's error
    where they cannot run."""
    try:
        return start_services()
    except ServicesUnavailable as e:
        pytest.skip(f"PostgreSQL and Redis are not running ({e}): {SERVICES_INSTALL}")


@pytest.fixture
def pg_url(services: Services) -> Iterator[str]:
    """A fresh, empty database for one test; dropped (connections and all) afterwards."""
    url = create_database(services.pg_url)
    yield url
    drop_database(services.pg_url, url)
