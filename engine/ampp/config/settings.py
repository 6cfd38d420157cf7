"""The extended config.yaml sections beyond alerting: server, storage, cache, ai, metrics, ...

Every field has a default, so an alertmanager.yml (the alerting section alone) runs unchanged;
command-line flags override what a file sets.
"""

from __future__ import annotations

import re
import socket
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import quote, urlsplit

from pydantic import AfterValidator, Field, field_validator, model_validator

from .base import Duration, Secret, SecretStr, StrictModel


class Settings(StrictModel):
    """A block of the engine's own settings: each field's docstring is its description, which
    the README's config reference is generated from (``python -m ampp.config.reference``)."""

    aliases: ClassVar[dict[str, str]] = {}
    """Other spellings of keys (the README's older ones): ``old: new``."""

    @model_validator(mode="before")
    @classmethod
    def _spellings(cls, data: Any) -> Any:
        return cls.canonical(data)

    @classmethod
    def canonical(cls, data: Any) -> Any:
        """The block with every key in the specification's spelling."""
        return data


PositiveDuration = Annotated[Duration, Field(gt=0)]
NonNegativeDuration = Annotated[Duration, Field(ge=0)]


def _renamed(data: Any, names: dict[str, str], where: str) -> Any:
    """Accept the README's older spelling of a key next to the specification's: ``old: new``.
    Both at once is refused, naming both."""
    if not isinstance(data, dict) or not any(old in data for old in names):
        return data
    out = dict(data)
    for old, new in names.items():
        if old in out:
            if new in out:
                raise ValueError(f"{where}{old} and {where}{new} are the same setting: set one of them")
            out[new] = out.pop(old)
    return out


def _with_scheme(value: Secret | None, schemes: str) -> Secret | None:
    """``value`` if its URL scheme is one of ``schemes`` (``"a://, b://"``), else ValueError."""
    allowed = {s.split(":", 1)[0] for s in schemes.replace(" or ", ", ").split(", ")}
    if value and urlsplit(value).scheme not in allowed:
        raise ValueError(f"must be a {schemes} URL")
    return value


class ServerSettings(Settings):
    """The HTTP server. Set at start: a reload that changes it is logged and needs a restart."""

    aliases: ClassVar[dict[str, str]] = {"listen_address": "address"}

    address: str = ":9093"
    """Where the API listens, ``host:port`` (``--web.listen-address``)."""
    external_url: str | None = None
    """The URL users reach the engine at, for links in notifications (``--web.external-url``)."""
    route_prefix: str | None = None
    """Path prefix of every endpoint (``--web.route-prefix``; default: external_url's path)."""
    read_timeout: NonNegativeDuration = 0
    """The most a request's body may take to arrive; a slower one is answered 408 and its
    connection closed. 0: no limit (Alertmanager sets none)."""
    write_timeout: NonNegativeDuration = 0
    """The most a request may take to be answered (as ``--web.timeout``); a slower one is
    answered 503. The event stream (``/api/ampp/v1/events``) is exempt. 0: no limit."""
    shutdown_timeout: PositiveDuration = 30
    """On SIGTERM, the most the server waits for requests in flight before it closes their
    connections."""

    @classmethod
    def canonical(cls, data: Any) -> Any:
        """The section with every key in the specification's spelling."""
        return _renamed(data, cls.aliases, "server.")

    def public_url(self) -> str:
        """external_url without a trailing slash, or this host at the listening port (as
        Alertmanager defaults ``--web.external-url``)."""
        external = self.external_url
        if not external:
            port = self.address.rsplit(":", 1)[-1] if ":" in self.address else "80"
            external = f"http://{socket.gethostname()}:{port}/"
        parts = urlsplit(external)
        path = parts.path.rstrip("/")
        if path and not path.startswith("/"):
            path = "/" + path
        return f"{parts.scheme}://{parts.netloc}{path}"

    @field_validator("address")
    @classmethod
    def _host_port(cls, value: str) -> str:
        _, sep, port = value.rpartition(":")
        if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError(f"{value!r} is not host:port (for example :9093 or 0.0.0.0:9093)")
        return value

    @field_validator("route_prefix")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        if value and not value.startswith("/"):
            raise ValueError(f"{value!r} must start with /")
        return value


