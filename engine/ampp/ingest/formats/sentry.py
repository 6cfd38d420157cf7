"""Sentry's integration-platform webhooks: issue alerts (``event_alert``), metric alerts
(``metric_alert``) and issue changes (``issue``), told apart by the Sentry-Hook-Resource header
or by the shape of ``data``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...model.severity import severity
from .base import FIRING, RESOLVED, FormatError, Incoming, Parsed, change, put, text, timestamp


class Sentry:
    name = "sentry"
    resends = False

    def detect(self, body: Any, headers: Mapping[str, str]) -> bool:
        if "sentry-hook-resource" in headers:
            return True
        return (
            isinstance(body, dict)
            and "action" in body
            and isinstance(body.get("data"), dict)
            and isinstance(body.get("actor"), dict)
        )

    def parse(self, body: Any, headers: Mapping[str, str]) -> Parsed:
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            raise FormatError("data", "must be a JSON object")
        data = body["data"]
        request_id = headers.get("request-id")
        if isinstance(data.get("metric_alert"), dict):
            alert = _metric_alert(body, data)
        elif isinstance(data.get("event"), dict):
            alert = _event_alert(data)
        elif isinstance(data.get("issue"), dict):
            alert = _issue(body, data["issue"])
        else:
            raise FormatError("data", "has no event, metric_alert or issue")
        alert.event_id = request_id
        return Parsed([alert], request_id)


def _event_alert(data: dict[str, Any]) -> Incoming:
    event = data["event"]
    labels = {
        "alertname": text(data.get("triggered_rule")) or "SentryIssueAlert",
        "severity": severity(event.get("level"), "warning"),
    }
    put(labels, "issue_id", event.get("issue_id"))
    put(labels, "project", event.get("project"))
    put(labels, "environment", _tag(event, "environment"))
    annotations: dict[str, str] = {}
    put(annotations, "summary", event.get("title"))
    put(annotations, "description", event.get("culprit") or event.get("message"))
    put(annotations, "level", event.get("level"))
    return Incoming(
        labels,
        annotations,
        FIRING,
        starts_at=timestamp(event.get("datetime"), "data.event.datetime"),
        generator_url=text(event.get("web_url")),
    )


def _tag(event: dict[str, Any], name: str) -> str:
    for tag in event.get("tags") or []:
        if isinstance(tag, list) and len(tag) == 2 and tag[0] == name:
            return text(tag[1])
    return ""


def _metric_alert(body: dict[str, Any], data: dict[str, Any]) -> Incoming:
    incident = data["metric_alert"]
    rule = incident.get("alert_rule") if isinstance(incident.get("alert_rule"), dict) else {}
    action = text(body.get("action"))
    labels = {
        "alertname": text(rule.get("name")) or "SentryMetricAlert",
        "severity": severity(action if action != "resolved" else "info"),
    }
    put(labels, "alert_rule_id", rule.get("id"))
    put(labels, "incident_id", incident.get("identifier") or incident.get("id"))
    annotations: dict[str, str] = {}
    put(annotations, "summary", data.get("description_title"))
    put(annotations, "description", data.get("description_text"))
    resolved = action == "resolved"
    when = timestamp(
        incident.get("date_closed") if resolved else incident.get("date_started"), "data.metric_alert"
    )
    return change(
        labels,
        annotations,
        resolved,
        when,
        url=text(data.get("web_url")),
    )


def _issue(body: dict[str, Any], issue: dict[str, Any]) -> Incoming:
    action = text(body.get("action"))
    labels = {"alertname": "SentryIssue", "severity": severity(issue.get("level"), "warning")}
    put(labels, "issue_id", issue.get("id"))
    project = issue.get("project")
    if isinstance(project, dict):
        put(labels, "project", project.get("slug"))
    annotations: dict[str, str] = {}
    put(annotations, "summary", issue.get("title"))
    put(annotations, "description", issue.get("culprit"))
    resolved = action in ("resolved", "ignored", "archived")
    return Incoming(
        labels,
        annotations,
        RESOLVED if resolved else FIRING,
        starts_at=timestamp(issue.get("firstSeen"), "data.issue.firstSeen"),
        generator_url=text(issue.get("web_url") or issue.get("permalink")),
    )
