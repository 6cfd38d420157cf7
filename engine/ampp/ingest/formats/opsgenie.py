"""Opsgenie's outgoing Webhook integration: an alert action (Create, Close, Acknowledge...)
with a subset of the alert; Close and Delete resolve it, every other action keeps it firing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...model.severity import severity
from .base import Parsed, change, obj, put, required, text, timestamp

_RESOLVING = {"close", "delete"}


class Opsgenie:
    name = "opsgenie"
    resends = False

    def detect(self, body: Any, headers: Mapping[str, str]) -> bool:
        return (
            isinstance(body, dict)
            and "action" in body
            and isinstance(body.get("alert"), dict)
            and "alertId" in body["alert"]
        )

    def parse(self, body: Any, headers: Mapping[str, str]) -> Parsed:
        alert = obj(body, "alert")
        labels = {
            "alertname": text(required(alert, "message", "alert.")).strip(),
            "severity": severity(alert.get("priority"), "warning"),
        }
        put(labels, "alert_id", required(alert, "alertId", "alert."))
        put(labels, "alias", alert.get("alias"))
        put(labels, "entity", alert.get("entity"))
        put(labels, "priority", alert.get("priority"))
        annotations: dict[str, str] = {}
        put(annotations, "description", alert.get("description"))
        put(annotations, "tags", alert.get("tags"))
        put(annotations, "teams", alert.get("teams"))
        put(annotations, "action", body.get("action"))
        put(annotations, "tiny_id", alert.get("tinyId"))
        action = text(body.get("action")).lower()
        created = timestamp(alert.get("createdAt"), "alert.createdAt")
        updated = alert.get("updatedAt")
        resolved = action in _RESOLVING
        closed_at = updated if isinstance(updated, int) and updated > 10**17 else None  # nanoseconds
        # updatedAt is in nanoseconds in Opsgenie's payloads; with the alert id it names the action.
        event_id = f"{labels['alert_id']}:{action}:{updated}" if updated else None
        return Parsed(
            [change(labels, annotations, resolved, closed_at, started=created, event_id=event_id)],
            event_id,
        )