class PostgresSettings(Settings):
    """The PostgreSQL server (``storage.type: postgresql``), unless ``storage.url`` names one."""

    host: str = "localhost"
    """The server's host name or address."""
    port: Annotated[int, Field(ge=1, le=65535)] = 5432
    """The server's port."""
    database: str = "alertmanager"
    """The database (created beforehand; the schema is migrated on start)."""
    user: str = "alertmanager"
    """The role connected as: it needs to create tables in the database."""
    password: SecretStr | None = None
    """The role's password (``${DB_PASSWORD}`` takes it from the environment)."""
    max_connections: Annotated[int, Field(ge=1)] = 10
    """The connection pool's size."""
    max_idle: Annotated[int, Field(ge=0)] = 2
    """Connections opened at start and kept open while idle (at most max_connections)."""


class SQLiteSettings(Settings):
    """The embedded store (``storage.type: sqlite``)."""

    path: str = "data/"
    """The folder of its files, ``ampp.db`` and ``history.db`` (``--storage.path``)."""


_PG_FIELDS = ("host", "port", "database", "user", "password", "max_connections", "max_idle")


class StorageSettings(Settings):
    """Where state and history are kept: SQLite under a folder, or PostgreSQL."""

    aliases: ClassVar[dict[str, str]] = {"backend": "type"}

    type: Literal["sqlite", "postgresql"] = "sqlite"
    """``sqlite`` (embedded) or ``postgresql`` (``postgres`` is accepted too)."""
    url: SecretStr | None = None
    """A PostgreSQL URL (``--storage.url``); when set it is used whatever ``type`` says."""
    postgresql: PostgresSettings = PostgresSettings()
    """The PostgreSQL server (``type: postgresql``)."""
    sqlite: SQLiteSettings = SQLiteSettings()
    """The embedded store (``type: sqlite``)."""
    retention: PositiveDuration = 30 * 86400
    """How long history events are kept."""
    cleanup_interval: PositiveDuration = 3600
    """How often expired history is deleted, in bounded batches."""

    @classmethod
    def canonical(cls, data: Any) -> Any:
        """The README's flat form (``backend: postgres``, ``host: ...``, ``path: ...``) is the
        specification's nested one spelled differently."""
        data = _renamed(data, cls.aliases, "storage.")
        if not isinstance(data, dict):
            return data
        out = dict(data)
        if out.get("type") == "postgres":
            out["type"] = "postgresql"
        for block, fields in (("postgresql", _PG_FIELDS), ("sqlite", ("path",))):
            flat = {k: out.pop(k) for k in fields if k in out}
            if not flat:
                continue
            nested = out.get(block)
            if nested is None:
                nested = {}
            if not isinstance(nested, dict):
                continue  # the block's own validation says what is wrong
            both = sorted(set(flat) & set(nested))
            if both:
                raise ValueError(
                    f"storage.{both[0]} and storage.{block}.{both[0]} are the same setting: set one of them"
                )
            out[block] = {**nested, **flat}
        return out

    @field_validator("url")
    @classmethod
    def _store_url(cls, value: Secret | None) -> Secret | None:
        return _with_scheme(value, "postgresql://, postgres:// or sqlite:///")

    @property
    def uses_postgres(self) -> bool:
        if self.url:
            return urlsplit(self.url).scheme != "sqlite"
        return self.type == "postgresql"


