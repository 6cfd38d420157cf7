"""Datadog's webhook integration: the default payload, plus the ``$ALERT_*`` variables users add.

Datadog's payload is a template the user edits; the default has ``body``, ``last_updated``,
``event_type``, ``title``, ``date``, ``org`` and ``id``, and integrations conventionally add
``alert_id``, ``alert_transition``, ``alert_priority``, ``alert_type``, ``tags``... under their
variable names in lower case. Recovered transitions resolve; the monitor id is the identity.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...model.severity import severity
from .base import Parsed, add_labels, change, put, tag_pairs, text, timestamp

_RESOLVED = {"recovered", "success"}
_TYPE_SEVERITY = {"error": "critical", "warning": "warning", "info": "info", "success": "info"}


class Datadog:
    name = "datadog"
    resends = False

    def detect(self, body: Any, headers: Mapping[str, str]) -> bool:
        if not isinstance(body, dict):
            return False
        return "alert_transition" in body or {"last_updated", "event_type", "org"} <= body.keys()

    def parse(self, body: Any, headers: Mapping[str, str]) -> Parsed:
        title = text(body.get("alert_title") or body.get("title") or body.get("event_title"))
        labels: dict[str, str] = {"alertname": title or "DatadogAlert"}
        transition = text(body.get("alert_transition")).lower()
        alert_type = text(body.get("alert_type")).lower()
        priority = text(body.get("alert_priority") or body.get("priority"))
        if priority.upper().startswith("P"):
            labels["severity"] = severity(priority)
        else:
            labels["severity"] = _TYPE_SEVERITY.get(
                alert_type, "warning" if "warn" in transition else "critical"
            )
        put(labels, "monitor_id", body.get("alert_id"))
        put(labels, "host", body.get("host_name") or body.get("hostname"))
        put(labels, "priority", priority)
        if not body.get("alert_id"):  # no monitor: the aggregation key tells repeats apart
            put(labels, "aggregation_key", body.get("aggreg_key") or body.get("id"))
        add_labels(labels, tag_pairs(body.get("tags")))
        annotations: dict[str, str] = {}
        put(annotations, "summary", body.get("title") or body.get("event_title"))
        put(annotations, "description", body.get("body") or body.get("event_msg"))
        put(annotations, "alert_status", body.get("alert_status"))
        put(annotations, "alert_metric", body.get("alert_metric"))
        put(annotations, "alert_scope", body.get("alert_scope"))
        put(annotations, "alert_query", body.get("alert_query"))
        put(annotations, "transition", body.get("alert_transition"))
        org = body.get("org")
        if isinstance(org, dict):
            put(labels, "org", org.get("name"))
        resolved = transition in _RESOLVED or alert_type == "success"
        when = timestamp(body.get("date") or body.get("last_updated"), "date")
        link = text(body.get("link") or body.get("url"))
        event_id = text(body.get("id")) or None
        alert = change(labels, annotations, resolved, when, url=link, event_id=event_id)
        return Parsed([alert], event_id=event_id)
