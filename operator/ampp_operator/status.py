"""What each resource's status should say, and the smallest patch that says it. Pure.

Two conditions, as Kubernetes API conventions suggest:

* ``Accepted``: the spec is valid and its references resolve, so it is part of the config
  (reason ``Valid``), or why not (``InvalidSpec``, ``InvalidConfig``, ``ReceiverNotFound``,
  ``SecretNotFound``, ``Conflict``, ...);
* ``Ready``: the engine runs it (``Applied``); for a Silence: the silence is active
  (``Active``), or not (``Pending``, ``Expired``).

Each condition and the status carry ``observedGeneration``; ``lastTransitionTime`` moves only
when a condition's status does. A status that already says the same is not written again, so
a reconcile that changes nothing writes nothing (and a new leader rewrites only what is stale).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .resources import Resource, Verdict

__all__ = ["Condition", "StatusUpdate", "conditions", "status_update"]


@dataclass(frozen=True, slots=True)
class Condition:
    type: str
    status: str  # "True", "False" or "Unknown"
    reason: str
    message: str


def conditions(verdict: Verdict, ready: Condition | None = None) -> list[Condition]:
    """Accepted from the verdict; Ready as given, else "Applied" when accepted."""
    accepted = Condition("Accepted", "True" if verdict.accepted else "False", verdict.reason, verdict.message)
    if ready is None:
        ready = (
            Condition("Ready", "True", "Applied", "the engine runs it")
            if verdict.accepted
            else Condition("Ready", "False", "NotAccepted", "see the Accepted condition")
        )
    return [accepted, ready]


@dataclass(frozen=True)
class StatusUpdate:
    """A merge patch for the status subresource, and the Accepted transition (for an Event)."""

    patch: dict[str, Any]
    accepted_changed: bool


def status_update(
    res: Resource, conds: list[Condition], extra: Mapping[str, Any], now: str
) -> StatusUpdate | None:
    """The status patch that brings ``res`` to ``conds`` plus ``extra`` fields, or None if its
    status says that already. ``now`` is the RFC 3339 time for conditions that transition."""
    old = res.status
    old_conds = {c.get("type"): c for c in old.get("conditions") or [] if isinstance(c, Mapping)}
    new_conds: list[dict[str, Any]] = []
    for c in conds:
        prev = old_conds.get(c.type) or {}
        since = prev.get("lastTransitionTime") if prev.get("status") == c.status else None
        new_conds.append(
            {
                "type": c.type,
                "status": c.status,
                "reason": c.reason,
                "message": c.message,
                "lastTransitionTime": since or now,
                "observedGeneration": res.generation,
            }
        )
    desired: dict[str, Any] = {"observedGeneration": res.generation, "conditions": new_conds}
    desired.update({k: v for k, v in extra.items() if v is not None})
    if _same(old, desired):
        return None
    patch = dict(desired)
    for key in old:
        if key not in desired:
            patch[key] = None  # merge-patch null: remove a field that no longer applies
    prev_accepted = old_conds.get("Accepted") or {}
    changed = (prev_accepted.get("status"), prev_accepted.get("reason"), prev_accepted.get("message")) != (
        conds[0].status,
        conds[0].reason,
        conds[0].message,
    )
    return StatusUpdate({"status": patch}, changed)


def _same(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    if set(old) != set(new):
        return False
    for key, value in new.items():
        if key == "conditions":
            strip = [{k: v for k, v in c.items() if k != "lastTransitionTime"} for c in value]
            was = [
                {k: v for k, v in c.items() if k != "lastTransitionTime"}
                for c in old.get("conditions") or []
                if isinstance(c, Mapping)
            ]
            if strip != was:
                return False
        elif old.get(key) != value:
            return False
    return True
