"""The pipeline's first stage in a cluster: only the group's owner goes on.

Alertmanager's peers all flush every group, the n-th one after waiting n x peer-timeout, and
rely on the gossiped notification log to skip what the first one sent (duplicates when the
gossip is late). Here the other replicas defer (ampp.dispatch.FlushDeferred): the group keeps
its alerts, in case the owner dies and this replica takes the group over.
"""

from __future__ import annotations

from typing import Protocol

from ..dispatch.dispatcher import FlushDeferred
from ..model.alert import Alert
from ..notify.stage import FlushContext, Stage


class Ownership(Protocol):
    def owns(self, group_key: str) -> bool: ...

    def keep_resolved(self) -> float: ...


class OwnerStage:
    def __init__(self, ownership: Ownership, inner: Stage) -> None:
        self.ownership = ownership
        self.inner = inner

    async def exec(self, ctx: FlushContext, alerts: list[Alert]) -> tuple[FlushContext, list[Alert]]:
        if not self.ownership.owns(ctx.group_key):
            raise FlushDeferred(self.ownership.keep_resolved())
        return await self.inner.exec(ctx, alerts)
