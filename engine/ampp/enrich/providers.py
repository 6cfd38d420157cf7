"""LLM providers through their official async SDKs: OpenAI's Chat Completions with a JSON
schema for the answer (also OpenRouter and any OpenAI-compatible server: Ollama, vLLM, LiteLLM,
through ``base_url``), and Anthropic's Messages API with a forced tool whose input schema is the
answer's. The SDKs' own retries are off: one attempt per call, bounded by the caller's time left;
what went wrong comes back as a ProviderError the service understands. Each SDK sends through an
httpx client with the outbound URL policy applied (``security.outbound``: no cloud metadata
address, whatever ``base_url`` says or a redirect points to)."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import orjson

from ..auth.urlpolicy import OutboundRefused, UrlPolicy, guard
from .model import ANSWER_SCHEMA, InvalidAnswer

if TYPE_CHECKING:  # the SDKs load when a provider is built, not with the engine (start-up time)
    import anthropic
    import openai

OPENROUTER_URL = "https://openrouter.ai/api/v1"
API_URLS = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "openrouter": OPENROUTER_URL,
}
"""Where each provider is reached without a ``base_url`` (its SDK's default)."""
DEFAULT_MODELS = {
    "openai": "gpt-4o-mini",
    "openrouter": "openai/gpt-4o-mini",
    "anthropic": "claude-3-5-haiku-latest",
}
TOOL = "record_alert_triage"
T = TypeVar("T")


class ProviderError(Exception):
    """One call failed. ``kind``: rate_limited, server, timeout, connection, rejected, refused,
    malformed, outbound_refused (the URL policy); ``retry_after``: seconds the provider asked to
    wait (429)."""

    def __init__(self, kind: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.retry_after = retry_after


@dataclass
class Answer:
    data: Any
    """The JSON the model produced (InvalidAnswer when it was not JSON)."""
    input_tokens: int
    output_tokens: int


class Provider(Protocol):
    name: str
    model: str

    async def complete(self, system: str, user: str, limit_s: float) -> Answer: ...

    async def close(self) -> None: ...


def _retry_after(response: Any) -> float | None:
    """Seconds from Retry-After (or retry-after-ms) of the SDK's response, if any."""
    if response is None:
        return None
    raw = response.headers.get("retry-after-ms")
    if raw:
        try:
            return float(raw) / 1000
        except ValueError:
            pass
    raw = response.headers.get("retry-after")
    if raw:
        try:
            return float(raw)
        except ValueError:
            return None
    return None


async def _mapped(sdk: Any, limit_s: float, call: Awaitable[T]) -> T:
    """One SDK call, its errors as ProviderErrors (both SDKs have the same exception tree; a
    529 is Anthropic's "overloaded")."""
    try:
        return await call
    except OutboundRefused as e:  # raised by the client's transport; OpenAI's SDK lets it through
        raise ProviderError("outbound_refused", str(e)) from None
    except sdk.RateLimitError as e:
        raise ProviderError("rate_limited", str(e), _retry_after(e.response)) from None
    except sdk.APITimeoutError:
        raise ProviderError("timeout", f"no answer within {limit_s:.1f}s") from None
    except sdk.APIConnectionError as e:
        if isinstance(e.__cause__, OutboundRefused):  # Anthropic's SDK wraps it
            raise ProviderError("outbound_refused", str(e.__cause__)) from None
        raise ProviderError("connection", str(e)) from None
    except sdk.APIStatusError as e:
        kind = "server" if e.status_code >= 500 else "rejected"
        raise ProviderError(kind, f"HTTP {e.status_code}: {e.message}", _retry_after(e.response)) from None
    except (sdk.APIError, ValueError) as e:  # a body that is not the API's JSON
        raise ProviderError("malformed", str(e)) from None


def _json(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise InvalidAnswer(f"the answer is not JSON: {text[:80]!r}") from None


class OpenAIProvider:
    """Chat Completions; ``response_format`` asks for ANSWER_SCHEMA strictly."""

    def __init__(
        self,
        name: str,
        api_key: str,
        model: str,
        base_url: str | None,
        max_tokens: int,
        headers: dict[str, str],
        policy: UrlPolicy,
    ) -> None:
        self.name = name
        self.model = model
        self.max_tokens = max_tokens
        import openai

        self.sdk = openai
        self.client: openai.AsyncOpenAI = openai.AsyncOpenAI(
            api_key=api_key or "unset",
            base_url=base_url,
            max_retries=0,
            default_headers=headers or None,
            http_client=guard(openai.DefaultAsyncHttpxClient(), policy),
        )

    async def complete(self, system: str, user: str, limit_s: float) -> Answer:
        response = await _mapped(
            self.sdk,
            limit_s,
            self.client.chat.completions.create(
                model=self.model,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "alert_triage", "strict": True, "schema": ANSWER_SCHEMA},
                },
                max_tokens=self.max_tokens,
                temperature=0,
                timeout=limit_s,
            ),
        )
        if not response.choices:
            raise ProviderError("malformed", "the response has no choices")
        message = response.choices[0].message
        refusal = getattr(message, "refusal", None)
        if refusal:
            raise ProviderError("refused", str(refusal))
        usage = response.usage
        return Answer(
            _json(message.content or ""),
            usage.prompt_tokens if usage else 0,
            usage.completion_tokens if usage else 0,
        )

    async def close(self) -> None:
        await self.client.close()


class AnthropicProvider:
    """Messages API; the answer is the input of a tool the model is made to call."""

    def __init__(
        self, api_key: str, model: str, base_url: str | None, max_tokens: int, policy: UrlPolicy
    ) -> None:
        self.name = "anthropic"
        self.model = model
        self.max_tokens = max_tokens
        import anthropic

        self.sdk = anthropic
        self.client: anthropic.AsyncAnthropic = anthropic.AsyncAnthropic(
            api_key=api_key or "unset",
            base_url=base_url,
            max_retries=0,
            http_client=guard(anthropic.DefaultAsyncHttpxClient(), policy),
        )

    async def complete(self, system: str, user: str, limit_s: float) -> Answer:
        response = await _mapped(
            self.sdk,
            limit_s,
            self.client.messages.create(
                model=self.model,
                max_tokens=self.max_tokens,
                system=system,
                messages=[{"role": "user", "content": user}],
                tools=[
                    {
                        "name": TOOL,
                        "description": "Record the triage of the alert group.",
                        "input_schema": ANSWER_SCHEMA,
                    }
                ],
                tool_choice={"type": "tool", "name": TOOL},
                timeout=limit_s,
            ),
        )
        if response.stop_reason == "refusal":
            raise ProviderError("refused", "the model declined to answer")
        usage = response.usage
        for block in response.content:
            if block.type == "tool_use" and block.name == TOOL:
                return Answer(block.input, usage.input_tokens, usage.output_tokens)
        text = "".join(getattr(b, "text", "") for b in response.content)
        return Answer(_json(text), usage.input_tokens, usage.output_tokens)

    async def close(self) -> None:
        await self.client.close()


def build_provider(
    provider: str,
    api_key: str,
    model: str | None,
    base_url: str | None,
    max_tokens: int,
    policy: UrlPolicy | None = None,
) -> Provider:
    """openai, anthropic, openrouter, or any other name for an OpenAI-compatible ``base_url``;
    sending where ``policy`` allows (by default: anywhere but link-local and metadata addresses)."""
    policy = policy or UrlPolicy()
    if provider == "anthropic":
        return AnthropicProvider(api_key, model or DEFAULT_MODELS["anthropic"], base_url, max_tokens, policy)
    if provider == "openrouter":
        headers = {"HTTP-Referer": "https://github.com/alertmanager-plusplus", "X-Title": "Alertmanager++"}
        return OpenAIProvider(
            "openrouter",
            api_key,
            model or DEFAULT_MODELS["openrouter"],
            base_url or OPENROUTER_URL,
            max_tokens,
            headers,
            policy,
        )
    model = model or DEFAULT_MODELS["openai"]
    return OpenAIProvider(provider, api_key, model, base_url, max_tokens, {}, policy)
