"""What a replica needs to join the cluster: its name, its address, the timing."""

from __future__ import annotations

from dataclasses import dataclass, field

from .ownership import Timing


@dataclass(frozen=True, slots=True)
class ClusterSettings:
    name: str
    """This replica: stable across its restarts, unique among those sharing the database."""
    address: str
    """What the status API shows as its address (--cluster.advertise-address or listen-address)."""
    timing: Timing = field(default_factory=Timing)
    forget_after: float = 6 * 3600
    """A replica not heard of for this long is no longer listed (--cluster.reconnect-timeout)."""
