"""Inhibition: an alert matching a rule's target is muted while a source alert fires.

Alertmanager's rules (inhibit/inhibit.go): the source and target must agree on the ``equal``
labels (a label missing on both counts as equal, being empty), an alert that matches both sides
of a rule is never inhibited by itself, and resolved sources do not inhibit.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..model.alert import Alert
from ..model.fingerprint import fingerprint
from ..model.matchers import Matcher, matches_labels
from ..model.timefmt import now_ns
from .marker import Marker


class InhibitRule:
    """One inhibit rule and the alerts matching its source, kept by their ``equal`` labels.

    A target is muted by a firing source whose ``equal`` labels have the same values, so the
    sources are bucketed by those values: a check reads one bucket instead of every source
    (Alertmanager 0.25 scans them all, which made GET /api/v2/alerts quadratic).
    """

    def __init__(self, source: list[Matcher], target: list[Matcher], equal: Iterable[str]) -> None:
        self.source = source
        self.target = target
        self.equal = list(equal)
        self._sources: dict[tuple[str, ...], dict[int, Alert]] = {}
        self._bucket_of: dict[int, tuple[str, ...]] = {}

    def _key(self, labels: dict[str, str]) -> tuple[str, ...]:
        return tuple([labels.get(n, "") for n in self.equal])

    def observe(self, alert: Alert) -> None:
        if matches_labels(self.source, alert.labels):
            key = self._bucket_of.get(alert.fingerprint)
            if key is None:  # one fingerprint, one label set: its bucket never changes
                key = self._bucket_of[alert.fingerprint] = self._key(alert.labels)
            self._sources.setdefault(key, {})[alert.fingerprint] = alert

    def forget(self, fp: int) -> None:
        key = self._bucket_of.pop(fp, None)
        if key is not None:
            bucket = self._sources[key]
            del bucket[fp]
            if not bucket:
                del self._sources[key]

    def sources(self) -> list[Alert]:
        return [a for bucket in self._sources.values() for a in bucket.values()]

    def has_equal(self, labels: dict[str, str], exclude_two_sided: bool, now: int) -> int | None:
        for fp, a in self._sources.get(self._key(labels), {}).items():
            if a.resolved_at(now):
                continue
            if exclude_two_sided and matches_labels(self.target, a.labels):
                continue
            return fp
        return None


class Inhibitor:
    def __init__(self, rules: list[InhibitRule], marker: Marker) -> None:
        self.rules = rules
        self.marker = marker

    def observe(self, alert: Alert) -> None:
        for r in self.rules:
            r.observe(alert)

    def forget(self, fp: int) -> None:
        for r in self.rules:
            r.forget(fp)

    def mutes(self, labels: dict[str, str], fp: int | None = None) -> bool:
        fp = fingerprint(labels) if fp is None else fp
        if not self.rules:  # each flush and API listing asks for every alert
            self.marker.set_inhibited(fp, [])
            return False
        now = now_ns()
        for r in self.rules:
            if not matches_labels(r.target, labels):
                continue
            source = r.has_equal(labels, matches_labels(r.source, labels), now)
            if source is not None:
                self.marker.set_inhibited(fp, [f"{source:016x}"])
                return True
        self.marker.set_inhibited(fp, [])
        return False

    def gc(self) -> None:
        now = now_ns()
        for r in self.rules:
            for a in [a for a in r.sources() if a.resolved_at(now)]:
                r.forget(a.fingerprint)
