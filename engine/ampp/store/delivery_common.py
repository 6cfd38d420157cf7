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

Which of these an enqueue applies (deduplicate, record, refresh, queue, and what it
supersedes) is decided here, once, by :func:`plan_enqueue` from what the target holds; each
backend (sqlite.delivery, postgres.delivery) only reads that and writes the plan in its
transaction. The domain rules (what a payload holds, when the receiver needs to hear about a
flush, how two flushes merge) come from the notify layer through :class:`DeliveryPolicy`:
storage stays ignorant of alerts and templates.
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
    claimed: Delivery | None = None
    """The new row, claimed in the transaction that queued it (:class:`ClaimAtEnqueue`); its
    payload is the very dict the job (or the job merged with older flushes) carried."""


@dataclass(frozen=True, slots=True)
class ClaimAtEnqueue:
    """Claim new rows in the transaction that queues them, for the queue's free workers: the
    first attempt of a notification then needs no claim of its own (one storage round trip
    less between a flush and its send). Only a row whose target has nothing in flight is
    claimed, so one target's notifications still go out one at a time and in order."""

    replica: str
    lease_s: float
    limit: int


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


# -- the decisions, written once: each backend reads what they need and applies the answer ---
@dataclass(frozen=True, slots=True)
class LiveRow:
    """A live (pending or inflight) row of the target a flush is enqueued for."""

    id: int
    key: str
    state: str
    payload: Mapping[str, Any] | None
    """A pending row's payload (what a newer flush merges); None for an inflight row."""


@dataclass(frozen=True, slots=True)
class EnqueuePlan:
    """What enqueueing one flush does, decided by :func:`plan_enqueue`. The backend applies it
    in its transaction, in this order: ``insert`` a row for ``job`` (or refresh row ``id``'s
    payload with it), mark the ``supersede`` rows superseded by that row, then write
    ``entry`` to the notification log if the outcome is ``recorded``."""

    outcome: Literal["queued", "refreshed", "busy", "deduplicated", "recorded"]
    job: NewDelivery
    """The flush with the resolved alerts of the pending rows it replaces merged in."""
    id: int | None = None
    """The live row with the same content: refreshed, or being sent (``busy``)."""
    supersede: tuple[int, ...] = ()
    entry: NflogEntry | None = None
    """``recorded``: the entry to write; ``deduplicated``: the logged entry that says it was sent."""
    claimable: bool = False
    """``queued`` while nothing of the target is in flight: the new row may be claimed at once."""

    @property
    def insert(self) -> tuple[str, str | None] | None:
        """The new row's (state, outcome), or None when no row is inserted."""
        if self.outcome == "queued":
            return ("pending", None)
        if self.outcome == "recorded":
            return ("done", "recorded")
        return None

    def result(
        self, id_: int | None = None, superseded: int | None = None, claimed: Delivery | None = None
    ) -> EnqueueResult:
        """The result once applied: ``id_`` of the inserted row, how many rows the backend
        found still pending to supersede (default: all it was told to), the row if claimed."""
        n = len(self.supersede) if superseded is None else superseded
        return EnqueueResult(self.outcome, self.id if id_ is None else id_, n, self.entry, claimed)


def plan_enqueue(
    job: NewDelivery, live: Sequence[LiveRow], logged: NflogEntry | None, policy: DeliveryPolicy, now: int
) -> EnqueuePlan:
    """The enqueue rules (the module's docstring) for ``job``, given its target's ``live`` rows
    (oldest first) and its notification-log entry: the backend holds the target's lock (or, on
    SQLite, the write lock) from reading them to applying the plan."""
    pending = [r for r in live if r.state == "pending"]
    if pending:  # newest wins, and tells what only the rows it replaces would have told
        job = policy.merge(job, [r.payload for r in pending if r.payload is not None])
    if not policy.needs_update(logged, job, now):  # sent already (by anyone sharing the log)
        return EnqueuePlan("deduplicated", job, entry=logged)
    if job.record_only:
        return EnqueuePlan("recorded", job, supersede=tuple(r.id for r in pending),
                           entry=policy.nflog_entry(job, now))  # fmt: skip
    same = next((r for r in live if r.key == job.key), None)  # the key names the target
    if same is not None and same.state == "inflight":
        return EnqueuePlan("busy", job, same.id)
    older = tuple(r.id for r in pending if r.key != job.key)
    if same is not None:
        return EnqueuePlan("refreshed", job, same.id, older)
    # What stays live besides the new row is in flight: the pending ones are superseded.
    idle = not any(r.state == "inflight" for r in live)
    return EnqueuePlan("queued", job, supersede=older, claimable=idle)


def merge_into_newer(
    failed: Mapping[str, Any], newer: Mapping[str, Any], policy: DeliveryPolicy
) -> NewDelivery:
    """A row that failed while a newer flush of its target waits is not retried: the newer one
    (what the receiver should hear next) takes the resolved alerts only the failed one held."""
    return policy.merge(policy.parse(newer), [failed])
