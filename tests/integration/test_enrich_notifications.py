"""AI enrichment reaching the notifications of the routing tree: the enrichment stage of the
one pipeline, the ``enrichment`` of each alert in the webhook's JSON, ``.Enrichment`` in
templates, and the default Slack, PagerDuty and e-mail templates, against the LLM stand-in
(tests.support.llm_standins) and the receivers' local stand-ins. A provider that does not
answer in time costs the notification nothing but the enrichment, and the history says so.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.support.capture import CaptureServer
from tests.support.engine_app import engine_client
from tests.support.eventually import eventually_async
from tests.support.llm_standins import GOOD, LLMStandIn, Reply
from tests.support.vendors import FAR_FUTURE, RESOLVED_AT, SMTPServer, VendorServer, api_alerts
from tests.support.vendors import Reply as VendorReply

pytestmark = pytest.mark.integration


def ai(standin: LLMStandIn, **extra: str) -> str:
    settings = {
        "enabled": "true",
        "provider": "openai",
        "base_url": f"{standin.url}/v1",
        "api_key": "sk-test",
        "timeout": "5s",
        **extra,
    }
    return "ai:\n" + "".join(f"  {k}: {v}\n" for k, v in settings.items())


def routed(receivers: str) -> str:
    """One route to the receiver ``team`` (``receivers``: its integrations), flushed at once."""
    return f"""
