"""Shared fixtures: run one scenario against the real Alertmanager and against `ampp serve`.

AMPP_TEST_SERVERS (comma-separated, default "reference,ampp") chooses which servers the
parametrized tests run against. "ampp" is skipped, with the reason, while the `ampp` package
(ampp.cli) is not importable; "reference" is skipped where Debian's Alertmanager is missing.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.services import pg_url, services

__all__ = ["pg_url", "services"]  # fixtures: PostgreSQL and Redis (scripts/services.sh)
from tests.support.capture import CaptureServer
from tests.support.servers import AMTOOL, REFERENCE_BINARY

SERVERS_ENV = "AMPP_TEST_SERVERS"


def ampp_available() -> bool:
    try:
        return importlib.util.find_spec("ampp.cli") is not None
    except ImportError:  # the parent package `ampp` itself is missing
        return False


def _reference_available() -> bool:
    return os.access(REFERENCE_BINARY, os.X_OK) and os.access(AMTOOL, os.X_OK)


SKIP_AMPP_REASON = (
    "ampp is not importable yet (importlib.util.find_spec('ampp.cli') found nothing); "
    "run with PYTHONPATH=engine once `ampp serve` exists"
)
SKIP_REFERENCE_REASON = f"{REFERENCE_BINARY} or {AMTOOL} missing (apt-get install prometheus-alertmanager)"


def selected_servers() -> list[str]:
    raw = os.environ.get(SERVERS_ENV, "reference,ampp")
    kinds = [k.strip() for k in raw.split(",") if k.strip()]
    unknown = set(kinds) - {"reference", "ampp"}
    if unknown:
        raise pytest.UsageError(f"{SERVERS_ENV}: unknown server kinds {sorted(unknown)}")
    return kinds


def server_params() -> list[object]:
    """pytest params for the selected server kinds, with clean skips for missing ones."""
    params: list[object] = []
    for kind in selected_servers():
        marks = [pytest.mark.skipif(not _reference_available(), reason=SKIP_REFERENCE_REASON)]
        if kind == "ampp":
            marks.append(pytest.mark.skipif(not ampp_available(), reason=SKIP_AMPP_REASON))
        params.append(pytest.param(kind, marks=marks, id=kind))
    return params


@pytest.fixture(scope="module", params=server_params())
def server_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def capture() -> Iterator[CaptureServer]:
    """A webhook endpoint that records what a server sends; one per test module."""
    with CaptureServer() as c:
        yield c


@pytest.fixture(scope="module")
def module_workdir(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    return tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
