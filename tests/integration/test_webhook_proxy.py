"""POST /webhook/proxy: any format in, the three pipelines (classify with the LLM stand-in,
filter by drop rules and silences, publish to the configured receivers through the durable
delivery queue), the enriched alerts out; and GET /api/ampp/v1/enrichment/{fingerprint}."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import orjson
import pytest

from tests.support import webhook_samples as s
from tests.support.capture import CaptureServer
from tests.support.engine_app import engine_client
from tests.support.llm_standins import GOOD, LLMStandIn

pytestmark = pytest.mark.integration


def config(standin: LLMStandIn, hook: CaptureServer) -> str:
    return f"""
ai:
  enabled: true
  provider: openai
  base_url: {standin.url}/v1
  api_key: sk-test
  timeout: 5s
webhook:
  proxy:
    targets: [existing]
    drop: ['severity="info"']
alerting:
  route: {{receiver: default}}
  receivers:
    - name: default
    - name: existing
      webhook_configs: [{{url: "{hook.url}/existing", send_resolved: true}}]
"""


async def test_proxied_alerts_are_enriched_filtered_and_published_not_stored(
    tmp_path: Path, standin: LLMStandIn, hook: CaptureServer
) -> None:
    async with engine_client(tmp_path, config(standin, hook)) as (engine, client):
        r = await client.post("/webhook/proxy", json=s.KEEP)
        answer = orjson.loads(await r.read())
        assert r.status == 200, answer
        (result,) = answer["results"]
        assert result["status"] == "accepted" and result["published"] == ["existing"]
        assert result["filtered"] is None
        assert result["enrichment"]["summary"] == GOOD["summary"]
        assert result["enrichment"]["source"] == "llm"
        assert result["labels"]["alertname"] == s.KEEP["name"]
        assert len(engine.alerts) == 0, "a proxied alert became an active alert"
        (sent,) = await asyncio.to_thread(hook.wait_for, 1)
        payload = sent.json()
        assert payload["receiver"] == "existing"
        assert payload["alerts"][0]["labels"]["alertname"] == s.KEEP["name"]

        fp = result["fingerprint"]
        got = await client.get(f"/api/ampp/v1/enrichment/{fp}")
        body = orjson.loads(await got.read())
        assert got.status == 200 and body["enrichment"]["suggested_action"] == GOOD["suggested_action"]
        assert (await client.get("/api/ampp/v1/enrichment/0000000000000000")).status == 404
        assert (await client.get("/api/ampp/v1/enrichment/nothex")).status == 400

        assert await engine.recorder.flush()
        timeline = orjson.loads(await (await client.get(f"/history/{fp}")).read())
        enriched = [e for e in timeline["events"] if e["kind"] == "alert.enriched"]
        assert enriched and enriched[0]["details"]["summary"] == GOOD["summary"], timeline

        again = await client.post("/webhook/proxy", json=s.KEEP)
        assert orjson.loads(await again.read())["results"][0]["enrichment"]["cached"] is True
        await asyncio.sleep(0.5)
        assert len(hook.requests) == 1, "the same notification was published twice"


async def test_dropped_and_silenced_alerts_are_answered_but_not_published(
    tmp_path: Path, standin: LLMStandIn, hook: CaptureServer
) -> None:
    async with engine_client(tmp_path, config(standin, hook)) as (_, client):
        info = {**s.KEEP, "severity": "info", "name": "Disk almost full"}
        r = await client.post("/webhook/proxy", json=info)
        result = orjson.loads(await r.read())["results"][0]
        assert result["filtered"] == 'dropped by severity="info"' and result["published"] == []
        now = dt.datetime.now(dt.UTC)
        silence = {
            "matchers": [{"name": "alertname", "value": s.KEEP["name"], "isRegex": False}],
            "startsAt": now.isoformat(),
            "endsAt": (now + dt.timedelta(hours=1)).isoformat(),
            "createdBy": "test",
            "comment": "maintenance",
        }
        assert (await client.post("/api/v2/silences", json=silence)).status == 200
        r = await client.post("/webhook/proxy", json=s.KEEP)
        result = orjson.loads(await r.read())["results"][0]
        assert result["filtered"] == "silenced" and result["published"] == []
        await asyncio.sleep(0.5)
        assert hook.requests == []


async def test_a_proxy_target_that_is_no_receiver_is_a_config_error(
    tmp_path: Path, standin: LLMStandIn, hook: CaptureServer
) -> None:
    from ampp.config.errors import ConfigError

    with pytest.raises(ConfigError, match=r"webhook.proxy.targets.0.*no receiver named 'nowhere'"):
        async with engine_client(tmp_path, config(standin, hook).replace("[existing]", "[nowhere]")):
            pass
