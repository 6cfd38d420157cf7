"""The extended config.yaml sections beyond alerting: server, storage, cache, ai, metrics, ...

Every field has a default, so an alertmanager.yml (the alerting section alone) runs unchanged;
command-line flags override what a file sets.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

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


class AISettings(StrictModel):
    enabled: bool = False
    provider: str = "openai"
    """openai, anthropic, openrouter or any OpenAI-compatible server (``base_url``)."""
    base_url: str | None = None
    api_key: SecretStr | None = None
    model: str | None = None
    timeout: Duration = 10
    daily_budget_usd: float | None = None


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
    "server", "storage", "cache", "notify", "ai", "alerting", "metrics", "logging", "tracing",
)  # fmt: skip
