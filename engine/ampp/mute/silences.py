"""Silences: create, update in place or replace, expire, garbage-collect, and persist.

The rules are Alertmanager's (silence/silence.go): a change that rewrites history (other
matchers, an earlier start of an active silence, ...) expires the old silence and creates a new
one with a new id; anything else updates in place.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from ..model.labels import go_quote, is_valid_label_name
from ..model.matchers import Matcher, MatchType
from ..model.silence import Silence
from ..model.timefmt import NS, now_ns


class SilenceNotFound(LookupError):
    def __str__(self) -> str:
        return "silence not found"


class SilenceInvalid(ValueError):
    pass


class SilenceOwned(SilenceInvalid):
    """A change through the API to a silence that another source keeps (it would be undone)."""


def _matches_empty(m: Matcher) -> bool:
    if m.type in (MatchType.EQUAL, MatchType.REGEX):
        return m.matches("")
    return False


def validate_silence(s: Silence) -> None:
    """silence.validateSilence, with its messages."""
    problem: str | None = None
    if not s.id:
        problem = "ID missing"
    elif not s.matchers:
        problem = "at least one matcher required"
    else:
        for i, m in enumerate(s.matchers):
            if not is_valid_label_name(m.name):
                problem = f"invalid label matcher {i}: invalid label name {go_quote(m.name)}"
                break
        if problem is None and all(_matches_empty(m) for m in s.matchers):
            problem = "at least one matcher must not match the empty string"
        if problem is None and s.ends_at < s.starts_at:
            problem = "end time must not be before start time"
    if problem:
        raise SilenceInvalid(f"silence invalid: {problem}")


def _can_update(prev: Silence, new: Silence, now: int) -> bool:
    if [(m.name, m.type, m.value) for m in prev.matchers] != [
        (m.name, m.type, m.value) for m in new.matchers
    ]:
        return False
    state = prev.state(now)
    if state == "active":
        # whole seconds, as upstream: the API round-trips times with millisecond precision
        return new.starts_at // NS == prev.starts_at // NS and new.ends_at >= now
    if state == "pending":
        return new.starts_at >= now
    return False


class SilenceSink(Protocol):
    """Told of every change, in turn, before the change's caller is answered: storage, history."""

    async def silence_changed(self, event: str, sil: Silence, prev: Silence | None) -> None:
        """``event``: created, updated, replaced or expired; ``prev`` the silence it changed."""


