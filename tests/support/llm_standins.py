"""Local stand-ins for LLM providers, speaking their wire protocols as their API references
define them: OpenAI's Chat Completions (``POST /v1/chat/completions``, also served under
OpenRouter's ``/api/v1``), and Anthropic's Messages API (``POST /v1/messages``), with their
error bodies (``{"error": {...}}`` and ``{"type": "error", "error": {...}}``), Retry-After on
429, and refusals (OpenAI's ``message.refusal``, Anthropic's ``stop_reason: "refusal"``).

Each request takes the next scripted ``Reply`` (the last one repeats); every request is
recorded with its headers and JSON body.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

GOOD = {
    "severity": "critical",
    "summary": "The API's database is refusing connections on db-1.",
    "suggested_action": "Check db-1's connection limit and restart the pooler if it is saturated.",
    "confidence": 0.82,
}


@dataclass
class Reply:
    """``kind``: ok, invalid (JSON that is not an answer), not_json (content that is not JSON),
    malformed (an HTTP body that is not the API's JSON), refusal, rate_limited, server, overloaded."""

    kind: str = "ok"
    answer: dict[str, Any] = field(default_factory=lambda: dict(GOOD))
    delay: float = 0.0
    retry_after: str | None = None
    input_tokens: int = 120
    output_tokens: int = 40


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    """Lower-cased names."""
    body: dict[str, Any]


class LLMStandIn:
    def __init__(self) -> None:
        self.script: list[Reply] = [Reply()]
        self.requests: list[Seen] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.url = ""
        self._ids = itertools.count(1)

    def then(self, *replies: Reply) -> None:
        self.script = list(replies)

    def _next(self) -> Reply:
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    async def _take(self, request: web.Request) -> tuple[Reply, dict[str, Any]]:
        body = await request.json()
        self.requests.append(Seen(request.path, {k.lower(): v for k, v in request.headers.items()}, body))
        reply = self._next()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if reply.delay:
                await asyncio.sleep(reply.delay)
        finally:
            self.in_flight -= 1
        return reply, body

    # -- OpenAI Chat Completions ---------------------------------------------------------------
    async def chat_completions(self, request: web.Request) -> web.Response:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return _openai_error(401, "You didn't provide an API key.", "invalid_request_error", None)
        reply, body = await self._take(request)
        if reply.kind == "rate_limited":
            headers = {"retry-after": reply.retry_after} if reply.retry_after else {}
            return _openai_error(
                429, "Rate limit reached for requests", "requests", "rate_limit_exceeded", headers
            )
        if reply.kind in ("server", "overloaded"):
            return _openai_error(
                500, "The server had an error while processing your request.", "server_error", None
            )
        if reply.kind == "malformed":
            return web.Response(text='{"id": "chatcmpl-', content_type="application/json")
        message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
        if reply.kind == "refusal":
            message["refusal"] = "I'm sorry, I cannot assist with that request."
        elif reply.kind == "not_json":
            message["content"] = "The database is down, probably."
        else:
            answer = reply.answer if reply.kind == "ok" else {"severity": "urgent"}
            message["content"] = json.dumps(answer)
        return web.json_response(
            {
                "id": f"chatcmpl-{next(self._ids)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model"),
                "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
                "usage": {
                    "prompt_tokens": reply.input_tokens,
                    "completion_tokens": reply.output_tokens,
                    "total_tokens": reply.input_tokens + reply.output_tokens,
                },
            }
        )

    # -- Anthropic Messages --------------------------------------------------------------------
    async def messages(self, request: web.Request) -> web.Response:
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        key = request.headers.get("x-api-key") or bearer
        if not key or not request.headers.get("anthropic-version"):
            return _anthropic_error(401, "authentication_error", "invalid x-api-key")
        reply, body = await self._take(request)
        if reply.kind == "rate_limited":
            headers = {"retry-after": reply.retry_after} if reply.retry_after else {}
            return _anthropic_error(
                429, "rate_limit_error", "Number of requests has exceeded your rate limit", headers
            )
        if reply.kind == "overloaded":
            return _anthropic_error(529, "overloaded_error", "Overloaded")
        if reply.kind == "server":
            return _anthropic_error(500, "api_error", "Internal server error")
        if reply.kind == "malformed":
            return web.Response(text='{"id": "msg_', content_type="application/json")
        content: list[dict[str, Any]]
        stop = "tool_use"
        if reply.kind == "refusal":
            content, stop = [], "refusal"
        elif reply.kind == "not_json":
            content, stop = [{"type": "text", "text": "The database is down, probably."}], "end_turn"
        else:
            tool = body["tools"][0]["name"]
            answer = reply.answer if reply.kind == "ok" else {"severity": "urgent"}
            content = [{"type": "tool_use", "id": f"toolu_{next(self._ids)}", "name": tool, "input": answer}]
        return web.json_response(
            {
                "id": f"msg_{next(self._ids)}",
                "type": "message",
                "role": "assistant",
                "model": body.get("model"),
                "content": content,
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens},
            }
        )


def _openai_error(
    status: int, message: str, kind: str, code: str | None, headers: dict[str, str] | None = None
) -> web.Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return web.json_response(body, status=status, headers=headers)


def _anthropic_error(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(
        {"type": "error", "error": {"type": kind, "message": message}}, status=status, headers=headers
    )


@contextlib.asynccontextmanager
async def llm_standin() -> AsyncIterator[LLMStandIn]:
    """A stand-in on 127.0.0.1: OpenAI at ``{url}/v1``, OpenRouter at ``{url}/api/v1``,
    Anthropic at ``{url}`` (its SDK adds ``/v1/messages``)."""
    standin = LLMStandIn()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", standin.chat_completions)
    app.router.add_post("/api/v1/chat/completions", standin.chat_completions)
    app.router.add_post("/v1/messages", standin.messages)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, shutdown_timeout=1)  # a held answer ends with the test
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    standin.url = f"http://127.0.0.1:{port}"
    try:
        yield standin
    finally:
        await runner.cleanup()


@pytest.fixture
async def standin() -> AsyncIterator[LLMStandIn]:
    """A stand-in for one test (the integration tier's fixture)."""
    async with llm_standin() as st:
        yield st
