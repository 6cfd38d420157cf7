"""The notification pipeline's contract: a stage takes alerts and returns the ones to go on.

As in Alertmanager's notify.go: ``MultiStage`` runs stages in order and stops when no alert is
left, ``FanoutStage`` runs stages concurrently, ``RoutingStage`` picks a stage by receiver.
Everything a stage needs about the flush travels in ``FlushContext``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from ..model.alert import Alert


@dataclass(frozen=True, slots=True)
class FlushContext:
    group_key: str
    group_labels: dict[str, str]
    receiver: str
    repeat_interval: float
    now: int
    """The wall-clock instant of the flush (nanoseconds): the one time reference of the run."""
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()
    firing: tuple[int, ...] = ()
    resolved: tuple[int, ...] = ()
    enrichment: Mapping[int, Mapping[str, Any] | None] | None = None
    """The AI enrichment of each alert by fingerprint, as JSON (None for one that has none);
    None for the whole flush while enrichment is off, so the payloads stay Alertmanager's."""
    extra: dict[str, object] = field(default_factory=dict)

    def with_(self, **changes: object) -> FlushContext:
        return replace(self, **changes)  # type: ignore[arg-type]


class NotifyError(Exception):
    """A notification failed; ``retry`` says whether trying again can help."""

    def __init__(self, message: str, retry: bool = True, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry = retry
        self.retry_after = retry_after
        """Seconds the vendor asked us to wait (HTTP 429 Retry-After), if it said."""


class Integration(Protocol):
    """One configured notifier of a receiver (e.g. its second webhook_config)."""

    name: str
    index: int

    @property
    def send_resolved(self) -> bool: ...

    async def notify(self, ctx: FlushContext, alerts: Sequence[Alert]) -> None: ...


class Stage(Protocol):
    async def exec(self, ctx: FlushContext, alerts: list[Alert]) -> tuple[FlushContext, list[Alert]]: ...


class MultiStage:
    def __init__(self, *stages: Stage) -> None:
        self.stages = list(stages)

    async def exec(self, ctx: FlushContext, alerts: list[Alert]) -> tuple[FlushContext, list[Alert]]:
        for stage in self.stages:
            if not alerts:
                return ctx, []
            ctx, alerts = await stage.exec(ctx, alerts)
        return ctx, alerts


class FanoutStage:
    """Runs every stage on the same alerts at once; fails if any failed, after all finished."""

    def __init__(self, *stages: Stage) -> None:
        self.stages = list(stages)

    async def exec(self, ctx: FlushContext, alerts: list[Alert]) -> tuple[FlushContext, list[Alert]]:
        if len(self.stages) == 1:  # a receiver of one integration, the common case: no task to start
            try:
                await self.stages[0].exec(ctx, list(alerts))
            except asyncio.CancelledError:
                raise
            except Exception as error:
                raise NotifyError(str(error)) from error
            return ctx, alerts
        results = await asyncio.gather(
            *(s.exec(ctx, list(alerts)) for s in self.stages), return_exceptions=True
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        for e in errors:
            if isinstance(e, asyncio.CancelledError):
                raise e
        if errors:
            raise NotifyError("; ".join(str(e) for e in errors))
        return ctx, alerts


class RoutingStage:
    def __init__(self, stages: dict[str, Stage]) -> None:
        self.stages = stages

    async def exec(self, ctx: FlushContext, alerts: list[Alert]) -> tuple[FlushContext, list[Alert]]:
        stage = self.stages.get(ctx.receiver)
        if stage is None:
            raise NotifyError(f"stage for receiver missing: {ctx.receiver}", retry=False)
        return await stage.exec(ctx, alerts)
