"""The extended config.yaml sections beyond alerting: server, storage, cache, ai, metrics, ...

Every field has a default, so an alertmanager.yml (the alerting section alone) runs unchanged;
command-line flags override what a file sets.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

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


EXTENDED_SECTIONS = ("server", "storage", "cache", "ai", "alerting", "metrics", "logging", "tracing")
