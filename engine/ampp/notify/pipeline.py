"""Assembles the notification pipeline from the config, one receiver stage per receiver.

Per receiver, as Alertmanager's PipelineBuilder: inhibition, active and mute time intervals,
silences, then a fan-out over the receiver's integrations, each of which deduplicates against
the notification log, sends with retries, and records what it sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..config.errors import ConfigIssue
from ..config.loader import Config
from ..config.timeinterval import TimeIntervalSpec
from ..metrics import Metrics
from .integrations.webhook import WebhookIntegration
from .nflog import NotificationLog
from .stage import FanoutStage, MultiStage, RoutingStage, Stage
from .stages import (
    DedupStage,
    Integration,
    Muter,
    MuteStage,
    RetryStage,
    SetNotifiesStage,
    TimeActiveStage,
    TimeMuteStage,
)

SUPPORTED = {"webhook"}


def unsupported_integrations(cfg: Config) -> list[ConfigIssue]:
    """Integrations this engine cannot send yet: the config is refused, naming each."""
    issues = []
    for i, receiver in enumerate(cfg.alerting.receivers):
        for kind, idx, _ in receiver.integrations():
            if kind not in SUPPORTED:
                issues.append(
                    ConfigIssue(
                        cfg.source,
                        ("receivers", i, f"{kind}_configs", idx),
                        f"receiver {receiver.name!r} uses {kind}_configs, which this version of "
                        f"ampp does not send yet (supported: {', '.join(sorted(SUPPORTED))})",
                    )
                )
    return issues


def build_integrations(cfg: Config, external_url: str) -> dict[str, list[Integration]]:
    out: dict[str, list[Integration]] = {}
    for receiver in cfg.alerting.receivers:
        items: list[Integration] = []
        for kind, idx, conf in receiver.integrations():
            if kind == "webhook":
                items.append(WebhookIntegration(idx, conf, receiver.name, external_url))
        out[receiver.name] = items
    return out


def build_pipeline(
    integrations: Mapping[str, list[Integration]],
    inhibitor: Muter,
    silencer: Muter,
    intervals: Mapping[str, list[TimeIntervalSpec]],
    nflog: NotificationLog,
    metrics: Metrics,
) -> RoutingStage:
    stages: dict[str, Stage] = {}
    for name, items in integrations.items():
        fanout = FanoutStage(
            *[
                MultiStage(
                    DedupStage(i, nflog, name),
                    RetryStage(i, name, metrics),
                    SetNotifiesStage(i, nflog, name),
                )
                for i in items
            ]
        )
        stages[name] = MultiStage(
            MuteStage(inhibitor),
            TimeActiveStage(intervals),
            TimeMuteStage(intervals),
            MuteStage(silencer),
            fanout,
        )
    return RoutingStage(stages)


async def close_integrations(integrations: Mapping[str, list[Any]]) -> None:
    for items in integrations.values():
        for i in items:
            close = getattr(i, "close", None)
            if close is not None:
                await close()
