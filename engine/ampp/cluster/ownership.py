"""Who flushes which aggregation group: rendezvous hashing over the members alive now.

Pure functions of the member rows and the database's clock, so every replica that has read the
same rows reaches the same answer at the same instant, without talking to the others:

- a member's run is **eligible** from ``started_at + settle`` (every replica has read its row
  by then, and its view of the alerts has caught up) until ``heartbeat_at + dead_after``;
- a group's **owner** is the eligible member with the highest hash of (member, group key).

The timings (see :class:`Timing`) make the owner's own belief stricter than anyone else's:
a replica stops flushing ``fence`` after the last heartbeat it sent, before anyone else may
count it dead, so two replicas never flush one group at once; a gap (nobody flushing for a
moment) is closed by the new owner flushing what it gained at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..store.postgres.cluster import MemberRow


@dataclass(frozen=True, slots=True)
class Timing:
    """The cluster's clocks, from ``--cluster.probe-interval`` (``heartbeat``) and
    ``--cluster.probe-timeout`` (``timeout``, the longest a heartbeat may take)."""

    heartbeat: float = 1.0
    timeout: float = 0.5

    @property
    def fence(self) -> float:
        """A replica flushes only while its last successful heartbeat was sent less than this
        long ago: one interval, plus the time the next one may take."""
        return self.heartbeat + self.timeout

    @property
    def dead_after(self) -> float:
        """The others take a replica's groups this long after its last heartbeat: its fence,
        plus one interval (they read the rows once an interval), plus the clock's error (a
        round trip at most): two intervals and two timeouts."""
        return self.fence + self.heartbeat + self.timeout

    @property
    def settle(self) -> float:
        """A new run flushes nothing for this long after it joined: by then every live replica
        has read its row (they read once an interval, and one that has not stopped flushing)."""
        return self.dead_after


def eligible(rows: Iterable[MemberRow], now_us: int, timing: Timing) -> frozenset[str]:
    """The members that own groups at ``now_us`` (database clock, Unix microseconds)."""
    settle, dead = int(timing.settle * 1e6), int(timing.dead_after * 1e6)
    return frozenset(r.name for r in rows if r.started_at + settle <= now_us < r.heartbeat_at + dead)


def alive(row: MemberRow, now_us: int, timing: Timing) -> bool:
    return now_us < row.heartbeat_at + int(timing.dead_after * 1e6)


def next_change(rows: Iterable[MemberRow], now_us: int, timing: Timing) -> int | None:
    """The next instant (after ``now_us``) at which :func:`eligible` changes, from these rows."""
    settle, dead = int(timing.settle * 1e6), int(timing.dead_after * 1e6)
    later = [t for r in rows for t in (r.started_at + settle, r.heartbeat_at + dead) if t > now_us]
    return min(later, default=None)


def _score(member: str, group_key: str) -> bytes:
    return hashlib.blake2b(f"{member}\x00{group_key}".encode(), digest_size=8).digest()


def owner(group_key: str, members: Sequence[str] | frozenset[str]) -> str | None:
    """The member that flushes ``group_key`` (None when no member is eligible). Rendezvous
    hashing: when a member leaves, only its groups move, spread over the others."""
    best: tuple[bytes, str] | None = None
    for m in members:
        s = (_score(m, group_key), m)
        if best is None or s > best:
            best = s
    return None if best is None else best[1]
