"""New Relic workflows' webhook destination, with the default payload template: one issue
(``id``), ACTIVATED/CREATED/ACKNOWLEDGED while open, CLOSED when it resolves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Parsed, change, put, required, text, timestamp

_PRIORITY = {"critical": "critical", "high": "warning", "medium": "warning", "low": "info"}


class NewRelic:
    name = "newrelic"
    resends = False

    def detect(self, body: Any, headers: Mapping[str, str]) -> bool:
        return isinstance(body, dict) and "issueUrl" in body and "state" in body

    def parse(self, body: Any, headers: Mapping[str, str]) -> Parsed:
        conditions = body.get("alertConditionNames")
        name = text(conditions[0]) if isinstance(conditions, list) and conditions else ""
        labels = {
            "alertname": name or text(required(body, "title")),
            "severity": _PRIORITY.get(text(body.get("priority")).lower(), "warning"),
        }
        put(labels, "issue_id", required(body, "id"))
        put(labels, "priority", body.get("priority"))
        policies = body.get("alertPolicyNames")
        if isinstance(policies, list) and policies:
            put(labels, "policy", policies[0])
        annotations: dict[str, str] = {}
        put(annotations, "summary", body.get("title"))
        put(annotations, "impacted_entities", body.get("impactedEntities"))
        put(annotations, "trigger", body.get("trigger"))
        put(annotations, "total_incidents", body.get("totalIncidents"))
        closed = text(body.get("state")).upper() == "CLOSED"
        updated = timestamp(body.get("updatedAt"), "updatedAt")
        return Parsed(
            [
                change(
                    labels,
                    annotations,
                    closed,
                    updated,
                    started=timestamp(body.get("createdAt"), "createdAt"),
                    url=text(body.get("issueUrl")),
                )
            ]
        )
