"""The enrichment's metrics: requests, errors, latency, tokens and cost per provider and model,
cache lookups per tier, and the breaker's state."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class EnrichMetrics:
    def __init__(self, r: CollectorRegistry) -> None:
        self.requests = Counter(
            "ampp_ai_requests",
            "Calls to the LLM provider by outcome (ok, invalid, rate_limited, server, timeout, ...).",
            ["provider", "model", "outcome"],
            registry=r,
        )
        self.latency = Histogram(
            "ampp_ai_request_duration_seconds",
            "Duration of calls to the LLM provider.",
            ["provider", "model"],
            buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
            registry=r,
        )
        self.tokens = Counter(
            "ampp_ai_tokens", "Tokens used, input and output.", ["provider", "model", "kind"], registry=r
        )
        self.cost = Counter(
            "ampp_ai_cost_usd",
            "Cost of the tokens used, at the configured prices.",
            ["provider", "model"],
            registry=r,
        )
        self.enrichments = Counter(
            "ampp_ai_enrichments",
            "Enrichments made, by source (llm, cache, fallback) and, for the fallback, why.",
            ["source", "reason"],
            registry=r,
        )
        self.cache_lookups = Counter(
            "ampp_ai_cache_lookups",
            "Enrichment cache lookups by tier (l1, l2) and result.",
            ["tier", "result"],
            registry=r,
        )
        self.circuit = Gauge(
            "ampp_ai_circuit_state",
            "The provider's circuit breaker: 0 closed, 1 open, 2 half-open.",
            registry=r,
        )
