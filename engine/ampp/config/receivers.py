"""Receivers, their integrations and the ``global`` block, validated as Alertmanager does.

Each model mirrors one Go type: the HTTP client config of prometheus/common
(``HTTPClientConfig``), ``GlobalConfig`` and one ``<Kind>Config`` per integration. Field names,
defaults and the checks of the Go ``UnmarshalYAML`` methods are the same, with the same error
messages, so a file Alertmanager accepts is accepted here and a refused one is refused with the
words users already know.

The models accept the union of the fields of Alertmanager 0.25 and of current upstream (file
variants of every secret, Slack app tokens, the newer integrations). Where a rule changed only
because a newer field appeared (``url`` or ``url_file``), the newer rule and message are used;
the default templates of the integrations 0.25 already had are 0.25's, those of the newer
integrations are upstream's.

Checks that need the ``global`` block (inherited URLs, keys, SMTP settings) are done by
:func:`apply_global_defaults`, which fills the inherited values in place, as
``Config.UnmarshalYAML`` does, and returns every problem with its location.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeAlias, Union
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    model_validator,
)

from ..model.labels import go_quote
from ..model.timefmt import NS, format_go_duration, parse_go_duration
from .base import URL, Duration, Secret, StrictModel

__all__ = [
    "DEFAULT_PAGERDUTY_DETAILS",
    "INTEGRATION_KINDS",
    "SECRET_TOKEN",
    "Authorization",
    "BasicAuth",
    "DiscordConfig",
    "EmailConfig",
    "EmailThreading",
    "GlobalConfig",
    "GoDuration",
    "HTTPConfig",
    "HTTPHeader",
    "HostPort",
    "IncidentioConfig",
    "IntegrationConfig",
    "JiraConfig",
    "JiraFieldConfig",
    "MSTeamsConfig",
    "MSTeamsV2Config",
    "MattermostAttachment",
    "MattermostConfig",
    "MattermostField",
    "MattermostPriority",
    "MattermostProps",
    "NotifierConfig",
    "OAuth2",
    "OpsGenieConfig",
    "OpsGenieResponder",
    "PagerdutyConfig",
    "PagerdutyImage",
    "PagerdutyLink",
    "PushoverConfig",
    "Receiver",
    "RocketchatAttachmentAction",
    "RocketchatAttachmentField",
    "RocketchatConfig",
    "SNSConfig",
    "SecretTemplateURL",
    "SigV4Config",
    "SlackAction",
    "SlackConfig",
    "SlackConfirmationField",
    "SlackField",
    "TLSConfig",
    "TelegramConfig",
    "VictorOpsConfig",
    "WebexConfig",
    "WebhookConfig",
    "WechatConfig",
    "apply_global_defaults",
    "canonical_header_key",
]

SECRET_TOKEN = "<secret>"
"""What Alertmanager prints instead of a secret; accepted back as a URL placeholder."""


# --------------------------------------------------------------------------------------------
# Scalar types


def _scalar_to_str(value: Any) -> Any:
    """YAML scalars such as ``agent_id: 1000002`` decode into Go string fields as their text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def _secret(value: Any) -> Secret:
    value = _scalar_to_str(value)
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return Secret(value)


_HIDDEN = PlainSerializer(lambda v: SECRET_TOKEN, return_type=str)

Secret_ = Annotated[Secret, PlainValidator(_secret), _HIDDEN]
"""base.SecretStr's contract (a :class:`Secret`, printed as ``<secret>``) with Go's leniency
for bare numbers; validated without asking pydantic for a schema of the str subclass."""


def _url(value: Any) -> str:
    """Alertmanager's parseURL: http or https, with a host."""
    if not isinstance(value, str):
        raise ValueError("expected a URL string")
    try:
        parts = urlsplit(value)
    except ValueError as e:
        raise ValueError(f"parse {go_quote(value)}: {e}") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"unsupported scheme {go_quote(parts.scheme)} for URL")
    if not parts.netloc:
        raise ValueError("missing host for URL")
    return value


def _secret_url(value: Any) -> Secret:
    # "<secret>" is what the status API prints; Alertmanager reads it back as a placeholder.
    if value == SECRET_TOKEN:
        return Secret(value)
    return Secret(_url(value))


SecretURL_ = Annotated[Secret, PlainValidator(_secret_url), _HIDDEN]
"""Alertmanager's SecretURL: an http(s) URL with a host, printed as ``<secret>``."""


def _has_template(value: str) -> bool:
    """Alertmanager's ContainsTemplating: ``{{`` present, and the template must parse.

    Go's template parser is not available here; the check is that every action is closed,
    the commonest syntax error, reported with the words text/template uses.
    """
    if "{{" not in value:
        return False
    pos = 0
    while (start := value.find("{{", pos)) >= 0:
        end = value.find("}}", start + 2)
        if end < 0:
            raise ValueError("template: :1: unclosed action")
        pos = end + 2
    return True


def _secret_template_url(value: Any) -> Secret:
    value = _scalar_to_str(value)
    if not isinstance(value, str):
        raise ValueError("expected a string")
    if value in ("", SECRET_TOKEN):
        return Secret(value)
    try:
        templated = _has_template(value)
    except ValueError as e:
        raise ValueError(f"invalid template syntax: {e}") from None
    if not templated:
        try:
            _url(value)
        except ValueError as e:
            raise ValueError(f"invalid URL: {e}") from None
    return Secret(value)


SecretTemplateURL = Annotated[Secret, PlainValidator(_secret_template_url), _HIDDEN]
"""The webhook URL: a secret that may hold a template; plain values must be http(s) URLs."""


