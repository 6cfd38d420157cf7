"""OpenTelemetry traces, collected by a local OTLP receiver (gRPC and HTTP): one alert from its
POST to the webhook receiver is one trace (server span, ingest, dispatch, the notification
attempt), continuing the sender's W3C traceparent and handed on to the webhook receiver; failed
attempts carry their outcome; the sampling ratio and the caller's decision; an LLM call is a
span of the trace that made it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml

from tests.support import webhook_samples as samples
from tests.support.capture import CaptureServer
from tests.support.engine_app import engine_client
from tests.support.llm_standins import llm_standin
from tests.support.otlp import OTLPReceiver, ReceivedSpan, otlp_receiver
from tests.support.servers import free_port, run_ampp

pytestmark = pytest.mark.integration

FAST_EXPORT = {"OTEL_BSP_SCHEDULE_DELAY": "100"}
"""The SDK's batch processor exports every 100 ms instead of 5 s (its own variable)."""


@pytest.fixture
def receiver() -> Iterator[OTLPReceiver]:
    with otlp_receiver() as r:
        yield r


def config(hook: CaptureServer, tracing: dict[str, Any]) -> str:
    return yaml.safe_dump(
        {
            "tracing": {"enabled": True, "sample_rate": 1.0, **tracing},
            "notify": {"initial_backoff": "100ms", "max_backoff": "200ms"},
            "alerting": {
                "route": {
                    "receiver": "hook",
                    "group_by": ["alertname"],
                    "group_wait": "0s",
                    "group_interval": "1s",
                },
                "receivers": [{"name": "hook", "webhook_configs": [{"url": f"{hook.url}/hook"}]}],
            },
        }
    )


