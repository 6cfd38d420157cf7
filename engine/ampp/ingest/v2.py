"""POST /api/v2/alerts bodies into alerts, with Alertmanager's defaults and validation.

A batch is taken alert by alert: the valid ones are kept, each refused one is reported with its
position and labels so the sender can tell which it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..model.alert import Alert
from ..model.labels import labelset_string, share_values
from ..model.timefmt import ZERO, TimestampError, parse_rfc3339


@dataclass
class ParsedBatch:
    alerts: list[Alert] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    firing: int = 0
    resolved: int = 0


def _strings(value: Any, what: str, drop_empty: bool = False, nul_possible: bool = True) -> dict[str, str]:
    """A JSON object of strings; with ``drop_empty`` empty values go (removeEmptyLabels).

    The object comes fresh from the JSON parser and nobody else holds it, so it is kept
    rather than copied when it is valid as it is (the common case, checked in bulk).
    """
    if value is None:
        return {}
    if type(value) is not dict:
        raise ValueError(f"{what} must be an object of string values")
    values = value.values()
    for v in values:
        if type(v) is not str:
            raise ValueError(f"{what} must be an object of string values")
    if nul_possible and ("\x00" in "".join(value) or "\x00" in "".join(values)):
        raise ValueError(f"{what} must not contain NUL characters")
    if drop_empty and "" in values:
        return {k: v for k, v in value.items() if v}
    return value


def _time(value: Any, what: str) -> int:
    if value is None or value == "":
        return ZERO
    if not isinstance(value, str):
        raise ValueError(f"{what} must be an RFC 3339 date-time string")
    try:
        return parse_rfc3339(value)
    except TimestampError as e:
        raise ValueError(f"{what}: {e}") from None


def parse_postable_alerts(
    data: Any, now: int, resolve_timeout_ns: int, nul_possible: bool = True
) -> ParsedBatch:
    """The body must be a JSON array; raises ValueError if it is not.

    ``nul_possible=False`` skips looking for NUL characters in labels and annotations, when the
    caller knows there are none: JSON can only carry one as the escape \\u0000, so a body
    without that text has none.
    """
    if not isinstance(data, list):
        raise ValueError("the body must be a JSON array of alerts")
    out = ParsedBatch()
    total = len(data)
    for i, item in enumerate(data):
        try:
            if not isinstance(item, dict):
                raise ValueError("must be a JSON object")
            if "labels" not in item:
                raise ValueError("labels in body is required")
            labels = share_values(_strings(item["labels"], "labels", True, nul_possible))
            annotations = _strings(item.get("annotations"), "annotations", False, nul_possible)
            starts = _time(item.get("startsAt"), "startsAt")
            ends = _time(item.get("endsAt"), "endsAt")
            url = item.get("generatorURL") or ""
            if not isinstance(url, str):
                raise ValueError("generatorURL must be a string")
        except ValueError as e:
            out.errors.append(f"alert {i + 1} of {total}: {e}")
            continue
        alert = build_alert(labels, annotations, starts, ends, url, now, resolve_timeout_ns)
        if alert.ends_at > now:
            out.firing += 1
        else:
            out.resolved += 1
        problem = alert.validate()
        if problem:
            out.errors.append(f"{problem} (alert {i + 1} of {total} {labelset_string(labels)})")
            continue
        out.alerts.append(alert)
    return out


def build_alert(
    labels: dict[str, str],
    annotations: dict[str, str],
    starts: int,
    ends: int,
    url: str,
    now: int,
    resolve_timeout_ns: int,
) -> Alert:
    """Alertmanager's defaults for a received alert (ZERO times unset): a missing start is the
    end or now, a missing end is now + resolve_timeout (and marks the alert as timing out).
    Every way in (/api/v2/alerts, /webhook) builds its alerts here; ``Alert.validate`` then
    says whether one is acceptable."""
    timeout = False
    if starts == ZERO:
        starts = now if ends == ZERO else ends
    if ends == ZERO:
        timeout = True
        ends = now + resolve_timeout_ns
    return Alert(labels, annotations, starts, ends, url, now, timeout)
