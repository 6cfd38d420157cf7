"""The /history and /report queries: parameters parsed and normalized, answers derived from events.

An occurrence is one alert's firing period, keyed by fingerprint and startsAt; it is built from
the alert.* events of that fingerprint, the mute transitions inside it, and the notification
attempts that carried it.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..config.matchers import Matcher, MatcherParseError, parse_matchers
from ..model.timefmt import NS, DurationError, format_rfc3339nano, parse_duration, parse_rfc3339
from ..store.base import HistoryEvent


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


@dataclass
class Occurrence:
    fingerprint: str
    starts_at: int
    ends_at: int | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    silenced: bool = False
    inhibited: bool = False
    receivers: set[str] = field(default_factory=set)
    sent: int = 0
    failed: int = 0

    def duration(self, now: int) -> float:
        return ((self.ends_at if self.ends_at is not None else now) - self.starts_at) / NS

    def json(self, now: int, flaps: int) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "startsAt": format_rfc3339nano(self.starts_at),
            "endsAt": format_rfc3339nano(self.ends_at) if self.ends_at is not None else None,
            "status": "resolved" if self.ends_at is not None else "firing",
            "duration": round(self.duration(now), 3),
            "labels": self.labels,
            "annotations": self.annotations,
            "silenced": self.silenced,
            "inhibited": self.inhibited,
            "notified": self.sent > 0,
            "receivers": sorted(self.receivers),
            "notifications": {"sent": self.sent, "failed": self.failed},
            "stateChanges": flaps,
        }


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


@dataclass
class HistoryQuery:
    status: str | None = None
    labels: dict[str, list[str]] = field(default_factory=dict)
    receiver: list[str] = field(default_factory=list)
    fingerprint: list[str] = field(default_factory=list)
    matchers: list[Matcher] = field(default_factory=list)
    q: str | None = None
    from_: int | None = None
    to: int | None = None
    active_at: int | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    silenced: bool | None = None
    inhibited: bool | None = None
    notified: bool | None = None
    flapping: int | None = None
    flapping_window: float = 3600.0
    sort: str = "startsAt"
    direction: str = "desc"
    limit: int = 100
    cursor: list[Any] | None = None
    normalized: str = ""


def parse_history_query(params: Mapping[str, Sequence[str]], *, paged: bool = True) -> HistoryQuery:
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
        h.cursor = _decode_cursor(v)
    norm = {k: sorted(vs) for k, vs in params.items() if k != "cursor"}
    norm["cursor"] = [v] if v is not None and h.cursor is not None else []
    h.normalized = orjson.dumps(norm, option=orjson.OPT_SORT_KEYS).decode()
    return h


def _encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def _decode_cursor(raw: str) -> list[Any]:
    try:
        key = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError):
        raise BadParameter("cursor: not a cursor this server returned") from None
    if not isinstance(key, list) or len(key) != 3:
        raise BadParameter("cursor: not a cursor this server returned")
    return key


# -- deriving occurrences ------------------------------------------------------------------
@dataclass
class Derived:
    occurrences: list[Occurrence]
    changes: dict[str, list[int]]
    """Per fingerprint: the times of its firing/resolved events (for flapping)."""
    events: list[HistoryEvent]


def derive(events: Sequence[HistoryEvent]) -> Derived:
    by_key: dict[tuple[str, int], Occurrence] = {}
    current: dict[str, Occurrence] = {}
    changes: dict[str, list[int]] = defaultdict(list)
    for e in events:
        fp = e.fingerprint
        d = e.details or {}
        if e.kind in ("alert.firing", "alert.resolved") and fp is not None:
            changes[fp].append(e.at)
            starts = int(d.get("startsAt", e.at))
            occ = by_key.get((fp, starts))
            if occ is None:
                occ = by_key[(fp, starts)] = Occurrence(fp, starts)
            occ.labels = e.labels or occ.labels
            occ.annotations = e.annotations or occ.annotations
            if e.kind == "alert.resolved":
                occ.ends_at = e.at
            else:
                occ.ends_at = None
            current[fp] = occ
        elif e.kind in ("alert.silenced", "alert.inhibited") and fp is not None:
            occ2 = current.get(fp)
            if occ2 is not None:
                if e.kind == "alert.silenced":
                    occ2.silenced = True
                else:
                    occ2.inhibited = True
        elif e.kind.startswith("notify."):
            starts_list = d.get("startsAt") or [None] * len(d.get("fingerprints", []))
            for f, st in zip(d.get("fingerprints", []), starts_list, strict=False):
                occ3 = by_key.get((f, st)) if st is not None else None
                occ3 = occ3 or current.get(f)
                if occ3 is None:
                    continue
                if e.receiver:
                    occ3.receivers.add(e.receiver)
                if e.outcome == "sent":
                    occ3.sent += 1
                else:
                    occ3.failed += 1
    return Derived(list(by_key.values()), changes, list(events))


def max_changes(times: list[int], window_s: float) -> int:
    """The most state changes within any window of ``window_s`` seconds."""
    w, best, lo = int(window_s * NS), 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] > w:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def _match(h: HistoryQuery, o: Occurrence, flaps: int, now: int) -> bool:
    if h.status is not None and (o.ends_at is None) != (h.status == "firing"):
        return False
    for name, vals in h.labels.items():
        if o.labels.get(name) not in vals:
            return False
    if h.receiver and not o.receivers & set(h.receiver):
        return False
    if h.fingerprint and o.fingerprint not in h.fingerprint:
        return False
    if not all(m.matches(o.labels.get(m.name, "")) for m in h.matchers):
        return False
    if h.q is not None and not any(h.q in v.lower() for v in o.annotations.values()):
        return False
    end = o.ends_at if o.ends_at is not None else math.inf
    if h.from_ is not None and end < h.from_:
        return False
    if h.to is not None and o.starts_at > h.to:
        return False
    if h.active_at is not None and not (o.starts_at <= h.active_at and end >= h.active_at):
        return False
    d = o.duration(now)
    if h.min_duration is not None and d < h.min_duration:
        return False
    if h.max_duration is not None and d > h.max_duration:
        return False
    if h.silenced is not None and o.silenced != h.silenced:
        return False
    if h.inhibited is not None and o.inhibited != h.inhibited:
        return False
    if h.notified is not None and (o.sent > 0) != h.notified:
        return False
    return h.flapping is None or flaps > h.flapping


def _sort_value(h: HistoryQuery, o: Occurrence, now: int) -> Any:
    if h.sort == "startsAt":
        return o.starts_at
    if h.sort == "endsAt":
        return o.ends_at if o.ends_at is not None else 2**63
    if h.sort == "duration":
        return int(o.duration(now) * 1000)
    return o.labels.get(h.sort, "")


def run_history(h: HistoryQuery, derived: Derived, now: int) -> dict[str, Any]:
    flaps = {fp: max_changes(ts, h.flapping_window) for fp, ts in derived.changes.items()}
    rows = [o for o in derived.occurrences if _match(h, o, flaps.get(o.fingerprint, 0), now)]
    keyed = sorted(
        ((_sort_value(h, o, now), o.fingerprint, o.starts_at), o) for o in rows
    )  # fmt: skip
    if h.direction == "desc":
        keyed.reverse()
    if h.cursor is not None:
        after = tuple(h.cursor)
        try:
            if h.direction == "asc":
                keyed = [(k, o) for k, o in keyed if k > after]
            else:
                keyed = [(k, o) for k, o in keyed if k < after]
        except TypeError:
            raise BadParameter("cursor: does not belong to this sort") from None
    page = keyed[: h.limit]
    more = len(keyed) > h.limit
    return {
        "items": [o.json(now, flaps.get(o.fingerprint, 0)) for _, o in page],
        "total": len(rows),
        "nextCursor": _encode_cursor(list(page[-1][0])) if more and page else None,
    }


# -- the report ----------------------------------------------------------------------------
def _percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def run_report(derived: Derived, from_: int | None, to: int | None, now: int, flap_threshold: int,
               flap_window: float) -> dict[str, Any]:  # fmt: skip
    lo = from_ if from_ is not None else -(2**63)
    hi = to if to is not None else 2**63

    def inside(o: Occurrence) -> bool:
        end = o.ends_at if o.ends_at is not None else 2**63
        return o.starts_at <= hi and end >= lo

    occs = [o for o in derived.occurrences if inside(o)]
    by: dict[str, Counter[str]] = {
        k: Counter() for k in ("severity", "status", "receiver", "namespace", "alertname")
    }
    for o in occs:
        by["severity"][o.labels.get("severity", "")] += 1
        by["status"]["resolved" if o.ends_at is not None else "firing"] += 1
        by["namespace"][o.labels.get("namespace", "")] += 1
        by["alertname"][o.labels.get("alertname", "")] += 1
        for r in o.receivers:
            by["receiver"][r] += 1
    per_fp: Counter[str] = Counter(o.fingerprint for o in occs)
    labels = {o.fingerprint: o.labels for o in occs}
    noisy = [
        {"fingerprint": fp, "labels": labels[fp], "occurrences": n}
        for fp, n in sorted(per_fp.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    ]
    resolved = [o.duration(now) for o in occs if o.ends_at is not None]
    ttr: dict[str, Any] = {"count": len(resolved), "mean": None, "p50": None, "p95": None}
    if resolved:
        ttr.update(
            mean=round(sum(resolved) / len(resolved), 3),
            p50=round(_percentile(resolved, 50), 3),
            p95=round(_percentile(resolved, 95), 3),
        )
    flapping = []
    for fp, ts in sorted(derived.changes.items()):
        window = [t for t in ts if lo <= t <= hi]
        n = max_changes(window, flap_window)
        if n > flap_threshold:
            flapping.append({"fingerprint": fp, "labels": labels.get(fp, {}), "stateChanges": n})
    notif: dict[str, dict[str, int]] = defaultdict(lambda: {"sent": 0, "failed": 0})
    created = 0
    by_actor: Counter[str] = Counter()
    for e in derived.events:
        if not lo <= e.at <= hi:
            continue
        if e.kind.startswith("notify.") and e.receiver is not None:
            notif[e.receiver]["sent" if e.outcome == "sent" else "failed"] += 1
        elif e.kind == "silence.created":
            created += 1
            by_actor[e.actor or ""] += 1
    return {
        "from": format_rfc3339nano(from_) if from_ is not None else None,
        "to": format_rfc3339nano(to) if to is not None else None,
        "occurrences": len(occs),
        "counts": {k: dict(sorted(c.items())) for k, c in by.items()},
        "noisiest": noisy,
        "timeToResolve": ttr,
        "flapping": flapping,
        "notifications": dict(sorted(notif.items())),
        "silences": {"created": created, "byActor": dict(sorted(by_actor.items()))},
    }
