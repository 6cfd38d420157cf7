"""What the two history backends share: the summary kept on write, and its maths.

``history_events`` is the append-only truth. Next to it each backend keeps, in the same
transaction as the events it appends, summary tables that /history and /report read instead:

- ``alert_occurrences``: one narrow row per occurrence (one firing period of an alert, keyed by
  fingerprint and startsAt): the common labels as columns, ``ends_at`` (NULL while firing),
  whether it was ever silenced or inhibited, the receivers notified (or attempted) and how many
  attempts were sent or failed. Narrow, so that scans and counts stay in memory;
- ``alert_occurrence_annotations``: its annotations, and ``search``, their values lowercased
  (the ``q`` filter);
- ``alert_fingerprints``: per alert, its labels (the fingerprint is a hash of them, so every
  occurrence has the same), how many state changes (alert.firing / alert.resolved events) it
  has had, the times of its last ``FLAP_DEPTH`` changes, and ``spans``: for k = 1 ..
  FLAP_DEPTH, the shortest time that covered k+1 consecutive changes. "More than N changes
  within a window W" is then ``spans[N] <= W``, a lookup instead of a sliding window over the
  events; beyond FLAP_DEPTH changes the events are read;
- ``alert_label_values``: every label name and value seen, so that a regex matcher is
  evaluated once per distinct value, in Python, with the engine's own Go RE2 semantics, and
  becomes an ``IN`` list the indexes serve.

This module is pure (no SQL): it turns a batch of events into the changes to apply, does the
flapping maths, and builds the WHERE clause of a /history query through a small dialect each
backend provides.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..model.matchers import Matcher, MatchType
from .history_query import HistoryQuery, OccurrenceRow
from .records import HistoryEvent

STATE_KINDS = ("alert.firing", "alert.resolved")
NOTIFY_KINDS = ("notify.sent", "notify.failed")
FLAP_DEPTH = 16
"""Change times kept per fingerprint, and the largest N whose flapping test is a lookup."""
COUNT_CAP = 10_000
"""/history counts matches exactly up to here; beyond, ``total`` is this and not exact (what
a count of millions would cost, every page would pay)."""
HOUR = 3600 * 1_000_000_000
FLAP_WINDOW_S = 3600.0
"""The default flapping window: for it, each state change's count is kept on write."""
SATURATED = 32767
"""A kept count that the kept change times could not tell exactly (the events will)."""
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
NS = 1_000_000_000
LABEL_COLUMNS = ("alertname", "severity", "namespace", "cluster", "service")
"""Labels that are also columns of alert_occurrences ("" when the label is missing)."""
SEARCH_SEPARATOR = "\x1f"
"""Between the lowercased annotation values in the ``search`` column (the ``q`` filter)."""


def clamp64(ns: int) -> int:
    return min(max(ns, INT64_MIN), INT64_MAX)


# -- write side: a batch of events -> changes to the summary ----------------------------------
@dataclass(slots=True)
class OccurrenceUpdate:
    """What the state events of one batch did to one occurrence (applied as an upsert)."""

    fingerprint: str
    starts_at: int
    labels: dict[str, str]
    """Empty: keep the stored labels (an event without labels does not erase them)."""
    annotations: dict[str, str]
    ends_at: int | None
    """The last state event's: its time if it resolved the occurrence, None if it fired."""
    changes: int
    updated_at: int

    def columns(self) -> list[str]:
        return [self.labels.get(n, "") for n in LABEL_COLUMNS]

    def search(self) -> str:
        return search_text(self.annotations)


def search_text(annotations: dict[str, str]) -> str:
    return SEARCH_SEPARATOR.join(v.lower() for v in annotations.values())


@dataclass(slots=True)
class OccurrenceMark:
    """What mute and notification events did to one occurrence (applied as an update)."""

    fingerprint: str
    starts_at: int | None
    """None: the fingerprint's latest occurrence (events recorded without startsAt)."""
    silenced: bool = False
    inhibited: bool = False
    receivers: set[str] = field(default_factory=set)
    sent: int = 0
    failed: int = 0

    def merge(self, other: OccurrenceMark) -> None:
        self.silenced |= other.silenced
        self.inhibited |= other.inhibited
        self.receivers |= other.receivers
        self.sent += other.sent
        self.failed += other.failed


