"""PagerDuty: Events API v2 (``routing_key``) or the legacy v1 API (``service_key``).

As Alertmanager's notify/pagerduty: one event per flush, ``trigger`` while any alert fires and
``resolve`` once all are resolved, deduplicated by the SHA-256 of the group key so the
resolve closes the incident the trigger opened. v2 puts the rendered description (cut at
1024 characters) in ``payload.summary``; v1 sends it as ``description``. An event over
512 KB loses its custom details. v2 retries 429 and 5xx, v1 403 and 5xx (PagerDuty's own retry
guidance); a 400 shows PagerDuty's message and errors. With AI enrichment (ampp), the default
description ends with its summary, and the custom details get an ``enrichment`` entry (the
summary and suggested action).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import orjson

from ...config.notifiers import PagerdutyConfig
from ...model.alert import Alert
from ...model.labels import go_quote
from ..gojson import go_json
from ..http import check_response
from ..stage import FlushContext, NotifyError
from ._common import HTTPIntegration, Renderer, alerts_status, key_hash, secret, sorted_map, truncate_in_runes

log = logging.getLogger("ampp.notify.pagerduty")

MAX_EVENT_SIZE = 512_000
MAX_V1_DESCRIPTION_RUNES = 1024
MAX_V2_SUMMARY_RUNES = 1024
ENRICHMENT_DETAIL = '{{ template "pagerduty.default.enrichment" . }}'
TOO_BIG = "Custom details have been removed because the original event exceeds the maximum size of 512KB"


def _error_details(resp: httpx.Response) -> str:
    """errDetails: PagerDuty's 400 carries {"message": ..., "errors": [...]}; other codes say
    nothing useful (an empty detail, as upstream)."""
    if resp.status_code != 400:
        return ""
    try:
        body = orjson.loads(resp.content)
        message = str(body.get("message", ""))
        errors = ",".join(str(e) for e in body.get("errors") or [])
    except (orjson.JSONDecodeError, AttributeError):
        return ""
    return f"{message}: {errors}"


class PagerDutyIntegration(HTTPIntegration[PagerdutyConfig]):
    name = "pagerduty"

    def timeout(self) -> float | None:
        return self.conf.timeout or None

    API_V1 = "https://events.pagerduty.com/generic/2010-04-15/create_event.json"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        c = self.conf
        self.v1 = bool(c.service_key or c.service_key_file)
        self.api_v1 = self.API_V1
        self.retry_codes = frozenset({403} if self.v1 else {429})

    def _details(self, r: Renderer) -> dict[str, Any]:
        """Each detail rendered. A string renders to a string (0.25's map[string]string); a
        structured value (upstream's extension) has each string key and leaf rendered."""
        out: dict[str, Any] = {}
        for key, value in self.conf.details.items():
            out[key] = self._deep(r, value, key)
        if r.data.enrichment is not None or any(a.enrichment for a in r.data.alerts):
            # ampp: the AI enrichment's summary and suggested action, unless details has the key
            out.setdefault("enrichment", r.text(ENRICHMENT_DETAIL, 'details "enrichment"'))
        return out

    def _deep(self, r: Renderer, value: Any, key: str) -> Any:
        if isinstance(value, str):
            return r.text(value, f"details {go_quote(key)}")
        if isinstance(value, Mapping):
            return {
                r.text(str(k), f"details {go_quote(key)}"): self._deep(r, v, key) for k, v in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [self._deep(r, v, key) for v in value]
        return value

    def _encode(self, msg: dict[str, Any]) -> bytes:
        body = go_json(msg)
        if len(body) > MAX_EVENT_SIZE:
            if self.v1:
                msg["details"] = {"error": TOO_BIG}
            else:
                msg["payload"]["custom_details"] = {"error": TOO_BIG}
            log.warning(
                "Truncated Details because message of size %s exceeds limit 512KB", _metric_bytes(len(body))
            )
            body = go_json(msg)
        return body

    async def notify(self, ctx: FlushContext, alerts: Sequence[Alert]) -> None:
        r = self.renderer(ctx, alerts)
        event = "resolve" if alerts_status(alerts, ctx.now) == "resolved" else "trigger"
        details = sorted_map(self._details(r))
        if self.v1:
            body, url = self._v1(r, event, ctx.group_key, details), self.api_v1
        else:
            body, url = self._v2(r, event, ctx.group_key, details), str(self.conf.url)
        resp = await self.sender.post(url, body)
        check_response(resp, self.retry_codes, _error_details(resp))

    def _v1(self, r: Renderer, event: str, group_key: str, details: dict[str, Any]) -> bytes:
        c = self.conf
        description, truncated = truncate_in_runes(
            r.text(c.description, "description"), MAX_V1_DESCRIPTION_RUNES
        )
        if truncated:
            log.warning("Truncated description key=%s max_runes=%d", group_key, MAX_V1_DESCRIPTION_RUNES)
        service_key = r.text(secret(c.service_key, c.service_key_file, "service_key_file"), "service_key")
        msg: dict[str, Any] = {
            "service_key": service_key,
            "incident_key": key_hash(group_key),
            "event_type": event,
            "description": description,
            "event_action": "",  # v1 and v2 share one message type upstream: these two
            "payload": None,  # fields are always written
        }
        if event == "trigger":
            msg["client"] = r.text(c.client, "client")
            msg["client_url"] = r.text(c.client_url, "client_url")
        msg["details"] = details
        if not service_key:
            raise NotifyError("service key cannot be empty", retry=False)
        return self._encode(_omit_empty(msg, ("event_action", "payload")))

    def _v2(self, r: Renderer, event: str, group_key: str, details: dict[str, Any]) -> bytes:
        c = self.conf
        summary, truncated = truncate_in_runes(r.text(c.description, "description"), MAX_V2_SUMMARY_RUNES)
        if truncated:
            log.warning("Truncated summary key=%s max_runes=%d", group_key, MAX_V2_SUMMARY_RUNES)
        routing_key = r.text(secret(c.routing_key, c.routing_key_file, "routing_key_file"), "routing_key")
        payload = _omit_empty(
            {
                "summary": summary,
                "source": r.text(c.source, "source"),
                "severity": r.text(c.severity or "error", "severity"),
                "class": r.text(c.class_, "class"),
                "component": r.text(c.component, "component"),
                "group": r.text(c.group, "group"),
                "custom_details": details,
            },
            ("summary", "source", "severity"),
        )
        images = [
            {"src": src, "alt": r.text(i.alt, "images.alt"), "href": r.text(i.href, "images.href")}
            for i in c.images
            if (src := r.text(i.src, "images.src"))
        ]
        links = [
            {"href": href, "text": r.text(link.text, "links.text")}
            for link in c.links
            if (href := r.text(link.href, "links.href"))
        ]
        msg = _omit_empty(
            {
                "routing_key": routing_key,
                "dedup_key": key_hash(group_key),
                "event_action": event,
                "payload": payload,
                "client": r.text(c.client, "client"),
                "client_url": r.text(c.client_url, "client_url"),
                "images": images,
                "links": links,
            },
            ("event_action", "payload"),
        )
        if not routing_key:
            raise NotifyError("routing key cannot be empty", retry=False)
        return self._encode(msg)


def _omit_empty(d: dict[str, Any], keep: tuple[str, ...] = ()) -> dict[str, Any]:
    """encoding/json's omitempty: drop "", empty maps and lists, except the fields in ``keep``."""
    return {k: v for k, v in d.items() if k in keep or v not in ("", None, [], {})}


def _metric_bytes(n: int) -> str:
    """alecthomas/units.MetricBytes.String: 512000 -> 512KB, 1234567 -> 1MB234KB567B."""
    units = ["B", "KB", "MB", "GB", "TB", "PB", "EB"]
    parts: list[str] = []
    i = 0
    while True:
        if n % 1000 or (i == 0 and n == 0):
            parts.append(f"{n % 1000}{units[i]}")
        n //= 1000
        i += 1
        if n == 0:
            break
    return "".join(reversed(parts))
