"""The records every backend stores: notification-log entries and history events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
