"""PagerDuty's V3 webhooks: one outbound event per request; incident events become an alert
per incident (its title as alertname), resolved by ``incident.resolved``. Other event types
(notes, responders, status updates) carry no alert state and are acknowledged without one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...model.severity import severity
from .base import Parsed, change, obj, put, required, text, timestamp

_URGENCY = {"high": "critical", "low": "warning"}


class PagerDuty:
    name = "pagerduty"
    resends = False

    def detect(self, body: Any, headers: Mapping[str, str]) -> bool:
        event = body.get("event") if isinstance(body, dict) else None
        return isinstance(event, dict) and str(event.get("event_type", "")).startswith("incident")

    def parse(self, body: Any, headers: Mapping[str, str]) -> Parsed:
        event = obj(body, "event")
        event_id = str(required(event, "id", "event."))
        data = obj(body, "event.data")
        if data.get("type") != "incident":
            return Parsed([], event_id)
        priority = data.get("priority")
        level = text(priority.get("summary")) if isinstance(priority, dict) else ""
        labels = {
            "alertname": text(required(data, "title", "event.data.")),
            "severity": severity(level) if level else _URGENCY.get(text(data.get("urgency")), "warning"),
        }
        put(labels, "incident_id", data.get("id"))
        service = data.get("service")
        if isinstance(service, dict):
            put(labels, "service", service.get("summary"))
        put(labels, "urgency", data.get("urgency"))
        put(labels, "priority", level)
        annotations: dict[str, str] = {}
        put(annotations, "summary", data.get("title"))
        put(annotations, "incident_number", data.get("number"))
        put(annotations, "pagerduty_status", data.get("status"))
        resolved = event.get("event_type") == "incident.resolved" or data.get("status") == "resolved"
        when = timestamp(event.get("occurred_at"), "event.occurred_at")
        created = timestamp(data.get("created_at"), "event.data.created_at")
        url = text(data.get("html_url"))
        alert = change(labels, annotations, resolved, when, started=created, url=url, event_id=event_id)
        return Parsed([alert], event_id)
