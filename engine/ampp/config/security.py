"""config.yaml's ``auth:`` and ``security:`` sections: who may call the API, and the defaults
that protect it (headers, CORS, size and rate limits, the outbound URL policy).

With no ``auth:`` section the API is open, as Alertmanager's is (the drop-in promise); the
``security:`` defaults (headers, CORS off, size limits, the outbound policy) apply either way.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .base import URL, Duration, SecretStr, StrictModel

NOT_BCRYPT = "not a bcrypt hash (htpasswd -nBC 10 \"\" | tr -d ':\\n' makes one)"


def is_bcrypt_hash(value: bytes) -> bool:
    """Whether ``value`` has the form of a bcrypt hash ($2a$/$2b$/$2y$, cost 4-31)."""
    parts = value.split(b"$")
    valid = len(parts) == 4 and parts[1] in (b"2a", b"2b", b"2y") and parts[2].isdigit()
    return valid and 4 <= int(parts[2]) <= 31 and len(parts[3]) == 53


RoleName = Literal["viewer", "operator", "admin"]
PublicPath = Literal["/-/healthy", "/-/ready", "/metrics"]
JWTAlgorithm = Literal[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
    "ES256", "ES384", "ES512", "EdDSA",
]  # fmt: skip
Positive = Annotated[int, Field(ge=1)]


def _network(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"not an IP address or CIDR: {value!r}") from None
    return value


class BasicUser(StrictModel):
    """A user of HTTP basic authentication."""

    password_hash: SecretStr | None = None
    """A bcrypt hash (``htpasswd -nBC 10 "" | tr -d ':\\n'``). Left out: the password is the one
    ``--web.config.file``'s ``basic_auth_users`` checks, and this entry only gives the role."""
    role: RoleName = "viewer"
    """The user's role: viewer (read), operator (also silences and alerts) or admin (everything)."""
    machine: bool = False
    """A program (Prometheus, a CI job): the alerts it posts are not written to the audit log."""

    @field_validator("password_hash")
    @classmethod
    def _bcrypt(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not is_bcrypt_hash(value.encode()):
            raise ValueError(NOT_BCRYPT)
        return value


class StaticApiKey(StrictModel):
    """An API key given in the config (from a Secret): the chart's admin and Prometheus keys."""

    name: str
    """The key's name in the audit log and in ``createdBy`` (unique)."""
    role: RoleName
    """The key's role: viewer, operator or admin."""
    key: SecretStr | None = None
    """The key itself (``${VAR}`` takes it from the environment); or ``key_file``."""
    key_file: str | None = None
    """A file holding the key (a mounted Secret); read at load and on every reload."""
    machine: bool = True
    """A program's key: the alerts it posts are not written to the audit log."""
    sources: list[str] = []
    """Webhook sources the key may post alerts of (``/webhook/{source}`` or ``X-Ampp-Source``),
    and nothing else; empty: not scoped, the role decides."""

    @model_validator(mode="after")
    def _one_source(self) -> StaticApiKey:
        if (self.key is None) == (self.key_file is None):
            raise ValueError("give exactly one of key and key_file")
        return self


class JWTSettings(StrictModel):
    """Bearer JSON Web Tokens, from an OIDC provider (Keycloak, Dex, ...) or signed locally."""

    algorithms: list[JWTAlgorithm] = Field(default=["RS256"], min_length=1)
    """The algorithms accepted; a token's ``alg`` must be one of them and match its key's own."""
    jwks_url: URL | None = None
    """The provider's JSON Web Key Set, fetched at start, every ``refresh_interval``, and when a
    token names a key id not seen yet (at most once per ``min_refresh_interval``)."""
    key_file: str | None = None
    """A PEM public key, a JWK or a JWK Set; re-read when the file changes."""
    secret: SecretStr | None = None
    """The shared secret of the HS* algorithms."""
    secret_file: str | None = None
    """A file holding that secret (a mounted Secret)."""
    issuer: str | None = None
    """Required ``iss``, when set."""
    audience: list[str] = Field(default_factory=list)
    """Accepted ``aud`` values; when set, a token must carry one of them."""
    leeway: Duration = 30
    """Clock skew allowed on ``exp``, ``nbf`` and ``iat``."""
    refresh_interval: Duration = 300
    """How often the JWKS is fetched again (a provider's key rotation needs no restart)."""
    min_refresh_interval: Duration = 10
    """The least time between two fetches of the JWKS for an unknown key id."""
    role_claim: str = "role"
    """Where the role is: a claim name or a dotted path (``realm_access.roles``); a string or a
    list of strings, mapped through ``roles`` (the highest role wins)."""
    roles: dict[str, RoleName] = Field(default_factory=dict)
    """Claim values to roles; ``admin``, ``operator`` and ``viewer`` map to themselves."""
    user_claim: str = "sub"
    """The claim that names the user in the audit log and in ``createdBy``."""

    @model_validator(mode="after")
    def _keys_for_algorithms(self) -> JWTSettings:
        symmetric = [a for a in self.algorithms if a.startswith("HS")]
        asymmetric = [a for a in self.algorithms if not a.startswith("HS")]
        has_secret = self.secret is not None or self.secret_file is not None
        if self.secret is not None and self.secret_file is not None:
            raise ValueError("give at most one of secret and secret_file")
        if symmetric and not has_secret:
            raise ValueError(f"{', '.join(symmetric)} needs secret or secret_file")
        if has_secret and not symmetric:
            raise ValueError("secret is only used by the HS* algorithms: list one in algorithms")
        if symmetric and asymmetric:
            # One key must never be usable as both: the classic algorithm-confusion attack.
            raise ValueError("do not mix HS* with public-key algorithms")
        if asymmetric and not (self.jwks_url or self.key_file):
            raise ValueError(f"{', '.join(asymmetric)} needs jwks_url or key_file")
        return self


class ProxySettings(StrictModel):
    """An authenticating proxy (oauth2-proxy, ...) in front: its headers name the user."""

    trusted_addresses: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    """The proxy's addresses (IPs or CIDRs); the headers from anyone else are ignored."""
    user_header: str = "X-Forwarded-User"
    """The header naming the user the proxy authenticated."""
    groups_header: str = "X-Forwarded-Groups"
    """Comma-separated groups, mapped through ``roles``."""
    roles: dict[str, RoleName] = Field(default_factory=dict)
    """Group names to roles (the highest wins)."""
    default_role: RoleName | None = None
    """The role of a proxy user in no mapped group; unset: such a user is refused (403)."""

    @field_validator("trusted_addresses")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        return [_network(x) for x in value]


class AuthSettings(StrictModel):
    """Authentication and roles. Present (even empty): every route needs a role; absent: the API
    is open, as Alertmanager's is (see Access control)."""

    users: dict[str, BasicUser] = Field(default_factory=dict)
    """HTTP basic authentication users by name."""
    api_keys: list[StaticApiKey] = Field(default_factory=list)
    """Keys from the config; more are created with ``ampp apikey create`` or the API."""
    jwt: JWTSettings | None = None
    """Bearer JSON Web Tokens, from an OIDC provider (Keycloak, Dex, ...) or signed locally."""
    proxy: ProxySettings | None = None
    """An authenticating proxy (oauth2-proxy, ...) in front: its headers name the user."""
    public: list[PublicPath] = ["/-/healthy", "/-/ready"]  # pydantic copies it per instance
    """Endpoints answered without credentials (probes, scrapes)."""
    anonymous_role: RoleName | None = None
    """The role of a request without credentials; unset: it is refused (401)."""
    web_config_role: RoleName = "viewer"
    """The role of a ``--web.config.file`` basic-auth user that ``users`` does not list."""

    @model_validator(mode="after")
    def _unique_key_names(self) -> AuthSettings:
        names = [k.name for k in self.api_keys]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"api_keys: duplicate names {', '.join(dupes)}")
        return self


