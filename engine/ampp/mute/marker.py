"""Per-alert status (unprocessed, active, suppressed) and why: the silences and inhibitors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from ..model.alert import Alert

AlertState = Literal["unprocessed", "active", "suppressed"]


@dataclass(slots=True)
class AlertStatus:
    """Empty reasons are the shared ``()``: most alerts have none, and a list each cost 170
    bytes an alert (17 MiB for 100,000)."""

    state: AlertState = "unprocessed"
    silenced_by: Sequence[str] = ()
    inhibited_by: Sequence[str] = ()
    pending_silences: Sequence[str] = ()
    silences_version: int = -1


MuteChange = Literal["silenced", "unsilenced", "inhibited", "uninhibited"]


class MuteSink(Protocol):
    """Told when an alert becomes silenced or inhibited, or stops being so, and by what
    (the silence ids or the inhibiting alert's fingerprint; before the change for un-)."""

    def mute_changed(self, fp: int, change: MuteChange, by: Sequence[str]) -> None: ...


class Marker:
    """types.MemMarker: the status the API reports and the muters cache their answers in.

    As an alert store sink it forgets the alerts garbage-collected.
    """

    def __init__(self, sinks: Sequence[MuteSink] = ()) -> None:
        self._status: dict[int, AlertStatus] = {}
        self.sinks = tuple(sinks)

    def status(self, fp: int) -> AlertStatus:
        return self._status.get(fp) or AlertStatus()

    def _get(self, fp: int) -> AlertStatus:
        s = self._status.get(fp)
        if s is None:
            s = self._status[fp] = AlertStatus()
        return s

    def set_active_or_silenced(self, fp: int, version: int, active: list[str], pending: list[str]) -> None:
        s = self._get(fp)
        before = s.silenced_by
        s.silenced_by = active or ()
        s.pending_silences = pending or ()
        s.silences_version = version
        s.state = "suppressed" if active or s.inhibited_by else "active"
        if bool(before) != bool(active):
            for sink in self.sinks:
                sink.mute_changed(fp, "silenced" if active else "unsilenced", active or before)

    def set_inhibited(self, fp: int, ids: list[str]) -> None:
        s = self._get(fp)
        before = s.inhibited_by
        s.inhibited_by = ids or ()
        s.state = "suppressed" if ids or s.silenced_by else "active"
        if bool(before) != bool(ids):
            for sink in self.sinks:
                sink.mute_changed(fp, "inhibited" if ids else "uninhibited", ids or before)

    def delete(self, fp: int) -> None:
        self._status.pop(fp, None)

    def alerts_changed(self, stored: Sequence[Alert], deleted: Sequence[int]) -> None:
        for fp in deleted:
            self._status.pop(fp, None)

    def count(self, state: AlertState) -> int:
        return sum(1 for s in self._status.values() if s.state == state)
