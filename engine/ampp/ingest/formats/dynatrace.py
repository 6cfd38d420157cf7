"""Dynatrace problem notifications through a custom (webhook) integration, with the
placeholders of Dynatrace's documented example payload: OPEN problems fire, RESOLVED (and
MERGED, folded into another problem) resolve; the problem id identifies the alert."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...model.severity import severity
from .base import FIRING, RESOLVED, Incoming, Parsed, put, required, text


class Dynatrace:
    name = "dynatrace"
    resends = False

    def detect(self, body: Any, headers: Mapping[str, str]) -> bool:
        return isinstance(body, dict) and "ProblemID" in body and "State" in body

    def parse(self, body: Any, headers: Mapping[str, str]) -> Parsed:
        labels = {
            "alertname": text(required(body, "ProblemTitle")),
            "severity": severity(body.get("ProblemSeverity"), "warning"),
        }
        put(labels, "problem_id", body.get("PID") or required(body, "ProblemID"))
        put(labels, "impact", body.get("ProblemImpact"))
        put(labels, "entity", body.get("ImpactedEntity"))
        annotations: dict[str, str] = {}
        put(annotations, "problem_number", body.get("ProblemID"))
        put(annotations, "description", body.get("ProblemDetailsText"))
        put(annotations, "tags", body.get("Tags"))
        entities = body.get("ImpactedEntities")
        if isinstance(entities, list) and entities:
            put(annotations, "impacted_entities", [e.get("name") for e in entities if isinstance(e, dict)])
        state = text(body.get("State")).upper()
        url = body.get("ProblemURL") or body.get("Problem URL") or ""
        return Parsed(
            [
                Incoming(
                    labels,
                    annotations,
                    RESOLVED if state in ("RESOLVED", "MERGED", "CLOSED") else FIRING,
                    generator_url=text(url),
                )
            ]
        )
