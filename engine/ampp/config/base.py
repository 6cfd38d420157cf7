"""Building blocks shared by every config model: strict parsing, durations, secrets, URLs."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, PlainValidator

from ..model.timefmt import format_duration, parse_duration


class StrictModel(BaseModel):
    """A config block: unknown keys are refused, as Alertmanager's strict YAML decoding does."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=False)


def _duration(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s or 5m")
    if isinstance(value, (int, float)):
        if value != 0:
            raise ValueError(f'not a valid duration string: "{value}" (a unit is required, e.g. 30s)')
        return 0.0
    if not isinstance(value, str):
        raise ValueError("expected a duration such as 30s or 5m")
    return parse_duration(value)


Duration = Annotated[
    float,
    BeforeValidator(_duration),
    PlainSerializer(format_duration, return_type=str),
]
"""A Prometheus duration (``5m``, ``1h30m``), held as seconds."""


class Secret(str):
    """A string that is shown as ``<secret>`` wherever config is printed (status API, logs)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('<secret>')"


def _secret(value: Any) -> Secret:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return Secret(value)


SecretStr = Annotated[
    Secret,
    PlainValidator(_secret),
    PlainSerializer(lambda v: "<secret>", return_type=str),
]
"""A secret config value: usable as a string, serialized as ``<secret>``."""


def _url(value: Any) -> str:
    from urllib.parse import urlsplit

    if not isinstance(value, str):
        raise ValueError("expected a URL string")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f'unsupported scheme "{parts.scheme}" for URL')
    if not parts.netloc:
        raise ValueError("missing host for URL")
    return value


URL = Annotated[str, BeforeValidator(_url)]
"""An http(s) URL with a host, as Alertmanager's config.URL requires."""

SecretURL = Annotated[
    Secret,
    PlainValidator(lambda v: Secret(_url(v))),
    PlainSerializer(lambda v: "<secret>", return_type=str),
]
"""A URL that carries a credential (Slack webhook, ...): validated, printed as ``<secret>``."""
