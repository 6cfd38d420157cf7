"""API keys through the API (created by an admin, shown once, revoked) and the audit log: who did
what, from where, with before/after, refused logins, people's alerts but not programs', paging."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from ampp.auth.audit import redact

from tests.support.secured import config_yaml, hashed, key_headers, serve

pytestmark = pytest.mark.unit

SILENCE = {
    "matchers": [{"name": "alertname", "value": "Disk", "isRegex": False}],
    "startsAt": "2030-01-01T00:00:00Z",
    "endsAt": "2030-01-02T00:00:00Z",
    "createdBy": "",
    "comment": "disk swap",
}


async def audit(client: Any, **params: str) -> list[dict[str, Any]]:
    r = await client.get("/api/ampp/v1/audit", params=params, headers=key_headers("admin"))
    assert r.status == 200, await r.text()
    events: list[dict[str, Any]] = (await r.json())["events"]
    return events


async def test_keys_are_created_shown_once_used_and_revoked(tmp_path: Path) -> None:
    async with serve(tmp_path, config_yaml()) as client:
        body = {"name": "grafana", "role": "viewer"}
        refused = await client.post("/api/ampp/v1/apikeys", json=body, headers=key_headers("operator"))
        assert refused.status == 403
        r = await client.post("/api/ampp/v1/apikeys", json=body, headers=key_headers("admin"))
        assert r.status == 201, await r.text()
        created = await r.json()
        secret = created.pop("key")
        assert secret.startswith("ampp_") and len(secret) > 40
        assert created["role"] == "viewer" and created["createdBy"] == "admin-key"

        who = await client.get("/api/ampp/v1/whoami", headers={"X-API-Key": secret})
        assert await who.json() == {"name": "grafana", "role": "viewer", "method": "api-key"}
        listed = await (await client.get("/api/ampp/v1/apikeys", headers=key_headers("admin"))).json()
        assert secret not in str(listed)
        mine = next(k for k in listed if k["id"] == created["id"])
        assert mine["lastUsedAt"] is not None and mine["source"] == "api"
        assert {k["name"] for k in listed if k["source"] == "config"} == {
            "viewer-key",
            "operator-key",
            "admin-key",
        }

        revoked = await client.delete(f"/api/ampp/v1/apikeys/{created['id']}", headers=key_headers("admin"))
        assert revoked.status == 200 and (await revoked.json())["revokedAt"] is not None
        assert (await client.get("/api/v2/status", headers={"X-API-Key": secret})).status == 401
        missing = await client.delete("/api/ampp/v1/apikeys/nope", headers=key_headers("admin"))
        assert missing.status == 404

        for bad, field in (({"name": "x", "role": "root"}, "role"), ({"role": "viewer"}, "name"),
                           ({"name": "x", "role": "viewer", "expiresAt": "soon"}, "expiresAt"),
                           ({"name": "x", "role": "viewer", "scope": 1}, "scope")):  # fmt: skip
            r = await client.post("/api/ampp/v1/apikeys", json=bad, headers=key_headers("admin"))
            assert r.status == 400 and (await r.json()).startswith(f"{field}:"), await r.text()

        expired = {"name": "old", "role": "admin", "expiresAt": "2001-01-01T00:00:00Z"}
        r = await client.post("/api/ampp/v1/apikeys", json=expired, headers=key_headers("admin"))
        old = (await r.json())["key"]
        assert (await client.get("/api/v2/status", headers={"Authorization": f"Bearer {old}"})).status == 401

        actions = [(e["action"], e["actor"], e["status"]) for e in await audit(client, action="apikey.")]
        assert ("apikey.revoke", "admin-key", 200) in actions
        assert ("apikey.create", "admin-key", 201) in actions
        assert ("apikey.create", "operator-key", 403) not in actions, "refused before the handler"
        assert secret not in str(await audit(client))


async def test_the_audit_log_says_who_did_what_with_before_and_after(tmp_path: Path) -> None:
    users = f"  users:\n    jane: {{password_hash: '{hashed()}', role: operator}}\n"
    async with serve(tmp_path, config_yaml(users)) as client:
        r = await client.post("/api/v2/silences", json=SILENCE, headers=key_headers("operator"))
        sid = (await r.json())["silenceID"]
        update = {**SILENCE, "id": sid, "comment": "longer swap"}
        assert (
            await client.post("/api/v2/silences", json=update, headers=key_headers("operator"))
        ).status == 200
        assert (await client.delete(f"/api/v2/silence/{sid}", headers=key_headers("admin"))).status == 200
        bad = {"Authorization": "Basic " + base64.b64encode(b"jane:guess").decode()}
        assert (await client.get("/api/v2/status", headers=bad)).status == 401
        alerts = [{"labels": {"alertname": "ByHand"}}]
        assert (
            await client.post("/api/v2/alerts", json=alerts, headers=key_headers("operator"))
        ).status == 200
        jane = {"Authorization": "Basic " + base64.b64encode(b"jane:correct horse battery staple").decode()}
        assert (await client.post("/api/v2/alerts", json=alerts, headers=jane)).status == 200
        assert (await client.post("/-/reload", headers=key_headers("admin"))).status == 200

        events = await audit(client)
        assert [e["action"] for e in events] == [
            "config.reload", "alerts.post", "login.failed", "silence.expire", "silence.set", "silence.set",
        ], "the operator key's alerts (a program) are not audited, jane's are"  # fmt: skip
        _reload, alert, failed, expire, updated, created = events
        assert (alert["actor"], alert["method"], alert["role"]) == ("jane", "basic", "operator")
        assert (failed["actor"], failed["status"], failed["after"]) == (
            "jane",
            401,
            {"reason": "wrong user name or password"},
        )
        assert created["before"] is None and created["after"]["comment"] == "disk swap"
        assert created["after"]["createdBy"] == "operator-key" and created["address"] == "127.0.0.1"
        assert updated["before"]["comment"] == "disk swap" and updated["after"]["comment"] == "longer swap"
        assert expire["target"] == sid and expire["before"]["status"]["state"] == "pending"
        assert expire["after"]["status"]["state"] == "expired"

        page1 = await client.get("/api/ampp/v1/audit", params={"limit": "4"}, headers=key_headers("admin"))
        body = await page1.json()
        assert len(body["events"]) == 4 and body["nextCursor"] == body["events"][-1]["id"]
        rest = await audit(client, limit="4", cursor=str(body["nextCursor"]))
        assert [e["action"] for e in rest] == ["silence.set", "silence.set"]
        assert [e["actor"] for e in await audit(client, actor="admin-key")] == ["admin-key", "admin-key"]
        assert await audit(client, since="2100-01-01T00:00:00Z") == []
        r = await client.get("/api/ampp/v1/audit", params={"limit": "0"}, headers=key_headers("admin"))
        assert r.status == 400 and (await r.json()).startswith("limit:")
        assert (await client.get("/api/ampp/v1/audit", headers=key_headers("operator"))).status == 403


def test_secrets_are_redacted_before_they_are_kept() -> None:
    doc = {"name": "x", "password": "p", "nested": [{"api_key": "k", "token": "t", "labels": {"a": "b"}}],
           "Authorization": "Bearer z", "key": "s"}  # fmt: skip
    assert redact(doc) == {
        "name": "x", "password": "<redacted>", "Authorization": "<redacted>", "key": "<redacted>",
        "nested": [{"api_key": "<redacted>", "token": "<redacted>", "labels": {"a": "b"}}],
    }  # fmt: skip
