"""The in-memory index of alerts, with Alertmanager's merge-on-put and subscribers.

Every put goes to the subscribers (dispatcher, inhibitor) synchronously, in order, and to the
write-behind so the store on disk follows; a put returns once its alerts are durable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..model.alert import Alert
from ..model.timefmt import now_ns

Subscriber = Callable[[Alert], None]
Persist = Callable[[list[Alert], list[int]], None]


class AlertStore:
    def __init__(self) -> None:
        self.alerts: dict[int, Alert] = {}
        self.subscribers: list[Subscriber] = []
        self.on_delete: list[Callable[[int], None]] = []
        self.persist: Persist | None = None

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
            for sub in self.subscribers:
                sub(alert)
        if self.persist is not None and stored:
            self.persist(stored, [])
        return stored

    def subscribe(self, sub: Subscriber, replay: bool = True) -> None:
        """Add a subscriber; with ``replay`` it first sees every alert already stored."""
        if replay:
            for a in list(self.alerts.values()):
                sub(a)
        self.subscribers.append(sub)

    def unsubscribe(self, sub: Subscriber) -> None:
        if sub in self.subscribers:
            self.subscribers.remove(sub)

    def gc(self) -> list[int]:
        """Drop resolved alerts (mem.Alerts' periodic GC)."""
        now = now_ns()
        gone = [fp for fp, a in self.alerts.items() if a.resolved_at(now)]
        for fp in gone:
            del self.alerts[fp]
            for cb in self.on_delete:
                cb(fp)
        if self.persist is not None and gone:
            self.persist([], gone)
        return gone
