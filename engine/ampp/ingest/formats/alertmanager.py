"""Alertmanager's webhook payload (version 4 and older) and the v2 API's PostableAlerts array.

Both carry labels and annotations already; the alert's own status, times and generator URL
are kept, so an Alertmanager relaying into this one changes nothing but the ``source`` label.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import FIRING, RESOLVED, FormatError, Incoming, Parsed, text, timestamp


def _strings(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FormatError(where, "must be an object of strings")
    return {str(k): text(v) for k, v in value.items() if text(v)}


def alert_item(item: Any, where: str, status: str | None = None) -> Incoming:
    """One alert object of either shape (labels, annotations, startsAt, endsAt, generatorURL)."""
    if not isinstance(item, dict):
        raise FormatError(where, "must be a JSON object")
    if not isinstance(item.get("labels"), dict) or not item["labels"]:
        raise FormatError(f"{where}.labels", "is required (a non-empty object)")
    starts = timestamp(item.get("startsAt"), f"{where}.startsAt")
    ends = timestamp(item.get("endsAt"), f"{where}.endsAt")
    state = item.get("status") or status
    if state not in (None, FIRING, RESOLVED):
        raise FormatError(f"{where}.status", f"must be firing or resolved, not {state!r}")
    url = item.get("generatorURL") or ""
    if not isinstance(url, str):
        raise FormatError(f"{where}.generatorURL", "must be a string")
    return Incoming(
        labels=_strings(item["labels"], f"{where}.labels"),
        annotations=_strings(item.get("annotations"), f"{where}.annotations"),
        status=RESOLVED if state == RESOLVED else FIRING,
        starts_at=starts,
        ends_at=ends,
        generator_url=url,
    )


class AlertmanagerWebhook:
    name = "alertmanager"
    resends = False  # notifies again only every repeat_interval

    def detect(self, body: Any, headers: Mapping[str, str]) -> bool:
        return (
            isinstance(body, dict)
            and isinstance(body.get("alerts"), list)
            and "groupKey" in body
            and "orgId" not in body  # Grafana's payload extends this one
        )

    def parse(self, body: Any, headers: Mapping[str, str]) -> Parsed:
        items: list[Incoming | FormatError] = []
        for i, item in enumerate(body["alerts"]):
            try:
                items.append(alert_item(item, f"alerts[{i}]"))
            except FormatError as e:
                items.append(e)
        return Parsed(items)


class PostableAlerts:
    """The body ``POST /api/v2/alerts`` takes, so Prometheus can point at /webhook as well."""

    name = "prometheus"
    resends = True

    def detect(self, body: Any, headers: Mapping[str, str]) -> bool:
        return (
            isinstance(body, list)
            and bool(body)
            and all(isinstance(a, dict) for a in body)
            and all("labels" in a for a in body)
        )

    def parse(self, body: Any, headers: Mapping[str, str]) -> Parsed:
        items: list[Incoming | FormatError] = []
        for i, item in enumerate(body):
            try:
                items.append(alert_item(item, f"[{i}]"))
            except FormatError as e:
                items.append(e)
        return Parsed(items)
