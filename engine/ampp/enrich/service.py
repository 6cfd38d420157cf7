"""Enrichment of an alert group: cache, then the provider (within the budget, the breaker and
the concurrency limit), its answer checked and asked again once if invalid, else the
rule-based fallback; all of it within ``ai.timeout``, so a slow or dead provider costs the
notification nothing but the enrichment.

The latest enrichment of each alert is kept by fingerprint (``lookup``): the notification
payloads, templates and ``GET /api/ampp/v1/enrichment/{fingerprint}`` read it there.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from .. import tracing
from ..auth.urlpolicy import UrlPolicy
from ..config.settings import AISettings
from ..model.alert import Alert
from . import fallback, prompt
from .cache import EnrichmentCache
from .guard import Guard
from .metrics import EnrichMetrics
from .model import Enrichment, InvalidAnswer, parse_answer
from .providers import Provider, ProviderError, build_provider
from .redact import Redactor

log = logging.getLogger("ampp.enrich")
_KEPT = 100_000


async def read_key(settings: AISettings) -> str:
    """The API key: ``api_key``, or ``api_key_file`` read off the event loop (a rotated Secret is
    picked up by the next reload). Never logged."""
    if settings.api_key_file:
        return (await asyncio.to_thread(Path(settings.api_key_file).read_text, encoding="utf-8")).strip()
    return str(settings.api_key) if settings.api_key is not None else ""


class EnrichmentSink(Protocol):
    """Told of each new enrichment (not of cache hits), and of alerts notified without one:
    the history records both."""

    def alerts_enriched(self, alerts: Sequence[Alert], enrichment: Enrichment) -> None: ...

    def alerts_not_enriched(self, alerts: Sequence[Alert], reason: str) -> None: ...


def _llm_attributes(provider: str, model: str) -> dict[str, str]:
    """OpenTelemetry's GenAI attributes of a chat call."""
    return {"gen_ai.system": provider, "gen_ai.operation.name": "chat", "gen_ai.request.model": model}


