"""The silencer: a muter that says whether an active silence matches an alert."""

from __future__ import annotations

from ..model.fingerprint import fingerprint
from .marker import Marker
from .silences import Silences


class Silencer:
    def __init__(self, silences: Silences, marker: Marker) -> None:
        self.silences = silences
        self.marker = marker

    def mutes(self, labels: dict[str, str], fp: int | None = None) -> bool:
        """Mark the alert's silences and return whether one is active.

        When no silence changed since the last answer, only the silences found last time are
        re-checked (their state may have moved with the clock), as upstream's Silencer does.
        """
        fp = fingerprint(labels) if fp is None else fp
        status = self.marker.status(fp)
        version = self.silences.version
        if status.silences_version == version:
            ids = [*status.silenced_by, *status.pending_silences]
            if not ids:
                return False
            now = self.silences._now()
            active: list[str] = []
            pending: list[str] = []
            for sid in ids:
                s = self.silences.get(sid)
                if s is None:
                    continue
                state = s.state(now)
                if state == "active":
                    active.append(sid)
                elif state == "pending":
                    pending.append(sid)
        else:
            active, pending = self.silences.matching(labels)
        self.marker.set_active_or_silenced(fp, version, active, pending)
        return bool(active)
