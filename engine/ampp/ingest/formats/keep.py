"""Keep's alert JSON (its AlertDto: name, status, severity, lastReceived, fingerprint, labels,
source...): firing, acknowledged and pending stay firing; resolved resolves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...model.severity import severity
from .base import Parsed, add_labels, change, put, required, text, timestamp


class Keep:
    name = "keep"
    resends = False

    def detect(self, body: Any, headers: Mapping[str, str]) -> bool:
        return isinstance(body, dict) and {"name", "status", "severity", "lastReceived"} <= body.keys()

    def parse(self, body: Any, headers: Mapping[str, str]) -> Parsed:
        labels = {"alertname": text(required(body, "name")), "severity": severity(body.get("severity"))}
        put(labels, "keep_fingerprint", body.get("fingerprint"))
        put(labels, "environment", body.get("environment"))
        put(labels, "service", body.get("service"))
        extra = body.get("labels")
        if isinstance(extra, dict):
            add_labels(labels, extra.items())
        annotations: dict[str, str] = {}
        put(annotations, "summary", body.get("message"))
        put(annotations, "description", body.get("description"))
        put(annotations, "origin", body.get("source"))
        resolved = text(body.get("status")).lower() == "resolved"
        received = timestamp(body.get("lastReceived"), "lastReceived")
        started = timestamp(body.get("firingStartTime") or body.get("startedAt"), "firingStartTime")
        return Parsed(
            [
                change(
                    labels,
                    annotations,
                    resolved,
                    received,
                    started=started,
                    url=text(body.get("url")),
                    event_id=text(body.get("event_id")) or None,
                )
            ]
        )
