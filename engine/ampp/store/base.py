"""The storage interface: what the engine keeps so that a restart or kill -9 loses nothing.

SQLite implements it now; PostgreSQL implements the same Protocol. Every method is async and
runs its I/O off the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..model.alert import Alert
from ..model.silence import Silence


@dataclass(slots=True)
class NflogEntry:
    """What was last sent to one integration of a receiver for one aggregation group."""

    group_key: str
    receiver: str
    integration: str
    idx: int
    firing: frozenset[int]
    resolved: frozenset[int]
    timestamp: int
    expires_at: int

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.group_key, self.receiver, self.integration, self.idx)


# -- history (ampp.history) -------------------------------------------------------------------
@dataclass(slots=True)
class HistoryEvent:
    """One append-only history row; ``at`` in Unix nanoseconds, ``fingerprint`` as 16 hex digits."""

    at: int
    kind: str
    fingerprint: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    group_key: str | None = None
    receiver: str | None = None
    integration: str | None = None
    outcome: str | None = None
    latency_ms: float | None = None
    error: str | None = None
    silence_id: str | None = None
    actor: str | None = None
    comment: str | None = None
    details: dict[str, Any] | None = None


HISTORY_FIELDS = (
    "at", "kind", "fingerprint", "labels", "annotations", "group_key", "receiver", "integration",
    "outcome", "latency_ms", "error", "silence_id", "actor", "comment", "details",
)  # fmt: skip


class Storage(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def load_alerts(self) -> list[Alert]: ...

    async def write_alerts(self, upserts: Sequence[Alert], deletes: Sequence[int]) -> None: ...

    async def load_silences(self) -> list[Silence]: ...

    async def save_silence(self, silence: Silence) -> None: ...

    async def delete_silences(self, ids: Sequence[str]) -> None: ...

    async def load_nflog(self) -> list[NflogEntry]: ...

    async def save_nflog(self, entry: NflogEntry) -> None: ...

    async def delete_nflog(self, keys: Sequence[tuple[str, str, str, int]]) -> None: ...

    # -- history (ampp.history) -----------------------------------------------------------
    async def append_history(self, events: Sequence[HistoryEvent]) -> None: ...

    async def load_history(
        self, since: int | None = None, fingerprint: str | None = None
    ) -> list[HistoryEvent]:
        """Events with ``at >= since`` (all when None), oldest first; only ``fingerprint``'s when given."""
        ...

    async def delete_history_before(self, cutoff: int, limit: int) -> int:
        """Delete at most ``limit`` of the oldest events older than ``cutoff``; return how many."""
        ...