class RateBudget(StrictModel):
    """Requests per second; null turns that limit off."""

    per_ip: Positive | None = 100
    """Requests per second from one client address; past it, 429 with Retry-After."""
    per_identity: Positive | None = 1000
    """Requests per second by one user or key."""
    global_: Positive | None = Field(10_000, alias="global")
    """Requests per second in all (on each replica, or all of them with Redis)."""


def _ingest_budget() -> RateBudget:
    return RateBudget.model_validate({"per_ip": 1000, "per_identity": 5000, "global": 10_000})


class RateLimitSettings(StrictModel):
    """Requests per second per client address, per identity and in all; 429 past them."""

    enabled: bool | None = None
    """Rate limiting on or off; unset: on whenever ``auth:`` is configured."""
    api: RateBudget = Field(default_factory=lambda: RateBudget.model_validate({}))
    """The API and the UI."""
    ingest: RateBudget = Field(default_factory=_ingest_budget)
    """Alert ingestion (POST /api/v2/alerts, /webhook), counted apart so that a noisy user of the
    API never starves Prometheus."""
    failed_logins_per_minute: Positive | None = 10
    """Failed authentications per client address per minute; past it, 429 before any password
    is checked (each bcrypt check takes ~0.1 s of CPU)."""


class CorsSettings(StrictModel):
    """Cross-origin access: none unless origins are listed."""

    allowed_origins: list[str] = Field(default_factory=list)
    """Exact origins (``https://grafana.example.com``); ``*`` allows any origin without
    credentials."""
    allowed_methods: list[str] = Field(default_factory=lambda: ["GET", "POST", "DELETE"])
    """The methods a cross-origin request may use (``Access-Control-Allow-Methods``)."""
    allowed_headers: list[str] = Field(default_factory=lambda: ["Authorization", "Content-Type", "X-API-Key"])
    """The headers it may send (``Access-Control-Allow-Headers``)."""
    max_age: Duration = 600
    """How long a browser may reuse a preflight's answer (``Access-Control-Max-Age``)."""


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class HeaderSettings(StrictModel):
    """Security headers on every answer (set a value to "" to send none)."""

    content_security_policy: str = CSP
    """``Content-Security-Policy``: the dashboard loads nothing from elsewhere."""
    referrer_policy: str = "no-referrer"
    """``Referrer-Policy``."""
    strict_transport_security: str = "max-age=31536000"
    """``Strict-Transport-Security``, sent on answers served over TLS only."""
    cache_control: str = "no-store"
    """On every answer that does not set its own (with ``Pragma: no-cache``)."""


