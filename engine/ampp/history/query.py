"""The /history and /report queries: parameters parsed and normalized, answers shaped as JSON.

The answers themselves come from the storage backend, in SQL over the occurrence summary
(ampp.store.history_common): an occurrence is one alert's firing period, keyed by fingerprint
and startsAt.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from ..model.matchers import MatcherParseError, parse_matchers
from ..model.timefmt import NS, DurationError, format_rfc3339nano, parse_duration, parse_rfc3339
from ..store.history_common import max_changes, sort_value
from ..store.history_query import HistoryPage, HistoryQuery, OccurrenceRow, Report, Timeline

__all__ = [
    "BadParameter",
    "HistoryQuery",
    "max_changes",
    "occurrence_json",
    "page_json",
    "parse_history_query",
    "report_json",
    "timeline_json",
]


class BadParameter(ValueError):
    """An invalid query parameter; the message names it."""


SORTS = ("startsAt", "endsAt", "duration", "alertname", "severity")
LABEL_FILTERS = ("severity", "alertname", "namespace", "cluster", "service")
_BOOLS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
_FP = re.compile(r"^[0-9a-f]{16}$")
KNOWN = {
    "status", "receiver", "fingerprint", "filter", "q", "from", "to", "active_at", "min_duration",
    "max_duration", "silenced", "inhibited", "notified", "flapping", "flapping_window", "sort",
    "direction", "limit", "cursor", *LABEL_FILTERS,
}  # fmt: skip


# -- parameters ----------------------------------------------------------------------------
def _time(name: str, raw: str) -> int:
    try:
        if re.fullmatch(r"-?\d+(\.\d+)?", raw):
            return int(float(raw) * NS)
        return parse_rfc3339(raw)
    except (ValueError, OverflowError):
        raise BadParameter(f"{name}: not an RFC 3339 time or Unix seconds: {raw!r}") from None


def _dur(name: str, raw: str) -> float:
    try:
        return parse_duration(raw)
    except (DurationError, ValueError):
        raise BadParameter(f"{name}: not a duration (e.g. 5m, 1h30m): {raw!r}") from None


def _bool(name: str, raw: str) -> bool:
    v = _BOOLS.get(raw.lower())
    if v is None:
        raise BadParameter(f"{name}: must be true or false: {raw!r}")
    return v


def parse_history_query(params: Mapping[str, Sequence[str]]) -> HistoryQuery:
    """``params``: each name's values (repeatable names keep all). Raises BadParameter."""
    unknown = sorted(set(params) - KNOWN)
    if unknown:
        raise BadParameter(f"{unknown[0]}: unknown parameter")

    def one(name: str) -> str | None:
        vs = params.get(name) or []
        if len(vs) > 1:
            raise BadParameter(f"{name}: given more than once")
        return vs[0] if vs else None

    h = HistoryQuery()
    if (s := one("status")) is not None:
        if s not in ("firing", "resolved"):
            raise BadParameter(f"status: must be firing or resolved: {s!r}")
        h.status = s
    for name in LABEL_FILTERS:
        vals = [v for raw in params.get(name, []) for v in raw.split(",") if v]
        if vals:
            h.labels[name] = sorted(set(vals))
    h.receiver = sorted({v for raw in params.get("receiver", []) for v in raw.split(",") if v})
    h.fingerprint = sorted({v for raw in params.get("fingerprint", []) for v in raw.split(",") if v})
    for fp in h.fingerprint:
        if not _FP.match(fp):
            raise BadParameter(f"fingerprint: not 16 lowercase hex digits: {fp!r}")
    for text in params.get("filter", []):
        try:
            h.matchers.extend(parse_matchers(text))
        except MatcherParseError as e:
            raise BadParameter(f"filter: bad matcher {text!r}: {e}") from None
    h.q = (one("q") or "").lower() or None
    if (v := one("from")) is not None:
        h.from_ = _time("from", v)
    if (v := one("to")) is not None:
        h.to = _time("to", v)
    if h.from_ is not None and h.to is not None and h.from_ > h.to:
        raise BadParameter("from: must not be after to")
    if (v := one("active_at")) is not None:
        h.active_at = _time("active_at", v)
    if (v := one("min_duration")) is not None:
        h.min_duration = _dur("min_duration", v)
    if (v := one("max_duration")) is not None:
        h.max_duration = _dur("max_duration", v)
    for name in ("silenced", "inhibited", "notified"):
        if (v := one(name)) is not None:
            setattr(h, name, _bool(name, v))
    if (v := one("flapping")) is not None:
        if not v.isdigit():
            raise BadParameter(f"flapping: must be a number of state changes: {v!r}")
        h.flapping = int(v)
    if (v := one("flapping_window")) is not None:
        h.flapping_window = _dur("flapping_window", v)
        if h.flapping_window <= 0:
            raise BadParameter("flapping_window: must be positive")
    if (v := one("sort")) is not None:
        if v not in SORTS:
            raise BadParameter(f"sort: must be one of {', '.join(SORTS)}: {v!r}")
        h.sort = v
    if (v := one("direction")) is not None:
        if v not in ("asc", "desc"):
            raise BadParameter(f"direction: must be asc or desc: {v!r}")
        h.direction = v
    if (v := one("limit")) is not None:
        if not v.isdigit() or not 1 <= int(v) <= 1000:
            raise BadParameter(f"limit: must be a number from 1 to 1000: {v!r}")
        h.limit = int(v)
    if (v := one("cursor")) is not None:
        h.cursor = _decode_cursor(v, h.sort)
    norm = {k: sorted(vs) for k, vs in params.items() if k != "cursor"}
    norm["cursor"] = [v] if v is not None and h.cursor is not None else []
    h.normalized = orjson.dumps(norm, option=orjson.OPT_SORT_KEYS).decode()
    return h