class CacheSettings(Settings):
    """Caching of history and report answers (and of enrichments): in-process, plus Redis when
    an address or URL is given (shared by replicas)."""

    enabled: bool = True
    """false: no cache at all, every query is answered by storage."""
    address: str | None = None
    """Redis as ``host:port`` (with ``password`` and ``db``)."""
    password: SecretStr | None = None
    """Redis' password (AUTH)."""
    db: Annotated[int, Field(ge=0)] = 0
    """The Redis database number."""
    url: SecretStr | None = None
    """Redis as a URL (``--cache.url``, ``redis://:password@host:6379/0``, ``rediss://`` for TLS);
    takes precedence over address/password/db."""
    ttl: PositiveDuration = 30
    """How long an answer is reused. Answers are keyed by the history's write counter, so no
    cached answer predates a write by more than this."""
    l1_size: Annotated[int, Field(ge=1)] = 1024
    """Answers held in process."""

    @field_validator("address")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\[?[^\s/]*\]?:\d{1,5}", value):
            raise ValueError(f"{value!r} is not host:port (for example localhost:6379)")
        return value

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: Secret | None) -> Secret | None:
        return _with_scheme(value, "redis://, rediss:// or unix://")

    def redis_url(self) -> str | None:
        """Where Redis is, or None for in-process caching only."""
        if not self.enabled:
            return None
        if self.url:
            return str(self.url)
        if self.address:
            auth = f":{quote(str(self.password), safe='')}@" if self.password else ""
            return f"redis://{auth}{self.address}/{self.db}"
        return None


class NotifySettings(Settings):
    """The durable delivery queue (ampp.notify.queue): its workers, retries and dead letters."""

    workers: Annotated[int, Field(ge=1, le=1000)] = 10
    """Notifications this instance sends at once (``--notify.workers``)."""
    max_attempts: Annotated[int, Field(ge=1)] = 25
    """The retry budget: attempts before a notification becomes a dead letter. 25 attempts with
    the default backoff take about 15 minutes, the budget of the backoff Alertmanager uses."""
    initial_backoff: PositiveDuration = 0.5
    """Wait after the first failed attempt; each further one waits ``backoff_multiplier`` more."""
    backoff_multiplier: Annotated[float, Field(ge=1)] = 1.5
    """Each wait after a failed attempt is this many times the one before."""
    max_backoff: PositiveDuration = 60
    """The longest wait between two attempts."""
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


class CircuitBreakerSettings(Settings):
    failures: Annotated[int, Field(ge=1)] = 5
    """Consecutive failed calls that open the breaker: no calls (fallback answers) until..."""
    cooldown: PositiveDuration = 30
    """...this long has passed; then one probe call decides whether it closes again."""


def _pattern(value: str) -> str:
    try:
        re.compile(value)
    except re.error as e:
        raise ValueError(f"invalid regular expression {value!r}: {e}") from None
    return value


Pattern = Annotated[str, AfterValidator(_pattern)]


class AISettings(Settings):
    """Enrichment of alert groups by an LLM of the user's own key (ampp.enrich)."""

    enabled: bool = False
    """Enrich each notification's alerts with an LLM's classification."""
    provider: str = "openai"
    """openai, anthropic, openrouter, or any name for an OpenAI-compatible server at ``base_url``
    (Ollama, vLLM, LiteLLM)."""
    base_url: str | None = None
    """An OpenAI-compatible server's API root (``http://ollama:11434/v1``); default: the provider's."""
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
    """How long an enrichment is reused for the same alerts (in process and in Redis)."""
    fallback_enabled: bool = True
    """Answer with the rule-based classification when the provider cannot."""
    max_concurrency: Annotated[int, Field(ge=1, le=256)] = 4
    """Provider calls in flight at once."""
    tokens_per_hour: Annotated[int, Field(ge=1)] | None = None
    """Token budget (input + output) per rolling hour; past it the fallback answers."""
    max_tokens: Annotated[int, Field(ge=16)] = 400
    """The most output tokens one answer may take."""
    circuit_breaker: CircuitBreakerSettings = CircuitBreakerSettings()
    """Stop calling a failing provider for a while."""
    redact_defaults: bool = True
    """Redact tokens, passwords and e-mail addresses from prompts."""
    redact_patterns: list[Pattern] = []
    """More regular expressions whose matches never leave the process."""
    per_alert: bool = False
    """Enrich each alert of a group on its own (more calls) instead of the group as one."""
    cache_size: Annotated[int, Field(ge=1)] = 10_000
    """Entries of the in-process (L1) cache; Redis (cache.url) is the shared L2."""
    price_per_1k_input_tokens: Annotated[float, Field(ge=0)] | None = None
    """USD per 1,000 input tokens, for ``ampp_ai_cost_usd_total`` (unset: no cost is counted)."""
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


