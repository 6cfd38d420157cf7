"""Google Cloud Monitoring's webhook notification channel (schema version 1.2): one incident,
``open`` or ``closed``, identified by ``incident_id``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...model.severity import severity
from .base import Parsed, add_labels, change, obj, put, required, timestamp


class GoogleCloudMonitoring:
    name = "gcp"
    resends = False

    def detect(self, body: Any, headers: Mapping[str, str]) -> bool:
        return (
            isinstance(body, dict)
            and isinstance(body.get("incident"), dict)
            and "incident_id" in body["incident"]
        )

    def parse(self, body: Any, headers: Mapping[str, str]) -> Parsed:
        inc = obj(body, "incident")
        w = "incident."
        labels = {
            "alertname": str(inc.get("policy_name") or required(inc, "condition_name", w)),
            "severity": severity(inc.get("severity")),
        }
        put(labels, "incident_id", required(inc, "incident_id", w))
        put(labels, "condition", inc.get("condition_name"))
        put(labels, "resource_name", inc.get("resource_name"))
        resource = inc.get("resource")
        if isinstance(resource, dict):
            put(labels, "resource_type", resource.get("type"))
            res_labels = resource.get("labels")
            if isinstance(res_labels, dict):
                add_labels(labels, res_labels.items())
        put(labels, "scoping_project_id", inc.get("scoping_project_id"))
        annotations: dict[str, str] = {}
        put(annotations, "summary", inc.get("summary"))
        doc = inc.get("documentation")
        if isinstance(doc, dict):
            put(annotations, "description", doc.get("content"))
        elif isinstance(doc, str):
            put(annotations, "description", doc)
        closed = str(inc.get("state", "")).lower() == "closed"
        return Parsed(
            [
                change(
                    labels,
                    annotations,
                    closed,
                    timestamp(inc.get("ended_at"), w + "ended_at"),
                    started=timestamp(inc.get("started_at"), w + "started_at"),
                    url=str(inc.get("url") or ""),
                )
            ]
        )
