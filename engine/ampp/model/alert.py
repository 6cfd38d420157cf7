"""The alert, Alertmanager's merge rules, and the order alerts are listed in notifications."""

from __future__ import annotations

from collections.abc import Iterable

from .fingerprint import fingerprint
from .labels import KNOWN_VALID_NAMES, go_quote, is_valid_label_name, labelset_before
from .timefmt import ZERO, now_ns


class Alert:
    """One alert: labels identify it, the rest is its latest known state.

    ``timeout`` is true when ``ends_at`` was set by resolve_timeout rather than by the sender,
    which decides who wins when two versions are merged.
    """

    __slots__ = (
        "annotations",
        "ends_at",
        "fingerprint",
        "generator_url",
        "labels",
        "starts_at",
        "timeout",
        "updated_at",
    )

    def __init__(
        self,
        labels: dict[str, str],
        annotations: dict[str, str] | None = None,
        starts_at: int = ZERO,
        ends_at: int = ZERO,
        generator_url: str = "",
        updated_at: int = ZERO,
        timeout: bool = False,
        fp: int | None = None,
    ) -> None:
        self.labels = labels
        self.annotations = annotations or {}
        self.starts_at = starts_at
        self.ends_at = ends_at
        self.generator_url = generator_url
        self.updated_at = updated_at
        self.timeout = timeout
        self.fingerprint = fingerprint(labels) if fp is None else fp

    def copy(self) -> Alert:
        return Alert(
            self.labels,
            self.annotations,
            self.starts_at,
            self.ends_at,
            self.generator_url,
            self.updated_at,
            self.timeout,
            self.fingerprint,
        )

    def resolved_at(self, ts: int) -> bool:
        """Resolved at ``ts``: an end time that is not after ``ts``."""
        return self.ends_at != ZERO and self.ends_at <= ts

    def resolved(self) -> bool:
        return self.resolved_at(now_ns())

    def status(self, now: int | None = None) -> str:
        return "resolved" if self.resolved_at(now_ns() if now is None else now) else "firing"

    def validate(self) -> str | None:
        """Alertmanager's Alert.Validate: the reason this alert is refused, or None."""
        if self.starts_at == ZERO:
            return "start time missing"
        if self.ends_at != ZERO and self.ends_at < self.starts_at:
            return "start time must be before end time"
        if not KNOWN_VALID_NAMES.issuperset(self.labels):  # the rare slow path: a new name
            for name in self.labels:
                if not is_valid_label_name(name):
                    return f"invalid label set: invalid name {go_quote(name)}"
        if not self.labels:
            return "at least one label pair required"
        if not KNOWN_VALID_NAMES.issuperset(self.annotations):
            for name in self.annotations:
                if not is_valid_label_name(name):
                    return f"invalid annotations: invalid name {go_quote(name)}"
        return None

    def merge(self, other: Alert) -> Alert:
        """types.Alert.Merge: combine two versions of one alert; the younger one leads."""
        if other.updated_at < self.updated_at:
            return other.merge(self)
        res = other.copy()
        if self.starts_at < other.starts_at:
            res.starts_at = self.starts_at
        now = now_ns()
        if other.resolved_at(now):
            if self.resolved_at(now) and self.ends_at > other.ends_at:
                res.ends_at = self.ends_at
        elif self.ends_at > other.ends_at and not self.timeout:
            res.ends_at = self.ends_at
        return res

    def __repr__(self) -> str:
        return f"Alert({self.labels!r}, starts_at={self.starts_at}, ends_at={self.ends_at})"


def _alert_cmp(a: Alert, b: Alert) -> int:
    """types.AlertSlice.Less as upstream compares; :func:`sort_key` orders alike (a test checks)."""
    for key in ("job", "instance"):
        av, bv = a.labels.get(key), b.labels.get(key)
        if av is None and bv is None:
            continue
        if av is None:
            return 1
        if bv is None:
            return -1
        if av != bv:
            return -1 if av < bv else 1
    if labelset_before(a.labels, b.labels):
        return -1
    if labelset_before(b.labels, a.labels):
        return 1
    return 0


class _LabelSetOrder:
    """A label set ordered by LabelSet.Before, compared only when job and instance tie."""

    __slots__ = ("labels",)

    def __init__(self, labels: dict[str, str]) -> None:
        self.labels = labels

    def __lt__(self, other: _LabelSetOrder) -> bool:
        return labelset_before(self.labels, other.labels)


def sort_key(a: Alert) -> tuple[object, ...]:
    """The order of :func:`_alert_cmp` as a key: job, then instance (a missing one last), then
    the label set by LabelSet.Before."""
    labels = a.labels
    job, instance = labels.get("job"), labels.get("instance")
    return (job is None, job or "", instance is None, instance or "", _LabelSetOrder(labels))


def sort_alerts(alerts: Iterable[Alert]) -> list[Alert]:
    """types.AlertSlice order: by job, then instance, then the whole label set (stable). Sorted
    by key, in C but for the label sets of alerts whose job and instance tie: a flush of 2,000
    alerts compared pairwise in Python took 18 % of the engine under sustained load."""
    return sorted(alerts, key=sort_key)
