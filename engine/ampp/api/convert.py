"""Domain objects to and from the v2 API's JSON shapes (api/v2/compat.go)."""

from __future__ import annotations

from typing import Any

from ..model.alert import Alert
from ..model.matchers import Matcher, MatcherParseError, MatchType, new_matcher
from ..model.silence import Silence
from ..model.timefmt import TimestampError, format_rfc3339millis, parse_rfc3339
from ..mute.marker import AlertStatus

_RECEIVERS: dict[str, dict[str, str]] = {}
"""``{"name": receiver}`` objects, one per receiver name, shared by every alert listed."""


def _receiver(name: str) -> dict[str, str]:
    r = _RECEIVERS.get(name)
    if r is None:
        if len(_RECEIVERS) >= 4096:
            _RECEIVERS.clear()
        r = _RECEIVERS[name] = {"name": name}
    return r


def alert_json(a: Alert, status: AlertStatus, receivers: list[str]) -> dict[str, Any]:
    """An alert as the v2 API lists it. Serialized at once by the caller: the status's lists
    and the alert's maps go in as they are, not copied (a listing holds 100,000 of them)."""
    out = {
        "annotations": a.annotations,
        "endsAt": format_rfc3339millis(a.ends_at),
        "fingerprint": f"{a.fingerprint:016x}",
        "receivers": [_receiver(r) for r in receivers],
        "startsAt": format_rfc3339millis(a.starts_at),
        "status": {
            "inhibitedBy": status.inhibited_by,
            "silencedBy": status.silenced_by,
            "state": status.state,
        },
        "updatedAt": format_rfc3339millis(a.updated_at),
        "generatorURL": a.generator_url,
        "labels": a.labels,
    }
    if not a.generator_url:
        del out["generatorURL"]  # omitted when empty, as Alertmanager's API does
    return out


def matcher_json(m: Matcher) -> dict[str, Any]:
    return {
        "isEqual": m.type in (MatchType.EQUAL, MatchType.REGEX),
        "isRegex": m.type in (MatchType.REGEX, MatchType.NOT_REGEX),
        "name": m.name,
        "value": m.value,
    }


def silence_json(s: Silence, now: int) -> dict[str, Any]:
    return {
        "id": s.id,
        "status": {"state": s.state(now)},
        "updatedAt": format_rfc3339millis(s.updated_at),
        "comment": s.comment,
        "createdBy": s.created_by,
        "endsAt": format_rfc3339millis(s.ends_at),
        "matchers": [matcher_json(m) for m in s.matchers],
        "startsAt": format_rfc3339millis(s.starts_at),
    }


class BadSilence(ValueError):
    pass


def _required(body: dict[str, Any], name: str, kind: type) -> Any:
    if name not in body or body[name] is None:
        raise BadSilence(f"{name} in body is required")
    value = body[name]
    if not isinstance(value, kind) or (kind is str and not isinstance(value, str)):
        raise BadSilence(f"{name} in body must be of type {kind.__name__}")
    return value


def parse_postable_silence(body: Any) -> Silence:
    """PostableSilence → Silence; raises BadSilence naming the field that is wrong."""
    if not isinstance(body, dict):
        raise BadSilence("the body must be a JSON object (a silence)")
    sid = body.get("id") or ""
    if not isinstance(sid, str):
        raise BadSilence("id in body must be of type string")
    raw_matchers = _required(body, "matchers", list)
    comment = _required(body, "comment", str)
    created_by = _required(body, "createdBy", str)
    times = {}
    for field in ("startsAt", "endsAt"):
        raw = _required(body, field, str)
        try:
            times[field] = parse_rfc3339(raw)
        except TimestampError:
            raise BadSilence(f"{field} in body must be of type date-time: {raw!r}") from None
    if not raw_matchers:
        raise BadSilence("matchers in body should have at least 1 items")
    matchers: list[Matcher] = []
    for i, m in enumerate(raw_matchers):
        if not isinstance(m, dict):
            raise BadSilence(f"matchers.{i} in body must be an object")
        name = m.get("name")
        value = m.get("value")
        is_regex = m.get("isRegex")
        is_equal: Any = m.get("isEqual", True)
        if not isinstance(name, str):
            raise BadSilence(f"matchers.{i}.name in body is required")
        if not isinstance(value, str):
            raise BadSilence(f"matchers.{i}.value in body is required")
        if not isinstance(is_regex, bool):
            raise BadSilence(f"matchers.{i}.isRegex in body is required")
        if is_equal is None:
            is_equal = True
        if not isinstance(is_equal, bool):
            raise BadSilence(f"matchers.{i}.isEqual in body must be of type boolean")
        kind = {
            (True, False): MatchType.EQUAL,
            (False, False): MatchType.NOT_EQUAL,
            (True, True): MatchType.REGEX,
            (False, True): MatchType.NOT_REGEX,
        }[(is_equal, is_regex)]
        try:
            matchers.append(new_matcher(name, kind, value))
        except MatcherParseError as e:
            raise BadSilence(f"silence invalid: invalid label matcher {i}: {e}") from None
    return Silence(sid, matchers, times["startsAt"], times["endsAt"], 0, created_by, comment)
