"""The interfaces the engine keeps its state through (the records themselves: store.records).

One narrow Protocol per part of the engine that keeps state, declared here and used where it
is needed (Alertmanager's provider/ interfaces): the alert write-behind sees AlertStorage, the
notification log NflogStorage, the delivery queue DeliveryStorage, the history recorder
HistoryLog and the history API HistoryReader (ampp.auth declares ApiKeyStore and AuditStore).
``Storage`` is all of them plus the lifecycle: what the engine opens and closes, and what each
backend (sqlite.storage, postgres.storage) implements. Every method is async and runs its I/O
off the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ..auth.apikeys import ApiKeyStore
from ..auth.audit import AuditStore
from ..model.alert import Alert
from ..model.silence import Silence
from .delivery_common import (
    Claim,
    ClaimAtEnqueue,
    Delivery,
    DeliveryPolicy,
    EnqueueResult,
    NewDelivery,
    RedriveResult,
)
from .history_query import HistoryPage, HistoryQuery, Report, Timeline
from .records import HistoryEvent, NflogEntry


class AlertStorage(Protocol):
    """The active alerts (ampp.store.writebehind commits them in groups)."""

    async def load_alerts(self) -> list[Alert]: ...

    async def write_alerts(self, upserts: Sequence[Alert], deletes: Sequence[int]) -> None: ...


class SilenceStorage(Protocol):
    async def load_silences(self) -> list[Silence]: ...

    async def save_silence(self, silence: Silence) -> None: ...

    async def delete_silences(self, ids: Sequence[str]) -> None: ...


class NflogStorage(Protocol):
    """The notification log (ampp.notify.nflog); a finished delivery also writes it."""

    async def load_nflog(self) -> list[NflogEntry]: ...

    async def save_nflog(self, entry: NflogEntry) -> None: ...

    async def delete_nflog(self, keys: Sequence[tuple[str, str, str, int]]) -> None: ...


class DeliveryStorage(Protocol):
    """The durable delivery queue (ampp.notify.queue). Which flush is queued, refreshed,
    superseded or merged is decided once, in store.delivery_common; the backends apply it."""

    async def enqueue_deliveries(
        self,
        jobs: Sequence[NewDelivery],
        policy: DeliveryPolicy,
        now: int,
        claim: ClaimAtEnqueue | None = None,
    ) -> list[EnqueueResult]:
        """Queue flushes durably, one transaction for the batch; one result per job. With
        ``claim``, up to ``claim.limit`` new rows are claimed in that transaction too."""
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


class HistoryLog(Protocol):
    """The append-only history (ampp.history.recorder writes it), with its retention."""

    async def append_history(self, events: Sequence[HistoryEvent]) -> None: ...

    async def delete_history_before(self, cutoff: int, limit: int) -> int:
        """Delete at most ``limit`` of the oldest events older than ``cutoff``; return how many."""
        ...

    async def prune_label_values(self) -> int:
        """After retention: forget the label values that no alert left in the history carries
        (pod names and the like churn, and would pile up); return how many went."""
        ...


class HistoryReader(Protocol):
    """/history, /report and the timeline (ampp.history.service), answered in SQL from the
    occurrence summary (store.history_common), not from the events."""

    async def query_history(self, query: HistoryQuery, now: int) -> HistoryPage: ...

    async def history_report(
        self, from_: int | None, to: int | None, flap_threshold: int, flap_window_s: float
    ) -> Report: ...

    async def history_timeline(self, fingerprint: str, limit: int) -> Timeline | None: ...


class Storage(
    AlertStorage, SilenceStorage, NflogStorage, DeliveryStorage, HistoryLog, HistoryReader,
    ApiKeyStore, AuditStore, Protocol,
):  # fmt: skip
    """A whole backend: every part above, and the API keys and audit log (declared in ampp.auth
    where they are used), opened (connected, migrated) and closed as one."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...
