"""The extended config.yaml sections beyond alerting: server, storage, cache, ai, metrics, ...

Every field has a default, so an alertmanager.yml (the alerting section alone) runs unchanged;
command-line flags override what a file sets.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from .base import Duration, SecretStr, StrictModel


class ServerSettings(StrictModel):
    listen_address: str | None = None
    """Where the HTTP API listens (``--web.listen-address``)."""
    external_url: str | None = None
    """The URL users reach the engine at (``--web.external-url``)."""
    route_prefix: str | None = None
    """Path prefix for every endpoint (``--web.route-prefix``)."""


class StorageSettings(StrictModel):
    backend: str = "sqlite"
    """``sqlite`` (embedded, under ``path``) or ``postgres``."""
    path: str | None = None
    """SQLite's folder (``--storage.path``)."""
    url: SecretStr | None = None
    """A PostgreSQL URL; takes precedence over the host/port/... fields."""
    host: str = "localhost"
    port: int = 5432
    database: str = "alertmanager"
    user: str = "alertmanager"
    password: SecretStr | None = None
    max_connections: int = 10
    max_idle: int = 2
    retention: Duration = 30 * 86400
    """How long history events are kept."""
    cleanup_interval: Duration = 3600
    """How often expired history is deleted, in bounded batches."""


class CacheSettings(StrictModel):
    url: SecretStr | None = None
    """A Redis URL for the shared L2 cache; unset means in-process only."""
    ttl: Duration = 30
    l1_size: int = 1024


PositiveDuration = Annotated[Duration, Field(gt=0)]


class NotifySettings(StrictModel):
    """The durable delivery queue (ampp.notify.queue): its workers, retries and dead letters."""

    workers: Annotated[int, Field(ge=1, le=1000)] = 10
    """Notifications this instance sends at once (``--notify.workers``)."""
    max_attempts: Annotated[int, Field(ge=1)] = 25
    """The retry budget: attempts before a notification becomes a dead letter. 25 attempts with
    the default backoff take about 15 minutes, the budget of the backoff Alertmanager uses."""
    initial_backoff: PositiveDuration = 0.5
    """Wait after the first failed attempt; each further one waits ``backoff_multiplier`` more."""
    backoff_multiplier: Annotated[float, Field(ge=1)] = 1.5
    max_backoff: PositiveDuration = 60
    jitter: Annotated[float, Field(ge=0, le=1)] = 0.5
    """Each wait is randomized by this fraction either way, so retries of many groups spread."""
    max_retry_after: Duration = 300
    """A vendor's Retry-After (HTTP 429) is honoured up to this long."""
    attempt_timeout: PositiveDuration = 60
    """One attempt that takes longer fails (retryably)."""
    lease: PositiveDuration | None = None
    """How long a claimed notification is reserved for its replica before another one may take
    it over (default: attempt_timeout + 30s). Only a dead replica's claims ever expire."""
    poll_interval: PositiveDuration = 1
    """How often the queue is looked at for work nobody announced (other replicas' retries,
    expired leases); new notifications and local retries wake the workers at once."""

    @model_validator(mode="after")
    def _lease_outlives_an_attempt(self) -> NotifySettings:
        if self.lease is not None and self.lease <= self.attempt_timeout:
            # A lease running out mid-attempt lets another replica send the same notification.
            raise ValueError("lease must be longer than attempt_timeout")
        return self


class CircuitBreakerSettings(StrictModel):
    failures: Annotated[int, Field(ge=1)] = 5
    """Consecutive failed calls that open the breaker: no calls (fallback answers) until..."""
    cooldown: PositiveDuration = 30
    """...this long has passed; then one probe call decides whether it closes again."""


def _pattern(value: str) -> str:
    import re

    try:
        re.compile(value)
    except re.error as e:
        raise ValueError(f"invalid regular expression {value!r}: {e}") from None
    return value


Pattern = Annotated[str, AfterValidator(_pattern)]


class AISettings(StrictModel):
    """Enrichment of alert groups by an LLM of the user's own key (ampp.enrich)."""

    enabled: bool = False
    provider: str = "openai"
    """openai, anthropic, openrouter, or any name for an OpenAI-compatible server at ``base_url``
    (Ollama, vLLM, LiteLLM)."""
    base_url: str | None = None
    api_key: SecretStr | None = None
    """The key itself (``${LLM_API_KEY}`` takes it from the environment)."""
    api_key_file: str | None = None
    """A file holding the key (a mounted Kubernetes Secret); read at each (re)load."""
    model: str | None = None
    """Default: gpt-4o-mini (openai), openai/gpt-4o-mini (openrouter), claude-3-5-haiku-latest."""
    timeout: PositiveDuration = 10
    """The most a notification waits for its enrichment; past it, it goes without (or with the
    fallback's)."""
    cache_ttl: PositiveDuration = 3600
    fallback_enabled: bool = True
    """Answer with the rule-based classification when the provider cannot."""
    max_concurrency: Annotated[int, Field(ge=1, le=256)] = 4
    """Provider calls in flight at once."""
    tokens_per_hour: Annotated[int, Field(ge=1)] | None = None
    """Token budget (input + output) per rolling hour; past it the fallback answers."""
    max_tokens: Annotated[int, Field(ge=16)] = 400
    """The most output tokens one answer may take."""
    circuit_breaker: CircuitBreakerSettings = CircuitBreakerSettings()
    redact_defaults: bool = True
    """Redact tokens, passwords and e-mail addresses from prompts."""
    redact_patterns: list[Pattern] = []
    """More regular expressions whose matches never leave the process."""
    per_alert: bool = False
    """Enrich each alert of a group on its own (more calls) instead of the group as one."""
    cache_size: Annotated[int, Field(ge=1)] = 10_000
    """Entries of the in-process (L1) cache; Redis (cache.url) is the shared L2."""
    price_per_1k_input_tokens: Annotated[float, Field(ge=0)] | None = None
    price_per_1k_output_tokens: Annotated[float, Field(ge=0)] | None = None
    """USD per 1,000 tokens, for ``ampp_ai_cost_usd_total`` (unset: no cost is counted)."""

    @model_validator(mode="after")
    def _known_provider(self) -> AISettings:
        if self.provider not in ("openai", "anthropic", "openrouter") and not self.base_url:
            raise ValueError(
                f"provider {self.provider!r} needs a base_url (openai, anthropic and openrouter do not)"
            )
        if self.api_key is not None and self.api_key_file is not None:
            raise ValueError("set api_key or api_key_file, not both")
        return self


