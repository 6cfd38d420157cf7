"""A silence: matchers and a time window during which matching alerts are not notified."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from .matchers import Matcher, matches_labels

SilenceState = Literal["pending", "active", "expired"]


@dataclass(slots=True)
class Silence:
    id: str
    matchers: list[Matcher]
    starts_at: int
    ends_at: int
    updated_at: int = 0
    created_by: str = ""
    comment: str = ""
    annotations: dict[str, str] = field(default_factory=dict)

    def state(self, now: int) -> SilenceState:
        """silence.getState: pending before start, expired after end, active in between."""
        if now < self.starts_at:
            return "pending"
        if now > self.ends_at:
            return "expired"
        return "active"

    def matches(self, labels: dict[str, str]) -> bool:
        return matches_labels(self.matchers, labels)

    def clone(self) -> Silence:
        return replace(self, matchers=list(self.matchers), annotations=dict(self.annotations))
