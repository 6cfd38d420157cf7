"""What the two delivery-queue backends share: the rows, the results, and the rules they apply.

The ``delivery_queue`` table holds one row per notification to send: one flush of one
aggregation group to one integration of a receiver (the *target*: group key, receiver,
integration name and index, the notification log's key). A row is ``pending`` until a worker
claims it (``inflight``, with a lease), then ``done`` (sent, or superseded, or recorded) or
``pending`` again for a retry, or ``dead`` once retrying cannot help.

The backends keep these invariants, each change one transaction:

- **One live row per content.** ``key`` names the target and the exact firing and resolved
  sets; a unique index over live (pending, inflight) rows makes enqueueing the same flush twice
  (two replicas, or two group intervals while the endpoint is down) a no-op that refreshes the
  payload.
- **Newest wins.** A flush with different content supersedes the target's pending row (marked
  ``done``, outcome ``superseded``); the resolved alerts only the older row carried are merged
  into the newer one (Alertmanager keeps them in the aggregation group until a flush succeeds,
  so its next flush carries them too). A row that fails while a newer one waits is merged into
  it the same way instead of being retried.
- **One at a time per target, in order.** A row is claimed only when no older live row of its
  target exists, so two notifications for one target never race and never arrive reversed.
- **Sent means logged.** Completing a row and writing the notification log happen in one
  transaction, and enqueueing reads the log in the transaction that inserts: a flush already
  sent (by this replica or another one sharing PostgreSQL) is not queued again. PostgreSQL
  serializes both per target with a transaction-scoped advisory lock.

The domain rules (what a payload holds, when the receiver needs to hear about a flush, how two
flushes merge) come from the notify layer through :class:`DeliveryPolicy`: storage stays
ignorant of alerts and templates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from .records import NflogEntry

STATES = ("pending", "inflight", "done", "dead")
LIVE_STATES = ("pending", "inflight")

Target = tuple[str, str, str, int]
"""(group key, receiver, integration, index): the notification log's key."""

Outcome = Literal["sent", "superseded", "recorded"]
"""Why a row is ``done``: delivered; replaced by a newer flush before it was sent; or nothing
had to be sent (all resolved, ``send_resolved: false``) and only the log was written."""


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """One flush for one integration, ready to be queued; built by ampp.notify.delivery."""

    group_key: str
    receiver: str
    integration: str
    idx: int
    key: str
    """Idempotency key: the target and a hash of the firing and resolved sets."""
    firing: frozenset[int]
    resolved: frozenset[int]
    payload: dict[str, Any]
    """Everything a worker needs to render and send it after a restart (JSON-serializable)."""
    record_only: bool = False
    """Nothing to send: write the notification log (and supersede what is pending) only."""

    @property
    def target(self) -> Target:
        return (self.group_key, self.receiver, self.integration, self.idx)


@dataclass(slots=True)
class Delivery:
    """A row of the queue. Times are Unix nanoseconds (None where unset)."""

    id: int
    key: str
    state: str
    attempts: int
    next_attempt_at: int
    claimed_by: str | None
    claimed_until: int | None
    last_error: str | None
    outcome: str | None
    created_at: int
    updated_at: int
    group_key: str | None
    receiver: str | None
    integration: str | None
    idx: int | None
    payload: dict[str, Any]

    @property
    def target(self) -> Target:
        return (self.group_key or "", self.receiver or "", self.integration or "", self.idx or 0)


@dataclass(frozen=True, slots=True)
class EnqueueResult:
    """What enqueueing one flush did: ``queued`` (a new row), ``refreshed`` (the same content was
    already waiting: its payload now holds the latest alerts), ``busy`` (the same content is
    being sent right now), ``deduplicated`` (the notification log says it was sent already),
    ``recorded`` (nothing to send, log written)."""

    outcome: Literal["queued", "refreshed", "busy", "deduplicated", "recorded"]
    id: int | None = None
    superseded: int = 0
    entry: NflogEntry | None = None
    """The notification-log entry in storage: written (``recorded``) or the reason for
    ``deduplicated`` (another replica's send); the engine takes it into its in-memory log."""


@dataclass(frozen=True, slots=True)
class Claim:
    jobs: list[Delivery]
    next_due_in: float | None
    """Seconds until the earliest pending row not yet due becomes due (None: no such row)."""


@dataclass(frozen=True, slots=True)
class RedriveResult:
    """``redriven``; ``not_found``; ``not_dead``; or ``superseded`` (a newer notification for
    the same target exists, so sending this one would be stale)."""

    outcome: Literal["redriven", "not_found", "not_dead", "superseded"]
    delivery: Delivery | None = None
    newer_id: int | None = None


class DeliveryPolicy(Protocol):
    """The notify layer's rules, applied by the backends inside their transactions."""

    def parse(self, payload: Mapping[str, Any]) -> NewDelivery:
        """The queued flush a stored payload describes."""
        ...

    def merge(self, job: NewDelivery, older: Sequence[Mapping[str, Any]]) -> NewDelivery:
        """``job`` plus the resolved alerts that only the ``older`` payloads carry."""
        ...

    def needs_update(self, entry: NflogEntry | None, job: NewDelivery, now: int) -> bool:
        """Whether the receiver still needs to hear about ``job`` given the log's ``entry``."""
        ...

    def nflog_entry(self, job: NewDelivery, now: int) -> NflogEntry:
        """The notification-log entry that records ``job`` as told at ``now``."""
        ...