class Silences:
    """The silence store; ``version`` moves on every change so muters can cache decisions."""

    def __init__(
        self,
        retention_s: float = 120 * 3600,
        now: Callable[[], int] = now_ns,
        sinks: Sequence[SilenceSink] = (),
    ) -> None:
        self._by_id: dict[str, Silence] = {}
        self.retention_ns = int(retention_s * NS)
        self.version = 0
        self._now = now
        self.sinks = tuple(sinks)
        self._index = _Index([])
        """The silences not expired when last listed: matching reads these, not every silence
        kept for retention (expired ones pile up: 20 changes a second make 6,000 in 5 minutes)."""
        self._index_version = -1
        self._index_until = 0
        """The earliest end among them: past it, one may have expired and the index is redone."""
        self.owners: dict[str, str] = {}
        """Silences kept in line with a source outside the API (the Kubernetes operator's
        Silence resources): id -> that source, named for a person. The API refuses to change
        them, since the owner would put them back."""

    def load(self, silences: Iterable[Silence]) -> None:
        for s in silences:
            self._by_id[s.id] = s
        self.version += 1

    def check_editable(self, sid: str) -> None:
        """Raise :class:`SilenceOwned` if the API must leave this silence to its owner."""
        owner = self.owners.get(sid)
        if owner is not None:
            raise SilenceOwned(
                f"silence {sid} belongs to {owner}: change or delete that instead "
                "(a change made here would be undone)"
            )

    def get(self, sid: str) -> Silence | None:
        return self._by_id.get(sid)

    def all(self) -> list[Silence]:
        return list(self._by_id.values())

    def active_or_pending(self) -> list[Silence]:
        now = self._now()
        return [s for s in self._by_id.values() if s.state(now) != "expired"]

    async def _store(self, event: str, sil: Silence, prev: Silence | None, now: int) -> None:
        sil.updated_at = now
        validate_silence(sil)
        before = self._by_id.get(sil.id)
        self._by_id[sil.id] = sil
        self.version += 1
        try:
            for sink in self.sinks:
                await sink.silence_changed(event, sil, prev)
        except BaseException:  # not saved (storage failed): as if never asked
            if before is None:
                self._by_id.pop(sil.id, None)
            else:
                self._by_id[sil.id] = before
            self.version += 1
            raise

    async def set(self, sil: Silence) -> str:
        """Create or update; return the id (new when the change had to replace the silence)."""
        now = self._now()
        prev = self._by_id.get(sil.id) if sil.id else None
        if sil.id and prev is None:
            raise SilenceNotFound()
        if prev is not None:
            if _can_update(prev, sil, now):
                await self._store("updated", sil, prev, now)
                return sil.id
            if prev.state(now) != "expired":
                await self._expire(prev, now)
        new = sil.clone()
        new.id = str(uuid.uuid4())
        if new.starts_at < now:
            new.starts_at = now
        await self._store("created", new, prev, now)
        return new.id

    async def set_with_id(self, sil: Silence) -> str:
        """Create or update a silence whose id the caller owns (e.g. derived from a resource).

        Updates follow the same rules as ``set``; a change that cannot be made in place expires
        the old silence and re-creates it under the same id, so the owner's reference stays valid.
        A window that has already ended is kept as it is: an expired silence, as the owner's
        record of what it asked for.
        """
        now = self._now()
        prev = self._by_id.get(sil.id)
        if prev is not None and _can_update(prev, sil, now):
            await self._store("updated", sil, prev, now)
            return sil.id
        new = sil.clone()
        if new.starts_at < now < new.ends_at:
            new.starts_at = now
        await self._store("created" if prev is None else "replaced", new, prev, now)
        return new.id

    async def expire(self, sid: str) -> None:
        sil = self._by_id.get(sid)
        if sil is None:
            raise SilenceNotFound()
        await self._expire(sil, self._now())

    async def _expire(self, sil: Silence, now: int) -> None:
        new = sil.clone()
        state = new.state(now)
        if state == "expired":
            return  # expiring twice is not an error, as upstream
        if state == "active":
            new.ends_at = now
        else:
            new.starts_at = now
            new.ends_at = now
        await self._store("expired", new, sil, now)

    def gc(self) -> list[str]:
        """Drop silences whose end lies more than the retention in the past."""
        now = self._now()
        gone = [sid for sid, s in self._by_id.items() if s.ends_at + self.retention_ns <= now]
        for sid in gone:
            del self._by_id[sid]
        if gone:
            self.version += 1
        return gone

    def _unexpired_at(self, now: int) -> _Index:
        if self._index_version != self.version or now > self._index_until:
            unexpired = [s for s in self._by_id.values() if s.state(now) != "expired"]
            self._index = _Index(unexpired)
            self._index_until = min((s.ends_at for s in unexpired), default=2**63)
            self._index_version = self.version
        return self._index

    def matching(self, labels: dict[str, str]) -> tuple[list[str], list[str]]:
        """Ids of the active and of the pending silences that match ``labels``, in the order
        the silences were stored."""
        now = self._now()
        active: list[str] = []
        pending: list[str] = []
        for s in self._unexpired_at(now).candidates(labels):
            state = s.state(now)
            if state == "expired" or not s.matches(labels):
                continue
            (active if state == "active" else pending).append(s.id)
        return active, pending


class _Index:
    """Silences found by one of their equality matchers (``instance="a"``): an alert asks only
    those whose matcher its labels satisfy, plus the silences without one. Each flush asks it for
    every alert of the group, and a silence changes the version every muter's cache keys on, so
    with 100 silences and 2,000-alert groups a scan made 200,000 matcher checks a flush."""

    __slots__ = ("_by_label", "_unanchored")

    def __init__(self, silences: Sequence[Silence]) -> None:
        self._by_label: dict[str, dict[str, list[tuple[int, Silence]]]] = {}
        self._unanchored: list[tuple[int, Silence]] = []
        for position, s in enumerate(silences):
            anchor = next((m for m in s.matchers if m.type is MatchType.EQUAL and m.value), None)
            if anchor is None:  # a value of "" also matches a missing label: not indexable
                self._unanchored.append((position, s))
            else:
                by_value = self._by_label.setdefault(anchor.name, {})
                by_value.setdefault(anchor.value, []).append((position, s))

    def candidates(self, labels: dict[str, str]) -> list[Silence]:
        """The silences that may match ``labels`` (every other one cannot), in stored order."""
        found = list(self._unanchored)
        for name, by_value in self._by_label.items():
            value = labels.get(name)
            if value is not None:
                hits = by_value.get(value)
                if hits:
                    found += hits
        if len(found) > 1:
            found.sort(key=_position)
        return [s for _, s in found]


def _position(item: tuple[int, Silence]) -> int:
    return item[0]