@dataclass
class Summary:
    occurrences: dict[tuple[str, int], OccurrenceUpdate] = field(default_factory=dict)
    marks: dict[tuple[str, int | None], OccurrenceMark] = field(default_factory=dict)
    changes: dict[str, list[int]] = field(default_factory=dict)
    """Per fingerprint, the times of its state changes in this batch."""
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    """Per fingerprint, its latest non-empty labels in this batch."""

    def mark(self, fp: str, starts: int | None) -> OccurrenceMark:
        m = self.marks.get((fp, starts))
        if m is None:
            m = self.marks[(fp, starts)] = OccurrenceMark(fp, starts)
        return m


def _int(value: Any) -> int | None:
    return clamp64(int(value)) if isinstance(value, int | float) and not isinstance(value, bool) else None


def summarize(events: Iterable[HistoryEvent]) -> Summary:
    """The summary changes a batch of events makes, in the order they were recorded.

    A state event creates or updates its occurrence (labels and annotations are the latest
    non-empty ones; ``ends_at`` follows the last state event). A mute event flags the
    occurrence it names by startsAt; a notification attempt counts for each of the alerts it
    carried, each by its fingerprint and startsAt.
    """
    s = Summary()
    for e in events:
        fp = e.fingerprint
        d = e.details or {}
        if e.kind in STATE_KINDS and fp is not None:
            at = clamp64(e.at)
            s.changes.setdefault(fp, []).append(at)
            starts = _int(d.get("startsAt"))
            key = (fp, at if starts is None else starts)
            occ = s.occurrences.get(key)
            if occ is None:
                occ = s.occurrences[key] = OccurrenceUpdate(fp, key[1], {}, {}, None, 0, at)
            occ.labels = e.labels or occ.labels
            occ.annotations = e.annotations or occ.annotations
            if e.labels:
                s.labels[fp] = e.labels
            occ.ends_at = min(at, INT64_MAX - 1) if e.kind == "alert.resolved" else None
            occ.changes += 1
            occ.updated_at = at
        elif e.kind in ("alert.silenced", "alert.inhibited") and fp is not None:
            m = s.mark(fp, _int(d.get("startsAt")))
            if e.kind == "alert.silenced":
                m.silenced = True
            else:
                m.inhibited = True
        elif e.kind.startswith("notify."):
            fps = d.get("fingerprints") or []
            starts_list = d.get("startsAt") or []
            for i, f in enumerate(fps):
                if not isinstance(f, str):
                    continue
                m = s.mark(f, _int(starts_list[i]) if i < len(starts_list) else None)
                if e.receiver:
                    m.receivers.add(e.receiver)
                if e.outcome == "sent":
                    m.sent += 1
                else:
                    m.failed += 1
    return s


def group_marks(
    marks: Iterable[OccurrenceMark], resolved: Sequence[int | None]
) -> dict[tuple[str, int], OccurrenceMark]:
    """Marks merged per occurrence once each one's startsAt is known (``resolved``, in order;
    None: no such occurrence, the mark is dropped)."""
    out: dict[tuple[str, int], OccurrenceMark] = {}
    for m, st in zip(marks, resolved, strict=True):
        if st is None:
            continue
        key = (m.fingerprint, st)
        if key in out:
            out[key].merge(m)
        else:
            out[key] = OccurrenceMark(m.fingerprint, st, m.silenced, m.inhibited, set(m.receivers), m.sent,
                                      m.failed)  # fmt: skip
    return dict(sorted(out.items()))


# -- flapping --------------------------------------------------------------------------------
def max_changes(times: Sequence[int], window_s: float) -> int:
    """The most state changes within any window of ``window_s`` seconds (times sorted)."""
    w, best, lo = int(window_s * NS), 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] > w:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def _spans(times: Sequence[int], is_new: Sequence[bool] | None = None) -> list[int]:
    """For k = 1..FLAP_DEPTH the shortest span of k+1 consecutive ``times`` (INT64_MAX: none);
    with ``is_new``, only the windows that hold at least one new time."""
    out = [INT64_MAX] * FLAP_DEPTH
    n = len(times)
    prefix = [0]
    if is_new is not None:
        for b in is_new:
            prefix.append(prefix[-1] + int(b))
    for k in range(1, min(FLAP_DEPTH, n - 1) + 1):
        best = INT64_MAX
        for j in range(n - k):
            if is_new is not None and prefix[j + k + 1] == prefix[j]:
                continue
            span = times[j + k] - times[j]
            if span < best:
                best = span
        out[k - 1] = best
    return out


def flap_state(times: Sequence[int]) -> tuple[list[int], list[int]]:
    """(recent, spans) of a fingerprint from all its change times, sorted."""
    return list(times[-FLAP_DEPTH:]), _spans(times)


