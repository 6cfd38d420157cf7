"""API keys scoped to webhook sources: a key made for one sender (Datadog, a team's own JSON)
posts that sender's alerts to ``/webhook/{source}`` (or with ``X-Ampp-Source``) and nothing
else; the config's keys and the keys created through the API alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import webhook_samples as s
from tests.support.secured import config_yaml, key_headers, serve

pytestmark = pytest.mark.unit

DATADOG_KEY = "ampp_datadog-only-0123456789abcdef"
SOURCES = f"    - {{name: datadog-key, role: operator, key: {DATADOG_KEY}, sources: [datadog]}}\n"
SHIPMENTS = """webhook:
  sources:
    shipments:
      labels: {alertname: "$.kind", shipment: "$.id"}
"""


def scoped(key: str = DATADOG_KEY) -> dict[str, str]:
    return {"X-API-Key": key}


def config() -> str:
    base = config_yaml()
    return base.replace("auth:\n  api_keys:\n", "auth:\n  api_keys:\n" + SOURCES) + SHIPMENTS


async def test_a_key_scoped_to_a_source_posts_that_sources_alerts_and_nothing_else(tmp_path: Path) -> None:
    async with serve(tmp_path, config()) as client:
        r = await client.post("/webhook/datadog", json=s.DATADOG, headers=scoped())
        assert r.status == 200, await r.text()
        r = await client.post("/webhook", json=s.DATADOG, headers={**scoped(), "X-Ampp-Source": "datadog"})
        assert r.status == 200, await r.text()

        r = await client.post("/webhook/grafana", json=s.GRAFANA, headers=scoped())
        assert r.status == 403
        assert await r.json() == "this API key may not post alerts of source 'grafana' (its sources: datadog)"
        r = await client.post("/webhook", json=s.DATADOG, headers=scoped())
        assert r.status == 403 and "name the source" in await r.json(), "detection is not a scope"
        r = await client.post(
            "/webhook/proxy", json=s.DATADOG, headers={**scoped(), "X-Ampp-Source": "sentry"}
        )
        assert r.status == 403
        for method, path in (
            ("POST", "/api/v2/alerts"),
            ("GET", "/api/v2/alerts"),
            ("GET", "/api/v2/status"),
        ):
            r = await client.request(method, path, json=[] if method == "POST" else None, headers=scoped())
            assert r.status == 403, path
            assert (
                await r.json()
                == "this API key may only post alerts of its sources (datadog) to /webhook/{source}"
            )

        # an unscoped key of the same role is not limited to one source
        r = await client.post("/webhook/grafana", json=s.GRAFANA, headers=key_headers("operator"))
        assert r.status == 200, await r.text()


async def test_keys_created_through_the_api_can_be_scoped(tmp_path: Path) -> None:
    async with serve(tmp_path, config()) as client:
        admin = key_headers("admin")
        r = await client.post(
            "/api/ampp/v1/apikeys",
            json={"name": "shipper", "role": "operator", "sources": ["shipments"]},
            headers=admin,
        )
        assert r.status == 201, await r.text()
        created = await r.json()
        assert created["sources"] == ["shipments"]
        listed = {
            k["name"]: k for k in await (await client.get("/api/ampp/v1/apikeys", headers=admin)).json()
        }
        assert listed["shipper"]["sources"] == ["shipments"] and listed["datadog-key"]["sources"] == [
            "datadog"
        ]
        assert listed["admin-key"]["sources"] == []

        body = {"kind": "Delayed", "id": "S-1"}
        r = await client.post("/webhook/shipments", json=body, headers=scoped(created["key"]))
        assert r.status == 200, await r.text()
        assert (
            await client.post("/webhook/datadog", json=s.DATADOG, headers=scoped(created["key"]))
        ).status == 403

        r = await client.post(
            "/api/ampp/v1/apikeys",
            json={"name": "x", "role": "operator", "sources": ["nagios"]},
            headers=admin,
        )
        assert r.status == 400
        assert (await r.json()).startswith(
            "sources[0]: no webhook source 'nagios' (the formats and webhook.sources:"
        )
        r = await client.post(
            "/api/ampp/v1/apikeys",
            json={"name": "x", "role": "operator", "sources": "datadog"},
            headers=admin,
        )
        assert r.status == 400 and await r.json() == "sources: must be a list of webhook source names"


async def test_a_config_key_scoped_to_an_unknown_source_is_refused_naming_it(tmp_path: Path) -> None:
    from ampp.config.errors import ConfigError

    text = config().replace("sources: [datadog]", "sources: [datadog, nagios]")
    with pytest.raises(ConfigError) as e:
        async with serve(tmp_path, text):
            pass
    message = str(e.value)
    assert "auth.api_keys[0].sources[1]" in message and "no webhook source 'nagios'" in message, message
