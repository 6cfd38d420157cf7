"""Azure Monitor's common alert schema (metric, log search, activity log and smart detection
alerts alike): the ``essentials`` section maps to labels; ``alertId`` identifies the alert
across its Fired and Resolved notifications."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...model.severity import severity
from .base import Parsed, change, label_name, obj, put, required, timestamp

SCHEMA = "azureMonitorCommonAlertSchema"


class AzureMonitor:
    name = "azure"
    resends = False

    def detect(self, body: Any, headers: Mapping[str, str]) -> bool:
        return isinstance(body, dict) and body.get("schemaId") == SCHEMA

    def parse(self, body: Any, headers: Mapping[str, str]) -> Parsed:
        ess = obj(body, "data.essentials")
        w = "data.essentials."
        labels = {
            "alertname": str(required(ess, "alertRule", w)),
            "severity": severity(ess.get("severity")),
        }
        put(labels, "alert_id", required(ess, "alertId", w))
        put(labels, "signal_type", ess.get("signalType"))
        put(labels, "monitoring_service", ess.get("monitoringService"))
        targets = ess.get("alertTargetIDs")
        if isinstance(targets, list) and targets:
            put(labels, "resource_id", targets[0])
        items = ess.get("configurationItems")
        if isinstance(items, list) and items:
            put(labels, "resource", items[0])
        put(labels, "azure_severity", ess.get("severity"))
        annotations: dict[str, str] = {}
        put(annotations, "description", ess.get("description"))
        put(annotations, "origin_alert_id", ess.get("originAlertId"))
        custom = body["data"].get("customProperties")
        if isinstance(custom, dict):
            for k, v in custom.items():
                put(annotations, label_name(str(k)), v)
        resolved = str(ess.get("monitorCondition", "")).lower() == "resolved"
        return Parsed(
            [
                change(
                    labels,
                    annotations,
                    resolved,
                    timestamp(ess.get("resolvedDateTime"), w + "resolvedDateTime"),
                    started=timestamp(ess.get("firedDateTime"), w + "firedDateTime"),
                )
            ]
        )
