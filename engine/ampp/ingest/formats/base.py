"""The common alert model every vendor format maps to, and the helpers the mappings share.

A format turns one request body into ``Incoming`` alerts: labels, annotations, a status and
times. The webhook then builds engine alerts from them exactly as ``/api/v2/alerts`` does, so
nothing after this point knows which vendor sent an alert.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from ...model.timefmt import NS, TimestampError, parse_rfc3339

FIRING = "firing"
RESOLVED = "resolved"


class FormatError(ValueError):
    """A body of a known format with a field that is missing or wrong: names the field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass
class Incoming:
    """One alert as a sender described it, before the engine's defaults and validation."""

    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    status: str = FIRING
    starts_at: int | None = None
    """Nanoseconds; None lets the engine use the time it was received."""
    ends_at: int | None = None
    """Nanoseconds; None for a firing alert lets resolve_timeout apply."""
    generator_url: str = ""
    event_id: str | None = None
    """The vendor's id of this notification, used to make a resend harmless."""


@dataclass
class Parsed:
    """What a format made of one body."""

    items: list[Incoming | FormatError]
    """One entry per alert of the body, in order: the alert, or why that one was refused."""
    event_id: str | None = None
    """The vendor's id of the whole delivery (SNS MessageId, PagerDuty event id...)."""
    reply: dict[str, Any] | None = None
    """Set when the body is a protocol message to answer rather than alerts (an SNS
    SubscriptionConfirmation): the webhook answers with it and stores nothing."""


class WebhookFormat(Protocol):
    """A vendor's payload: how to recognise it and how to map it."""

    name: str
    """The ``source`` label value and the name used in ``/webhook/{source}``."""
    resends: bool
    """Whether the sender repeats firing alerts at every evaluation (Prometheus): they get
    Alertmanager's resolve_timeout. The others (which notify once per state change, or again
    only every repeat_interval) get ``webhook.event_resolve_timeout``, so their alerts do not
    resolve by themselves between two notifications."""

    def detect(self, body: Any, headers: Mapping[str, str]) -> bool: ...

    def parse(self, body: Any, headers: Mapping[str, str]) -> Parsed: ...


def change(
    labels: dict[str, str],
    annotations: dict[str, str],
    resolved: bool,
    at: int | None,
    *,
    started: int | None = None,
    url: str = "",
    event_id: str | None = None,
) -> Incoming:
    """An alert from a state change at ``at``: a firing one starts then (unless ``started`` says
    when the problem began), a resolved one ends then."""
    return Incoming(
        labels,
        annotations,
        RESOLVED if resolved else FIRING,
        starts_at=started if started is not None else (None if resolved else at),
        ends_at=at if resolved else None,
        generator_url=url,
        event_id=event_id,
    )


# -- values --------------------------------------------------------------------------------

_INVALID_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_]")


def label_name(name: str) -> str:
    """A vendor's key as a valid label name: other characters become ``_``."""
    clean = _INVALID_NAME_CHARS.sub("_", name) or "_"
    return "_" + clean if clean[0].isdigit() else clean


def text(value: Any) -> str:
    """A JSON value as a label or annotation value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, list):
        return ", ".join(text(v) for v in value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def put(target: dict[str, str], name: str, value: Any) -> None:
    """Set ``name`` when the value is not empty (Alertmanager drops empty label values)."""
    s = text(value)
    if s:
        target[name] = s


def add_labels(labels: dict[str, str], pairs: Iterable[tuple[Any, Any]]) -> None:
    """A vendor's own key/value pairs (tags, dimensions, resource labels) as labels, never
    replacing one the mapping set."""
    for key, value in pairs:
        name = label_name(str(key))
        if name not in labels:
            put(labels, name, value)


def tag_pairs(tags: Any) -> list[tuple[str, str]]:
    """``key:value`` tags in a comma-separated text (Datadog, Zabbix); plain tags are skipped."""
    out = []
    for tag in text(tags).split(","):
        key, sep, value = tag.strip().partition(":")
        if sep and key and value:
            out.append((key, value))
    return out


def obj(body: Any, path: str) -> dict[str, Any]:
    """The object at ``path`` (dotted) in ``body``; FormatError naming the path otherwise."""
    cur = body
    for part in path.split("."):
        if not isinstance(cur, dict) or not isinstance(cur.get(part), dict):
            raise FormatError(path, "must be a JSON object")
        cur = cur[part]
    return cur  # type: ignore[no-any-return]


def required(body: Mapping[str, Any], key: str, where: str = "") -> Any:
    """The value at ``key``; one that would make an empty label value (null, "", [], [""])
    counts as missing, since it cannot identify anything."""
    value = body.get(key)
    if value is None or text(value) == "":
        raise FormatError(f"{where}{key}", "is required")
    return value


def timestamp(value: Any, where: str) -> int | None:
    """RFC 3339 text, or epoch seconds/milliseconds (as number or digits), to nanoseconds."""
    if value is None or value == "" or value == "0001-01-01T00:00:00Z":
        return None
    if isinstance(value, bool):
        raise FormatError(where, "must be a timestamp")
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        n = int(value)
        if n <= 0:
            return None
        return n * 1_000_000 if n > 10**11 else n * NS  # milliseconds above ~5138 AD in seconds
    if isinstance(value, float):
        if not 0 < value < 1e15:
            return None if value <= 0 else int(value * 1_000_000)
        return int(value * 1_000_000) * 1000 if value <= 1e11 else round(value * 1_000_000)
    if not isinstance(value, str):
        raise FormatError(where, "must be a timestamp")
    try:
        return parse_rfc3339(value)
    except TimestampError:
        pass
    try:  # other ISO 8601 spellings vendors use: +0000 offsets, no offset (UTC), 7 digits
        fixed = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", value)
        fixed = re.sub(r"(\.\d{6})\d+", r"\1", fixed)
        dt = datetime.fromisoformat(fixed.replace("Z", "+00:00"))
    except ValueError:
        raise FormatError(where, f"is not a timestamp: {value!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1_000_000) * 1000
