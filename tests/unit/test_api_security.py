"""The security middleware in-process: open without ``auth:``, the secure headers on every answer,
authentication by each method, roles, rate limits, failed-login lockout, CORS and size limits."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest

from tests.support.secured import KEYS, PASSWORD, config_yaml, hashed, key_headers, serve, window_margin

pytestmark = pytest.mark.unit

OPEN = "alerting:\n  route: {receiver: default}\n  receivers: [{name: default}]\n"
SILENCE = {
    "matchers": [{"name": "alertname", "value": "x", "isRegex": False}],
    "startsAt": "2030-01-01T00:00:00Z",
    "endsAt": "2030-01-02T00:00:00Z",
    "comment": "maintenance",
}


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def test_without_auth_the_api_is_open_and_answers_carry_the_secure_headers(tmp_path: Path) -> None:
    async with serve(tmp_path, OPEN) as client:
        r = await client.post("/api/v2/silences", json={**SILENCE, "createdBy": "amtool"})
        assert r.status == 200, await r.text()
        r = await client.get("/api/ampp/v1/whoami")
        assert await r.json() == {"name": "", "role": "admin", "method": "none"}
        for path in ("/api/v2/status", "/-/healthy", "/nowhere"):
            h = (await client.get(path)).headers
            assert h["X-Content-Type-Options"] == "nosniff", path
            assert h["X-Frame-Options"] == "DENY"
            assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
            assert h["Referrer-Policy"] == "no-referrer"
            assert (h["Cache-Control"], h["Pragma"]) == ("no-store", "no-cache")
            assert "Strict-Transport-Security" not in h, "not served over TLS"
        cross = await client.get("/api/v2/status", headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in cross.headers
        pre = await client.options(
            "/api/v2/silences",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert pre.status == 403 and "not allowed" in await pre.text()
        for _ in range(300):  # no rate limits without auth: unless asked for
            assert (await client.get("/-/healthy")).status == 200


async def test_each_method_authenticates_and_roles_decide(tmp_path: Path) -> None:
    users = (
        f"  users:\n    alice: {{password_hash: '{hashed()}', role: operator}}\n"
        f"    vic: {{password_hash: '{hashed()}', role: viewer}}\n"
    )
    async with serve(tmp_path, config_yaml(users)) as client:
        assert (await client.get("/-/healthy")).status == 200, "probes are public by default"
        assert (await client.get("/-/ready")).status == 200
        r = await client.get("/metrics")
        assert r.status == 401 and "Bearer" not in r.headers["WWW-Authenticate"]
        r = await client.get("/api/v2/status")
        assert r.status == 401 and await r.json() == "authentication required"
        assert (await client.get("/nowhere")).status == 401, "no route map for the anonymous"
        assert (await client.get("/nowhere", headers=key_headers("viewer"))).status == 404

        who = await client.get("/api/ampp/v1/whoami", headers=basic("alice", PASSWORD))
        assert await who.json() == {"name": "alice", "role": "operator", "method": "basic"}
        who = await client.get("/api/ampp/v1/whoami", headers={"X-API-Key": KEYS["admin"]})
        assert await who.json() == {"name": "admin-key", "role": "admin", "method": "api-key"}
        assert await (await client.get("/api/ampp/v1/whoami")).json() == {
            "name": "",
            "role": "anonymous",
            "method": "anonymous",
        }

        wrong = await client.get("/api/v2/status", headers=basic("alice", "nope"))
        assert wrong.status == 401 and await wrong.json() == "authentication failed"
        assert wrong.headers["WWW-Authenticate"] == 'Basic realm="Alertmanager++"'
        script = {**basic("alice", "nope"), "X-Requested-With": "XMLHttpRequest"}
        wrong = await client.get("/api/v2/status", headers=script)
        assert wrong.status == 401 and "WWW-Authenticate" not in wrong.headers, "no browser prompt"
        unknown = await client.get("/api/v2/status", headers={"X-API-Key": "ampp_not-a-key-at-all-0000"})
        assert unknown.status == 401

        r = await client.post("/api/v2/silences", json=SILENCE, headers=basic("vic", PASSWORD))
        assert r.status == 403 and await r.json() == "viewer may not do this: it needs operator"
        assert await (await client.get("/api/v2/silences", headers=key_headers("viewer"))).json() == []

        r = await client.post("/api/v2/silences", json=SILENCE, headers=basic("alice", PASSWORD))
        assert r.status == 200, await r.text()
        sid = (await r.json())["silenceID"]
        got = await (await client.get(f"/api/v2/silence/{sid}", headers=key_headers("viewer"))).json()
        assert got["createdBy"] == "alice", "an empty createdBy is the authenticated caller"

        assert (await client.post("/-/reload", headers=key_headers("operator"))).status == 403
        assert (await client.post("/-/reload", headers=key_headers("admin"))).status == 200


async def test_public_endpoints_and_anonymous_role_are_configurable(tmp_path: Path) -> None:
    text = config_yaml("  public: [/metrics]\n  anonymous_role: viewer\n")
    async with serve(tmp_path, text) as client:
        assert (await client.get("/metrics")).status == 200
        assert (await client.get("/api/v2/status")).status == 200, "anonymous is a viewer"
        r = await client.post("/api/v2/silences", json={**SILENCE, "createdBy": "x"})
        assert r.status == 401, "anonymous is no operator: authenticate"


async def test_rate_limits_answer_429_with_retry_after_and_budgets_are_apart(tmp_path: Path) -> None:
    security = (
        "  rate_limits:\n"
        "    api: {per_ip: 5, per_identity: null, global: null}\n"
        "    ingest: {per_ip: null, per_identity: 3, global: null}\n"
    )
    async with serve(tmp_path, config_yaml(security=security)) as client:
        await asyncio.sleep(window_margin(1, 0.6))  # the requests below within one second
        codes = [(await client.get("/api/v2/status", headers=key_headers("viewer"))).status for _ in range(6)]
        assert codes == [200] * 5 + [429]
        r = await client.get("/api/v2/status", headers=key_headers("admin"))
        assert r.status == 429 and int(r.headers["Retry-After"]) >= 1
        assert "rate limit exceeded" in await r.json()
        # Ingestion has its own budget: the API's is spent, alerts still go in.
        alerts = [{"labels": {"alertname": "Up"}}]
        posts = [
            (await client.post("/api/v2/alerts", json=alerts, headers=key_headers("operator"))).status
            for _ in range(4)
        ]
        assert posts == [200, 200, 200, 429]
        other = await client.post("/api/v2/alerts", json=alerts, headers=key_headers("admin"))
        assert other.status == 200, "the budget is per identity"


async def test_failed_logins_lock_the_address_out_before_any_password_is_checked(tmp_path: Path) -> None:
    text = config_yaml(
        f"  users: {{alice: {{password_hash: '{hashed()}', role: viewer}}}}\n",
        "  rate_limits: {failed_logins_per_minute: 3}\n",
    )
    await asyncio.sleep(window_margin(60, 10))  # the attempts below within one minute
    async with serve(tmp_path, text) as client:
        codes = [
            (await client.get("/api/v2/status", headers=basic("alice", f"guess{i}"))).status for i in range(4)
        ]
        assert codes == [401, 401, 401, 429]
        r = await client.get("/api/v2/status", headers=basic("alice", PASSWORD))
        assert r.status == 429 and "too many failed logins" in await r.json()
        assert 1 <= int(r.headers["Retry-After"]) <= 60


async def test_cors_for_listed_origins_only(tmp_path: Path) -> None:
    security = "  cors: {allowed_origins: ['https://grafana.example']}\n"
    async with serve(tmp_path, config_yaml(security=security)) as client:
        ok = {"Origin": "https://grafana.example", "Access-Control-Request-Method": "GET"}
        pre = await client.options("/api/v2/status", headers=ok)
        assert pre.status == 204
        assert "X-API-Key" in pre.headers["Access-Control-Allow-Headers"]
        r = await client.get(
            "/api/v2/status", headers={"Origin": "https://grafana.example", **key_headers("viewer")}
        )
        assert r.headers["Access-Control-Allow-Origin"] == "https://grafana.example"
        assert r.headers["Access-Control-Allow-Credentials"] == "true"
        r = await client.get(
            "/api/v2/status", headers={"Origin": "https://evil.example", **key_headers("viewer")}
        )
        assert "Access-Control-Allow-Origin" not in r.headers


async def test_header_size_limits_answer_431(tmp_path: Path) -> None:
    security = "  limits: {max_header_bytes: 512, max_headers_bytes: 2048}\n"
    async with serve(tmp_path, config_yaml(security=security)) as client:
        r = await client.get("/api/v2/status", headers={"X-Big": "x" * 600, **key_headers("viewer")})
        assert r.status == 431 and "X-Big is 609 bytes; at most 512" in await r.json()
        many = {f"X-H{i}": "y" * 200 for i in range(12)}
        r = await client.get("/api/v2/status", headers={**many, **key_headers("viewer")})
        assert r.status == 431 and "at most 2048" in await r.json()


async def test_proxy_headers_count_only_from_the_trusted_addresses(tmp_path: Path) -> None:
    def proxy(trusted: str) -> str:
        return (
            f"  proxy: {{trusted_addresses: ['{trusted}'], roles: {{sre: operator, ops-admins: admin}},"
            " default_role: viewer}\n"
        )

    forwarded = {"X-Forwarded-User": "jane", "X-Forwarded-Groups": "staff, sre"}
    async with serve(tmp_path / "trusted", config_yaml(proxy("127.0.0.1/32"))) as client:
        who = await client.get("/api/ampp/v1/whoami", headers=forwarded)
        assert await who.json() == {"name": "jane", "role": "operator", "method": "proxy"}
        plain = await client.get("/api/ampp/v1/whoami", headers={"X-Forwarded-User": "joe"})
        assert (await plain.json())["role"] == "viewer", "in no mapped group: the default role"
        assert (await client.get("/api/v2/status")).status == 401, "no user header: anonymous"
    async with serve(tmp_path / "elsewhere", config_yaml(proxy("10.0.0.0/8"))) as client:
        r = await client.get("/api/v2/status", headers=forwarded)
        assert r.status == 401, "headers from an untrusted address are ignored"
