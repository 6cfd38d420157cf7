"""Replicas sharing one PostgreSQL database form a cluster: membership by heartbeat rows,
each aggregation group flushed by one live replica (rendezvous hashing), the others' alerts,
silences and reloads taken through LISTEN/NOTIFY. docs/design/replicas.md has the why.

The package imports no database driver: ``cluster.node`` (the running part) is imported by
the engine only when its storage is PostgreSQL.
"""

from __future__ import annotations

from .ownership import Timing
from .settings import ClusterSettings
from .stage import OwnerStage

__all__ = ["ClusterSettings", "OwnerStage", "Timing"]
