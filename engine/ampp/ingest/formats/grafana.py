"""Grafana: unified alerting's webhook contact point, and the legacy (pre-8) alert webhook.

Unified alerting sends Alertmanager's payload plus a few fields (orgId, values, silenceURL,
dashboardURL, panelURL); legacy alerting sends one rule's state with its matched series.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...model.severity import severity
from .alertmanager import alert_item
from .base import FIRING, RESOLVED, FormatError, Incoming, Parsed, label_name, put, required


class GrafanaUnified:
    name = "grafana"
    resends = False  # notifies again only every repeat_interval

    def detect(self, body: Any, headers: Mapping[str, str]) -> bool:
        return isinstance(body, dict) and isinstance(body.get("alerts"), list) and "orgId" in body

    def parse(self, body: Any, headers: Mapping[str, str]) -> Parsed:
        items: list[Incoming | FormatError] = []
        for i, raw in enumerate(body["alerts"]):
            try:
                item = alert_item(raw, f"alerts[{i}]")
            except FormatError as e:
                items.append(e)
                continue
            for key in ("silenceURL", "dashboardURL", "panelURL"):
                put(item.annotations, key, raw.get(key))
            if isinstance(raw.get("values"), dict):
                put(item.annotations, "values", raw["values"])
            put(item.annotations, "valueString", raw.get("valueString"))
            items.append(item)
        return Parsed(items)


_LEGACY_RESOLVED = {"ok"}
_LEGACY_SEVERITY = {"alerting": "critical", "no_data": "warning", "pending": "warning", "paused": "info"}


class GrafanaLegacy:
    name = "grafana-legacy"
    resends = False

    def detect(self, body: Any, headers: Mapping[str, str]) -> bool:
        return (
            isinstance(body, dict)
            and "ruleName" in body
            and "state" in body
            and ("evalMatches" in body or "ruleId" in body)
        )

    def parse(self, body: Any, headers: Mapping[str, str]) -> Parsed:
        state = str(required(body, "state"))
        labels = {"alertname": str(required(body, "ruleName"))}
        tags = body.get("tags") or {}
        if isinstance(tags, dict):
            for k, v in tags.items():
                put(labels, label_name(str(k)), v)
        labels.setdefault(
            "severity",
            severity(
                tags.get("severity") if isinstance(tags, dict) else None,
                _LEGACY_SEVERITY.get(state, "warning"),
            ),
        )
        for key, name in (
            ("ruleId", "rule_id"),
            ("dashboardId", "dashboard_id"),
            ("panelId", "panel_id"),
            ("orgId", "org_id"),
        ):
            put(labels, name, body.get(key))
        annotations: dict[str, str] = {}
        put(annotations, "summary", body.get("title"))
        put(annotations, "description", body.get("message"))
        put(annotations, "image_url", body.get("imageUrl"))
        matches = body.get("evalMatches")
        if isinstance(matches, list) and matches:
            put(annotations, "eval_matches", matches)
        url = body.get("ruleUrl") or ""
        status = RESOLVED if state in _LEGACY_RESOLVED else FIRING
        return Parsed([Incoming(labels, annotations, status, generator_url=str(url))])