alerting:
  route:
    receiver: team
    group_by: [alertname]
    group_wait: 0s
    group_interval: 1s
    repeat_interval: 1h
  receivers:
    - name: team
{receivers}"""


def webhook_receiver(hook: CaptureServer) -> str:
    return f'      webhook_configs: [{{url: "{hook.url}/hook", send_resolved: true}}]\n'


async def received(hook: CaptureServer, count: int = 1) -> list[dict[str, Any]]:
    found = await asyncio.to_thread(hook.wait_for, count, 20)
    return [r.json() for r in found]


async def timeline(engine: Any, client: Any, fp: str) -> list[dict[str, Any]]:
    assert await engine.recorder.flush()
    events: list[dict[str, Any]] = orjson.loads(await (await client.get(f"/history/{fp}")).read())["events"]
    return events


async def test_each_alert_of_the_webhook_json_carries_its_enrichment(
    tmp_path: Path, standin: LLMStandIn, hook: CaptureServer
) -> None:
    config = ai(standin) + routed(webhook_receiver(hook))
    async with engine_client(tmp_path, config) as (engine, client):
        assert (await client.post("/api/v2/alerts", json=api_alerts(2))).status == 200
        (payload,) = await received(hook)
        assert len(standin.requests) == 1, "one call for the group, not one per alert or integration"
        assert [a["enrichment"]["summary"] for a in payload["alerts"]] == [GOOD["summary"]] * 2
        first = payload["alerts"][0]["enrichment"]
        assert first["suggested_action"] == GOOD["suggested_action"]
        assert first["severity"] == GOOD["severity"] and first["source"] == "llm"
        assert first["provider"] == "openai" and first["cached"] is False
        assert set(payload) == {
            "receiver", "status", "alerts", "groupLabels", "commonLabels", "commonAnnotations",
            "externalURL", "version", "groupKey", "truncatedAlerts",
        }  # fmt: skip
        fp = payload["alerts"][0]["fingerprint"]

        async def recorded() -> list[str]:  # the send is recorded once the endpoint has answered
            kinds = [e["kind"] for e in await timeline(engine, client, fp)]
            assert "alert.enriched" in kinds and "notify.sent" in kinds, kinds
            return kinds

        await eventually_async(recorded)


async def test_a_resolve_carries_the_enrichment_the_alerts_had_without_asking_again(
    tmp_path: Path, standin: LLMStandIn, hook: CaptureServer
) -> None:
    async with engine_client(tmp_path, ai(standin) + routed(webhook_receiver(hook))) as (_, client):
        alerts = api_alerts(1)
        assert (await client.post("/api/v2/alerts", json=alerts)).status == 200
        await received(hook)
        alerts[0]["endsAt"] = RESOLVED_AT
        assert (await client.post("/api/v2/alerts", json=alerts)).status == 200
        _, resolved = await received(hook, 2)
    assert resolved["status"] == "resolved"
    assert resolved["alerts"][0]["enrichment"]["summary"] == GOOD["summary"]
    assert len(standin.requests) == 1, "a resolve asked the provider"


async def test_with_enrichment_off_the_webhook_json_is_alertmanagers(
    tmp_path: Path, hook: CaptureServer
) -> None:
    async with engine_client(tmp_path, routed(webhook_receiver(hook))) as (_, client):
        assert (await client.post("/api/v2/alerts", json=api_alerts(1))).status == 200
        (payload,) = await received(hook)
        assert set(payload["alerts"][0]) == {
            "status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"
        }  # fmt: skip


async def test_a_provider_slower_than_the_timeout_costs_only_the_enrichment(
    tmp_path: Path, standin: LLMStandIn, hook: CaptureServer
) -> None:
    """The stand-in holds its answer for a minute; the notification goes without enrichment
    after ai.timeout, long before it, and the history records why."""
    standin.then(Reply(delay=60))
    config = ai(standin, timeout="500ms", fallback_enabled="false") + routed(webhook_receiver(hook))
    async with engine_client(tmp_path, config) as (engine, client):
        assert (await client.post("/api/v2/alerts", json=api_alerts(1))).status == 200
        (payload,) = await received(hook)
        (alert,) = payload["alerts"]
        assert alert["enrichment"] is None

        async def recorded() -> list[dict[str, Any]]:
            events = await timeline(engine, client, alert["fingerprint"])
            assert "notify.sent" in [e["kind"] for e in events], events
            return events

        events = await eventually_async(recorded)
        skipped = [e for e in events if e["kind"] == "alert.not_enriched"]
        assert skipped and skipped[0]["details"] == {"reason": "timeout"}, events


async def test_the_fallback_answers_for_a_failing_provider(
    tmp_path: Path, standin: LLMStandIn, hook: CaptureServer
) -> None:
    standin.then(Reply(kind="server"))
    async with engine_client(tmp_path, ai(standin) + routed(webhook_receiver(hook))) as (_, client):
        alerts = api_alerts(1)
        alerts[0]["annotations"] = {"summary": "Disk on db-1 is 97% full", "runbook_url": "http://rb/disk"}
        assert (await client.post("/api/v2/alerts", json=alerts)).status == 200
        (payload,) = await received(hook)
        enrichment = payload["alerts"][0]["enrichment"]
        assert enrichment["source"] == "fallback" and enrichment["error"] == "server"
        assert enrichment["summary"] == "Disk on db-1 is 97% full"
        assert enrichment["suggested_action"] == "Follow the runbook: http://rb/disk"


async def test_repeats_nobody_receives_cost_no_tokens(
    tmp_path: Path, standin: LLMStandIn, hook: CaptureServer
) -> None:
    """With the cache kept for only a millisecond, every flush of the group would ask the
    provider again; the stage asks only for a flush an integration sends (the first)."""
    config = ai(standin, cache_ttl="1ms") + routed(webhook_receiver(hook))
    async with engine_client(tmp_path, config) as (_, client):
        assert (await client.post("/api/v2/alerts", json=api_alerts(1))).status == 200
        await received(hook)
        await asyncio.sleep(3.5)  # three more flushes of the group (group_interval: 1s)
    assert len(standin.requests) == 1
    assert len(hook.requests) == 1


async def test_enriched_alerts_reach_slack_pagerduty_and_email_through_their_default_templates(
    tmp_path: Path, standin: LLMStandIn
) -> None:
    with VendorServer() as vendor, SMTPServer() as smtp:
        receivers = f"""      slack_configs: [{{api_url: "{vendor.url}/slack/T0/B0/X", channel: "#ops"}}]
      pagerduty_configs: [{{url: "{vendor.url}/pagerduty/v2/enqueue", routing_key: rk}}]
      email_configs:
        - to: oncall@example.com
          from: am@example.com
          smarthost: localhost:{smtp.port}
          require_tls: false