class SizeLimits(StrictModel):
    """The most a request's headers may hold."""

    max_header_bytes: Positive = 8192
    """One header line (name and value); a longer one is refused with 431."""
    max_headers_bytes: Positive = 65536
    """All headers together; more is refused with 431."""


class OutboundPolicy(StrictModel):
    """Where the engine may send (receivers, OAuth2 token URLs, JWKS, LLM providers): checked
    after DNS resolution when connecting and again on every redirect."""

    allow: list[str] = Field(default_factory=list)
    """CIDRs and host names (``*.example.com``) allowed even where ``deny`` or the defaults refuse."""
    deny: list[str] = Field(default_factory=list)
    """CIDRs and host names refused."""
    default: Literal["allow", "deny"] = "allow"
    """What happens to a target no list names (``deny``: only ``allow`` is reachable)."""
    allow_link_local: bool = False
    """Link-local addresses and the cloud metadata endpoints (169.254.169.254, ...) are refused
    unless this is set (or ``allow`` names them)."""


class SecuritySettings(StrictModel):
    """What protects the API and the engine's outbound connections, on without configuration
    (see Access control)."""

    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    """Requests per second per client address, per identity and in all; 429 past them."""
    cors: CorsSettings = Field(default_factory=CorsSettings)
    """Cross-origin access: none unless origins are listed."""
    headers: HeaderSettings = Field(default_factory=HeaderSettings)
    """Security headers on every answer."""
    limits: SizeLimits = Field(default_factory=SizeLimits)
    """The most a request's headers may hold."""
    outbound: OutboundPolicy = Field(default_factory=OutboundPolicy)
    """Where the engine may send."""