class WebhookSource(Settings):
    """How one source's JSON becomes alerts (``/webhook/{name}`` or the X-Ampp-Source header)."""

    items: Expression | None = None
    """A JSONPath to the list of alerts in the body; the whole body is one alert without it."""
    labels: dict[str, Expression]
    """Label name to expression; ``alertname`` is required."""
    annotations: dict[str, Expression] = {}
    """Annotation name to expression."""
    status: Expression | None = None
    """resolved/ok/closed/recovered/up/... resolve the alert; anything else fires it."""
    starts_at: Expression | None = None
    """When the alert started: RFC 3339 or epoch seconds/milliseconds (default: now)."""
    ends_at: Expression | None = None
    """When it ends or ended, likewise."""
    generator_url: Expression | None = None
    """A link back to the sender."""
    event_id: Expression | None = None
    """The sender's delivery id: a second request with the same id is not applied again."""

    @model_validator(mode="after")
    def _alertname(self) -> WebhookSource:
        if "alertname" not in self.labels:
            raise ValueError("labels must map alertname")
        return self


class SNSSettings(Settings):
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
    from ..model.matchers import MatcherParseError, parse_matcher

    try:
        parse_matcher(value)
    except MatcherParseError as e:
        raise ValueError(f"invalid matcher {value!r}: {e}") from None
    return value


MatcherText = Annotated[str, AfterValidator(_matcher)]


class ProxySettings(Settings):
    """``POST /webhook/proxy``: enrichment in front of existing receivers, outside the routing tree."""

    targets: list[str] = []
    """Receivers (of alerting.receivers) every accepted alert is published to."""
    drop: list[MatcherText] = []
    """Alerts matching any of these matchers (``severity="info"``) are not published."""
    silences: bool = True
    """Silenced alerts are not published either."""
    repeat_interval: PositiveDuration = 4 * 3600
    """A proxied notification already sent is not sent again for this long (as a route's)."""


class WebhookSettings(Settings):
    """``POST /webhook``: vendor formats, configured sources, limits."""

    sources: dict[str, WebhookSource] = {}
    """Named mappings of any JSON to alerts, for ``/webhook/{name}`` (see above)."""
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
    """Amazon SNS messages: signatures and subscriptions."""
    proxy: ProxySettings = ProxySettings()
    """``POST /webhook/proxy``."""


class MetricsSettings(Settings):
    """The engine's own Prometheus metrics."""

    enabled: bool = True
    """false: no metrics endpoint (404)."""
    path: str = "/metrics"
    """Where they are served, under the route prefix."""

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/") or value == "/" or any(c in value for c in "?#{} "):
            raise ValueError(f"{value!r} must be a path such as /metrics (not /, no query, no braces)")
        return value


LogLevel = Literal["debug", "info", "warn", "error"]
LogFormat = Literal["logfmt", "json"]