"""
        async with engine_client(tmp_path, ai(standin) + routed(receivers)) as (_, client):
            assert (await client.post("/api/v2/alerts", json=api_alerts(2))).status == 200
            requests = await asyncio.to_thread(vendor.wait_for, 2)
            (mail,) = await asyncio.to_thread(smtp.wait_for, 1)
    assert len(standin.requests) == 1, "one enrichment serves every integration"
    by_path = {r.path: r.json() for r in requests}
    attachment = by_path["/slack/T0/B0/X"]["attachments"][0]
    assert attachment["text"] == f"Summary: {GOOD['summary']}\nSuggested action: {GOOD['suggested_action']}"
    event = by_path["/pagerduty/v2/enqueue"]
    assert event["payload"]["summary"].endswith(f": {GOOD['summary']}"), event["payload"]["summary"]
    assert event["payload"]["custom_details"]["enrichment"] == attachment["text"]
    assert {"firing", "resolved", "num_firing", "num_resolved"} <= set(event["payload"]["custom_details"])
    html = mail.message.get_body(("html",))
    assert html is not None
    content = html.get_content()
    assert "Suggested action" in content and "Check db-1&#39;s connection limit" in content, content


async def test_templates_read_the_group_and_each_alerts_enrichment(
    tmp_path: Path, standin: LLMStandIn
) -> None:
    """``.Enrichment`` of the notification (the group's) and of each alert, in a user's
    template; with ai.per_alert each alert has its own, and the group has none."""
    (tmp_path / "group").mkdir()
    (tmp_path / "per-alert").mkdir()
    with VendorServer() as vendor:
        text = (
            "'{{ with .Enrichment }}group: {{ .Summary }} ({{ .Severity }}){{ else }}per alert:"
            "{{ range .Alerts }} {{ .Labels.instance }}={{ .Enrichment.Summary }}{{ end }}{{ end }}'"
        )
        receivers = (
            f'      slack_configs: [{{api_url: "{vendor.url}/slack", channel: "#ops", text: {text}}}]\n'
        )
        async with engine_client(tmp_path / "group", ai(standin) + routed(receivers)) as (_, client):
            assert (await client.post("/api/v2/alerts", json=api_alerts(2))).status == 200
            (req,) = await asyncio.to_thread(vendor.wait_for, 1)
        assert req.json()["attachments"][0]["text"] == f"group: {GOOD['summary']} (critical)"

        vendor.clear()
        standin.then(Reply(answer={**GOOD, "summary": "first"}), Reply(answer={**GOOD, "summary": "second"}))
        config = ai(standin, per_alert="true", max_concurrency="1") + routed(receivers)
        async with engine_client(tmp_path / "per-alert", config) as (_, client):
            alerts = api_alerts(2)
            assert (await client.post("/api/v2/alerts", json=alerts)).status == 200
            (req,) = await asyncio.to_thread(vendor.wait_for, 1)
        got = req.json()["attachments"][0]["text"]
        hosts = [a["labels"]["instance"] for a in alerts]
        assert got.startswith("per alert: "), got
        told = dict(item.split("=") for item in got.removeprefix("per alert: ").split())
        assert set(told) == set(hosts) and set(told.values()) == {"first", "second"}, got


async def test_a_queued_notification_keeps_its_enrichment_until_it_is_sent(
    tmp_path: Path, standin: LLMStandIn
) -> None:
    """The receiver fails first: the retry renders from the delivery queue's job, which carries
    the enrichment the flush had."""
    with VendorServer() as vendor:
        vendor.script("/hook", VendorReply(503, "busy"), VendorReply(503, "busy"))
        receivers = f'      webhook_configs: [{{url: "{vendor.url}/hook"}}]\n'
        async with engine_client(tmp_path, ai(standin) + routed(receivers)) as (_, client):
            assert (await client.post("/api/v2/alerts", json=api_alerts(1, ends_at=FAR_FUTURE))).status == 200
            first, second, third = await asyncio.to_thread(vendor.wait_for, 3)
    assert len(standin.requests) == 1
    told = [r.json()["alerts"][0]["enrichment"] for r in (first, second, third)]
    assert [e["summary"] for e in told] == [GOOD["summary"]] * 3, told