@contextlib.contextmanager
def engine(tmp_path: Path, text: str) -> Iterator[str]:
    (tmp_path / "config.yaml").write_text(text)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [f"--config.file={tmp_path / 'config.yaml'}", f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="]  # fmt: skip
    with run_ampp(args, url, tmp_path / "ampp.log", {**os.environ, **FAST_EXPORT}):
        yield url


def post(url: str, name: str, headers: dict[str, str] | None = None) -> None:
    alert = [{"labels": {"alertname": name}}]
    r = httpx.post(f"{url}/api/v2/alerts", json=alert, headers=headers or {}, timeout=10)
    assert r.status_code == 200, r.text


def received_traceparent(hook: CaptureServer, name: str) -> tuple[str, str, str]:
    """(trace id, parent span id, flags) of the traceparent the webhook receiver got for ``name``."""
    for _ in range(200):
        for req in list(hook.requests):
            if req.json()["commonLabels"].get("alertname") == name:
                version, trace_id, parent, flags = req.headers["traceparent"].split("-")
                assert version == "00"
                return trace_id, parent, flags
        time.sleep(0.05)
    raise AssertionError(f"no notification for {name}")


def sampled(flags: str) -> bool:
    """The traceparent's sampled flag (the SDK also sets the "random trace id" one, 0x02)."""
    return bool(int(flags, 16) & 1)


def one(spans: list[ReceivedSpan], name: str) -> ReceivedSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


def test_one_alert_from_post_to_webhook_is_one_trace(tmp_path: Path, receiver: OTLPReceiver) -> None:
    """Over OTLP/gRPC; the sender's traceparent is continued, and handed on to the receiver."""
    trace_id, caller = secrets.token_hex(16), secrets.token_hex(8)
    with CaptureServer() as hook, engine(tmp_path, config(hook, {"endpoint": receiver.grpc_endpoint})) as url:
        post(url, "Traced", {"traceparent": f"00-{trace_id}-{caller}-01"})
        seen_trace, seen_parent, flags = received_traceparent(hook, "Traced")
        spans = receiver.wait(trace_id, {"POST /api/v2/alerts", "ingest", "dispatch", "notify"})
    assert (seen_trace, flags) == (trace_id, "01"), "the webhook receiver continues the alert's trace"
    server, ingest = one(spans, "POST /api/v2/alerts"), one(spans, "ingest")
    dispatch, notify = one(spans, "dispatch"), one(spans, "notify")
    assert server.parent_id == caller and server.kind == "server"
    assert server.attributes["http.route"] == "/api/v2/alerts"
    assert server.attributes["http.response.status_code"] == 200
    assert ingest.parent_id == server.span_id and ingest.attributes["ampp.alerts"] == 1
    assert dispatch.parent_id == ingest.span_id
    assert dispatch.attributes["ampp.receiver"] == "hook" and dispatch.attributes["ampp.alerts"] == 1
    assert notify.parent_id == dispatch.span_id and notify.kind == "client"
    assert notify.attributes["ampp.receiver"] == "hook"
    assert notify.attributes["ampp.integration"] == "webhook[0]"
    assert notify.attributes["ampp.outcome"] == "success" and not notify.error
    assert seen_parent == notify.span_id, "the receiver's parent is the attempt"
    assert server.resource["service.name"] == "alertmanager-plusplus"
    assert receiver.exports["grpc"] and not receiver.exports["http"]


def test_jaeger_over_http_a_trace_started_here_and_failed_attempts(
    tmp_path: Path, receiver: OTLPReceiver
) -> None:
    """provider: jaeger is OTLP too (here over HTTP, the path added to a bare URL); without a
    caller's traceparent the trace starts at the request; each attempt is a span with its outcome."""
    base = receiver.http_endpoint.removesuffix("/v1/traces")
    tracing = {"provider": "jaeger", "protocol": "http", "endpoint": base}
    with CaptureServer(status=500) as hook, engine(tmp_path, config(hook, tracing)) as url:
        post(url, "Failing")
        trace_id, _, flags = received_traceparent(hook, "Failing")
        hook.wait_for(3)
        spans = receiver.wait(trace_id, {"POST /api/v2/alerts", "ingest", "dispatch", "notify"})
        for _ in range(100):
            attempts = [s for s in receiver.trace(trace_id) if s.name == "notify"]
            if len(attempts) >= 3:
                break
            time.sleep(0.1)
    assert sampled(flags)
    assert one(spans, "POST /api/v2/alerts").parent_id == "", "a root: no caller's context"
    dispatch = one(spans, "dispatch")
    assert len(attempts) >= 3, attempts
    numbers = sorted(s.attributes["ampp.attempt"] for s in attempts)
    assert numbers[:3] == [1, 2, 3], "each retry, by a delivery worker, continues the flush's trace"
    for s in attempts:
        assert s.parent_id == dispatch.span_id
        assert s.attributes["ampp.outcome"] == "retry" and s.error
        assert "unexpected status code 500" in s.status_message
    assert receiver.exports["http"] and not receiver.exports["grpc"]


def test_sample_rate_and_the_callers_decision(tmp_path: Path, receiver: OTLPReceiver) -> None:
    """sample_rate 0 keeps no trace started here, but a caller's sampled traceparent is kept;
    the receiver gets the context either way, with the decision in its flags."""
    tracing = {"endpoint": receiver.grpc_endpoint, "sample_rate": 0}
    kept = secrets.token_hex(16)
    with CaptureServer() as hook, engine(tmp_path, config(hook, tracing)) as url:
        post(url, "Unsampled")
        dropped, _, flags = received_traceparent(hook, "Unsampled")
        assert not sampled(flags)
        post(url, "CallerSampled", {"traceparent": f"00-{kept}-{secrets.token_hex(8)}-01"})
        assert received_traceparent(hook, "CallerSampled")[::2] == (kept, "01")
        receiver.wait(kept, {"POST /api/v2/alerts", "ingest", "dispatch", "notify"})
    assert receiver.trace(dropped) == [], "exported after the sampled one, so never"


async def test_an_llm_call_is_a_span_of_the_trace_that_made_it(
    tmp_path: Path, receiver: OTLPReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """POST /webhook/proxy with enrichment: the chat call to the provider (the stand-in) with
    OpenTelemetry's GenAI attributes, then the attempt to the target, in the caller's trace."""
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", FAST_EXPORT["OTEL_BSP_SCHEDULE_DELAY"])
    trace_id = secrets.token_hex(16)
    with CaptureServer() as hook:
        async with llm_standin() as standin:
            text = f"""
ai: {{enabled: true, provider: openai, base_url: "{standin.url}/v1", api_key: sk-test, timeout: 5s}}
tracing: {{enabled: true, endpoint: "{receiver.grpc_endpoint}", sample_rate: 1.0}}
webhook: {{proxy: {{targets: [existing]}}}}
alerting:
  route: {{receiver: default}}
  receivers:
    - name: default
    - name: existing
      webhook_configs: [{{url: "{hook.url}/existing"}}]
"""
            async with engine_client(tmp_path, text) as (_, client):
                headers = {"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"}
                r = await client.post("/webhook/proxy", data=orjson.dumps(samples.KEEP), headers=headers)
                assert r.status == 200, await r.text()
                wanted = {"POST /webhook/proxy", "chat gpt-4o-mini", "notify"}
                spans = await asyncio.to_thread(receiver.wait, trace_id, wanted)
    server, chat = one(spans, "POST /webhook/proxy"), one(spans, "chat gpt-4o-mini")
    assert chat.parent_id == server.span_id and chat.kind == "client"
    assert chat.attributes["gen_ai.system"] == "openai"
    assert chat.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert (chat.attributes["gen_ai.usage.input_tokens"], chat.attributes["gen_ai.usage.output_tokens"]) == (
        120, 40,
    )  # fmt: skip
    assert one(spans, "notify").attributes["ampp.receiver"] == "existing"
    (sent,) = hook.requests
    assert sent.headers["traceparent"].split("-")[1] == trace_id
