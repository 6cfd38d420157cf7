"""The building blocks of Alertmanager's config models: a block decoded with Go yaml's
leniencies, and the scalar field types of its Go structs (secrets, http(s) URLs, Go durations,
host:port addresses), each validated with upstream's error messages."""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, Union
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    PlainValidator,
    model_validator,
)

from ..model.labels import go_quote
from ..model.timefmt import NS, format_go_duration, parse_go_duration
from .base import Secret, StrictModel

SECRET_TOKEN = "<secret>"
"""What Alertmanager prints instead of a secret; accepted back as a URL placeholder."""


# --------------------------------------------------------------------------------------------
# Scalar types


def scalar_to_str(value: Any) -> Any:
    """YAML scalars such as ``agent_id: 1000002`` decode into Go string fields as their text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def _secret(value: Any) -> Secret:
    value = scalar_to_str(value)
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return Secret(value)


HIDDEN = PlainSerializer(lambda v: SECRET_TOKEN, return_type=str)

Secret_ = Annotated[Secret, PlainValidator(_secret), HIDDEN]
"""base.SecretStr's contract (a :class:`Secret`, printed as ``<secret>``) with Go's leniency
for bare numbers; validated without asking pydantic for a schema of the str subclass."""


def http_url(value: Any) -> str:
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
    return Secret(http_url(value))


SecretURL_ = Annotated[Secret, PlainValidator(_secret_url), HIDDEN]
"""Alertmanager's SecretURL: an http(s) URL with a host, printed as ``<secret>``."""


def has_template(value: str) -> bool:
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
    value = scalar_to_str(value)
    if not isinstance(value, str):
        raise ValueError("expected a string")
    if value in ("", SECRET_TOKEN):
        return Secret(value)
    try:
        templated = has_template(value)
    except ValueError as e:
        raise ValueError(f"invalid template syntax: {e}") from None
    if not templated:
        try:
            http_url(value)
        except ValueError as e:
            raise ValueError(f"invalid URL: {e}") from None
    return Secret(value)


SecretTemplateURL = Annotated[Secret, PlainValidator(_secret_template_url), HIDDEN]
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
    value = scalar_to_str(value)
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


def is_set(value: str | None) -> bool:
    """Go compares secrets and strings with "": empty and absent are the same."""
    return bool(value)


def with_trailing_slash(url: str) -> str:
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


class Block(StrictModel):
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
