"""Pingdom's state change webhooks: an uptime check goes DOWN/UP, a transaction check
FAILING/SUCCESS; the check id identifies the alert."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Parsed, change, put, required, text, timestamp

_IMPORTANCE = {"HIGH": "critical", "LOW": "warning"}


class Pingdom:
    name = "pingdom"
    resends = False

    def detect(self, body: Any, headers: Mapping[str, str]) -> bool:
        return isinstance(body, dict) and "check_id" in body and "current_state" in body

    def parse(self, body: Any, headers: Mapping[str, str]) -> Parsed:
        labels = {
            "alertname": text(required(body, "check_name")),
            "severity": _IMPORTANCE.get(text(body.get("importance_level")).upper(), "warning"),
        }
        put(labels, "check_id", required(body, "check_id"))
        put(labels, "check_type", body.get("check_type"))
        params = body.get("check_params")
        if isinstance(params, dict):
            put(labels, "hostname", params.get("hostname"))
        annotations: dict[str, str] = {}
        put(annotations, "summary", body.get("description"))
        put(annotations, "description", body.get("long_description"))
        put(annotations, "previous_state", body.get("previous_state"))
        if isinstance(params, dict):
            put(annotations, "url", params.get("full_url") or params.get("url"))
        state = text(body.get("current_state")).upper()
        resolved = state in ("UP", "SUCCESS")
        changed = timestamp(body.get("state_changed_timestamp"), "state_changed_timestamp")
        event_id = f"{labels['check_id']}:{state}:{body.get('state_changed_timestamp')}"
        return Parsed(
            [change(labels, annotations, resolved, changed, event_id=event_id)],
            event_id,
        )
