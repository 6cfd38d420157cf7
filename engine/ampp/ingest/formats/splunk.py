"""Splunk's webhook alert action: the saved search (name, owner, app), its search id, a link to
the results and the first result row. Splunk never sends a resolve: the alert fires until
``webhook.event_resolve_timeout`` passes without the search firing again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...model.severity import severity
from .base import FIRING, Incoming, Parsed, label_name, put, required, text


class Splunk:
    name = "splunk"
    resends = False

    def detect(self, body: Any, headers: Mapping[str, str]) -> bool:
        return isinstance(body, dict) and "sid" in body and "results_link" in body

    def parse(self, body: Any, headers: Mapping[str, str]) -> Parsed:
        result = body.get("result") if isinstance(body.get("result"), dict) else {}
        labels = {
            "alertname": text(body.get("search_name")) or "SplunkAlert",
            "severity": severity(result.get("severity") or result.get("urgency")),
        }
        put(labels, "app", body.get("app"))
        put(labels, "owner", body.get("owner"))
        annotations: dict[str, str] = {}
        put(annotations, "sid", required(body, "sid"))
        for k, v in result.items():
            if not str(k).startswith("_"):
                put(annotations, label_name(str(k)), v)
        sid = text(body["sid"])
        return Parsed(
            [
                Incoming(
                    labels, annotations, FIRING, generator_url=text(body.get("results_link")), event_id=sid
                )
            ],
            sid,
        )
