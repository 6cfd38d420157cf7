"""The storage interface: what the engine keeps so that a restart or kill -9 loses nothing.

SQLite implements it now; PostgreSQL implements the same Protocol. Every method is async and
runs its I/O off the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ..model.alert import Alert
from ..model.silence import Silence


@dataclass(slots=True)
class NflogEntry:
    """What was last sent to one integration of a receiver for one aggregation group."""

    group_key: str
    receiver: str
    integration: str
    idx: int
    firing: frozenset[int]
    resolved: frozenset[int]
    timestamp: int
    expires_at: int

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.group_key, self.receiver, self.integration, self.idx)


class Storage(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def load_alerts(self) -> list[Alert]: ...

    async def write_alerts(self, upserts: Sequence[Alert], deletes: Sequence[int]) -> None: ...

    async def load_silences(self) -> list[Silence]: ...

    async def save_silence(self, silence: Silence) -> None: ...

    async def delete_silences(self, ids: Sequence[str]) -> None: ...

    async def load_nflog(self) -> list[NflogEntry]: ...

    async def save_nflog(self, entry: NflogEntry) -> None: ...

    async def delete_nflog(self, keys: Sequence[tuple[str, str, str, int]]) -> None: ...
