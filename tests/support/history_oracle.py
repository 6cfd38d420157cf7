"""The reference model of /history and /report: every answer derived in Python from the events.

This is how ampp answered before the summary tables (kept here, out of the engine, as the
oracle the SQL answers are compared with in tests/integration/test_history_sql.py). An
occurrence is one alert's firing period, keyed by fingerprint and startsAt; it is built from
the alert.* events of that fingerprint, the mute transitions inside it, and the notification
attempts that carried it.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ampp.history.query import BadParameter, HistoryQuery
from ampp.model.timefmt import NS, format_rfc3339nano
from ampp.store.history_common import max_changes
from ampp.store.records import HistoryEvent


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
        "totalExact": True,
        "nextCursor": "next" if more and page else None,
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
