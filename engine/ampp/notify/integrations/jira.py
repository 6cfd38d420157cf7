"""Jira issues, as upstream Alertmanager's notify/jira: one issue per alert group.

Each flush first searches for the group's issue by its label ``ALERT{<sha256 of the group
key>}`` (open ones; with a reopen transition and duration, also those resolved within it).
None found: create one, unless the group is already resolved. Found: update it (summary and
description only where ``enable_update`` allows), then move it with ``reopen_transition``
if it was done and the group fires again, or with ``resolve_transition`` once the group is
resolved. Search uses ``/search`` (Data Center) or ``/rest/api/3/search/jql`` (Cloud,
chosen by ``api_type`` or an atlassian.net host). With an API v3 URL the description must
render to Atlassian Document Format JSON. 429 and 5xx retry.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
import yaml

from ...config.notifiers import JiraConfig
from ...model.alert import Alert
from ...model.labels import go_quote
from ..gojson import go_json
from ..http import check_response
from ..stage import FlushContext, NotifyError
from ._common import HTTPIntegration, Renderer, alerts_status, key_hash, request, truncate_in_runes, wrap

log = logging.getLogger("ampp.notify.jira")

MAX_SUMMARY_RUNES = 255
MAX_DESCRIPTION_RUNES = 32767
HEADERS = {"Accept-Language": "en"}


def _join(base: str, path: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/" + path.lstrip("/")))


def _is_v3(base: str) -> bool:
    return urlsplit(base).path.rstrip("/").endswith("/3")


def deep_template(value: Any, r: Renderer, field: str) -> Any:
    """template.DeepCopyWithTemplate: strings (keys too) rendered; a rendered string that
    reads as structured YAML (a number, a list, a map...) becomes that structure."""
    if isinstance(value, str):
        text = r.text(value, field)
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError:
            return text
        return text if isinstance(parsed, str) else _json_safe(parsed)
    if isinstance(value, Mapping):
        return {
            r.text(str(k), field): deep_template(v, r, field) for k, v in value.items() if isinstance(k, str)
        }
    if isinstance(value, (list, tuple)):
        return [deep_template(v, r, field) for v in value]
    return value


def _json_safe(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items() if isinstance(k, str)}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)  # dates and the like: their YAML text


class JiraIntegration(HTTPIntegration[JiraConfig]):
    name = "jira"

    async def _api(self, method: str, url: str, body: Any = None) -> bytes:
        raw = go_json(body) if body is not None else b""
        resp = await request(self.sender, method, url, raw, headers=HEADERS)
        check_response(resp, frozenset({429}))
        return resp.content

    def _search_url(self) -> str:
        c = self.conf
        base = str(c.api_url)
        if c.api_type == "datacenter":
            return _join(base, "/search")
        host = urlsplit(base).hostname or ""
        if c.api_type == "cloud" or (c.api_type == "auto" and host.endswith("atlassian.net")):
            return _join(base, "/search/jql").replace("/rest/api/2/", "/rest/api/3/", 1)
        return _join(base, "/search")

    async def _search(self, r: Renderer, group_id: str, firing: bool) -> dict[str, Any] | None:
        c = self.conf
        jql = ""
        if c.wont_fix_resolution:
            jql += f"(resolution is EMPTY or resolution != {go_quote(c.wont_fix_resolution)}) and "
        reopen_minutes = int((c.reopen_duration or 0) // 60)
        if firing and c.reopen_transition and reopen_minutes > 0:
            jql += f"(resolutiondate is EMPTY OR resolutiondate >= -{reopen_minutes}m) and "
        else:
            jql += "statusCategory != Done and "
        project = r.text(c.project, "project")
        jql += f"project={go_quote(project)} and labels={go_quote(f'ALERT{{{group_id}}}')} "
        jql += "order by status ASC,resolutiondate DESC"
        body = {"fields": ["status"], "jql": jql, "maxResults": 2}
        try:
            raw = await self._api("POST", self._search_url(), body)
        except NotifyError as e:
            raise wrap(e, "failed to look up existing issues: HTTP request to JIRA API: ") from None
        try:
            issues = orjson.loads(raw).get("issues") or []
        except (orjson.JSONDecodeError, AttributeError):
            raise NotifyError("failed to look up existing issues: unreadable answer", retry=False) from None
        if len(issues) > 1:
            log.warning(
                "more than one issue matched, selecting the most recently resolved issue=%s",
                issues[0].get("key"),
            )
        return issues[0] if issues else None

    def _fields(self, r: Renderer, group_id: str, update: bool) -> dict[str, Any]:
        c = self.conf
        summary, cut = truncate_in_runes(r.text(c.summary.template, "summary"), MAX_SUMMARY_RUNES)
        if cut:
            log.warning("Truncated summary max_runes=%d", MAX_SUMMARY_RUNES)
        description, cut = truncate_in_runes(
            r.text(c.description.template, "description"), MAX_DESCRIPTION_RUNES
        )
        if cut:
            log.warning("Truncated description max_runes=%d", MAX_DESCRIPTION_RUNES)
        fields: dict[str, Any] = {
            "issuetype": {"name": r.text(c.issue_type, "issue_type")},
            "labels": sorted([r.text(label, "labels") for label in c.labels] + [f"ALERT{{{group_id}}}"]),
            "project": {"key": r.text(c.project, "project")},
            "summary": summary,
        }
        if _is_v3(str(c.api_url)):
            description = description.strip()
            if description:
                try:
                    fields["description"] = orjson.loads(description)
                except orjson.JSONDecodeError:
                    raise NotifyError("description template: invalid JSON for API v3", retry=False) from None
        elif description:
            fields["description"] = description
        priority = r.text(c.priority, "priority")
        if priority:
            fields["priority"] = {"name": priority}
        for key, value in c.fields.items():
            fields[key] = deep_template(value, r, f"fields {key}")
        if update:
            if not c.description.enable_update_value:
                fields.pop("description", None)
            if not c.summary.enable_update_value:
                fields.pop("summary", None)
        return dict(sorted(fields.items()))  # a Go map: keys sorted

    async def _transition(self, issue: dict[str, Any], firing: bool) -> None:
        c = self.conf
        key = issue.get("key")
        status = (issue.get("fields") or {}).get("status")
        if not key or not status:
            return
        done = ((status.get("statusCategory") or {}).get("key")) == "done"
        if firing == done:
            name = c.reopen_transition if firing else c.resolve_transition
        else:
            return
        if not name:
            return
        url = _join(str(c.api_url), f"issue/{key}/transitions")
        try:
            transitions = orjson.loads(await self._api("GET", url)).get("transitions") or []
        except (orjson.JSONDecodeError, AttributeError):
            raise NotifyError(f"unreadable transitions of issue {key}", retry=False) from None
        for t in transitions:
            if t.get("name") == name:
                await self._api("POST", url, {"transition": {"id": str(t.get("id", ""))}})
                return
        raise NotifyError(f"can't find transition {name} for issue {key}", retry=False)

    async def notify(self, ctx: FlushContext, alerts: Sequence[Alert]) -> None:
        r = self.renderer(ctx, alerts)
        group_id = key_hash(ctx.group_key)
        firing = alerts_status(alerts, ctx.now) == "firing"
        existing = await self._search(r, group_id, firing)
        if existing is None and not firing:
            return  # never open an issue for a group that is already resolved
        if existing is None:
            method, path = "POST", "issue"
        else:
            method, path = "PUT", f"issue/{existing.get('key', '')}"
        fields = self._fields(r, group_id, update=existing is not None)
        try:
            await self._api(method, _join(str(self.conf.api_url), path), {"fields": fields})
        except NotifyError as e:
            raise wrap(e, f"failed to {method} request to {go_quote(path)}: ") from None
        if existing is not None:
            await self._transition(existing, firing)
