"""Zabbix webhook media types that post their parameters as a JSON object named after Zabbix's
macros (``EVENT.ID``, ``EVENT.NAME``, ``EVENT.SEVERITY``, ``EVENT.VALUE``, ``HOST.NAME``,
``TRIGGER.ID``...). EVENT.VALUE 0 (or EVENT.STATUS RESOLVED, or a recovery time) resolves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...model.severity import severity
from .base import Parsed, add_labels, change, put, required, tag_pairs, text, timestamp


def _when(body: Mapping[str, Any], date: str, time: str) -> int | None:
    d, t = text(body.get(date)), text(body.get(time))
    if not d or "{" in d:
        return None
    return timestamp(f"{d.replace('.', '-')}T{t or '00:00:00'}", date)


class Zabbix:
    name = "zabbix"
    resends = False

    def detect(self, body: Any, headers: Mapping[str, str]) -> bool:
        return (
            isinstance(body, dict) and "EVENT.ID" in body and ("TRIGGER.NAME" in body or "EVENT.NAME" in body)
        )

    def parse(self, body: Any, headers: Mapping[str, str]) -> Parsed:
        labels = {
            "alertname": text(body.get("TRIGGER.NAME") or required(body, "EVENT.NAME")),
            "severity": severity(body.get("EVENT.SEVERITY") or body.get("TRIGGER.SEVERITY")),
        }
        put(labels, "trigger_id", body.get("TRIGGER.ID"))
        put(labels, "host", body.get("HOST.NAME") or body.get("HOST.HOST"))
        put(labels, "host_ip", body.get("HOST.IP"))
        add_labels(labels, tag_pairs(body.get("EVENT.TAGS")))
        annotations: dict[str, str] = {}
        put(annotations, "summary", body.get("EVENT.NAME") or body.get("ALERT.SUBJECT"))
        put(annotations, "description", body.get("ALERT.MESSAGE") or body.get("TRIGGER.DESCRIPTION"))
        put(annotations, "opdata", body.get("EVENT.OPDATA"))
        put(annotations, "event_id", body.get("EVENT.ID"))
        value = text(body.get("EVENT.VALUE"))
        status = text(body.get("EVENT.STATUS") or body.get("TRIGGER.STATUS")).upper()
        recovered = _when(body, "EVENT.RECOVERY.DATE", "EVENT.RECOVERY.TIME")
        resolved = value == "0" or status in ("RESOLVED", "OK") or recovered is not None
        event_id = f"{text(body.get('EVENT.ID'))}:{'resolved' if resolved else 'problem'}"
        return Parsed(
            [
                change(
                    labels,
                    annotations,
                    resolved,
                    recovered,
                    started=_when(body, "EVENT.DATE", "EVENT.TIME"),
                    url=text(body.get("TRIGGER.URL")),
                    event_id=event_id,
                )
            ],
            event_id,
        )