class LoggingSettings(Settings):
    """The engine's log: one line per event on stderr (``--log.level``, ``--log.format``)."""

    level: LogLevel = "info"
    """debug, info, warn or error (``warning`` is accepted for warn)."""
    format: LogFormat = "logfmt"
    """logfmt or json; ``text`` is accepted for logfmt, Alertmanager's text format."""

    @field_validator("level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> Any:
        return "warn" if value == "warning" else value

    @field_validator("format", mode="before")
    @classmethod
    def _format(cls, value: Any) -> Any:
        return "logfmt" if value == "text" else value


JAEGER_LEGACY_PORTS = {
    "6831": "its agent's Thrift compact protocol (UDP)",
    "6832": "its agent's Thrift binary protocol (UDP)",
    "14268": "its collector's Thrift over HTTP",
    "14250": "its collector's model.proto over gRPC",
}
"""Jaeger's own protocols, which this engine does not speak: Jaeger (1.35 and later) ingests
OTLP on 4317 (gRPC) and 4318 (HTTP), which is what ``provider: jaeger`` sends."""


class TracingSettings(Settings):
    """OpenTelemetry traces: one per alert batch from ingest through dispatch, each notification
    attempt and each LLM call, exported over OTLP. Off: nothing is loaded, nothing is measured."""

    enabled: bool = False
    """Export traces."""
    provider: Literal["otlp", "jaeger"] = "otlp"
    """Where traces go: any OTLP receiver (an OpenTelemetry Collector, Tempo, ...) or Jaeger,
    which ingests OTLP natively; both are sent OTLP."""
    endpoint: str | None = None
    """The receiver: ``host:port`` or a URL. Default: localhost:4317 over gRPC, or
    http://localhost:4318/v1/traces over HTTP. A URL path is kept as given for HTTP."""
    protocol: Literal["grpc", "http"] = "grpc"
    """OTLP over gRPC or over HTTP (protobuf)."""
    insecure: bool = True
    """gRPC without TLS to a ``host:port`` endpoint (an https:// endpoint always uses TLS)."""
    headers: dict[str, SecretStr] = {}
    """Sent with every export, e.g. an ``authorization`` token for a hosted backend."""
    sample_rate: Annotated[float, Field(ge=0, le=1)] = 0.1
    """The fraction of traces started here that are kept; a request carrying a W3C
    ``traceparent`` keeps its caller's decision."""
    service_name: str = "alertmanager-plusplus"
    """``service.name`` of the spans."""
    timeout: PositiveDuration = 10
    """The most one export may take."""

    @model_validator(mode="after")
    def _speaks_otlp(self) -> TracingSettings:
        if self.enabled:  # off, the specification's example (a Jaeger agent port) is left alone
            self._check_endpoint()
        return self

    def target(self) -> tuple[str, bool]:
        """Where spans are exported: the URL (HTTP) or ``host:port`` (gRPC), and whether over TLS."""
        e = self.endpoint
        if self.protocol == "http":
            if not e:
                return "http://localhost:4318/v1/traces", False
            url = e if "://" in e else f"http://{e}"
            parts = urlsplit(url)
            if parts.path in ("", "/"):
                url = url.rstrip("/") + "/v1/traces"
            return url, parts.scheme == "https"
        if not e:
            return "localhost:4317", not self.insecure
        if "://" in e:
            parts = urlsplit(e)
            return parts.netloc, parts.scheme == "https"
        return e, not self.insecure

    def _check_endpoint(self) -> None:
        if not self.endpoint:
            return
        parts = urlsplit(self.endpoint if "://" in self.endpoint else f"//{self.endpoint}")
        if "://" in self.endpoint and parts.scheme not in ("http", "https"):
            raise ValueError(f"endpoint {self.endpoint!r}: the scheme must be http or https")
        try:
            port = str(parts.port or "")
        except ValueError:
            raise ValueError(f"endpoint {self.endpoint!r} has an invalid port") from None
        if not parts.hostname:
            raise ValueError(f"endpoint {self.endpoint!r} has no host")
        if port in JAEGER_LEGACY_PORTS:
            raise ValueError(
                f"endpoint {self.endpoint!r}: port {port} is Jaeger's {JAEGER_LEGACY_PORTS[port]}, which "
                "this engine does not speak; Jaeger ingests OTLP on 4317 (protocol: grpc) and 4318 "
                "(protocol: http): point the endpoint at one of those"
            )


EXTENDED_SECTIONS = (
    "server", "storage", "cache", "notify", "ai", "webhook", "alerting", "metrics", "logging", "tracing",
    "auth", "security",
)  # fmt: skip
