"""Every integration ampp can send, by Alertmanager's name for it, and how to build one.

The pipeline builds a receiver's integrations from its config with :func:`build`; the config
check refuses the kinds missing from :data:`KINDS`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Protocol

from ...config.notifiers import NotifierConfig
from ..stage import Integration

if TYPE_CHECKING:
    from ...auth.urlpolicy import UrlPolicy
    from ..templates import Templates

__all__ = ["KINDS", "UNTEMPLATED", "BuiltIntegration", "build"]


class BuiltIntegration(Integration, Protocol):
    """What the pipeline gets: stage.Integration plus ``close`` for the connections it holds."""

    async def close(self) -> None: ...


# Module and class per kind, imported on first use so start-up pays only for what is configured.
_CLASSES: dict[str, tuple[str, str]] = {
    "webhook": ("webhook", "WebhookIntegration"),
    "email": ("email", "EmailIntegration"),
    "pagerduty": ("pagerduty", "PagerDutyIntegration"),
    "opsgenie": ("opsgenie", "OpsGenieIntegration"),
    "wechat": ("wechat", "WechatIntegration"),
    "slack": ("slack", "SlackIntegration"),
    "victorops": ("victorops", "VictorOpsIntegration"),
    "pushover": ("pushover", "PushoverIntegration"),
    "sns": ("sns", "SNSIntegration"),
    "telegram": ("telegram", "TelegramIntegration"),
    "discord": ("discord", "DiscordIntegration"),
    "webex": ("webex", "WebexIntegration"),
    "msteams": ("msteams", "MSTeamsIntegration"),
    "msteamsv2": ("msteams", "MSTeamsV2Integration"),
    "jira": ("jira", "JiraIntegration"),
    "incidentio": ("incidentio", "IncidentioIntegration"),
    "rocketchat": ("rocketchat", "RocketchatIntegration"),
    "mattermost": ("mattermost", "MattermostIntegration"),
}

KINDS: frozenset[str] = frozenset(_CLASSES)
"""Integration kinds (``<kind>_configs``) this version sends: all of Alertmanager's."""

UNTEMPLATED: frozenset[str] = frozenset({"webhook"})
"""Kinds that render no template: a config of only these loads none."""


def build(
    kind: str,
    index: int,
    conf: NotifierConfig,
    receiver: str,
    external_url: str,
    templates: Templates | None,
    outbound: UrlPolicy | None = None,
) -> BuiltIntegration:
    """The integration for one ``<kind>_configs`` entry of a receiver.

    ``templates`` may be None only for the kinds in :data:`UNTEMPLATED`."""
    where = _CLASSES.get(kind)
    if where is None:
        raise ValueError(f"unsupported integration {kind!r}")
    if templates is None and kind not in UNTEMPLATED:
        raise ValueError(f"{kind} integrations need templates")
    module = importlib.import_module(f"{__package__}.{where[0]}")
    cls: type[Any] = getattr(module, where[1])
    built: BuiltIntegration = cls(index, conf, receiver, external_url, templates, outbound=outbound)
    return built
