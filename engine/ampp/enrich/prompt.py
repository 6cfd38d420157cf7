"""The prompt for one alert group, and the cache key of its content.

Only labels and annotations go into the prompt, redacted; times, generator URLs and values
that change on every evaluation do not, so the same problem seen again hits the cache.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import orjson

from ..model.alert import Alert

SYSTEM = (
    "You are an SRE assistant triaging monitoring alerts. For the alert group given, answer with "
    "a JSON object: severity (critical, warning or info: how urgently a human must act), summary "
    "(one or two sentences: what is wrong and where), suggested_action (the first concrete step an "
    "on-call engineer should take) and confidence (0 to 1). Base the answer only on the alerts "
    "given; do not invent hosts, numbers or links."
)
VOLATILE_ANNOTATIONS = frozenset({"value", "values", "valueString", "current_value", "timestamp"})
"""Annotations that change on every evaluation: left out of the prompt and of the cache key."""


def alert_view(alert: Alert, redact: Callable[[str], str], status: str) -> dict[str, object]:
    return {
        "status": status,
        "labels": {k: redact(v) for k, v in sorted(alert.labels.items())},
        "annotations": {
            k: redact(v) for k, v in sorted(alert.annotations.items()) if k not in VOLATILE_ANNOTATIONS
        },
    }


def user_prompt(alerts: Sequence[Alert], redact: Callable[[str], str], now: int) -> str:
    views = [alert_view(a, redact, a.status(now)) for a in alerts[:20]]
    more = f"\n({len(alerts) - 20} more alerts of the same group are not shown.)" if len(alerts) > 20 else ""
    return "Alert group:\n" + orjson.dumps(views, option=orjson.OPT_INDENT_2).decode() + more


def content_key(alerts: Sequence[Alert], redact: Callable[[str], str], now: int, model: str) -> str:
    """Same problem, same key: the redacted labels, annotations and status of each alert."""
    views = sorted(
        orjson.dumps(alert_view(a, redact, a.status(now)), option=orjson.OPT_SORT_KEYS) for a in alerts
    )
    digest = hashlib.sha256(model.encode() + b"\x00" + b"\x00".join(views)).hexdigest()
    return digest[:32]
