"""Rate limits on `ampp serve` processes: one client driven past its budget gets 429 with
Retry-After while another client and alert ingestion carry on; with two replicas sharing the
test Redis, the budget is one budget across both."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.integration.services import Services
from tests.support.secured import config_yaml, key_headers, window_margin
from tests.support.servers import Server, run_server

pytestmark = pytest.mark.integration

LIMITS = (
    "  rate_limits:\n"
    "    api: {per_ip: 20, per_identity: 10, global: null}\n"
    "    ingest: {per_ip: null, per_identity: 1000, global: null}\n"
)
ALERTS = [{"labels": {"alertname": "StillIngested"}}]


def client_from(address: str) -> httpx.Client:
    """A client whose connections come from ``address`` (any 127.0.0.0/8 address is local)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=10)


@pytest.fixture
def replicas(tmp_path: Path, services: Services) -> Iterator[list[Server]]:
    if not services.redis_url:
        pytest.skip("no Redis for the shared rate limits")
    with ExitStack() as stack:
        servers = [
            stack.enter_context(
                run_server(
                    "ampp",
                    config_yaml(security=LIMITS),
                    tmp_path / f"r{i}",
                    extra_args=[f"--cache.url={services.redis_url}"],
                    client={},
                )
            )
            for i in range(2)
        ]
        yield servers


def test_one_client_past_its_budget_while_others_and_ingestion_go_on(tmp_path: Path) -> None:
    with (
        run_server("ampp", config_yaml(security=LIMITS), tmp_path, client={}) as srv,
        client_from("127.0.0.1") as noisy,
        client_from("127.0.0.2") as quiet,
    ):
        time.sleep(window_margin(1, 0.7))  # the burst below within one of the server's seconds
        codes = [
            noisy.get(f"{srv.url}/api/v2/status", headers=key_headers("viewer")).status_code
            for _ in range(12)
        ]
        assert codes[:10] == [200] * 10 and codes[10:] == [429, 429], codes
        r = noisy.get(f"{srv.url}/api/v2/status", headers=key_headers("viewer"))
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert quiet.get(f"{srv.url}/api/v2/status", headers=key_headers("admin")).status_code == 200
        posted = noisy.post(f"{srv.url}/api/v2/alerts", json=ALERTS, headers=key_headers("operator"))
        assert posted.status_code == 200, "ingestion has its own budget"
        # The per-address budget (20/s) is the noisy address's, not the quiet one's: 21 requests
        # spread over three identities (7 each, within their 10/s) in one second.
        time.sleep(window_margin(1, 0.7, fresh=True))
        roles = ("viewer", "operator", "admin") * 7
        codes = [noisy.get(f"{srv.url}/api/v2/status", headers=key_headers(r)).status_code for r in roles]
        assert codes == [200] * 20 + [429], codes
        assert quiet.get(f"{srv.url}/api/v2/status", headers=key_headers("admin")).status_code == 200


def test_two_replicas_share_one_budget_through_redis(replicas: list[Server]) -> None:
    a, b = replicas
    with client_from("127.0.0.1") as client:
        shared_budget(a, b, client)


def shared_budget(a: Server, b: Server, client: httpx.Client) -> None:
    codes = [
        client.get(f"{a.url}/api/v2/status", headers=key_headers("viewer")).status_code for _ in range(10)
    ]
    assert codes == [200] * 10
    r = client.get(f"{b.url}/api/v2/status", headers=key_headers("viewer"))
    assert r.status_code == 429, "the other replica counted the same identity's requests"
    assert int(r.headers["Retry-After"]) >= 1
    other = client.get(f"{b.url}/api/v2/status", headers=key_headers("admin"))
    assert other.status_code == 200, other.text
    posted = client.post(f"{b.url}/api/v2/alerts", json=ALERTS, headers=key_headers("operator"))
    assert posted.status_code == 200
