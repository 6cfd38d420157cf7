"""The in-memory index of alerts, with Alertmanager's merge-on-put, telling its sinks.

Every put and garbage collection is told to the sinks synchronously, in order: the history,
the running config's inhibitor and dispatcher, the write-behind (so the store on disk follows),
the marker.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from ..model.alert import Alert
from ..model.timefmt import now_ns


class AlertSink(Protocol):
    """Told of every change to the stored alerts: the alerts just stored (merged), in the
    order they were put, and the fingerprints just garbage-collected."""

    def alerts_changed(self, stored: Sequence[Alert], deleted: Sequence[int]) -> None: ...


class AlertStore:
    def __init__(self, sinks: Sequence[AlertSink] = ()) -> None:
        self.alerts: dict[int, Alert] = {}
        self.sinks = tuple(sinks)

    def __len__(self) -> int:
        return len(self.alerts)

    def get(self, fp: int) -> Alert | None:
        return self.alerts.get(fp)

    def snapshot(self) -> list[Alert]:
        return list(self.alerts.values())

    def load(self, alerts: Iterable[Alert]) -> None:
        """Restore alerts from storage without re-persisting them."""
        for a in alerts:
            self.alerts[a.fingerprint] = a

    def put(self, alerts: Iterable[Alert]) -> list[Alert]:
        """mem.Alerts.Put: merge with the stored version when their activity overlaps."""
        stored: list[Alert] = []
        index = self.alerts
        for alert in alerts:
            old = index.get(alert.fingerprint)
            if old is not None and (
                (old.starts_at < alert.ends_at < old.ends_at)
                or (old.starts_at < alert.starts_at < old.ends_at)
            ):
                alert = old.merge(alert)
            index[alert.fingerprint] = alert
            stored.append(alert)
        if stored:
            for sink in self.sinks:
                sink.alerts_changed(stored, ())
        return stored

    def take(self, alerts: Iterable[Alert], sinks: Sequence[AlertSink]) -> list[Alert]:
        """Alerts another replica stored, as it stored them (no merge: the database holds the
        result of its merge), where newer than ours; told to ``sinks`` only (not to the history
        nor to the write-behind: the replica that stored them recorded and wrote them)."""
        index = self.alerts
        taken = []
        for alert in alerts:
            old = index.get(alert.fingerprint)
            if old is None or old.updated_at < alert.updated_at:
                index[alert.fingerprint] = alert
                taken.append(alert)
        if taken:
            for sink in sinks:
                sink.alerts_changed(taken, ())
        return taken

    def gc(self) -> list[int]:
        """Drop resolved alerts (mem.Alerts' periodic GC)."""
        now = now_ns()
        gone = [fp for fp, a in self.alerts.items() if a.resolved_at(now)]
        for fp in gone:
            del self.alerts[fp]
        if gone:
            for sink in self.sinks:
                sink.alerts_changed((), gone)
        return gone
