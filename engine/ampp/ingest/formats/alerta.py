"""Alerta's alert format (what ``POST /alert`` takes): ``resource`` and ``event`` identify the
alert within its ``environment``; normal, ok and cleared severities (or a closed status)
resolve it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...model.severity import severity
from .base import Parsed, change, label_name, put, required, text, timestamp

_CLEAR = {"normal", "ok", "cleared"}


class Alerta:
    name = "alerta"
    resends = False

    def detect(self, body: Any, headers: Mapping[str, str]) -> bool:
        return isinstance(body, dict) and "resource" in body and "event" in body

    def parse(self, body: Any, headers: Mapping[str, str]) -> Parsed:
        sev = text(body.get("severity") or "normal").lower()
        labels = {"alertname": text(required(body, "event")), "severity": severity(sev, "info")}
        put(labels, "resource", required(body, "resource"))
        put(labels, "environment", body.get("environment"))
        put(labels, "service", body.get("service"))
        put(labels, "group", body.get("group"))
        put(labels, "alerta_severity", sev)
        annotations: dict[str, str] = {}
        put(annotations, "description", body.get("text"))
        put(annotations, "value", body.get("value"))
        put(annotations, "tags", body.get("tags"))
        put(annotations, "origin", body.get("origin"))
        put(annotations, "correlate", body.get("correlate"))
        attrs = body.get("attributes")
        if isinstance(attrs, dict):
            for k, v in attrs.items():
                put(annotations, label_name(str(k)), v)
        resolved = sev in _CLEAR or text(body.get("status")).lower() in ("closed", "expired")
        created = timestamp(body.get("createTime"), "createTime")
        event_id = text(body.get("id")) or None
        return Parsed(
            [change(labels, annotations, resolved, created, event_id=event_id)],
            event_id,
        )