def _expression(value: str) -> str:
    from .expressions import compile_expression

    compile_expression(value)  # raises ValueError naming what is wrong
    return value


Expression = Annotated[str, AfterValidator(_expression)]
"""A webhook mapping expression: ``$.json.path``, a ``{{ jinja2 }}`` template, or a literal."""


class WebhookSource(StrictModel):
    """How one source's JSON becomes alerts (``/webhook/{name}`` or the X-Ampp-Source header)."""

    items: Expression | None = None
    """A JSONPath to the list of alerts in the body; the whole body is one alert without it."""
    labels: dict[str, Expression]
    """Label name to expression; ``alertname`` is required."""
    annotations: dict[str, Expression] = {}
    status: Expression | None = None
    """resolved/ok/closed/recovered/up/... resolve the alert; anything else fires it."""
    starts_at: Expression | None = None
    ends_at: Expression | None = None
    generator_url: Expression | None = None
    event_id: Expression | None = None
    """The sender's delivery id: a second request with the same id is not applied again."""

    @model_validator(mode="after")
    def _alertname(self) -> WebhookSource:
        if "alertname" not in self.labels:
            raise ValueError("labels must map alertname")
        return self


class SNSSettings(StrictModel):
    verify_signatures: bool = True
    """Check each message's signature against the certificate at its SigningCertURL."""
    signing_cert_url: str = r"^https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/"
    """Where a SigningCertURL may point (a regular expression): a certificate from anywhere
    else is refused, so nobody can sign messages with a certificate of their own."""
    ca_file: str | None = None
    """PEM file of the CAs that must have issued the signing certificate (unset: the
    certificate's own signature and validity are checked, and its URL as above)."""
    confirm_subscriptions: bool = True
    """Visit the SubscribeURL of a (verified) SubscriptionConfirmation."""
    subscribe_url: str = r"^https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/"
    """Where a SubscribeURL may point (a regular expression)."""


def _matcher(value: str) -> str:
    from .matchers import MatcherParseError, parse_matcher

    try:
        parse_matcher(value)
    except MatcherParseError as e:
        raise ValueError(f"invalid matcher {value!r}: {e}") from None
    return value


MatcherText = Annotated[str, AfterValidator(_matcher)]


class ProxySettings(StrictModel):
    """``POST /webhook/proxy``: enrichment in front of existing receivers, outside the routing tree."""

    targets: list[str] = []
    """Receivers (of alerting.receivers) every accepted alert is published to."""
    drop: list[MatcherText] = []
    """Alerts matching any of these matchers (``severity="info"``) are not published."""
    silences: bool = True
    """Silenced alerts are not published either."""
    repeat_interval: PositiveDuration = 4 * 3600
    """A proxied notification already sent is not sent again for this long (as a route's)."""


class WebhookSettings(StrictModel):
    """``POST /webhook``: vendor formats, configured sources, limits."""

    sources: dict[str, WebhookSource] = {}
    event_resolve_timeout: PositiveDuration = 24 * 3600
    """Firing alerts from senders that do not repeat them at every evaluation (all but
    Prometheus' PostableAlerts) resolve after this long unless they are resolved or sent again;
    keep it above the senders' repeat intervals. Alertmanager's resolve_timeout applies to
    Prometheus' alerts."""
    max_body_bytes: Annotated[int, Field(ge=1024)] = 4 * 1024 * 1024
    """A larger body is answered 413."""
    idempotency_ttl: PositiveDuration = 24 * 3600
    """How long an Idempotency-Key (or a vendor's delivery id) is remembered."""
    idempotency_keys: Annotated[int, Field(ge=0)] = 100_000
    """How many are remembered at most (the oldest are forgotten first)."""
    sns: SNSSettings = SNSSettings()
    proxy: ProxySettings = ProxySettings()


class MetricsSettings(StrictModel):
    enabled: bool = True
    path: str = "/metrics"


class LoggingSettings(StrictModel):
    level: str = "info"
    format: str = "logfmt"


class TracingSettings(StrictModel):
    enabled: bool = False
    endpoint: str | None = None
    sample_rate: Annotated[float, Field(ge=0, le=1)] = 0.1


EXTENDED_SECTIONS = (
    "server", "storage", "cache", "notify", "ai", "webhook", "alerting", "metrics", "logging", "tracing",
    "auth", "security",
)  # fmt: skip