class Enricher:
    def __init__(
        self,
        settings: AISettings,
        metrics: EnrichMetrics,
        redis_url: str | None = None,
        provider: Provider | None = None,
        api_key: str = "",
        policy: UrlPolicy | None = None,
        sinks: Sequence[EnrichmentSink] = (),
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.enabled = settings.enabled
        self.redact = Redactor(settings.redact_patterns, settings.redact_defaults)
        self._api_key = api_key
        self._policy = policy or UrlPolicy()
        self.provider = provider or build_provider(
            settings.provider, api_key, settings.model, settings.base_url, settings.max_tokens, self._policy
        )
        self.cache = EnrichmentCache(
            settings.cache_size, settings.cache_ttl, redis_url, metrics.cache_lookups
        )
        cb = settings.circuit_breaker
        self.guard = Guard(cb.failures, cb.cooldown, settings.tokens_per_hour)
        self._slots = asyncio.Semaphore(settings.max_concurrency)
        self._by_fingerprint: OrderedDict[int, Enrichment] = OrderedDict()
        self.sinks = tuple(sinks)

    @classmethod
    async def create(
        cls,
        settings: AISettings,
        metrics: EnrichMetrics,
        redis_url: str | None,
        sinks: Sequence[EnrichmentSink] = (),
    ) -> Enricher:
        return cls(settings, metrics, redis_url, api_key=await read_key(settings), sinks=sinks)

    def same(self, settings: AISettings, key: str, policy: UrlPolicy) -> bool:
        """Whether this enricher serves ``settings`` with ``key`` under the outbound ``policy``
        (a reload can keep it)."""
        return settings == self.settings and key == self._api_key and policy == self._policy

    async def close(self) -> None:
        await self.provider.close()
        await self.cache.close()

    def lookup(self, fingerprint: int) -> Enrichment | None:
        return self._by_fingerprint.get(fingerprint)

    def _keep(self, alerts: Sequence[Alert], enrichment: Enrichment) -> None:
        for a in alerts:
            self._by_fingerprint[a.fingerprint] = enrichment
            self._by_fingerprint.move_to_end(a.fingerprint)
        while len(self._by_fingerprint) > _KEPT:
            self._by_fingerprint.popitem(last=False)

    async def enrich(self, alerts: Sequence[Alert], now: int) -> dict[int, Enrichment]:
        """Enrichment per fingerprint for a group (or per alert with ``ai.per_alert``); within
        ``ai.timeout`` whatever happens."""
        if not self.enabled or not alerts:
            return {}
        groups = [[a] for a in alerts] if self.settings.per_alert else [list(alerts)]
        results = await asyncio.gather(*(self._one(g, now) for g in groups))
        out: dict[int, Enrichment] = {}
        for group, enrichment in zip(groups, results, strict=True):
            if enrichment is not None:
                self._keep(group, enrichment)
                if not enrichment.cached:
                    for sink in self.sinks:
                        sink.alerts_enriched(group, enrichment)
                out.update(dict.fromkeys((a.fingerprint for a in group), enrichment))
        return out

    async def _one(self, alerts: list[Alert], now: int) -> Enrichment | None:
        deadline = time.monotonic() + self.settings.timeout
        key = prompt.content_key(alerts, self.redact, now, self.provider.model)
        try:
            async with asyncio.timeout(self.settings.timeout):
                cached = await self.cache.get(key)
                if cached is not None:
                    self.metrics.enrichments.labels("cache", "").inc()
                    return replace(cached, cached=True)
                return await self._ask(alerts, now, key, deadline)
        except TimeoutError:
            return self._fallback(alerts, "timeout")

    async def _ask(self, alerts: list[Alert], now: int, key: str, deadline: float) -> Enrichment | None:
        refusal = self.guard.refusal()
        self.metrics.circuit.set(self.guard.state)
        if refusal:
            return self._fallback(alerts, refusal)
        p, m = self.provider.name, self.provider.model
        user = prompt.user_prompt(alerts, self.redact, now)
        async with self._slots:
            for attempt in (1, 2):
                started = time.monotonic()
                try:
                    with tracing.span(f"chat {m}", _llm_attributes(p, m), client=True) as span:
                        answer = await self.provider.complete(
                            prompt.SYSTEM, user, max(deadline - started, 0.05)
                        )
                        span.set_attribute("gen_ai.usage.input_tokens", answer.input_tokens)
                        span.set_attribute("gen_ai.usage.output_tokens", answer.output_tokens)
                except ProviderError as e:
                    self.metrics.requests.labels(p, m, e.kind).inc()
                    self.metrics.latency.labels(p, m).observe(time.monotonic() - started)
                    self.guard.failed(e.retry_after)
                    self.metrics.circuit.set(self.guard.state)
                    log.warning("enrichment: %s %s failed: %s", p, m, e)
                    return self._fallback(alerts, e.kind)
                except InvalidAnswer as e:  # text that is not JSON
                    self.metrics.latency.labels(p, m).observe(time.monotonic() - started)
                    self.metrics.requests.labels(p, m, "invalid").inc()
                    log.warning(
                        "enrichment: %s %s answered invalid output (attempt %d): %s", p, m, attempt, e
                    )
                    continue
                self.metrics.latency.labels(p, m).observe(time.monotonic() - started)
                self._count_tokens(answer.input_tokens, answer.output_tokens)
                try:
                    enrichment = parse_answer(answer.data, p, m)
                except InvalidAnswer as e:
                    self.metrics.requests.labels(p, m, "invalid").inc()
                    self.guard.spent(answer.input_tokens + answer.output_tokens)
                    log.warning(
                        "enrichment: %s %s answered invalid output (attempt %d): %s", p, m, attempt, e
                    )
                    continue
                self.metrics.requests.labels(p, m, "ok").inc()
                self.guard.succeeded(answer.input_tokens + answer.output_tokens)
                self.metrics.circuit.set(self.guard.state)
                self.metrics.enrichments.labels("llm", "").inc()
                await self.cache.put(key, enrichment)
                return enrichment
        return self._fallback(alerts, "invalid_output")

    def _count_tokens(self, given: int, taken: int) -> None:
        p, m = self.provider.name, self.provider.model
        self.metrics.tokens.labels(p, m, "input").inc(given)
        self.metrics.tokens.labels(p, m, "output").inc(taken)
        s = self.settings
        cost = (
            given * (s.price_per_1k_input_tokens or 0) + taken * (s.price_per_1k_output_tokens or 0)
        ) / 1000
        if cost:
            self.metrics.cost.labels(p, m).inc(cost)

    def not_enriched(self, alerts: Sequence[Alert], reason: str) -> None:
        """The alerts go on without an enrichment (``reason``: timeout, circuit_open, ...)."""
        for sink in self.sinks:
            try:
                sink.alerts_not_enriched(alerts, reason)
            except Exception:
                log.exception("enrichment sink failed")

    def _fallback(self, alerts: list[Alert], reason: str) -> Enrichment | None:
        if not self.settings.fallback_enabled:
            self.metrics.enrichments.labels("none", reason).inc()
            self.not_enriched(alerts, reason)
            return None
        self.metrics.enrichments.labels("fallback", reason).inc()
        return fallback.classify(alerts, self.provider.name, self.provider.model, reason)
