"""The storage interface: what the engine keeps so that a restart or kill -9 loses nothing.

SQLite implements it now; PostgreSQL implements the same Protocol. Every method is async and
runs its I/O off the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..model.alert import Alert
from ..model.silence import Silence

if TYPE_CHECKING:  # history_common and delivery_common import this module
    from .delivery_common import Claim, Delivery, DeliveryPolicy, EnqueueResult, NewDelivery, RedriveResult
    from .history_query import HistoryPage, HistoryQuery, Report, Timeline


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

    # -- delivery queue (ampp.notify.queue): the rules are in store.delivery_common ---------
    async def enqueue_deliveries(
        self, jobs: Sequence[NewDelivery], policy: DeliveryPolicy, now: int
    ) -> list[EnqueueResult]:
        """Queue flushes durably, one transaction for the batch; one result per job."""
        ...

    async def claim_deliveries(self, replica: str, lease_s: float, limit: int) -> Claim:
        """Claim at most ``limit`` due rows for ``lease_s`` seconds."""
        ...

    async def complete_delivery(self, id_: int, entry: NflogEntry | None, outcome: str) -> None:
        """Mark a row done and write its notification-log ``entry``, in one transaction."""
        ...

    async def retry_delivery(self, id_: int, error: str, delay_s: float, policy: DeliveryPolicy) -> str:
        """Pending again after ``delay_s`` (``"pending"``), or merged into a newer flush of the
        same target (``"superseded"``); ``"gone"`` if the row no longer exists."""
        ...

    async def fail_delivery(self, id_: int, error: str) -> None:
        """A dead letter: kept, listed and re-drivable, never retried on its own."""
        ...

    async def release_deliveries(self, replica: str, ids: Sequence[int] | None = None) -> int:
        """Inflight rows of ``replica`` (``ids`` only, if given) back to pending."""
        ...

    async def list_deliveries(
        self, state: str | None, receiver: str | None, limit: int, before_id: int | None = None
    ) -> list[Delivery]:
        """Newest first; ``before_id`` pages on."""
        ...

    async def get_delivery(self, id_: int) -> Delivery | None: ...

    async def redrive_delivery(self, id_: int) -> RedriveResult: ...

    async def redrive_deliveries(self, receiver: str | None) -> tuple[int, int]:
        """Re-drive every dead row (of ``receiver``); (re-driven, skipped as superseded)."""
        ...

    async def count_deliveries(self) -> dict[str, int]:
        """Rows by state: pending, inflight, dead."""
        ...

    async def purge_deliveries(self, before: int, limit: int = 10_000) -> int:
        """Delete at most ``limit`` done and dead rows last changed before ``before``."""
        ...

    # -- history (ampp.history) -----------------------------------------------------------
    async def append_history(self, events: Sequence[HistoryEvent]) -> None: ...

    async def delete_history_before(self, cutoff: int, limit: int) -> int:
        """Delete at most ``limit`` of the oldest events older than ``cutoff``; return how many."""
        ...

    async def prune_label_values(self) -> int:
        """After retention: forget the label values that no alert left in the history carries
        (pod names and the like churn, and would pile up); return how many went."""
        ...

    # Answered in SQL from the occurrence summary (store.history_common), not from the events.
    async def query_history(self, query: HistoryQuery, now: int) -> HistoryPage: ...

    async def history_report(
        self, from_: int | None, to: int | None, flap_threshold: int, flap_window_s: float
    ) -> Report: ...

    async def history_timeline(self, fingerprint: str, limit: int) -> Timeline | None: ...
