"""Shared fixtures: run one scenario against the real Alertmanager and against `ampp serve`.

AMPP_TEST_SERVERS (comma-separated, default "reference,ampp") chooses which servers the
parametrized tests run against. Both need Debian's Alertmanager and amtool (the "ampp" runs
compare with amtool's view): without them the tests skip, and fail under CI.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.services import pg_url, services
from tests.support.capture import CaptureServer
from tests.support.integrations import built_integrations, reference, vendor
from tests.support.llm_standins import standin
from tests.support.prereq import REFERENCE

__all__ = [  # fixtures
    "built_integrations",  # the per-vendor tests' (tests/support/integrations.py)
    "pg_url",  # PostgreSQL and Redis (scripts/services.sh)
    "reference",
    "services",
    "standin",  # an LLM provider's stand-in (tests/support/llm_standins.py)
    "vendor",
]

SERVERS_ENV = "AMPP_TEST_SERVERS"


def selected_servers() -> list[str]:
    raw = os.environ.get(SERVERS_ENV, "reference,ampp")
    kinds = [k.strip() for k in raw.split(",") if k.strip()]
    unknown = set(kinds) - {"reference", "ampp"}
    if unknown:
        raise pytest.UsageError(f"{SERVERS_ENV}: unknown server kinds {sorted(unknown)}")
    return kinds


def server_params() -> list[object]:
    """pytest params for the selected server kinds, skipped where the reference is missing."""
    return [pytest.param(kind, marks=[REFERENCE.mark()], id=kind) for kind in selected_servers()]


@pytest.fixture(scope="module", params=server_params())
def server_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def capture() -> Iterator[CaptureServer]:
    """A webhook endpoint that records what a server sends; one per test module."""
    with CaptureServer() as c:
        yield c


@pytest.fixture
def hook() -> Iterator[CaptureServer]:
    """A webhook endpoint of the test's own."""
    with CaptureServer() as c:
        yield c


@pytest.fixture(scope="module")
def module_workdir(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    return tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