def add_changes(
    recent: Sequence[int], spans: Sequence[int], new: Sequence[int]
) -> tuple[list[int], list[int]]:
    """(recent, spans) after ``new`` change times. Exact when the new times are not older
    than the oldest kept one (the usual case: changes come in order); an older one only
    counts in windows with the kept times."""
    merged = sorted([(t, False) for t in recent] + [(t, True) for t in new])
    times = [t for t, _ in merged]
    fresh = _spans(times, [b for _, b in merged])
    return times[-FLAP_DEPTH:], [min(a, b) for a, b in zip(spans, fresh, strict=True)]


def counts_at(
    recent: Sequence[int], complete: bool, new: Sequence[int], window_s: float
) -> list[tuple[int, int]]:
    """(time, count) for each new change time: how many changes (itself included) the
    ``window_s`` before it held. ``recent``: the kept change times before the new ones;
    ``complete``: they are all the fingerprint's (else a count that reaches past the oldest
    kept is SATURATED)."""
    w = int(window_s * NS)
    merged = sorted([(t, 0) for t in recent] + [(t, 1) for t in new])
    times = [t for t, _ in merged]
    out = []
    for i, (t, is_new) in enumerate(merged):
        if not is_new:
            continue
        j = bisect.bisect_left(times, t - w)
        out.append((t, SATURATED if j == 0 and not complete else i - j + 1))
    return out


def flap_hour(changes: int, spans: Sequence[int]) -> int:
    """The most state changes an alert had within FLAP_WINDOW_S (SATURATED: more than
    FLAP_DEPTH)."""
    n = changes_from_spans(changes, spans, FLAP_WINDOW_S)
    return SATURATED if n is None else n


