"""Silence resources -> engine silences, with ids every replica derives alike.

A Silence resource becomes exactly one engine silence whose id is a function of the
resource's uid, so every replica (each with its own engine) makes the same silence, a shared
store sees one silence, and a restarted replica finds its own again. The id is an RFC 9562
UUIDv8 whose last 48 bits are a fixed marker ("ampp" 00 01): the operator recognises the
silences it owns by id alone (the engine does not persist annotations), expires the ones
whose resource is gone, and never touches silences made through the API or amtool.

The resource is the truth: if someone expires or edits an operator-owned silence through the
API, the next reconcile puts it back the way the resource says.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ampp.model.matchers import Matcher, MatchType, new_matcher
from ampp.model.silence import Silence, SilenceState
from ampp.model.timefmt import NS, DurationError, TimestampError, parse_duration, parse_rfc3339
from ampp.mute.silences import SilenceInvalid, Silences, validate_silence

from .resources import Resource
from .translate import NAMESPACE_LABEL, Rejected, matchers_from_spec

__all__ = [
    "MARKER",
    "Action",
    "DesiredSilence",
    "Observed",
    "desired_silence",
    "is_operator_silence",
    "matchers_text",
    "next_transition",
    "observe",
    "plan",
    "silence_id",
    "sync",
]

MAX_NS = 2**63 - 1
"""Timestamps are int64 nanoseconds (storage, Go clients): ends must stay below this."""

MARKER = bytes.fromhex("616d70700001")
"""The node field of every operator-owned silence id ("ampp" 00 01)."""


def silence_id(uid: str) -> str:
    """The engine silence id for the Silence resource with this uid (UUIDv8, marked)."""
    digest = bytearray(hashlib.sha256(f"alerting.ampp.io/Silence/{uid}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80  # version 8: vendor-specific layout
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 9562 variant
    digest[10:16] = MARKER
    return str(uuid.UUID(bytes=bytes(digest)))


def is_operator_silence(sid: str) -> bool:
    try:
        u = uuid.UUID(sid)
    except ValueError:
        return False
    return u.version == 8 and u.bytes[10:16] == MARKER


@dataclass(frozen=True)
class DesiredSilence:
    """What a Silence resource asks for, in engine terms (times in Unix nanoseconds)."""

    id: str
    matchers: tuple[Matcher, ...]
    starts_at: int
    ends_at: int
    created_by: str
    comment: str

    def to_silence(self, starts_at: int | None = None) -> Silence:
        return Silence(
            id=self.id,
            matchers=list(self.matchers),
            starts_at=self.starts_at if starts_at is None else starts_at,
            ends_at=self.ends_at,
            created_by=self.created_by,
            comment=self.comment,
        )


def desired_silence(res: Resource, *, enforce: bool) -> DesiredSilence:
    """A Silence resource's spec -> the silence it stands for; raises :class:`Rejected`.

    Without ``startsAt`` the silence starts when the resource was created (not when a replica
    happens to see it), so every replica computes the same window; ``duration`` counts from
    that start.
    """
    spec = res.spec
    matchers = matchers_from_spec(spec.get("matchers") or [], "matchers")
    if enforce:
        matchers.insert(0, new_matcher(NAMESPACE_LABEL, MatchType.EQUAL, res.namespace))
    try:
        starts = parse_rfc3339(str(spec["startsAt"])) if spec.get("startsAt") else parse_rfc3339(res.created)
        if spec.get("endsAt"):
            ends = parse_rfc3339(str(spec["endsAt"]))
        elif spec.get("duration"):
            ends = starts + int(parse_duration(str(spec["duration"])) * NS)
        else:
            raise Rejected("InvalidSpec", "one of endsAt or duration is required")
    except (TimestampError, DurationError) as e:
        raise Rejected("InvalidSpec", str(e)) from None
    if ends <= starts:
        raise Rejected("InvalidSpec", "endsAt must be after startsAt")
    if ends >= MAX_NS:
        raise Rejected("InvalidSpec", "endsAt is too far in the future (the year 2262 at most)")
    desired = DesiredSilence(
        id=silence_id(res.uid),
        matchers=tuple(matchers),
        starts_at=starts,
        ends_at=ends,
        created_by=str(spec.get("createdBy") or f"{res.namespace}/{res.name}"),
        comment=str(spec.get("comment") or ""),
    )
    try:
        validate_silence(desired.to_silence())
    except SilenceInvalid as e:
        raise Rejected("InvalidSpec", str(e)) from None
    return desired


def matchers_text(matchers: tuple[Matcher, ...] | list[Matcher]) -> str:
    """``{alertname="Foo", severity=~"crit"}``: the Matchers printer column."""
    return "{" + ", ".join(str(m) for m in matchers) + "}"


@dataclass(frozen=True)
class Action:
    """What to do to the engine for one silence id."""

    kind: Literal["none", "set", "expire"]
    silence: Silence | None = None


def plan(desired: DesiredSilence | None, existing: Silence | None, now: int, retention_ns: int = 0) -> Action:
    """Compare what a resource wants with what the engine holds. Pure.

    No change when they agree, including starts that differ but both lie in the past (the
    engine moves a past start to "now" when it creates a silence, and each replica has its
    own now): otherwise every reconcile would replace the silence.

    A resource whose window lies wholly in the past is recorded as an expired silence (as
    Alertmanager keeps expired silences for ``retention_ns``), so its id answers like any
    other silence that ended, instead of 404.
    """
    live = existing is not None and existing.state(now) != "expired"
    if desired is None:
        return Action("expire") if live else Action("none")
    if desired.ends_at <= now:
        if live:
            return Action("expire")
        if existing is None and desired.ends_at + retention_ns > now:
            return Action("set", desired.to_silence())
        return Action("none")
    if existing is None or not live:
        return Action("set", desired.to_silence())
    assert existing is not None
    same_start = existing.starts_at == desired.starts_at or (
        existing.starts_at <= now and desired.starts_at <= now
    )
    if (
        same_start
        and list(existing.matchers) == list(desired.matchers)
        and existing.ends_at == desired.ends_at
        and existing.comment == desired.comment
        and existing.created_by == desired.created_by
    ):
        return Action("none")
    # An active silence keeps its start, so the change can be made in place.
    start = existing.starts_at if existing.state(now) == "active" and desired.starts_at <= now else None
    return Action("set", desired.to_silence(start))


async def sync(store: Silences, desired: Mapping[str, DesiredSilence], now: int) -> dict[str, str]:
    """Make the engine hold exactly the operator-owned silences ``desired`` lists.

    Operator-owned silences (by id) that no resource wants any more are expired; silences
    with other ids are never touched. One silence the engine refuses does not stop the
    others: the errors are returned by id, for that resource's status.
    """
    errors: dict[str, str] = {}
    for sid, want in desired.items():
        try:
            await _do(store, sid, plan(want, store.get(sid), now, store.retention_ns))
        except Exception as e:  # the engine's store refused it; the others still go in
            errors[sid] = str(e) or type(e).__name__
    for sil in store.all():
        if is_operator_silence(sil.id) and sil.id not in desired:
            try:
                await _do(store, sil.id, plan(None, sil, now))
            except Exception as e:
                errors[sil.id] = str(e) or type(e).__name__
    return errors


async def _do(store: Silences, sid: str, action: Action) -> None:
    if action.kind == "set":
        assert action.silence is not None
        await store.set_with_id(action.silence)
    elif action.kind == "expire":
        await store.expire(sid)


@dataclass(frozen=True)
class Observed:
    """What a Silence resource's status reports: the engine silence's state and window."""

    state: SilenceState
    starts_at: int
    ends_at: int


def observe(store: Silences, desired: DesiredSilence, now: int) -> Observed:
    """The state and times of the engine silence a resource made (its times move when the
    engine re-creates it after a change, so they are read back rather than predicted); a
    window that has ended is expired whatever the engine holds (a silence it no longer keeps
    after the retention is expired all the same)."""
    sil = store.get(desired.id)
    if desired.ends_at <= now:
        if sil is not None and sil.state(now) == "expired":
            return Observed("expired", sil.starts_at, sil.ends_at)
        return Observed("expired", desired.starts_at, desired.ends_at)
    if sil is None:
        return Observed(
            "active" if desired.starts_at <= now else "pending", desired.starts_at, desired.ends_at
        )
    return Observed(sil.state(now), sil.starts_at, sil.ends_at)


def next_transition(desired: Mapping[str, DesiredSilence], now: int) -> int | None:
    """The next time (ns) a desired silence starts or ends: when status must change."""
    upcoming = [t for d in desired.values() for t in (d.starts_at, d.ends_at) if t > now]
    return min(upcoming) if upcoming else None
