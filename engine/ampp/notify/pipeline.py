"""Assembles the notification pipeline from the config, one receiver stage per receiver.

Per receiver, as Alertmanager's PipelineBuilder: inhibition, active and mute time intervals,
silences, then (ampp++) the AI enrichment given by the engine (ampp.enrich.stage: it passes the
alerts on within ``ai.timeout``) when an integration will send the flush, then a fan-out over
the receiver's integrations, each of which deduplicates against the notification log and queues
the notification in the durable delivery queue, whose workers send it with retries and record
what they sent (ampp.notify.queue).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ..auth.urlpolicy import UrlPolicy
from ..config.errors import ConfigError, ConfigIssue
from ..config.loader import Config
from ..config.settings import NotifySettings
from ..config.timeinterval import TimeIntervalSpec
from .attempt import Attempts
from .integrations import registry
from .nflog import NotificationLog
from .stage import FanoutStage, Integration, MultiStage, RoutingStage, Stage
from .stages import (
    DedupStage,
    Enqueuer,
    EnqueueStage,
    Muter,
    MuteStage,
    RetryStage,
    SetNotifiesStage,
    TimeActiveStage,
    TimeMuteStage,
    WhenNeededStage,
)

if TYPE_CHECKING:  # templates are imported when a config needs them, not at start-up
    from .templates import Templates

SUPPORTED = frozenset(registry.KINDS)


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


def load_templates(cfg: Config) -> Templates:
    """The default templates plus the config's files; errors become config errors."""
    from .templates import TemplateError, Templates

    try:
        return Templates.load(cfg.template_files)
    except TemplateError as e:
        raise ConfigError([ConfigIssue(cfg.source, ("templates",), str(e))]) from None


def build_integrations(
    cfg: Config, external_url: str, templates: Templates | None = None
) -> dict[str, list[registry.BuiltIntegration]]:
    kinds = {kind for r in cfg.alerting.receivers for kind, _, _ in r.integrations()}
    if templates is None and (kinds - registry.UNTEMPLATED or cfg.template_files):
        templates = load_templates(cfg)
    outbound = UrlPolicy.of(cfg.security.outbound)
    out: dict[str, list[registry.BuiltIntegration]] = {}
    for receiver in cfg.alerting.receivers:
        out[receiver.name] = [
            registry.build(kind, idx, conf, receiver.name, external_url, templates, outbound)
            for kind, idx, conf in receiver.integrations()
        ]
    return out


def build_pipeline(
    integrations: Mapping[str, Sequence[Integration]],
    inhibitor: Muter,
    silencer: Muter,
    intervals: Mapping[str, list[TimeIntervalSpec]],
    nflog: NotificationLog,
    attempts: Attempts,
    settings: NotifySettings,
    queue: Enqueuer | None = None,
    fallback: bool = True,
    enrich: Stage | None = None,
) -> RoutingStage:
    """With a ``queue``, each integration's flush is queued durably (EnqueueStage, with the
    inline stages as its ``fallback`` while storage is down); without one it is sent inline.
    Both send through ``attempts`` with the same ``settings``. Replicas in a cluster have no
    fallback: what one sends without the shared log, another would send again. ``enrich`` runs
    once per flush after the muting stages, before the fan-out."""
    stages: dict[str, Stage] = {}
    for name, items in integrations.items():
        sends: list[Stage] = []
        dedups = []
        for i in items:
            retry = RetryStage(i, name, attempts, settings)
            inline = MultiStage(retry, SetNotifiesStage(i, nflog, name))
            send = inline if queue is None else EnqueueStage(i, name, queue, inline if fallback else None)
            dedups.append(DedupStage(i, nflog, name))
            sends.append(MultiStage(dedups[-1], send))
        stages[name] = MultiStage(
            MuteStage(inhibitor),
            TimeActiveStage(intervals),
            TimeMuteStage(intervals),
            MuteStage(silencer),
            *([WhenNeededStage(enrich, dedups)] if enrich and dedups else []),
            FanoutStage(*sends),
        )
    return RoutingStage(stages)


async def close_integrations(integrations: Mapping[str, Sequence[registry.BuiltIntegration]]) -> None:
    for items in integrations.values():
        for i in items:
            await i.close()
