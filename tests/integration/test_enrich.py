"""AI enrichment through the providers' official SDKs against local stand-ins speaking their
wire protocols: answers, 429 with Retry-After, 500, timeouts, malformed bodies, invalid output,
refusals; the breaker, the token budget, the concurrency limit, redaction, and the cache with
Redis up and down."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from ampp.auth.urlpolicy import UrlPolicy
from ampp.config.security import OutboundPolicy
from ampp.config.settings import AISettings
from ampp.enrich import Enricher, EnrichMetrics
from ampp.model.alert import Alert
from ampp.model.timefmt import NS, now_ns
from prometheus_client import CollectorRegistry, generate_latest

from tests.support.llm_standins import GOOD, LLMStandIn, Reply

pytestmark = pytest.mark.integration

PROVIDERS: dict[str, Callable[[str], dict[str, Any]]] = {
    "openai": lambda url: {"provider": "openai", "base_url": f"{url}/v1"},
    "anthropic": lambda url: {"provider": "anthropic", "base_url": url},
    "openrouter": lambda url: {"provider": "openrouter", "base_url": f"{url}/api/v1"},
    "ollama": lambda url: {"provider": "ollama", "base_url": f"{url}/v1", "model": "llama3.1"},
}


def group(n: int = 1, **labels: str) -> list[Alert]:
    now = now_ns()
    return [
        Alert(
            {"alertname": "DatabaseDown", "instance": f"db-{i}", "severity": "warning", **labels},
            {
                "summary": "db-1 refuses connections",
                "description": "psql: password=hunter2 for ops@example.com rejected; "
                "token: ghp_abcdefghijklmnopqrstuv",
                "runbook_url": "https://runbooks.example.com/db",
            },
            now - 60 * NS,
            now + 300 * NS,
        )
        for i in range(1, n + 1)
    ]


def enricher(
    standin: LLMStandIn,
    provider: str = "openai",
    redis: str | None = None,
    policy: UrlPolicy | None = None,
    url: str | None = None,
    **settings: Any,
) -> Enricher:
    conf = AISettings.model_validate(
        {
            "enabled": True,
            "api_key": "sk-test-key",
            "timeout": "5s",
            **PROVIDERS[provider](url or standin.url),
            **settings,
        }
    )
    return Enricher(conf, EnrichMetrics(CollectorRegistry()), redis, api_key="sk-test-key", policy=policy)


async def one(e: Enricher, alerts: list[Alert] | None = None) -> Any:
    alerts = alerts or group()
    found = await e.enrich(alerts, now_ns())
    return found.get(alerts[0].fingerprint)


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
async def test_each_provider_answers_through_its_sdk(standin: LLMStandIn, provider: str) -> None:
    e = enricher(standin, provider)
    try:
        result = await one(e)
    finally:
        await e.close()
    assert result is not None and result.source == "llm", result
    assert (result.severity, result.summary, result.suggested_action, result.confidence) == (
        GOOD["severity"], GOOD["summary"], GOOD["suggested_action"], GOOD["confidence"],
    )  # fmt: skip
    assert result.provider == ("ollama" if provider == "ollama" else provider)
    seen = standin.requests[0]
    if provider == "anthropic":
        assert seen.path == "/v1/messages" and "anthropic-version" in seen.headers
        key = seen.headers.get("x-api-key") or seen.headers["authorization"].removeprefix("Bearer ")
        assert key == "sk-test-key"
        assert seen.body["tool_choice"]["type"] == "tool"
        assert seen.body["tools"][0]["input_schema"]["required"] == [
            "severity",
            "summary",
            "suggested_action",
            "confidence",
        ]
        prompt = seen.body["messages"][0]["content"]
    else:
        assert seen.headers["authorization"] == "Bearer sk-test-key"
        assert seen.body["response_format"]["type"] == "json_schema"
        assert seen.body["response_format"]["json_schema"]["strict"] is True
        prompt = seen.body["messages"][1]["content"]
        if provider == "openrouter":
            assert seen.path == "/api/v1/chat/completions" and seen.headers["x-title"] == "Alertmanager++"
        if provider == "ollama":
            assert seen.body["model"] == "llama3.1"
    assert "DatabaseDown" in prompt
    for secret in ("hunter2", "ops@example.com", "ghp_abcdefghijklmnopqrstuv"):
        assert secret not in prompt, f"{secret} left the process"
    assert "[REDACTED]" in prompt


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply("server"), "server"),
        (Reply("malformed"), "malformed"),
        (Reply("refusal"), "refused"),
        (Reply("rate_limited", retry_after="30"), "rate_limited"),
    ],
)
async def test_provider_failures_give_the_fallback(
    standin: LLMStandIn, provider: str, reply: Reply, reason: str
) -> None:
    standin.then(reply)
    e = enricher(standin, provider)
    try:
        result = await one(e)
    finally:
        await e.close()
    assert result.source == "fallback" and result.error == reason
    assert result.summary == "db-1 refuses connections"
    assert result.suggested_action == "Follow the runbook: https://runbooks.example.com/db"
    assert result.severity == "warning"
    assert len(standin.requests) == 1, "the SDK retried on its own"


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_the_outbound_policy_refuses_a_provider_url_at_connect_time(
    standin: LLMStandIn, provider: str
) -> None:
    e = enricher(standin, provider, policy=UrlPolicy.of(OutboundPolicy(deny=["127.0.0.0/8"])))
    try:
        result = await one(e)
    finally:
        await e.close()
    assert result.source == "fallback" and result.error == "outbound_refused"
    assert standin.requests == [], "connected to a denied address"


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_a_redirect_to_a_metadata_address_is_refused(standin: LLMStandIn, provider: str) -> None:
    async def elsewhere(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(f"http://169.254.169.254{request.path}")

    app = web.Application()
    app.router.add_post("/{tail:.*}", elsewhere)
    async with TestServer(app, host="127.0.0.1") as redirector:
        e = enricher(standin, provider, url=str(redirector.make_url("")).rstrip("/"))
        try:
            result = await one(e)
        finally:
            await e.close()
    assert result.source == "fallback" and result.error == "outbound_refused"


async def test_retry_after_holds_further_calls(standin: LLMStandIn) -> None:
    standin.then(Reply("rate_limited", retry_after="30"), Reply())
    e = enricher(standin)
    try:
        assert (await one(e)).error == "rate_limited"
        assert (await one(e, group(1, cluster="b"))).error == "rate_limited"
    finally:
        await e.close()
    assert len(standin.requests) == 1, "called again within Retry-After"


async def test_a_slow_provider_costs_no_more_than_the_timeout(standin: LLMStandIn) -> None:
    standin.then(Reply(delay=2.0))
    e = enricher(standin, timeout="300ms")
    started = time.monotonic()
    try:
        result = await one(e)
    finally:
        await e.close()
    assert result.source == "fallback" and result.error == "timeout"
    assert time.monotonic() - started < 1.5, "waited for the provider past ai.timeout"


async def test_invalid_output_is_asked_again_once(standin: LLMStandIn) -> None:
    standin.then(Reply("invalid"), Reply())
    e = enricher(standin, "anthropic")
    try:
        assert (await one(e)).source == "llm"
        assert len(standin.requests) == 2
        standin.then(Reply("not_json"))
        result = await one(e, group(1, cluster="other"))
    finally:
        await e.close()
    assert result.source == "fallback" and result.error == "invalid_output"
    assert len(standin.requests) == 4


async def test_without_fallback_a_failure_gives_no_enrichment(standin: LLMStandIn) -> None:
    standin.then(Reply("server"))
    e = enricher(standin, fallback_enabled=False)
    try:
        assert await e.enrich(group(), now_ns()) == {}
    finally:
        await e.close()


async def test_the_breaker_opens_after_consecutive_failures(standin: LLMStandIn) -> None:
    standin.then(Reply("server"))
    e = enricher(standin, circuit_breaker={"failures": 3, "cooldown": "1h"})
    try:
        reasons = [(await one(e, group(1, shard=str(i)))).error for i in range(5)]
    finally:
        await e.close()
    assert reasons == ["server", "server", "server", "circuit_open", "circuit_open"]
    assert len(standin.requests) == 3


async def test_the_token_budget_per_hour_is_kept(standin: LLMStandIn) -> None:
    standin.then(Reply(input_tokens=900, output_tokens=200))
    e = enricher(standin, tokens_per_hour=1000)
    try:
        assert (await one(e)).source == "llm"
        assert (await one(e, group(1, cluster="b"))).error == "budget_exhausted"
    finally:
        await e.close()
    assert len(standin.requests) == 1


async def test_calls_in_flight_stay_within_max_concurrency(standin: LLMStandIn) -> None:
    standin.then(Reply(delay=0.2))
    e = enricher(standin, max_concurrency=2)
    try:
        await asyncio.gather(*(one(e, group(1, shard=str(i))) for i in range(6)))
    finally:
        await e.close()
    assert len(standin.requests) == 6 and standin.max_in_flight == 2


async def test_the_same_problem_again_is_answered_from_the_cache(standin: LLMStandIn) -> None:
    e = enricher(standin)
    try:
        first = await one(e)
        alerts = group()  # new start/end times, same content
        second = await one(e, alerts)
    finally:
        await e.close()
    assert first.cached is False and second.cached is True and second.summary == first.summary
    assert len(standin.requests) == 1
    assert e.lookup(alerts[0].fingerprint) == second


async def test_redis_shares_the_cache_between_replicas_and_its_absence_costs_only_misses(
    standin: LLMStandIn, services: Any
) -> None:
    model = f"gpt-test-{uuid.uuid4().hex}"  # keys of its own in the shared test Redis
    a = enricher(standin, redis=services.redis_url, model=model)
    b = enricher(standin, redis=services.redis_url, model=model)
    down = enricher(standin, redis="redis://127.0.0.1:1/0", model=model)
    try:
        assert (await one(a)).cached is False
        assert (await one(b)).cached is True, "replica b did not find a's answer in Redis"
        assert len(standin.requests) == 1
        assert (await one(down)).source == "llm"  # Redis down: a miss, then the provider
        assert (await one(down)).cached is True  # and the in-process cache still works
    finally:
        for e in (a, b, down):
            await e.close()
    assert b.metrics.cache_lookups.labels("l2", "hit")._value.get() == 1
    assert down.metrics.cache_lookups.labels("l2", "error")._value.get() >= 1


async def test_tokens_latency_and_cost_are_counted_per_provider_and_model(standin: LLMStandIn) -> None:
    registry = CollectorRegistry()
    conf = AISettings.model_validate(
        {"enabled": True, "provider": "openai", "base_url": f"{standin.url}/v1", "model": "gpt-4o-mini",
         "price_per_1k_input_tokens": 0.15, "price_per_1k_output_tokens": 0.6}
    )  # fmt: skip
    e = Enricher(conf, EnrichMetrics(registry), None, api_key="k")
    standin.then(Reply(), Reply("server"))
    try:
        await one(e)
        await one(e, group(1, cluster="b"))
    finally:
        await e.close()
    text = generate_latest(registry).decode()
    assert 'ampp_ai_requests_total{model="gpt-4o-mini",outcome="ok",provider="openai"} 1.0' in text
    assert 'ampp_ai_requests_total{model="gpt-4o-mini",outcome="server",provider="openai"} 1.0' in text
    assert 'ampp_ai_tokens_total{kind="input",model="gpt-4o-mini",provider="openai"} 120.0' in text
    assert 'ampp_ai_cost_usd_total{model="gpt-4o-mini",provider="openai"} 0.042' in text
    assert 'ampp_ai_request_duration_seconds_count{model="gpt-4o-mini",provider="openai"} 2.0' in text


async def test_per_alert_enriches_each_alert_on_its_own(standin: LLMStandIn) -> None:
    e = enricher(standin, per_alert=True)
    alerts = group(3)
    try:
        found = await e.enrich(alerts, now_ns())
    finally:
        await e.close()
    assert set(found) == {a.fingerprint for a in alerts}
    assert len(standin.requests) == 3
    prompts = [r.body["messages"][1]["content"] for r in standin.requests]
    assert all(p.count('"alertname"') == 1 for p in prompts), "an alert's call carried other alerts"


async def test_the_key_comes_from_api_key_file_and_an_unreadable_one_is_a_config_error(
    tmp_path: Path, standin: LLMStandIn
) -> None:
    from ampp.config.errors import ConfigError

    from tests.support.engine_app import engine_client

    key = tmp_path / "llm-key"
    key.write_text("sk-from-a-secret\n", encoding="utf-8")
    config = f"""
ai: {{enabled: true, provider: openai, base_url: "{standin.url}/v1", api_key_file: {key}}}
alerting:
  route: {{receiver: r}}
  receivers: [{{name: r}}]
"""
    async with engine_client(tmp_path, config) as (engine, _):
        assert engine.enricher is not None
        await engine.enricher.enrich(group(), now_ns())
        assert standin.requests[0].headers["authorization"] == "Bearer sk-from-a-secret"
        key.write_text("sk-rotated\n", encoding="utf-8")  # the Secret rotated
        await engine.reload()
        await engine.enricher.enrich(group(1, cluster="b"), now_ns())
        assert standin.requests[1].headers["authorization"] == "Bearer sk-rotated"
    key.unlink()
    with pytest.raises(ConfigError, match=r"ai.api_key_file: cannot read the key"):
        (tmp_path / "again").mkdir()
        async with engine_client(tmp_path / "again", config):
            pass
