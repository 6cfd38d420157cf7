"""Per-alert status (unprocessed, active, suppressed) and why: the silences and inhibitors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

AlertState = Literal["unprocessed", "active", "suppressed"]


@dataclass(slots=True)
class AlertStatus:
    state: AlertState = "unprocessed"
    silenced_by: list[str] = field(default_factory=list)
    inhibited_by: list[str] = field(default_factory=list)
    pending_silences: list[str] = field(default_factory=list)
    silences_version: int = -1


class Marker:
    """types.MemMarker: the status the API reports and the muters cache their answers in."""

    def __init__(self) -> None:
        self._status: dict[int, AlertStatus] = {}

    def status(self, fp: int) -> AlertStatus:
        return self._status.get(fp) or AlertStatus()

    def _get(self, fp: int) -> AlertStatus:
        s = self._status.get(fp)
        if s is None:
            s = self._status[fp] = AlertStatus()
        return s

    def set_active_or_silenced(self, fp: int, version: int, active: list[str], pending: list[str]) -> None:
        s = self._get(fp)
        s.silenced_by = active
        s.pending_silences = pending
        s.silences_version = version
        s.state = "suppressed" if active or s.inhibited_by else "active"

    def set_inhibited(self, fp: int, ids: list[str]) -> None:
        s = self._get(fp)
        s.inhibited_by = ids
        s.state = "suppressed" if ids or s.silenced_by else "active"

    def delete(self, fp: int) -> None:
        self._status.pop(fp, None)

    def count(self, state: AlertState) -> int:
        return sum(1 for s in self._status.values() if s.state == state)
