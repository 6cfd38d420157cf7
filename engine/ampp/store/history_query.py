"""What the history layer asks the store (a /history query) and what the store answers.

They live here, below ``ampp.history``, so the backends that answer need nothing from the
layer above them; ``ampp.history.query`` parses the HTTP parameters into a HistoryQuery and
shapes these answers as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..model.matchers import Matcher
from .records import HistoryEvent


@dataclass
class HistoryQuery:
    """A /history query, parsed and normalized (``ampp.history.query.parse_history_query``).
    Times are Unix nanoseconds, durations seconds."""

    status: str | None = None
    labels: dict[str, list[str]] = field(default_factory=dict)
    receiver: list[str] = field(default_factory=list)
    fingerprint: list[str] = field(default_factory=list)
    matchers: list[Matcher] = field(default_factory=list)
    q: str | None = None
    from_: int | None = None
    to: int | None = None
    active_at: int | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    silenced: bool | None = None
    inhibited: bool | None = None
    notified: bool | None = None
    flapping: int | None = None
    flapping_window: float = 3600.0
    sort: str = "startsAt"
    direction: str = "desc"
    limit: int = 100
    cursor: list[Any] | None = None
    normalized: str = ""


@dataclass(slots=True)
class OccurrenceRow:
    fingerprint: str
    starts_at: int
    ends_at: int | None
    labels: dict[str, str]
    annotations: dict[str, str]
    silenced: bool
    inhibited: bool
    receivers: list[str]
    sent: int
    failed: int

    def duration_ns(self, now: int) -> int:
        return (self.ends_at if self.ends_at is not None else now) - self.starts_at


@dataclass
class HistoryPage:
    rows: list[OccurrenceRow]
    """At most limit + 1: one more than the page says there is a next page."""
    total: int
    flaps: dict[str, int]
    """Per fingerprint on the page: the most state changes within the query's flapping_window."""
    total_exact: bool = True
    """False when more than COUNT_CAP occurrences match (``total`` is then COUNT_CAP)."""


@dataclass
class Timeline:
    events: list[tuple[int, HistoryEvent]]
    """(id, event), oldest first."""
    truncated: bool
    occurrences: list[OccurrenceRow]
    flaps: dict[str, int]


@dataclass
class Report:
    occurrences: int
    counts: dict[str, dict[str, int]]
    noisiest: list[tuple[str, dict[str, str], int]]
    ttr: tuple[int, float | None, int | None, int | None]
    """(count, mean, p50, p95) of the resolved occurrences' durations, in nanoseconds."""
    flapping: list[tuple[str, dict[str, str], int]]
    notifications: dict[str, dict[str, int]]
    silences_created: int
    silences_by_actor: dict[str, int]
