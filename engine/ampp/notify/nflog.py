"""The notification log: what was last sent for each group and integration.

Alertmanager's nflog, durable: the delivery queue writes an entry in the transaction that marks
the notification sent, so a restart neither repeats nor forgets a notification.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..model.timefmt import NS, now_ns
from ..store.base import NflogStorage
from ..store.records import NflogEntry

if TYPE_CHECKING:
    from ..metrics import Metrics


def needs_update(
    entry: NflogEntry | None,
    firing: frozenset[int] | set[int],
    resolved: frozenset[int] | set[int],
    send_resolved: bool,
    repeat_ns: int,
    now: int,
) -> bool:
    """notify.DedupStage.needsUpdate: whether a receiver must hear about this flush."""
    if entry is None:
        return bool(firing)
    if not firing <= entry.firing:  # something fires that the receiver has not heard of
        return True
    if not firing:
        # All resolved: notify (whatever send_resolved says) only if the receiver was told
        # about firing alerts, so the log is cleared; otherwise they came and went unseen.
        return bool(entry.firing)
    if send_resolved and not resolved <= entry.resolved:
        return True
    return entry.timestamp < now - repeat_ns


class NotificationLog:
    def __init__(
        self, storage: NflogStorage | None, retention_s: float = 120 * 3600, metrics: Metrics | None = None
    ) -> None:
        self.storage = storage
        self.retention_ns = int(retention_s * NS)
        self.metrics = metrics
        self._entries: dict[tuple[str, str, str, int], NflogEntry] = {}

    def load(self, entries: Iterable[NflogEntry]) -> None:
        for e in entries:
            self._entries[e.key] = e

    def query(self, group_key: str, receiver: str, integration: str, idx: int) -> NflogEntry | None:
        if self.metrics is not None:
            self.metrics.nflog_queries.inc()
        return self._entries.get((group_key, receiver, integration, idx))

    def entry(
        self,
        key: tuple[str, str, str, int],
        firing: Iterable[int],
        resolved: Iterable[int],
        now: int | None = None,
    ) -> NflogEntry:
        """The entry recording a notification told at ``now``, kept for the retention."""
        at = now_ns() if now is None else now
        return NflogEntry(*key, frozenset(firing), frozenset(resolved), at, at + self.retention_ns)

    def remember(self, entry: NflogEntry) -> None:
        """Take an entry that storage holds or writes elsewhere (the delivery queue's
        transactions, possibly another replica's send); an older one never replaces a newer."""
        held = self._entries.get(entry.key)
        if held is None or held.timestamp <= entry.timestamp:
            self._entries[entry.key] = entry

    async def log(
        self,
        group_key: str,
        receiver: str,
        integration: str,
        idx: int,
        firing: Iterable[int],
        resolved: Iterable[int],
    ) -> None:
        entry = self.entry((group_key, receiver, integration, idx), firing, resolved)
        self._entries[entry.key] = entry
        if self.storage is not None:
            await self.storage.save_nflog(entry)

    async def gc(self) -> int:
        start = time.monotonic()
        now = now_ns()
        gone = [k for k, e in self._entries.items() if e.expires_at <= now]
        for k in gone:
            del self._entries[k]
        if gone and self.storage is not None:
            await self.storage.delete_nflog(gone)
        if self.metrics is not None:
            self.metrics.nflog_gc_duration.observe(time.monotonic() - start)
        return len(gone)

    def __len__(self) -> int:
        return len(self._entries)