def ttr_bucket(duration_ns: int) -> int:
    """A resolved occurrence's bucket in the duration histogram: 16 per doubling of the
    duration in milliseconds (each about 4% wide)."""
    return int(16 * math.log2(max(duration_ns, 0) // 1_000_000 + 1))


def changes_from_spans(changes: int, spans: Sequence[int], window_s: float) -> int | None:
    """The most changes within ``window_s``, from the spans; None when more than FLAP_DEPTH
    changes fit the window (then only the events tell)."""
    if changes <= 0:
        return 0
    n = 1 + bisect.bisect_right(list(spans), int(window_s * NS))
    return None if n > FLAP_DEPTH else min(n, changes)


# -- read side: the WHERE clause -------------------------------------------------------------------
def nearest_rank(count: int, p: float) -> int:
    """The 0-based index of the p-th percentile (nearest rank) in ``count`` sorted values."""
    return max(0, math.ceil(p / 100 * count) - 1)


class Dialect(Protocol):
    """How a backend spells what the /history WHERE clause needs (``o``: alert_occurrences,
    ``f``: alert_fingerprints)."""

    def param(self, value: Any) -> str:
        """Bind a value; return its placeholder."""
        ...

    def now(self) -> str:
        """The placeholder of the query's "now" (bound on first use: an unused parameter is an
        error for PostgreSQL)."""
        ...

    def values(self, name: str) -> list[str]:
        """Every value the label has had (the backend fetches them before building)."""
        ...

    def in_list(self, expr: str, values: list[str], negate: bool) -> str: ...

    def fingerprint_label_in(self, name: str, values: list[str], missing: bool) -> str:
        """``f``'s label ``name`` is one of ``values`` (non-empty), or missing/empty when
        ``missing``."""
        ...

    def any_receiver(self, receivers: list[str]) -> str: ...

    def flap_span(self, n: int) -> str:
        """``f.spans`` element n (1-based) in SQL."""
        ...

    def text_search(self, text: str) -> str:
        """An annotation of ``o`` holds ``text`` (already lowercased)."""
        ...

    def active(self, t: str) -> str:
        """``o`` was firing at the instant ``t`` (a placeholder)."""
        ...

    def overlaps(self, lo: str, hi: str | None) -> str:
        """``o`` was firing at some time in [lo, hi] (hi None: unbounded)."""
        ...


REGEX_TYPES = (MatchType.REGEX, MatchType.NOT_REGEX)


def sort_expr(sort: str, d: Dialect) -> str:
    if sort == "startsAt":
        return "o.starts_at"
    if sort == "endsAt":
        return f"COALESCE(o.ends_at, {INT64_MAX})"
    if sort == "duration":
        return f"(COALESCE(o.ends_at, {d.now()}) - o.starts_at)"
    return f"o.{sort}"  # alertname or severity: columns


def sort_value(sort: str, row: OccurrenceRow, now: int) -> int | str:
    if sort == "startsAt":
        return row.starts_at
    if sort == "endsAt":
        return row.ends_at if row.ends_at is not None else INT64_MAX
    if sort == "duration":
        return row.duration_ns(now)
    return row.labels.get(sort, "")


def where(h: HistoryQuery, d: Dialect, flapping_fps: list[str] | None) -> list[str]:
    """The conditions of a /history query on ``alert_occurrences o`` (without the cursor).
    ``flapping_fps``: the flapping fingerprints, when the threshold is beyond what
    ``alert_fingerprints.spans`` answers."""
    conds: list[str] = []
    if h.status is not None:
        conds.append("o.ends_at IS NULL" if h.status == "firing" else "o.ends_at IS NOT NULL")
    for name, vals in h.labels.items():
        conds.append(d.in_list(f"o.{name}", vals, False))
    if h.receiver:
        conds.append(d.any_receiver(h.receiver))
    if h.fingerprint:
        conds.append(d.in_list("o.fingerprint", h.fingerprint, False))
    for m in h.matchers:
        conds.append(_matcher(m, d))
    if h.q is not None:
        conds.append(d.text_search(h.q))
    if h.from_ is not None:
        conds.append(d.overlaps(d.param(clamp64(h.from_)), None if h.to is None else d.param(clamp64(h.to))))
    elif h.to is not None:
        conds.append(f"o.starts_at <= {d.param(clamp64(h.to))}")
    if h.active_at is not None:
        conds.append(d.active(d.param(clamp64(h.active_at))))
    if h.min_duration is not None or h.max_duration is not None:
        duration = f"(COALESCE(o.ends_at, {d.now()}) - o.starts_at)"
        if h.min_duration is not None:
            conds.append(f"{duration} >= {d.param(clamp64(-int(-h.min_duration * NS // 1)))}")
        if h.max_duration is not None:
            conds.append(f"{duration} <= {d.param(clamp64(int(h.max_duration * NS // 1)))}")
    for name in ("silenced", "inhibited"):
        v = getattr(h, name)
        if v is not None:
            conds.append(f"o.{name}" if v else f"NOT o.{name}")
    if h.notified is not None:
        conds.append("o.sent > 0" if h.notified else "o.sent = 0")
    if h.flapping is not None:
        if flapping_fps is not None:
            conds.append(d.in_list("o.fingerprint", flapping_fps, False))
        else:
            if h.flapping == 0:
                test = "f.changes > 0"
            elif h.flapping_window == FLAP_WINDOW_S:  # kept per alert, indexed
                test = f"f.flap_hour > {d.param(h.flapping)}"
            else:
                test = f"{d.flap_span(h.flapping)} <= {d.param(flap_window_ns(h.flapping_window))}"
            conds.append(f"o.fingerprint IN (SELECT f.fingerprint FROM alert_fingerprints f WHERE {test})")
    return conds


def _matcher(m: Matcher, d: Dialect) -> str:
    """A label matcher as "the label's value (empty when missing) is [not] in a set": for a
    regex, the set of the values the label has had that match, found in Python with the
    matcher itself, so the answer is Alertmanager's (Go RE2) whatever the database."""
    if m.type in REGEX_TYPES:
        regex = m if m.type is MatchType.REGEX else Matcher(m.name, MatchType.REGEX, m.value)
        values = [v for v in d.values(m.name) if v and regex.matches(v)] + ([""] if regex.matches("") else [])
    else:
        values = [m.value]
    negate = m.type in (MatchType.NOT_EQUAL, MatchType.NOT_REGEX)
    if m.name in LABEL_COLUMNS:  # "" when missing, like the matcher's view
        return d.in_list(f"o.{m.name}", values, negate)
    inner = d.fingerprint_label_in(m.name, [v for v in values if v], "" in values)
    op = "NOT IN" if negate else "IN"
    return f"o.fingerprint {op} (SELECT f.fingerprint FROM alert_fingerprints f WHERE {inner})"


def regex_label_names(h: HistoryQuery) -> list[str]:
    """The labels whose values a query's regex matchers need."""
    return sorted({m.name for m in h.matchers if m.type in REGEX_TYPES})


def like_pattern(text: str) -> str:
    """A LIKE pattern (escape character backslash) that finds ``text`` anywhere."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def flap_window_ns(window_s: float) -> int:
    return clamp64(int(window_s * NS))
