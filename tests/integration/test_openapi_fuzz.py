"""Schemathesis over the whole OpenAPI document against a running `ampp serve`: no server error
and no answer the document does not describe.

Every operation of engine/ampp/api/openapi.yaml (Alertmanager's v2 API, the operational
endpoints, the history, the delivery queue, access control) gets requests generated from its
parameters and bodies, valid and not. None may answer 5xx, except where the document says the
operation does (Alertmanager 0.25's 500 for expiring an unknown silence, a reload refused), and
every answer must have a documented status, content type, headers and body schema. Once on an
open server (no `auth:`, as Alertmanager), then on one with `auth:` as each role (anonymous,
viewer, operator, admin), where 401 and 403 are answers like any other. Rate limits are off on
that server: the runs are about the handlers, not about 429 (tests/unit/test_api_security.py).
Bounded: a fixed number of examples per operation (about two minutes in all).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from tests.support.secured import config_yaml, key_headers
from tests.support.servers import Server, run_server

pytestmark = pytest.mark.integration

DOCUMENT = Path(__file__).resolve().parents[2] / "engine" / "ampp" / "api" / "openapi.yaml"
# The change-event stream never ends (a keep-alive every 15 s), so a generated request would wait
# for its end; tests/unit/test_dashboard_api.py reads it event by event instead.
schema = schemathesis.openapi.from_path(DOCUMENT).exclude(operation_id="getEvents")

CONFIG = """
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1h
receivers:
  - name: hook
    webhook_configs: [{url: "http://127.0.0.1:9/hook"}]
"""
SECURED = config_yaml(security="  rate_limits: {enabled: false}\n").replace(
    "receivers: [{name: default}]",
    'receivers: [{name: default, webhook_configs: [{url: "http://127.0.0.1:9/hook"}]}]',
)
CONFORMANCE = [
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]
ROLES = ("anonymous", "viewer", "operator", "admin")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with run_server("ampp", CONFIG, tmp_path_factory.mktemp("fuzz")) as s:
        yield s


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with run_server("ampp", SECURED, tmp_path_factory.mktemp("fuzz-auth")) as s:
        yield s


def _prefix(path: str) -> str:
    """The operation's server URL (a path of its own, else the document's)."""
    raw: dict[str, Any] = schema.raw_schema
    servers = raw["paths"][path].get("servers") or raw["servers"]
    return str(servers[0]["url"]).rstrip("/")


def _check(case: Any, server: Server, headers: dict[str, str] | None = None) -> None:
    response = case.call(base_url=server.url + _prefix(case.path), headers=headers, timeout=30)
    if response.status_code >= 500:
        documented = case.operation.definition.raw.get("responses", {})
        assert str(response.status_code) in documented, (
            f"{case.method} {case.formatted_path} answered {response.status_code}: {response.text[:500]}\n"
            f"reproduce: {case.as_curl_command(headers=None)}"
        )
    case.validate_response(response, checks=CONFORMANCE, headers=headers)


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_a_server_error(case: Any, server: Server) -> None:
    _check(case, server)


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_with_auth_each_role_gets_no_server_error_and_only_documented_answers(
    case: Any, secured: Server, role: str
) -> None:
    _check(case, secured, key_headers(role))
