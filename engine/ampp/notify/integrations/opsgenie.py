"""Opsgenie Alert API v2, as Alertmanager's notify/opsgenie uses it.

While any alert fires: create an alert (``POST v2/alerts``) whose alias is the SHA-256 of the
group key, so Opsgenie deduplicates repeats; with ``update_alerts`` also rewrite its message
and description (``PUT v2/alerts/<alias>/message|description``). Once all are resolved: close
it (``POST v2/alerts/<alias>/close?identifierType=alias``). Details are the group's common
labels overlaid with the rendered ``details``; a ``teams`` responder is split on commas into
one team each; the message is cut at 130 characters. The API key (itself a template) goes in
``Authorization: GenieKey <key>``. 429 and 5xx are retried.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ...config.notifiers import OpsGenieConfig
from ...model.alert import Alert
from ..gojson import go_json
from ..http import check_response
from ..stage import FlushContext
from ._common import (
    HTTPIntegration,
    Renderer,
    alerts_status,
    key_hash,
    read_secret_file,
    request,
    truncate_in_runes,
)

log = logging.getLogger("ampp.notify.opsgenie")

MAX_MESSAGE_RUNES = 130


def _safe_split(s: str, sep: str) -> list[str]:
    """strings.Split of the trimmed string, empty items dropped."""
    return [x for x in s.strip().split(sep) if x]


def _endpoint(base: str, path: str, alias_query: bool = False) -> str:
    """The API URL with ``path`` appended and, for calls by alias, identifierType=alias."""
    parts = urlsplit(base)
    query = parts.query
    if alias_query:
        params = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "identifierType"]
        params.append(("identifierType", "alias"))
        query = urlencode(sorted(params, key=lambda kv: kv[0]))
    return urlunsplit(parts._replace(path=parts.path + path, query=query))


class OpsGenieIntegration(HTTPIntegration[OpsGenieConfig]):
    name = "opsgenie"

    def _api_key(self, r: Renderer) -> str:
        c = self.conf
        if c.api_key:
            return r.text(str(c.api_key), "api_key")
        return r.text(read_secret_file(c.api_key_file, "api_key_file"), "api_key_file").strip()

    def _responders(self, r: Renderer) -> list[dict[str, str]]:
        out: list[dict[str, str]] = []
        for resp in self.conf.responders:
            item = {
                "id": r.text(resp.id, "responders.id"),
                "name": r.text(resp.name, "responders.name"),
                "username": r.text(resp.username, "responders.username"),
                "type": r.text(resp.type, "responders.type"),
            }
            if not any(item.values()):
                continue  # a responder filled from labels the group lacks: skipped
            if item["type"] == "teams":
                out.extend(
                    {"name": r.text(team, "responders.name"), "type": "team"}
                    for team in _safe_split(item["name"], ",")
                )
                continue
            out.append({**{k: v for k, v in item.items() if k != "type" and v}, "type": item["type"]})
        return out

    def _requests(
        self, r: Renderer, ctx: FlushContext, alerts: Sequence[Alert]
    ) -> list[tuple[str, str, bytes]]:
        c = self.conf
        details = dict(sorted(r.data.common_labels.items()))
        for k, v in c.details.items():
            details[k] = r.text(v, f"details {k}")
        alias = key_hash(ctx.group_key)
        base = str(c.api_url)
        out: list[tuple[str, str, bytes]] = []
        if alerts_status(alerts, ctx.now) == "resolved":
            body = go_json({"source": r.text(c.source, "source")})
            out.append(("POST", _endpoint(base, f"v2/alerts/{alias}/close", True), body))
        else:
            message, truncated = truncate_in_runes(r.text(c.message, "message"), MAX_MESSAGE_RUNES)
            if truncated:
                log.warning("Truncated message alert=%s max_runes=%d", ctx.group_key, MAX_MESSAGE_RUNES)
            description = r.text(c.description, "description")
            msg: dict[str, Any] = {"alias": alias, "message": message}
            if description:
                msg["description"] = description
            msg["details"] = dict(sorted(details.items()))
            msg["source"] = r.text(c.source, "source")
            optional: dict[str, Any] = {
                "responders": self._responders(r),
                "tags": _safe_split(r.text(c.tags, "tags"), ","),
                "note": r.text(c.note, "note"),
                "priority": r.text(c.priority, "priority"),
                "entity": r.text(c.entity, "entity"),
                "actions": _safe_split(r.text(c.actions, "actions"), ","),
            }
            msg.update({k: v for k, v in optional.items() if v})
            out.append(("POST", _endpoint(base, "v2/alerts"), go_json(msg)))
            if c.update_alerts:
                out.append(
                    (
                        "PUT",
                        _endpoint(base, f"v2/alerts/{alias}/message", True),
                        go_json({"message": message} if message else {}),
                    )
                )
                out.append(
                    (
                        "PUT",
                        _endpoint(base, f"v2/alerts/{alias}/description", True),
                        go_json({"description": description} if description else {}),
                    )
                )
        return out

    async def notify(self, ctx: FlushContext, alerts: Sequence[Alert]) -> None:
        r = self.renderer(ctx, alerts)
        requests = self._requests(r, ctx, alerts)
        api_key = self._api_key(r)
        headers = {"Authorization": f"GenieKey {api_key}"}
        for method, url, body in requests:
            resp = await request(self.sender, method, url, body, headers=headers)
            check_response(resp)