def _go_duration(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # Re-validation of an already parsed value, or a bare 0.
        if value == 0 or isinstance(value, float):
            return float(value)
    if not isinstance(value, str):
        raise ValueError("expected a duration string such as 30s or 1m30s")
    return parse_go_duration(value)


GoDuration = Annotated[
    float,
    BeforeValidator(_go_duration),
    PlainSerializer(lambda seconds: format_go_duration(round(seconds * NS)), return_type=str),
]
"""A Go time.Duration, held as seconds, printed the way Go prints it."""


def _split_host_port(hostport: str) -> tuple[str, str]:
    """Go's net.SplitHostPort, with its error messages."""

    def err(why: str) -> ValueError:
        return ValueError(f"address {hostport}: {why}")

    i = hostport.rfind(":")
    if i < 0:
        raise err("missing port in address")
    j = k = 0
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise err("missing ']' in address")
        if end + 1 == len(hostport):
            raise err("missing port in address")
        if end + 1 != i:
            if hostport[end + 1] == ":":
                raise err("too many colons in address")
            raise err("missing port in address")
        host = hostport[1:end]
        j, k = 1, end + 1
    else:
        host = hostport[:i]
        if ":" in host:
            raise err("too many colons in address")
    if "[" in hostport[j:]:
        raise err("unexpected '[' in address")
    if "]" in hostport[k:]:
        raise err("unexpected ']' in address")
    return host, hostport[i + 1 :]


def _host_port(value: Any) -> str:
    value = _scalar_to_str(value)
    if not isinstance(value, str):
        raise ValueError("expected a host:port string")
    if value == "":
        return value
    _, port = _split_host_port(value)
    if port == "":
        raise ValueError(f"address {go_quote(value)}: port cannot be empty")
    return value


HostPort = Annotated[str, BeforeValidator(_host_port)]
"""A ``host:port`` address (SMTP smarthost); empty means unset."""

_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def canonical_header_key(key: str) -> str:
    """Go's textproto.CanonicalMIMEHeaderKey: ``content-type`` -> ``Content-Type``.

    Keys with characters outside the HTTP token set are returned unchanged, as Go does.
    """
    if any(c not in _TOKEN_CHARS for c in key):
        return key
    out = []
    upper = True
    for c in key:
        c = c.upper() if upper else c.lower()
        out.append(c)
        upper = c == "-"
    return "".join(out)


def _set(value: str | None) -> bool:
    """Go compares secrets and strings with "": empty and absent are the same."""
    return bool(value)


def _with_trailing_slash(url: str) -> str:
    """Alertmanager appends "/" to the path of the OpsGenie, WeChat and VictorOps API URLs."""
    parts = urlsplit(url)
    if parts.path.endswith("/"):
        return url
    return urlunsplit(parts._replace(path=parts.path + "/"))


# --------------------------------------------------------------------------------------------
# Base block


def _zero_value(annotation: Any) -> Any:
    """What Go's yaml decoder stores for an explicit null (``key:``): the type's zero value."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _zero_value(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return None
    if origin is list:
        return []
    if origin is dict:
        return {}
    if isinstance(annotation, type):
        if issubclass(annotation, bool):
            return False
        if issubclass(annotation, str):
            return ""
        if issubclass(annotation, int):
            return 0
        if issubclass(annotation, float):
            return 0.0
        if issubclass(annotation, BaseModel):
            return {}
    return None


class _Block(StrictModel):
    """A config block decoded with Go yaml's leniencies: numbers fill string fields, and an
    explicit null means the zero value rather than an error."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    @model_validator(mode="before")
    @classmethod
    def _nulls_are_zero(cls, data: Any) -> Any:
        if not isinstance(data, dict) or None not in data.values():
            return data
        by_key = {(f.alias or name): f for name, f in cls.model_fields.items()}
        out = dict(data)
        for key, value in data.items():
            field = by_key.get(key) if isinstance(key, str) else None
            if value is None and field is not None:
                zero = _zero_value(field.annotation)
                if zero is None:
                    continue
                out[key] = zero
        return out


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


class TLSConfig(_Block):
    """common's TLSConfig: CA, client certificate and key inline or from files."""

    ca: str = ""
    cert: str = ""
    key: Secret_ | None = None
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    server_name: str = ""
    insecure_skip_verify: bool = False
    min_version: TLSVersion = None
    max_version: TLSVersion = None

    @model_validator(mode="after")
    def _validate(self) -> TLSConfig:
        if self.ca and self.ca_file:
            raise ValueError("at most one of ca, ca_file & ca_ref must be configured")
        if self.cert and self.cert_file:
            raise ValueError("at most one of cert, cert_file & cert_ref must be configured")
        if _set(self.key) and self.key_file:
            raise ValueError("at most one of key and key_file must be configured")
        using_cert = bool(self.cert or self.cert_file)
        using_key = bool(_set(self.key) or self.key_file)
        if using_cert and not using_key:
            raise ValueError(
                "exactly one of key or key_file must be configured when a client certificate is configured"
            )
        if using_key and not using_cert:
            raise ValueError(
                "exactly one of cert or cert_file must be configured when a client key is configured"
            )
        return self


class BasicAuth(_Block):
    """HTTP basic authentication; each value inline or from a file."""

    username: str = ""
    username_file: str = ""
    password: Secret_ | None = None
    password_file: str = ""


class Authorization(_Block):
    """The ``Authorization`` header: type (Bearer by default) and credentials."""

    type: str = "Bearer"
    credentials: Secret_ | None = None
    credentials_file: str = ""


class HTTPHeader(_Block):
    """One custom header of ``http_headers``: plain values, secret values, or files."""

    values: list[str] = Field(default_factory=list)
    secrets: list[Secret_] = Field(default_factory=list)
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


def _check_proxy(c: _HasProxy) -> None:
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


class OAuth2(_Block):
    """OAuth 2.0 client credentials (or JWT bearer) used to obtain a token."""

    client_id: str = ""
    client_secret: Secret_ | None = None
    client_secret_file: str = ""
    client_certificate_key_id: str = ""
    client_certificate_key: Secret_ | None = None
    client_certificate_key_file: str = ""
    grant_type: str = ""
    signature_algorithm: str = ""
    iss: str = ""
    audience: str = ""
    claims: dict[str, Any] = Field(default_factory=dict)
    scopes: list[str] = Field(default_factory=list)
    token_url: str = ""
    endpoint_params: dict[str, str] = Field(default_factory=dict)
    tls_config: TLSConfig = Field(default_factory=TLSConfig)
    proxy_url: ProxyURL = None
    no_proxy: str = ""
    proxy_from_environment: bool = False
    proxy_connect_header: dict[str, list[Secret_]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _validate(self) -> OAuth2:
        _check_proxy(self)
        return self


class HTTPConfig(_Block):
    """common's HTTPClientConfig, validated by its Validate() (which also rewrites the
    deprecated ``bearer_token`` into ``authorization``)."""

    basic_auth: BasicAuth | None = None
    authorization: Authorization | None = None
    oauth2: OAuth2 | None = None
    bearer_token: Secret_ | None = None
    bearer_token_file: str = ""
    tls_config: TLSConfig = Field(default_factory=TLSConfig)
    follow_redirects: bool = True
    enable_http2: bool = True
    proxy_url: ProxyURL = None
    no_proxy: str = ""
    proxy_from_environment: bool = False
    proxy_connect_header: dict[str, list[Secret_]] = Field(default_factory=dict)
    http_headers: dict[str, HTTPHeader] | None = None

    @model_validator(mode="after")
    def _validate(self) -> HTTPConfig:
        bearer = _set(self.bearer_token) or bool(self.bearer_token_file)
        if _set(self.bearer_token) and self.bearer_token_file:
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
            if _set(self.basic_auth.password) and self.basic_auth.password_file:
                raise ValueError(
                    "at most one of basic_auth password, password_file & password_ref must be configured"
                )
        if self.authorization is not None:
            auth = self.authorization
            if bearer:
                raise ValueError("authorization is not compatible with bearer_token & bearer_token_file")
            if _set(auth.credentials) and auth.credentials_file:
                raise ValueError(
                    "at most one of authorization credentials & credentials_file must be configured"
                )
            auth.type = auth.type.strip() or "Bearer"
            if auth.type.lower() == "basic":
                raise ValueError('authorization type cannot be set to "basic", use "basic_auth" instead')
            if self.basic_auth is not None or self.oauth2 is not None:
                raise ValueError("at most one of basic_auth, oauth2 & authorization must be configured")
        else:
            if _set(self.bearer_token):
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
                if _set(o.client_certificate_key) and o.client_certificate_key_file:
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
            elif _set(o.client_secret) and o.client_secret_file:
                raise ValueError(
                    "at most one of oauth2 client_secret, client_secret_file & client_secret_ref "
                    "must be "
                    "configured using grant-type=client_credentials"
                )
        _check_proxy(self)
        for name in self.http_headers or {}:
            canonical = canonical_header_key(name)
            if canonical in _RESERVED_HEADERS:
                raise ValueError(f"setting header {go_quote(canonical)} is not allowed")
        return self


# --------------------------------------------------------------------------------------------
# Global block

_DEFAULT_SLACK_APP_URL = "https://slack.com/api/chat.postMessage"


class GlobalConfig(_Block):
    """The ``global`` block: defaults every receiver inherits (DefaultGlobalConfig)."""

    resolve_timeout: Duration = 300.0
    http_config: HTTPConfig = Field(default_factory=HTTPConfig)

    jira_api_url: URL | None = None
    smtp_from: str = ""
    smtp_hello: str = "localhost"
    smtp_smarthost: HostPort = ""
    smtp_auth_username: str = ""
    smtp_auth_password: Secret_ | None = None
    smtp_auth_password_file: str = ""
    smtp_auth_secret: Secret_ | None = None
    smtp_auth_secret_file: str = ""
    smtp_auth_identity: str = ""
    smtp_require_tls: bool = True
    smtp_tls_config: TLSConfig | None = Field(default_factory=TLSConfig)
    smtp_force_implicit_tls: bool | None = None
    slack_api_url: SecretURL_ | None = None
    slack_api_url_file: str = ""
    slack_app_token: Secret_ | None = None
    slack_app_token_file: str = ""
    slack_app_url: URL | None = _DEFAULT_SLACK_APP_URL
    pagerduty_url: URL | None = "https://events.pagerduty.com/v2/enqueue"
    opsgenie_api_url: URL | None = "https://api.opsgenie.com/"
    opsgenie_api_key: Secret_ | None = None
    opsgenie_api_key_file: str = ""
    wechat_api_url: URL | None = "https://qyapi.weixin.qq.com/cgi-bin/"
    wechat_api_secret: Secret_ | None = None
    wechat_api_secret_file: str = ""
    wechat_api_corp_id: str = ""
    victorops_api_url: URL | None = "https://alert.victorops.com/integrations/generic/20131114/alert/"
    victorops_api_key: Secret_ | None = None
    victorops_api_key_file: str = ""
    telegram_api_url: URL | None = "https://api.telegram.org"
    telegram_bot_token: Secret_ | None = None
    telegram_bot_token_file: str = ""
    webex_api_url: URL | None = "https://webexapis.com/v1/messages"
    rocketchat_api_url: URL | None = "https://open.rocket.chat/"
    rocketchat_token: Secret_ | None = None
    rocketchat_token_file: str = ""
    rocketchat_token_id: Secret_ | None = None
    rocketchat_token_id_file: str = ""
    mattermost_webhook_url: SecretURL_ | None = None
    mattermost_webhook_url_file: str = ""

    @model_validator(mode="after")
    def _validate(self) -> GlobalConfig:
        """The global-level checks at the top of Config.UnmarshalYAML, in upstream's order."""
        slack_url = self.slack_api_url is not None or bool(self.slack_api_url_file)
        slack_token = _set(self.slack_app_token) or bool(self.slack_app_token_file)
        if _set(self.slack_app_token) and self.slack_app_token_file:
            raise ValueError("at most one of slack_app_token & slack_app_token_file must be configured")
        if self.slack_api_url is not None and self.slack_api_url_file:
            raise ValueError("at most one of slack_api_url & slack_api_url_file must be configured")
        # Upstream tolerates both when slack_api_url is the app URL (the #2513 workaround).
        if slack_token and slack_url and (self.slack_api_url or "") != (self.slack_app_url or ""):
            raise ValueError(
                "at most one of slack_app_token/slack_app_token_file & "
                "slack_api_url/slack_api_url_file must be configured"
            )
        pairs: list[tuple[bool, str]] = [
            (
                _set(self.opsgenie_api_key) and bool(self.opsgenie_api_key_file),
                "opsgenie_api_key & opsgenie_api_key_file",
            ),
            (
                _set(self.victorops_api_key) and bool(self.victorops_api_key_file),
                "victorops_api_key & victorops_api_key_file",
            ),
            (
                _set(self.telegram_bot_token) and bool(self.telegram_bot_token_file),
                "telegram_bot_token & telegram_bot_token_file",
            ),
            (
                _set(self.smtp_auth_password) and bool(self.smtp_auth_password_file),
                "smtp_auth_password & smtp_auth_password_file",
            ),
            (
                self.rocketchat_token is not None and bool(self.rocketchat_token_file),
                "rocketchat_token & rocketchat_token_file",
            ),
            (
                self.rocketchat_token_id is not None and bool(self.rocketchat_token_id_file),
                "rocketchat_token_id & rocketchat_token_id_file",
            ),
            (
                _set(self.smtp_auth_secret) and bool(self.smtp_auth_secret_file),
                "smtp_auth_secret & smtp_auth_secret_file",
            ),
            (
                _set(self.wechat_api_secret) and bool(self.wechat_api_secret_file),
                "wechat_api_secret & wechat_api_secret_file",
            ),
            (
                self.mattermost_webhook_url is not None and bool(self.mattermost_webhook_url_file),
                "mattermost_webhook_url & mattermost_webhook_url_file",
            ),
        ]
        for conflict, what in pairs:
            if conflict:
                raise ValueError(f"at most one of {what} must be configured")
        return self


# --------------------------------------------------------------------------------------------
# Integrations


class NotifierConfig(_Block):
    """What every integration has: ``send_resolved`` (its default differs per kind)."""

    send_resolved: bool = True

    _globals_applied: bool = PrivateAttr(default=False)


class _HTTPNotifier(NotifierConfig):
    http_config: HTTPConfig | None = None


class WebhookConfig(_HTTPNotifier):
    """A generic webhook (payload version 4)."""

    send_resolved: bool = True
    url: SecretTemplateURL | None = None
    url_file: str = ""
    max_alerts: Annotated[int, Field(ge=0)] = 0
    timeout: GoDuration = 0.0
    payload: Any = None

    @model_validator(mode="after")
    def _validate(self) -> WebhookConfig:
        if not _set(self.url) and not self.url_file:
            raise ValueError("one of url or url_file must be configured")
        if _set(self.url) and self.url_file:
            raise ValueError("at most one of url & url_file must be configured")
        return self


class EmailThreading(_Block):
    """Email threading: notifications of one group in one thread."""

    enabled: bool = False
    thread_by_date: str = ""


class EmailConfig(NotifierConfig):
    """An email through an SMTP smarthost."""

    send_resolved: bool = False
    to: str = ""
    from_: str = Field("", alias="from")
    hello: str = ""
    smarthost: HostPort = ""
    auth_username: str = ""
    auth_password: Secret_ | None = None
    auth_password_file: str = ""
    auth_secret: Secret_ | None = None
    auth_secret_file: str = ""
    auth_identity: str = ""
    headers: dict[str, str] = Field(default_factory=dict)
    html: str = '{{ template "email.default.html" . }}'
    text: str = ""
    require_tls: bool | None = None
    tls_config: TLSConfig | None = None
    force_implicit_tls: bool | None = None
    threading: EmailThreading = Field(default_factory=EmailThreading)

    @model_validator(mode="after")
    def _validate(self) -> EmailConfig:
        if not self.to:
            raise ValueError("missing to address in email config")
        normalized: dict[str, str] = {}
        for name, value in self.headers.items():
            key = canonical_header_key(name)
            if key in normalized:
                raise ValueError(f"duplicate header {go_quote(key)} in email config")
            normalized[key] = value
        self.headers = normalized
        if self.threading.enabled:
            if "References" in normalized:
                raise ValueError(
                    "conflicting configuration: threading.enabled conflicts with custom References header"
                )
            if "In-Reply-To" in normalized:
                raise ValueError(
                    "conflicting configuration: threading.enabled conflicts with custom In-Reply-To header"
                )
            if self.threading.thread_by_date not in ("none", "daily"):
                raise ValueError("threading.thread_by_date must be either 'none' or 'daily'")
        return self


class PagerdutyImage(_Block):
    """An image attached to a PagerDuty event."""

    src: str = ""
    alt: str = ""
    href: str = ""


class PagerdutyLink(_Block):
    """A link attached to a PagerDuty event."""

    href: str = ""
    text: str = ""


DEFAULT_PAGERDUTY_DETAILS: dict[str, str] = {
    "firing": '{{ template "pagerduty.default.instances" .Alerts.Firing }}',
    "resolved": '{{ template "pagerduty.default.instances" .Alerts.Resolved }}',
    "num_firing": "{{ .Alerts.Firing | len }}",
    "num_resolved": "{{ .Alerts.Resolved | len }}",
}


class PagerdutyConfig(_HTTPNotifier):
    """PagerDuty Events API v2 (routing_key) or v1 (service_key)."""

    send_resolved: bool = True
    service_key: Secret_ | None = None
    service_key_file: str = ""
    routing_key: Secret_ | None = None
    routing_key_file: str = ""
    url: URL | None = None
    client: str = '{{ template "pagerduty.default.client" . }}'
    client_url: str = '{{ template "pagerduty.default.clientURL" . }}'
    description: str = '{{ template "pagerduty.default.description" .}}'
    details: dict[str, Any] = Field(default_factory=dict)
    images: list[PagerdutyImage] = Field(default_factory=list)
    links: list[PagerdutyLink] = Field(default_factory=list)
    source: str = ""
    severity: str = ""
    class_: str = Field("", alias="class")
    component: str = ""
    group: str = ""
    timeout: GoDuration = 0.0

    @model_validator(mode="after")
    def _validate(self) -> PagerdutyConfig:
        if not (
            _set(self.routing_key) or _set(self.service_key) or self.routing_key_file or self.service_key_file
        ):
            raise ValueError("missing service or routing key in PagerDuty config")
        if _set(self.routing_key) and self.routing_key_file:
            raise ValueError("at most one of routing_key & routing_key_file must be configured")
        if _set(self.service_key) and self.service_key_file:
            raise ValueError("at most one of service_key & service_key_file must be configured")
        if not self.source:
            self.source = self.client
        for key, value in DEFAULT_PAGERDUTY_DETAILS.items():
            self.details.setdefault(key, value)
        return self


class SlackConfirmationField(_Block):
    """The confirmation dialog of a Slack button."""

    text: str = ""
    title: str = ""
    ok_text: str = ""
    dismiss_text: str = ""

    @model_validator(mode="after")
    def _validate(self) -> SlackConfirmationField:
        if not self.text:
            raise ValueError("missing text in Slack confirmation configuration")
        return self


class SlackAction(_Block):
    """A Slack attachment action: a link button (url) or a message button (name/value)."""

    type: str = ""
    text: str = ""
    url: str = ""
    style: str = ""
    name: str = ""
    value: str = ""
    confirm: SlackConfirmationField | None = None

    @model_validator(mode="after")
    def _validate(self) -> SlackAction:
        if not self.type:
            raise ValueError("missing type in Slack action configuration")
        if not self.text:
            raise ValueError("missing text in Slack action configuration")
        if self.url:
            # A link button: the message-button fields are dropped, as upstream does.
            self.name = ""
            self.value = ""
            self.confirm = None
        elif not self.name:
            raise ValueError("missing name or url in Slack action configuration")
        return self


class SlackField(_Block):
    """A Slack attachment field."""

    title: str = ""
    value: str = ""
    short: bool | None = None

    @model_validator(mode="after")
    def _validate(self) -> SlackField:
        if not self.title:
            raise ValueError("missing title in Slack field configuration")
        if not self.value:
            raise ValueError("missing value in Slack field configuration")
        return self


class SlackConfig(_HTTPNotifier):
    """Slack, by incoming webhook (api_url) or by app token (chat.postMessage)."""

    send_resolved: bool = False
    api_url: SecretURL_ | None = None
    api_url_file: str = ""
    app_token: Secret_ | None = None
    app_token_file: str = ""
    app_url: URL | None = None
    channel: str = ""
    username: str = '{{ template "slack.default.username" . }}'
    color: str = '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}'
    title: str = '{{ template "slack.default.title" . }}'
    title_link: str = '{{ template "slack.default.titlelink" . }}'
    pretext: str = '{{ template "slack.default.pretext" . }}'
    text: str = '{{ template "slack.default.text" . }}'
    message_text: str = ""
    fields: list[SlackField] = Field(default_factory=list)
    short_fields: bool = False
    footer: str = '{{ template "slack.default.footer" . }}'
    fallback: str = '{{ template "slack.default.fallback" . }}'
    callback_id: str = '{{ template "slack.default.callbackid" . }}'
    icon_emoji: str = '{{ template "slack.default.iconemoji" . }}'
    icon_url: str = '{{ template "slack.default.iconurl" . }}'
    image_url: str = ""
    thumb_url: str = ""
    link_names: bool = False
    mrkdwn_in: list[str] = Field(default_factory=list)
    actions: list[SlackAction] = Field(default_factory=list)
    update_message: bool = False
    timeout: GoDuration = 0.0

    @model_validator(mode="after")
    def _validate(self) -> SlackConfig:
        url = self.api_url is not None or bool(self.api_url_file)
        token = _set(self.app_token) or bool(self.app_token_file)
        if self.api_url is not None and self.api_url_file:
            raise ValueError("at most one of api_url & api_url_file must be configured")
        if _set(self.app_token) and self.app_token_file:
            raise ValueError("at most one of app_token & app_token_file must be configured")
        if url and token:
            raise ValueError(
                "at most one of api_url/api_url_file & app_token/app_token_file must be configured"
            )
        if self.update_message and (self.api_url or "") != _DEFAULT_SLACK_APP_URL:
            raise ValueError(
                "update_message can only be used with bot tokens. api_url must be set to "
                f"{_DEFAULT_SLACK_APP_URL}"
            )
        return self


_OPSGENIE_TYPES_RE = "^(team|teams|user|escalation|schedule)$"


class OpsGenieResponder(_Block):
    """An OpsGenie responder: one of id, name or username, and a type."""

    id: str = ""
    name: str = ""
    username: str = ""
    type: str = ""

    def go_string(self) -> str:
        """How Go's %v prints the responder struct in error messages."""
        return "{" + " ".join((self.id, self.name, self.username, self.type)) + "}"


class OpsGenieConfig(_HTTPNotifier):
    """OpsGenie alerts API."""

    send_resolved: bool = True
    api_key: Secret_ | None = None
    api_key_file: str = ""
    api_url: URL | None = None
    message: str = '{{ template "opsgenie.default.message" . }}'
    description: str = '{{ template "opsgenie.default.description" . }}'
    source: str = '{{ template "opsgenie.default.source" . }}'
    details: dict[str, str] = Field(default_factory=dict)
    entity: str = ""
    responders: list[OpsGenieResponder] = Field(default_factory=list)
    actions: str = ""
    tags: str = ""
    note: str = ""
    priority: str = ""
    update_alerts: bool = False

    @model_validator(mode="after")
    def _validate(self) -> OpsGenieConfig:
        if _set(self.api_key) and self.api_key_file:
            raise ValueError("at most one of api_key & api_key_file must be configured")
        for r in self.responders:
            if not (r.id or r.username or r.name):
                raise ValueError(
                    f"opsGenieConfig responder {r.go_string()} has to have at least one of id, "
                    "username or name specified"
                )
            try:
                templated = _has_template(r.type)
            except ValueError as e:
                raise ValueError(
                    f"opsGenieConfig responder {r.go_string()} type contains invalid template syntax: {e}"
                ) from None
            # Upstream lowercases a copy of the responder: the check is case-insensitive but
            # the stored type keeps the user's spelling.
            if not templated and not re.match(_OPSGENIE_TYPES_RE, r.type.lower()):
                raise ValueError(
                    f"opsGenieConfig responder {r.go_string()} type does not match valid options "
                    f"{_OPSGENIE_TYPES_RE}"
                )
        return self


_WECHAT_TYPES_RE = "^(text|markdown)$"


class WechatConfig(_HTTPNotifier):
    """WeChat Work application messages."""

    send_resolved: bool = False
    api_secret: Secret_ | None = None
    api_secret_file: str = ""
    corp_id: str = ""
    message: str = '{{ template "wechat.default.message" . }}'
    api_url: URL | None = None
    to_user: str = '{{ template "wechat.default.to_user" . }}'
    to_party: str = '{{ template "wechat.default.to_party" . }}'
    to_tag: str = '{{ template "wechat.default.to_tag" . }}'
    agent_id: str = '{{ template "wechat.default.agent_id" . }}'
    message_type: str = ""

    @model_validator(mode="after")
    def _validate(self) -> WechatConfig:
        if not self.message_type:
            self.message_type = "text"
        if not re.match(_WECHAT_TYPES_RE, self.message_type):
            raise ValueError(
                f"weChat message type {go_quote(self.message_type)} does not match valid options "
                f"{_WECHAT_TYPES_RE}"
            )
        if _set(self.api_secret) and self.api_secret_file:
            raise ValueError("at most one of api_secret & api_secret_file must be configured")
        return self


class PushoverConfig(_HTTPNotifier):
    """Pushover messages."""

    send_resolved: bool = True
    user_key: Secret_ | None = None
    user_key_file: str = ""
    token: Secret_ | None = None
    token_file: str = ""
    title: str = '{{ template "pushover.default.title" . }}'
    message: str = '{{ template "pushover.default.message" . }}'
    url: str = '{{ template "pushover.default.url" . }}'
    url_title: str = ""
    device: str = ""
    sound: str = ""
    priority: str = '{{ if eq .Status "firing" }}2{{ else }}0{{ end }}'
    retry: GoDuration = 60.0
    expire: GoDuration = 3600.0
    ttl: GoDuration = 0.0
    html: bool = False
    monospace: bool = False

    @model_validator(mode="after")
    def _validate(self) -> PushoverConfig:
        if not _set(self.user_key) and not self.user_key_file:
            raise ValueError("one of user_key or user_key_file must be configured")
        if _set(self.user_key) and self.user_key_file:
            raise ValueError("at most one of user_key & user_key_file must be configured")
        if not _set(self.token) and not self.token_file:
            raise ValueError("one of token or token_file must be configured")
        if _set(self.token) and self.token_file:
            raise ValueError("at most one of token & token_file must be configured")
        if self.html and self.monospace:
            raise ValueError("at most one of monospace & html must be configured")
        return self


_VICTOROPS_RESERVED = (
    "routing_key",
    "message_type",
    "state_message",
    "entity_display_name",
    "monitoring_tool",
    "entity_id",
    "entity_state",
)


class VictorOpsConfig(_HTTPNotifier):
    """VictorOps (Splunk On-Call) REST endpoint."""

    send_resolved: bool = True
    api_key: Secret_ | None = None
    api_key_file: str = ""
    api_url: URL | None = None
    routing_key: str = ""
    message_type: str = "CRITICAL"
    state_message: str = '{{ template "victorops.default.state_message" . }}'
    entity_display_name: str = '{{ template "victorops.default.entity_display_name" . }}'
    monitoring_tool: str = '{{ template "victorops.default.monitoring_tool" . }}'
    custom_fields: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _validate(self) -> VictorOpsConfig:
        if not self.routing_key:
            raise ValueError("missing Routing key in VictorOps config")
        if _set(self.api_key) and self.api_key_file:
            raise ValueError("at most one of api_key & api_key_file must be configured")
        for name in _VICTOROPS_RESERVED:
            if name in self.custom_fields:
                raise ValueError(
                    f"victorOps config contains custom field {name} which cannot be used as it "
                    "conflicts "
                    "with the fixed/static fields"
                )
        return self


class SigV4Config(_Block):
    """AWS Signature V4 signing for SNS; empty values come from the default credential chain."""

    region: str = ""
    access_key: str = ""
    secret_key: Secret_ | None = None
    profile: str = ""
    role_arn: str = ""
    external_id: str = ""
    use_fips_sts_endpoint: bool = False
    service_name: str = ""

    @model_validator(mode="after")
    def _validate(self) -> SigV4Config:
        if bool(self.access_key) != _set(self.secret_key):
            raise ValueError(
                "must provide a AWS SigV4 Access key and Secret Key if credentials are specified "
                "in the SigV4 config"
            )
        if self.external_id and not self.role_arn:
            raise ValueError("external_id can only be used with role_arn")
        return self


class SNSConfig(_HTTPNotifier):
    """Amazon SNS: a topic, a target (mobile endpoint) or a phone number."""

    send_resolved: bool = True
    api_url: str = ""
    sigv4: SigV4Config = Field(default_factory=SigV4Config)
    topic_arn: str = ""
    phone_number: str = ""
    target_arn: str = ""
    subject: str = '{{ template "sns.default.subject" . }}'
    message: str = '{{ template "sns.default.message" . }}'
    attributes: dict[str, str] = Field(default_factory=dict)
    use_aws_http_client: bool = False

    @model_validator(mode="after")
    def _validate(self) -> SNSConfig:
        # Upstream's chained comparison, kept as is: it also accepts all three set.
        if ((self.target_arn == "") != (self.topic_arn == "")) != (self.phone_number == ""):
            raise ValueError("must provide either a Target ARN, Topic ARN, or Phone Number for SNS config")
        return self


_StrictInt = Annotated[int, Field(strict=True)]


class TelegramConfig(_HTTPNotifier):
    """Telegram Bot API messages."""

    send_resolved: bool = True
    api_url: URL | None = None
    bot_token: Secret_ | None = None
    bot_token_file: str = ""
    chat_id: _StrictInt = 0
    chat_id_file: str = ""
    message_thread_id: _StrictInt = 0
    message: str = '{{ template "telegram.default.message" . }}'
    disable_notifications: bool = False
    parse_mode: str = "HTML"

    @model_validator(mode="after")
    def _validate(self) -> TelegramConfig:
        if _set(self.bot_token) and self.bot_token_file:
            raise ValueError("at most one of bot_token & bot_token_file must be configured")
        if self.chat_id == 0 and not self.chat_id_file:
            raise ValueError("missing chat_id or chat_id_file on telegram_config")
        if self.chat_id != 0 and self.chat_id_file:
            raise ValueError("at most one of chat_id & chat_id_file must be configured")
        if self.parse_mode not in ("", "Markdown", "MarkdownV2", "HTML"):
            raise ValueError(
                "unknown parse_mode on telegram_config, must be Markdown, MarkdownV2, HTML or empty string"
            )
        return self


class WebexConfig(_HTTPNotifier):
    """Webex Teams messages; the bot token is the http_config authorization."""

    send_resolved: bool = True
    api_url: URL | None = None
    message: str = '{{ template "webex.default.message" . }}'
    room_id: str = ""

    @model_validator(mode="after")
    def _validate(self) -> WebexConfig:
        if not self.room_id:
            raise ValueError("missing room_id on webex_config")
        if self.http_config is None or self.http_config.authorization is None:
            raise ValueError("missing webex_configs.http_config.authorization")
        return self


class _WebhookURLNotifier(_HTTPNotifier):
    webhook_url: SecretURL_ | None = None
    webhook_url_file: str = ""

    def _check_webhook_url(self, required: bool = True) -> None:
        if required and self.webhook_url is None and not self.webhook_url_file:
            raise ValueError("one of webhook_url or webhook_url_file must be configured")
        if self.webhook_url is not None and self.webhook_url_file:
            raise ValueError("at most one of webhook_url & webhook_url_file must be configured")


class DiscordConfig(_WebhookURLNotifier):
    """Discord webhook messages."""

    send_resolved: bool = True
    content: str = ""
    title: str = '{{ template "discord.default.title" . }}'
    message: str = '{{ template "discord.default.message" . }}'
    username: str = ""
    avatar_url: str = ""

    @model_validator(mode="after")
    def _validate(self) -> DiscordConfig:
        self._check_webhook_url()
        return self


class MSTeamsConfig(_WebhookURLNotifier):
    """Microsoft Teams incoming webhook (legacy connector cards)."""

    send_resolved: bool = True
    title: str = '{{ template "msteams.default.title" . }}'
    summary: str = '{{ template "msteams.default.summary" . }}'
    text: str = '{{ template "msteams.default.text" . }}'

    @model_validator(mode="after")
    def _validate(self) -> MSTeamsConfig:
        self._check_webhook_url()
        return self


class MSTeamsV2Config(_WebhookURLNotifier):
    """Microsoft Teams via Workflows (adaptive cards)."""

    send_resolved: bool = True
    title: str = '{{ template "msteamsv2.default.title" . }}'
    text: str = '{{ template "msteamsv2.default.text" . }}'

    @model_validator(mode="after")
    def _validate(self) -> MSTeamsV2Config:
        self._check_webhook_url()
        return self


class JiraFieldConfig(_Block):
    """A Jira issue field rendered from a template: a string, or {template, enable_update}."""

    template: str = ""
    enable_update: bool | None = None

    @property
    def enable_update_value(self) -> bool:
        """Updating is on unless explicitly disabled."""
        return True if self.enable_update is None else self.enable_update


_JIRA_FIELD_DEFAULTS = {
    "summary": '{{ template "jira.default.summary" . }}',
    "description": '{{ template "jira.default.description" . }}',
}


class JiraConfig(_HTTPNotifier):
    """Jira issues, created, updated, resolved and reopened."""

    send_resolved: bool = True
    api_url: URL | None = None
    api_type: str = "auto"
    project: str = ""
    summary: JiraFieldConfig = Field(
        default_factory=lambda: JiraFieldConfig(template=_JIRA_FIELD_DEFAULTS["summary"])
    )
    description: JiraFieldConfig = Field(
        default_factory=lambda: JiraFieldConfig(template=_JIRA_FIELD_DEFAULTS["description"])
    )
    labels: list[str] = Field(default_factory=list)
    priority: str = '{{ template "jira.default.priority" . }}'
    issue_type: str = ""
    reopen_transition: str = ""
    resolve_transition: str = ""
    wont_fix_resolution: str = ""
    reopen_duration: Duration | None = None
    fields: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _field_configs(cls, data: Any) -> Any:
        """A string is the template; a mapping keeps the default template unless it sets one."""
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for key, default in _JIRA_FIELD_DEFAULTS.items():
            if key not in out:
                continue
            value = _scalar_to_str(out[key])
            if value is None:
                out[key] = {}
            elif isinstance(value, str):
                out[key] = {"template": value}
            elif isinstance(value, dict) and "template" not in value:
                out[key] = {"template": default, **value}
        return out

    @model_validator(mode="after")
    def _validate(self) -> JiraConfig:
        if not self.project:
            raise ValueError("missing project in jira_config")
        if not self.issue_type:
            raise ValueError("missing issue_type in jira_config")
        if self.api_type not in ("auto", "cloud", "datacenter"):
            raise ValueError("unknown api_type on jira_config, must be auto, cloud or datacenter")
        return self


class RocketchatAttachmentField(_Block):
    """A Rocket.Chat attachment field."""

    short: bool | None = None
    title: str = ""
    value: str = ""


class RocketchatAttachmentAction(_Block):
    """A Rocket.Chat attachment button.

    Upstream gives these fields no yaml tags, so Go's decoder uses the lowercased Go field
    names (``imageurl``, ``msginchatwindow``): the same keys are accepted here.
    """

    type: str = ""
    text: str = ""
    url: str = ""
    imageurl: str = ""
    iswebview: bool = False
    webviewheightratio: str = ""
    msg: str = ""
    msginchatwindow: bool = False
    msgprocessingtype: str = ""


class RocketchatConfig(_HTTPNotifier):
    """Rocket.Chat chat.postMessage with a personal access token."""

    send_resolved: bool = False
    api_url: URL | None = None
    token_id: Secret_ | None = None
    token_id_file: str = ""
    token: Secret_ | None = None
    token_file: str = ""
    channel: str = ""
    color: str = '{{ if eq .Status "firing" }}red{{ else }}green{{ end }}'
    title: str = '{{ template "rocketchat.default.title" . }}'
    title_link: str = '{{ template "rocketchat.default.titlelink" . }}'
    text: str = '{{ template "rocketchat.default.text" . }}'
    fields: list[RocketchatAttachmentField] = Field(default_factory=list)
    short_fields: bool = False
    emoji: str = '{{ template "rocketchat.default.emoji" . }}'
    icon_url: str = '{{ template "rocketchat.default.iconurl" . }}'
    image_url: str = ""
    thumb_url: str = ""
    link_names: bool = False
    actions: list[RocketchatAttachmentAction] = Field(default_factory=list)

    @model_validator(mode="after")
    def _validate(self) -> RocketchatConfig:
        # Upstream holds these as pointers: present (even empty) counts as set.
        if self.token is not None and self.token_file:
            raise ValueError("at most one of token & token_file must be configured")
        if self.token_id is not None and self.token_id_file:
            raise ValueError("at most one of token_id & token_id_file must be configured")
        return self


class MattermostField(_Block):
    """A Mattermost attachment field."""

    title: str = ""
    value: str = ""
    short: bool | None = None

    @model_validator(mode="after")
    def _validate(self) -> MattermostField:
        if not self.title:
            raise ValueError("missing title in Mattermost field configuration")
        if not self.value:
            raise ValueError("missing value in Mattermost field configuration")
        return self


class MattermostAttachment(_Block):
    """A Mattermost message attachment (deprecated upstream in favour of top-level fields)."""

    fallback: str = ""
    color: str = ""
    pretext: str = ""
    text: str = ""
    author_name: str = ""
    author_link: str = ""
    author_icon: str = ""
    title: str = ""
    title_link: str = ""
    fields: list[MattermostField] = Field(default_factory=list)
    thumb_url: str = ""
    footer: str = ""
    footer_icon: str = ""
    image_url: str = ""


class MattermostProps(_Block):
    """Extra Markdown shown in Mattermost's side panel."""

    card: str = ""


class MattermostPriority(_Block):
    """Message priority and acknowledgement (Mattermost enterprise)."""

    priority: str = ""
    requested_ack: bool = False
    persistent_notifications: bool = False


class MattermostConfig(_WebhookURLNotifier):
    """Mattermost incoming webhook."""

    send_resolved: bool = True
    channel: str = ""
    username: str = '{{ template "mattermost.default.username" . }}'
    text: str = '{{ template "mattermost.default.text" . }}'
    fallback: str = '{{ template "mattermost.default.fallback" . }}'
    color: str = '{{ template "mattermost.default.color" . }}'
    pretext: str = ""
    author_name: str = ""
    author_link: str = ""
    author_icon: str = ""
    title: str = '{{ template "mattermost.default.title" . }}'
    title_link: str = '{{ template "mattermost.default.titlelink" . }}'
    fields: list[MattermostField] = Field(default_factory=list)
    thumb_url: str = ""
    footer: str = ""
    footer_icon: str = ""
    image_url: str = ""
    icon_url: str = ""
    icon_emoji: str = ""
    attachments: list[MattermostAttachment] = Field(default_factory=list)
    type: str = ""
    props: MattermostProps | None = None
    priority: MattermostPriority | None = None

    @model_validator(mode="after")
    def _validate(self) -> MattermostConfig:
        # The URL may come from global.mattermost_webhook_url: required only after inheritance.
        self._check_webhook_url(required=False)
        return self


class IncidentioConfig(_HTTPNotifier):
    """incident.io alert source."""

    send_resolved: bool = True
    url: URL | None = None
    url_file: str = ""
    alert_source_token: Secret_ | None = None
    alert_source_token_file: str = ""
    max_alerts: Annotated[int, Field(ge=0)] = 0
    timeout: GoDuration = 0.0

    @model_validator(mode="after")
    def _validate(self) -> IncidentioConfig:
        token = _set(self.alert_source_token) or bool(self.alert_source_token_file)
        if self.url is None and not self.url_file:
            raise ValueError("one of url or url_file must be configured")
        if self.url is not None and self.url_file:
            raise ValueError("at most one of url & url_file must be configured")
        if _set(self.alert_source_token) and self.alert_source_token_file:
            raise ValueError("at most one of alert_source_token & alert_source_token_file must be configured")
        if self.http_config is not None and self.http_config.authorization is not None and token:
            raise ValueError(
                "cannot specify alert_source_token or alert_source_token_file when using "
                "http_config.authorization"
            )
        if self.http_config is not None and self.http_config.authorization is None and not token:
            raise ValueError(
                "at least one of alert_source_token, alert_source_token_file or "
                "http_config.authorization must be configured"
            )
        return self


IntegrationConfig: TypeAlias = (
    WebhookConfig
    | EmailConfig
    | PagerdutyConfig
    | OpsGenieConfig
    | WechatConfig
    | SlackConfig
    | VictorOpsConfig
    | PushoverConfig
    | SNSConfig
    | TelegramConfig
    | DiscordConfig
    | WebexConfig
    | MSTeamsConfig
    | MSTeamsV2Config
    | JiraConfig
    | IncidentioConfig
    | RocketchatConfig
    | MattermostConfig
)
"""Any integration config."""


# --------------------------------------------------------------------------------------------
# Receiver


def _nn(kind: str) -> BeforeValidator:
    """A list item that is null: upstream says "missing <kind> config"."""

    def check(value: Any) -> Any:
        if value is None:
            raise ValueError(f"missing {kind} config")
        return value

    return BeforeValidator(check)


class Receiver(_Block):
    """A named set of integrations; routes send notifications to receivers by name."""

    name: str = ""
    labels: dict[str, str] = Field(default_factory=dict)

    discord_configs: list[Annotated[DiscordConfig, _nn("discord")]] = []
    email_configs: list[Annotated[EmailConfig, _nn("email")]] = []
    mattermost_configs: list[Annotated[MattermostConfig, _nn("mattermost")]] = []
    msteams_configs: list[Annotated[MSTeamsConfig, _nn("msteams")]] = []
    msteamsv2_configs: list[Annotated[MSTeamsV2Config, _nn("msteamsv2")]] = []
    jira_configs: list[Annotated[JiraConfig, _nn("jira")]] = []
    opsgenie_configs: list[Annotated[OpsGenieConfig, _nn("opsgenie")]] = []
    pagerduty_configs: list[Annotated[PagerdutyConfig, _nn("pagerduty")]] = []
    incidentio_configs: list[Annotated[IncidentioConfig, _nn("incidentio")]] = []
    pushover_configs: list[Annotated[PushoverConfig, _nn("pushover")]] = []
    rocketchat_configs: list[Annotated[RocketchatConfig, _nn("rocketchat")]] = []
    slack_configs: list[Annotated[SlackConfig, _nn("slack")]] = []
    sns_configs: list[Annotated[SNSConfig, _nn("sns")]] = []
    telegram_configs: list[Annotated[TelegramConfig, _nn("telegram")]] = []
    victorops_configs: list[Annotated[VictorOpsConfig, _nn("victorops")]] = []
    webex_configs: list[Annotated[WebexConfig, _nn("webex")]] = []
    webhook_configs: list[Annotated[WebhookConfig, _nn("webhook")]] = []
    wechat_configs: list[Annotated[WechatConfig, _nn("wechat")]] = []

    @model_validator(mode="after")
    def _validate(self) -> Receiver:
        if not self.name:
            raise ValueError("missing name in receiver")
        given = self.labels.get("name")
        if given is not None and given != self.name:
            raise ValueError(
                f'receiver label "name" must match receiver name {go_quote(self.name)}, got {go_quote(given)}'
            )
        self.labels["name"] = self.name
        return self

    def integrations(self) -> list[tuple[str, int, NotifierConfig]]:
        """(kind, index, config) for every integration, in the order Alertmanager builds them.

        The kind is Alertmanager's integration name, as used in its metrics and logs.
        """
        out: list[tuple[str, int, NotifierConfig]] = []
        for kind in INTEGRATION_KINDS:
            configs: Sequence[NotifierConfig] = getattr(self, f"{kind}_configs")
            out.extend((kind, i, cfg) for i, cfg in enumerate(configs))
        return out


INTEGRATION_KINDS: tuple[str, ...] = (
    "webhook",
    "email",
    "pagerduty",
    "opsgenie",
    "wechat",
    "slack",
    "victorops",
    "pushover",
    "sns",
    "telegram",
    "discord",
    "webex",
    "msteams",
    "msteamsv2",
    "jira",
    "incidentio",
    "rocketchat",
    "mattermost",
)
"""Integration names in the order of upstream's BuildReceiverIntegrations."""


# --------------------------------------------------------------------------------------------
# Inheritance from the global block

Path = tuple[str | int, ...]


def _http(cfg: _HTTPNotifier, glob: GlobalConfig) -> None:
    if cfg.http_config is None:
        cfg.http_config = glob.http_config.model_copy(deep=True)


def _email(ec: EmailConfig, g: GlobalConfig) -> str | None:
    if ec.tls_config is None and g.smtp_tls_config is not None:
        ec.tls_config = g.smtp_tls_config.model_copy(deep=True)
    ec.smarthost = ec.smarthost or g.smtp_smarthost
    if not ec.smarthost:
        return "no global SMTP smarthost set"
    ec.from_ = ec.from_ or g.smtp_from
    if not ec.from_:
        return "no global SMTP from set"
    ec.hello = ec.hello or g.smtp_hello
    ec.auth_username = ec.auth_username or g.smtp_auth_username
    if not _set(ec.auth_password) and not ec.auth_password_file:
        ec.auth_password = g.smtp_auth_password
        ec.auth_password_file = g.smtp_auth_password_file
    if not _set(ec.auth_secret) and not ec.auth_secret_file:
        ec.auth_secret = g.smtp_auth_secret
        ec.auth_secret_file = g.smtp_auth_secret_file
    ec.auth_identity = ec.auth_identity or g.smtp_auth_identity
    if ec.require_tls is None:
        ec.require_tls = g.smtp_require_tls
    if ec.force_implicit_tls is None:
        ec.force_implicit_tls = g.smtp_force_implicit_tls
    return None


def _slack(sc: SlackConfig, g: GlobalConfig) -> str | None:
    sc.app_url = sc.app_url or g.slack_app_url
    if sc.app_url is None:
        return "no global Slack App URL set"
    # The global app token applies only when nothing local authenticates the request.
    local_auth = sc.http_config is not None and sc.http_config.authorization is not None
    if not _set(sc.app_token) and not sc.app_token_file and not local_auth and sc.api_url is None:
        sc.app_token = g.slack_app_token
        sc.app_token_file = g.slack_app_token_file
    if sc.api_url is None and not sc.api_url_file:
        sc.api_url = g.slack_api_url
        sc.api_url_file = g.slack_api_url_file
    token = _set(sc.app_token) or bool(sc.app_token_file)
    if sc.api_url is None and not sc.api_url_file and not token:
        return "no Slack API URL nor App token set either inline or in a file"
    _http(sc, g)
    assert sc.http_config is not None
    if token:
        if sc.http_config.authorization is not None:
            return "http authorization can't be set when using Slack App tokens"
        sc.http_config.authorization = Authorization.model_validate(
            {"type": "Bearer", "credentials": sc.app_token, "credentials_file": sc.app_token_file}
        )
        sc.api_url = Secret(sc.app_url)
    return None


def _opsgenie(oc: OpsGenieConfig, g: GlobalConfig) -> str | None:
    _http(oc, g)
    oc.api_url = oc.api_url or g.opsgenie_api_url
    if oc.api_url is None:
        return "no global OpsGenie URL set"
    oc.api_url = _with_trailing_slash(oc.api_url)
    if not _set(oc.api_key) and not oc.api_key_file:
        if not _set(g.opsgenie_api_key) and not g.opsgenie_api_key_file:
            return "no global OpsGenie API Key set either inline or in a file"
        oc.api_key = g.opsgenie_api_key
        oc.api_key_file = g.opsgenie_api_key_file
    return None


def _wechat(wc: WechatConfig, g: GlobalConfig) -> str | None:
    _http(wc, g)
    wc.api_url = wc.api_url or g.wechat_api_url
    if wc.api_url is None:
        return "no global Wechat URL set"
    if not _set(wc.api_secret) and not wc.api_secret_file:
        if not _set(g.wechat_api_secret) and not g.wechat_api_secret_file:
            return "no global Wechat Api Secret set either inline or in a file"
        wc.api_secret = g.wechat_api_secret
        wc.api_secret_file = g.wechat_api_secret_file
    wc.corp_id = wc.corp_id or g.wechat_api_corp_id
    if not wc.corp_id:
        return "no global Wechat CorpID set"
    wc.api_url = _with_trailing_slash(wc.api_url)
    return None


def _victorops(vc: VictorOpsConfig, g: GlobalConfig) -> str | None:
    _http(vc, g)
    vc.api_url = vc.api_url or g.victorops_api_url
    if vc.api_url is None:
        return "no global VictorOps URL set"
    vc.api_url = _with_trailing_slash(vc.api_url)
    if not _set(vc.api_key) and not vc.api_key_file:
        if not _set(g.victorops_api_key) and not g.victorops_api_key_file:
            return "no global VictorOps API Key set"
        vc.api_key = g.victorops_api_key
        vc.api_key_file = g.victorops_api_key_file
    return None


def _pagerduty(pc: PagerdutyConfig, g: GlobalConfig) -> str | None:
    _http(pc, g)
    pc.url = pc.url or g.pagerduty_url
    if pc.url is None:
        return "no global PagerDuty URL set"
    return None


def _telegram(tc: TelegramConfig, g: GlobalConfig) -> str | None:
    _http(tc, g)
    tc.api_url = tc.api_url or g.telegram_api_url
    if not _set(tc.bot_token) and not tc.bot_token_file:
        if not _set(g.telegram_bot_token) and not g.telegram_bot_token_file:
            return "missing bot_token or bot_token_file on telegram_config"
        tc.bot_token = g.telegram_bot_token
        tc.bot_token_file = g.telegram_bot_token_file
    return None


def _webex(wc: WebexConfig, g: GlobalConfig) -> str | None:
    _http(wc, g)
    wc.api_url = wc.api_url or g.webex_api_url
    if wc.api_url is None:
        return "no global Webex URL set"
    return None


def _webhook_url_kind(kind: str) -> Callable[[_WebhookURLNotifier, GlobalConfig], str | None]:
    def apply(c: _WebhookURLNotifier, g: GlobalConfig) -> str | None:
        _http(c, g)
        if c.webhook_url is None and not c.webhook_url_file:
            return f"no {kind} webhook URL or URLFile provided"
        return None

    return apply


def _msteamsv2(mc: MSTeamsV2Config, g: GlobalConfig) -> str | None:
    if mc.http_config is None:
        mc.http_config = g.http_config.model_copy(deep=True)
    elif mc.http_config.proxy_url is None:
        # A partial http_config still gets the global proxy, and only that.
        mc.http_config.proxy_url = g.http_config.proxy_url
    if mc.webhook_url is None and not mc.webhook_url_file:
        return "no msteamsv2 webhook URL or URLFile provided"
    return None


def _jira(jc: JiraConfig, g: GlobalConfig) -> str | None:
    _http(jc, g)
    jc.api_url = jc.api_url or g.jira_api_url
    if jc.api_url is None:
        return "no global Jira Cloud URL set"
    return None


def _rocketchat(rc: RocketchatConfig, g: GlobalConfig) -> str | None:
    _http(rc, g)
    rc.api_url = rc.api_url or g.rocketchat_api_url
    if rc.token_id is None:
        rc.token_id = g.rocketchat_token_id
    rc.token_id_file = rc.token_id_file or g.rocketchat_token_id_file
    if rc.token_id is None and not rc.token_id_file:
        return "no global Rocketchat TokenID set either inline or in a file"
    if rc.token is None:
        rc.token = g.rocketchat_token
    rc.token_file = rc.token_file or g.rocketchat_token_file
    if rc.token is None and not rc.token_file:
        return "no global Rocketchat Token set either inline or in a file"
    return None


def _mattermost(mc: MattermostConfig, g: GlobalConfig) -> str | None:
    _http(mc, g)
    if mc.webhook_url is None and not mc.webhook_url_file:
        if g.mattermost_webhook_url is None and not g.mattermost_webhook_url_file:
            return "missing webhook_url or webhook_url_file on mattermost_config"
        mc.webhook_url = g.mattermost_webhook_url
        mc.webhook_url_file = g.mattermost_webhook_url_file
    return None


def _http_only(c: _HTTPNotifier, g: GlobalConfig) -> str | None:
    _http(c, g)
    return None


_APPLY: dict[str, Callable[[Any, GlobalConfig], str | None]] = {
    "webhook": _http_only,
    "email": _email,
    "slack": _slack,
    "pushover": _http_only,
    "pagerduty": _pagerduty,
    "incidentio": _http_only,
    "opsgenie": _opsgenie,
    "wechat": _wechat,
    "victorops": _victorops,
    "sns": _http_only,
    "telegram": _telegram,
    "discord": _webhook_url_kind("discord"),
    "webex": _webex,
    "msteams": _webhook_url_kind("msteams"),
    "msteamsv2": _msteamsv2,
    "jira": _jira,
    "rocketchat": _rocketchat,
    "mattermost": _mattermost,
}
"""Per kind, what Config.UnmarshalYAML does with each config (upstream's order of kinds)."""


def apply_global_defaults(receivers: Sequence[Receiver], glob: GlobalConfig) -> list[tuple[Path, str]]:
    """Fill every receiver with what it inherits from ``global``; return what is wrong.

    Mirrors the receiver loop of Config.UnmarshalYAML: unique receiver names, the global
    http_config for unset ones, SMTP/Slack/PagerDuty/... URLs and keys. Upstream stops at the
    first error; here each config reports its first error and the rest are still checked, so
    every mistake of a file is listed at once. Locations are paths inside the config document,
    such as ``("receivers", 2, "email_configs", 0)``. Configs already filled are left alone,
    so calling this twice is harmless.
    """
    errors: list[tuple[Path, str]] = []
    names: set[str] = set()
    for r_idx, rcv in enumerate(receivers):
        if rcv.name in names:
            errors.append(
                (
                    ("receivers", r_idx, "name"),
                    f"notification config name {go_quote(rcv.name)} is not unique",
                )
            )
        names.add(rcv.name)
        for kind, apply in _APPLY.items():
            configs: Sequence[NotifierConfig] = getattr(rcv, f"{kind}_configs")
            for c_idx, cfg in enumerate(configs):
                if cfg._globals_applied:
                    continue
                problem = apply(cfg, glob)
                if problem is not None:
                    errors.append((("receivers", r_idx, f"{kind}_configs", c_idx), problem))
                else:
                    cfg._globals_applied = True
    return errors