def _encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def _decode_cursor(raw: str, sort: str) -> list[Any]:
    """The (sort value, fingerprint, startsAt) after which the next page starts."""
    try:
        key = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError):
        raise BadParameter("cursor: not a cursor this server returned") from None
    if not isinstance(key, list) or len(key) != 3:
        raise BadParameter("cursor: not a cursor this server returned")
    value_type = str if sort in ("alertname", "severity") else int
    if not (_is(key[0], value_type) and _is(key[1], str) and _is(key[2], int)):
        raise BadParameter("cursor: does not belong to this sort")
    if (value_type is int and not -(2**63) <= key[0] < 2**63) or not -(2**63) <= key[2] < 2**63:
        raise BadParameter("cursor: not a cursor this server returned")
    return key


def _is(value: Any, t: type) -> bool:
    return isinstance(value, t) and not isinstance(value, bool)


# -- answers as JSON ------------------------------------------------------------------------
def occurrence_json(o: OccurrenceRow, now: int, flaps: int) -> dict[str, Any]:
    return {
        "fingerprint": o.fingerprint,
        "startsAt": format_rfc3339nano(o.starts_at),
        "endsAt": format_rfc3339nano(o.ends_at) if o.ends_at is not None else None,
        "status": "resolved" if o.ends_at is not None else "firing",
        "duration": round(o.duration_ns(now) / NS, 3),
        "labels": o.labels,
        "annotations": o.annotations,
        "silenced": o.silenced,
        "inhibited": o.inhibited,
        "notified": o.sent > 0,
        "receivers": sorted(o.receivers),
        "notifications": {"sent": o.sent, "failed": o.failed},
        "stateChanges": flaps,
    }


def page_json(h: HistoryQuery, page: HistoryPage, now: int) -> dict[str, Any]:
    rows = page.rows[: h.limit]
    more = len(page.rows) > h.limit and rows
    last = rows[-1] if rows else None
    return {
        "items": [occurrence_json(o, now, page.flaps.get(o.fingerprint, 0)) for o in rows],
        "total": page.total,
        "totalExact": page.total_exact,
        "nextCursor": (
            _encode_cursor([sort_value(h.sort, last, now), last.fingerprint, last.starts_at])
            if more and last is not None
            else None
        ),
    }


def timeline_json(fingerprint: str, t: Timeline, now: int) -> dict[str, Any]:
    from .recorder import event_json

    labels = next(
        (e.labels for _, e in reversed(t.events) if e.fingerprint == fingerprint and e.labels), None
    )
    return {
        "fingerprint": fingerprint,
        "labels": labels if labels is not None else (t.occurrences[0].labels if t.occurrences else {}),
        "occurrences": [occurrence_json(o, now, t.flaps.get(o.fingerprint, 0)) for o in t.occurrences],
        "events": [event_json(e) for _, e in t.events],
        "truncated": t.truncated,
    }


def report_json(r: Report, from_: int | None, to: int | None) -> dict[str, Any]:
    count, mean, p50, p95 = r.ttr
    ttr: dict[str, Any] = {"count": count, "mean": None, "p50": None, "p95": None}
    if count:
        assert mean is not None and p50 is not None and p95 is not None
        ttr.update(mean=round(mean / NS, 3), p50=round(p50 / NS, 3), p95=round(p95 / NS, 3))
    return {
        "from": format_rfc3339nano(from_) if from_ is not None else None,
        "to": format_rfc3339nano(to) if to is not None else None,
        "occurrences": r.occurrences,
        "counts": {k: dict(sorted(c.items())) for k, c in r.counts.items()},
        "noisiest": [{"fingerprint": fp, "labels": labels, "occurrences": n} for fp, labels, n in r.noisiest],
        "timeToResolve": ttr,
        "flapping": [
            {"fingerprint": fp, "labels": labels, "stateChanges": n} for fp, labels, n in r.flapping
        ],
        "notifications": dict(sorted(r.notifications.items())),
        "silences": {"created": r.silences_created, "byActor": dict(sorted(r.silences_by_actor.items()))},
    }
