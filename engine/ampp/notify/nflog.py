"""The notification log: what was last sent for each group and integration.

Alertmanager's nflog, durable: every entry is written to storage before the pipeline reports
the notification done, so a restart neither repeats nor forgets a notification.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..model.timefmt import NS, now_ns
from ..store.base import NflogEntry, Storage


class NotificationLog:
    def __init__(self, storage: Storage | None, retention_s: float = 120 * 3600) -> None:
        self.storage = storage
        self.retention_ns = int(retention_s * NS)
        self._entries: dict[tuple[str, str, str, int], NflogEntry] = {}

    def load(self, entries: Iterable[NflogEntry]) -> None:
        for e in entries:
            self._entries[e.key] = e

    def query(self, group_key: str, receiver: str, integration: str, idx: int) -> NflogEntry | None:
        return self._entries.get((group_key, receiver, integration, idx))

    async def log(
        self,
        group_key: str,
        receiver: str,
        integration: str,
        idx: int,
        firing: Iterable[int],
        resolved: Iterable[int],
    ) -> None:
        now = now_ns()
        entry = NflogEntry(
            group_key,
            receiver,
            integration,
            idx,
            frozenset(firing),
            frozenset(resolved),
            now,
            now + self.retention_ns,
        )
        self._entries[entry.key] = entry
        if self.storage is not None:
            await self.storage.save_nflog(entry)

    async def gc(self) -> int:
        now = now_ns()
        gone = [k for k, e in self._entries.items() if e.expires_at <= now]
        for k in gone:
            del self._entries[k]
        if gone and self.storage is not None:
            await self.storage.delete_nflog(gone)
        return len(gone)

    def __len__(self) -> int:
        return len(self._entries)
