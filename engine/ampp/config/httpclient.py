"""prometheus/common's HTTPClientConfig (``http_config``): authentication, TLS, proxy and
headers, checked as its Validate() methods check them."""

from __future__ import annotations

import typing
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    BeforeValidator,
    Field,
    model_validator,
)

from ..model.labels import go_quote
from .base import Secret
from .blocks import Block, Secret_, canonical_header_key, is_set

# --------------------------------------------------------------------------------------------
# prometheus/common HTTP client config

_TLS_VERSIONS = ("TLS10", "TLS11", "TLS12", "TLS13")


def _tls_version(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in _TLS_VERSIONS:
        raise ValueError(f"unknown TLS version: {value}")
    return value


TLSVersion = Annotated[str | None, BeforeValidator(_tls_version)]


class TLSConfig(Block):
    """common's TLSConfig: CA, client certificate and key inline or from files."""

    ca: str = ""
    """The CA certificate(s), PEM, that the server's certificate must chain to (default: the system's)."""
    cert: str = ""
    """The client certificate, PEM, for mutual TLS."""
    key: Secret_ | None = None
    """The client certificate's private key, PEM."""
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    server_name: str = ""
    """The name the server's certificate must carry (and the SNI sent); default: the URL's host."""
    insecure_skip_verify: bool = False
    """Accept any server certificate: for tests only."""
    min_version: TLSVersion = None
    """The lowest TLS version accepted: TLS10, TLS11, TLS12 (the default) or TLS13."""
    max_version: TLSVersion = None
    """The highest TLS version offered: TLS10, TLS11, TLS12 or TLS13 (default: the highest)."""

    @model_validator(mode="after")
    def _validate(self) -> TLSConfig:
        if self.ca and self.ca_file:
            raise ValueError("at most one of ca, ca_file & ca_ref must be configured")
        if self.cert and self.cert_file:
            raise ValueError("at most one of cert, cert_file & cert_ref must be configured")
        if is_set(self.key) and self.key_file:
            raise ValueError("at most one of key and key_file must be configured")
        using_cert = bool(self.cert or self.cert_file)
        using_key = bool(is_set(self.key) or self.key_file)
        if using_cert and not using_key:
            raise ValueError(
                "exactly one of key or key_file must be configured when a client certificate is configured"
            )
        if using_key and not using_cert:
            raise ValueError(
                "exactly one of cert or cert_file must be configured when a client key is configured"
            )
        return self


class BasicAuth(Block):
    """HTTP basic authentication; each value inline or from a file."""

    username: str = ""
    """The user name."""
    username_file: str = ""
    password: Secret_ | None = None
    """The password."""
    password_file: str = ""


class Authorization(Block):
    """The ``Authorization`` header: type (Bearer by default) and credentials."""

    type: str = "Bearer"
    """The scheme of the Authorization header (Bearer by default; Basic is refused: use basic_auth)."""
    credentials: Secret_ | None = None
    """What follows the scheme in the header: the token."""
    credentials_file: str = ""


class HTTPHeader(Block):
    """One custom header of ``http_headers``: plain values, secret values, or files."""

    values: list[str] = Field(default_factory=list)
    """Values sent as they are."""
    secrets: list[Secret_] = Field(default_factory=list)
    """Values sent as they are but hidden wherever the config is shown."""
    files: list[str] = Field(default_factory=list)


_RESERVED_HEADERS = frozenset(
    {
        "Authorization",
        "Host",
        "Content-Encoding",
        "Content-Length",
        "Content-Type",
        "User-Agent",
        "Connection",
        "Keep-Alive",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "Www-Authenticate",
        "Accept-Encoding",
        "X-Prometheus-Remote-Write-Version",
        "X-Prometheus-Remote-Read-Version",
        "X-Prometheus-Scrape-Timeout-Seconds",
        "X-Amz-Date",
        "X-Amz-Security-Token",
        "X-Amz-Content-Sha256",
    }
)


def _proxy_url(value: Any) -> str | None:
    # common's URL is any url.Parse-able string; the scheme is not checked.
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("expected a URL string")
    try:
        urlsplit(value)
    except ValueError as e:
        raise ValueError(f"parse {go_quote(value)}: {e}") from None
    return value


ProxyURL = Annotated[str | None, BeforeValidator(_proxy_url)]


class _HasProxy(typing.Protocol):
    proxy_url: str | None
    no_proxy: str
    proxy_from_environment: bool
    proxy_connect_header: dict[str, list[Secret]]


def check_proxy(c: _HasProxy) -> None:
    """common's ProxyConfig.Validate, shared by HTTPConfig and OAuth2."""
    has_url = bool(c.proxy_url)
    if c.proxy_connect_header and not c.proxy_from_environment and not has_url:
        raise ValueError(
            "if proxy_connect_header is configured, proxy_url or proxy_from_environment must "
            "also be configured"
        )
    if c.proxy_from_environment and has_url:
        raise ValueError("if proxy_from_environment is configured, proxy_url must not be configured")
    if c.proxy_from_environment and c.no_proxy:
        raise ValueError("if proxy_from_environment is configured, no_proxy must not be configured")
    if c.proxy_url is None and c.no_proxy:
        raise ValueError("if no_proxy is configured, proxy_url must also be configured")


_JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class OAuth2(Block):
    """OAuth 2.0 client credentials used to obtain a token (the JWT bearer grant: not yet)."""

    client_id: str = ""
    """The OAuth 2.0 client id."""
    client_secret: Secret_ | None = None
    """The client secret (client_credentials grant)."""
    client_secret_file: str = ""
    client_certificate_key_id: str = ""
    """JWT bearer grant: the key id of client_certificate_key. Not applied yet."""
    client_certificate_key: Secret_ | None = None
    """JWT bearer grant: the key that signs the assertion. Not applied yet."""
    client_certificate_key_file: str = ""
    grant_type: str = ""
    """client_credentials, the only grant sent (the JWT bearer grant is accepted, not applied yet)."""
    signature_algorithm: str = ""
    """JWT bearer grant: the signing algorithm. Not applied yet."""
    iss: str = ""
    """JWT bearer grant: the issuer claim. Not applied yet."""
    audience: str = ""
    """JWT bearer grant: the audience claim. Not applied yet."""
    claims: dict[str, Any] = Field(default_factory=dict)
    """JWT bearer grant: further claims. Not applied yet."""
    scopes: list[str] = Field(default_factory=list)
    """The scopes requested with the token."""
    token_url: str = ""
    """The URL tokens are fetched from."""
    endpoint_params: dict[str, str] = Field(default_factory=dict)
    """Extra parameters sent to the token URL."""
    tls_config: TLSConfig = Field(default_factory=TLSConfig)
    """TLS for the token URL. Not applied yet: http_config's own applies."""
    proxy_url: ProxyURL = None
    """A proxy for the token URL. Not applied yet: http_config's own applies."""
    no_proxy: str = ""
    """Hosts reached without the proxy. Not applied yet."""
    proxy_from_environment: bool = False
    """Take the proxy from the environment. Not applied yet."""
    proxy_connect_header: dict[str, list[Secret_]] = Field(default_factory=dict)
    """Headers sent to the proxy on CONNECT. Not applied yet."""

    @model_validator(mode="after")
    def _validate(self) -> OAuth2:
        check_proxy(self)
        return self


class HTTPConfig(Block):
    """common's HTTPClientConfig, validated by its Validate() (which also rewrites the
    deprecated ``bearer_token`` into ``authorization``)."""

    basic_auth: BasicAuth | None = None
    """HTTP basic authentication."""
    authorization: Authorization | None = None
    """The Authorization header (a bearer token by default)."""
    oauth2: OAuth2 | None = None
    """OAuth 2.0: a token fetched from token_url and sent as a bearer token."""
    bearer_token: Secret_ | None = None
    """Deprecated: a bearer token; use authorization.credentials."""
    bearer_token_file: str = ""
    tls_config: TLSConfig = Field(default_factory=TLSConfig)
    """TLS for the requests (CA, client certificate, server name, versions)."""
    follow_redirects: bool = True
    """Follow HTTP 3xx redirects."""
    enable_http2: bool = True
    """Not applied yet: requests use HTTP/1.1."""
    proxy_url: ProxyURL = None
    """The HTTP proxy requests go through."""
    no_proxy: str = ""
    """Hosts, domains and CIDRs (comma-separated) reached without proxy_url. Not applied yet."""
    proxy_from_environment: bool = False
    """Take the proxy from the environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY); without it
    they are ignored, as Alertmanager ignores them."""
    proxy_connect_header: dict[str, list[Secret_]] = Field(default_factory=dict)
    """Headers sent to the proxy on CONNECT. Not applied yet."""
    http_headers: dict[str, HTTPHeader] | None = None
    """Headers added to every request, by name."""

    @model_validator(mode="after")
    def _validate(self) -> HTTPConfig:
        bearer = is_set(self.bearer_token) or bool(self.bearer_token_file)
        if is_set(self.bearer_token) and self.bearer_token_file:
            raise ValueError("at most one of bearer_token & bearer_token_file must be configured")
        if (self.basic_auth is not None or self.oauth2 is not None) and bearer:
            raise ValueError(
                "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured"
            )
        if self.basic_auth is not None:
            if self.basic_auth.username and self.basic_auth.username_file:
                raise ValueError(
                    "at most one of basic_auth username, username_file & username_ref must be configured"
                )
            if is_set(self.basic_auth.password) and self.basic_auth.password_file:
                raise ValueError(
                    "at most one of basic_auth password, password_file & password_ref must be configured"
                )
        if self.authorization is not None:
            auth = self.authorization
            if bearer:
                raise ValueError("authorization is not compatible with bearer_token & bearer_token_file")
            if is_set(auth.credentials) and auth.credentials_file:
                raise ValueError(
                    "at most one of authorization credentials & credentials_file must be configured"
                )
            auth.type = auth.type.strip() or "Bearer"
            if auth.type.lower() == "basic":
                raise ValueError('authorization type cannot be set to "basic", use "basic_auth" instead')
            if self.basic_auth is not None or self.oauth2 is not None:
                raise ValueError("at most one of basic_auth, oauth2 & authorization must be configured")
        else:
            if is_set(self.bearer_token):
                self.authorization = Authorization.model_validate({"credentials": self.bearer_token})
                self.bearer_token = None
            if self.bearer_token_file:
                self.authorization = Authorization.model_validate(
                    {"credentials_file": self.bearer_token_file}
                )
                self.bearer_token_file = ""
        if self.oauth2 is not None:
            o = self.oauth2
            if self.basic_auth is not None:
                raise ValueError("at most one of basic_auth, oauth2 & authorization must be configured")
            if not o.client_id:
                raise ValueError("oauth2 client_id must be configured")
            if not o.token_url:
                raise ValueError("oauth2 token_url must be configured")
            if o.grant_type == _JWT_BEARER:
                if is_set(o.client_certificate_key) and o.client_certificate_key_file:
                    raise ValueError(
                        "at most one of oauth2 client_certificate_key, "
                        "client_certificate_key_file & "
                        "client_certificate_key_ref must be configured using "
                        f"grant-type={_JWT_BEARER}"
                    )
                if o.signature_algorithm and o.signature_algorithm not in (
                    "RS256",
                    "RS384",
                    "RS512",
                ):
                    raise ValueError("valid signature algorithms are RS256, RS384 and RS512")
            elif is_set(o.client_secret) and o.client_secret_file:
                raise ValueError(
                    "at most one of oauth2 client_secret, client_secret_file & client_secret_ref "
                    "must be "
                    "configured using grant-type=client_credentials"
                )
        check_proxy(self)
        for name in self.http_headers or {}:
            canonical = canonical_header_key(name)
            if canonical in _RESERVED_HEADERS:
                raise ValueError(f"setting header {go_quote(canonical)} is not allowed")
        return self
