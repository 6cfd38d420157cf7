"""Receivers: a name and its integrations, in the order Alertmanager builds them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    Field,
    model_validator,
)

from ..model.labels import go_quote
from .blocks import Block
from .notifiers import (
    DiscordConfig,
    EmailConfig,
    IncidentioConfig,
    JiraConfig,
    MattermostConfig,
    MSTeamsConfig,
    MSTeamsV2Config,
    NotifierConfig,
    OpsGenieConfig,
    PagerdutyConfig,
    PushoverConfig,
    RocketchatConfig,
    SlackConfig,
    SNSConfig,
    TelegramConfig,
    VictorOpsConfig,
    WebexConfig,
    WebhookConfig,
    WechatConfig,
)

# --------------------------------------------------------------------------------------------
# Receiver


def _nn(kind: str) -> BeforeValidator:
    """A list item that is null: upstream says "missing <kind> config"."""

    def check(value: Any) -> Any:
        if value is None:
            raise ValueError(f"missing {kind} config")
        return value

    return BeforeValidator(check)


class Receiver(Block):
    """A named set of integrations; routes send notifications to receivers by name."""

    name: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    """Labels of the receiver itself; its name label is always the receiver's name."""

    discord_configs: list[Annotated[DiscordConfig, _nn("discord")]] = []
    """Discord webhooks."""
    email_configs: list[Annotated[EmailConfig, _nn("email")]] = []
    """Emails."""
    mattermost_configs: list[Annotated[MattermostConfig, _nn("mattermost")]] = []
    """Mattermost incoming webhooks."""
    msteams_configs: list[Annotated[MSTeamsConfig, _nn("msteams")]] = []
    """Microsoft Teams incoming webhooks (connector cards)."""
    msteamsv2_configs: list[Annotated[MSTeamsV2Config, _nn("msteamsv2")]] = []
    """Microsoft Teams Workflows (adaptive cards)."""
    jira_configs: list[Annotated[JiraConfig, _nn("jira")]] = []
    """Jira issues."""
    opsgenie_configs: list[Annotated[OpsGenieConfig, _nn("opsgenie")]] = []
    """OpsGenie alerts."""
    pagerduty_configs: list[Annotated[PagerdutyConfig, _nn("pagerduty")]] = []
    """PagerDuty events."""
    incidentio_configs: list[Annotated[IncidentioConfig, _nn("incidentio")]] = []
    """incident.io alert sources."""
    pushover_configs: list[Annotated[PushoverConfig, _nn("pushover")]] = []
    """Pushover messages."""
    rocketchat_configs: list[Annotated[RocketchatConfig, _nn("rocketchat")]] = []
    """Rocket.Chat messages."""
    slack_configs: list[Annotated[SlackConfig, _nn("slack")]] = []
    """Slack messages."""
    sns_configs: list[Annotated[SNSConfig, _nn("sns")]] = []
    """Amazon SNS messages."""
    telegram_configs: list[Annotated[TelegramConfig, _nn("telegram")]] = []
    """Telegram messages."""
    victorops_configs: list[Annotated[VictorOpsConfig, _nn("victorops")]] = []
    """VictorOps (Splunk On-Call) incidents."""
    webex_configs: list[Annotated[WebexConfig, _nn("webex")]] = []
    """Webex messages."""
    webhook_configs: list[Annotated[WebhookConfig, _nn("webhook")]] = []
    """Generic webhooks (Alertmanager's JSON payload)."""
    wechat_configs: list[Annotated[WechatConfig, _nn("wechat")]] = []
    """WeChat Work messages."""

    @model_validator(mode="after")
    def _validate(self) -> Receiver:
        if not self.name:
            raise ValueError("missing name in receiver")
        given = self.labels.get("name")
        if given is not None and given != self.name:
            raise ValueError(
                f'receiver label "name" must match receiver name {go_quote(self.name)}, got {go_quote(given)}'
            )
        self.labels["name"] = self.name
        return self

    def integrations(self) -> list[tuple[str, int, NotifierConfig]]:
        """(kind, index, config) for every integration, in the order Alertmanager builds them.

        The kind is Alertmanager's integration name, as used in its metrics and logs.
        """
        out: list[tuple[str, int, NotifierConfig]] = []
        for kind in INTEGRATION_KINDS:
            configs: Sequence[NotifierConfig] = getattr(self, f"{kind}_configs")
            out.extend((kind, i, cfg) for i, cfg in enumerate(configs))
        return out


INTEGRATION_KINDS: tuple[str, ...] = (
    "webhook",
    "email",
    "pagerduty",
    "opsgenie",
    "wechat",
    "slack",
    "victorops",
    "pushover",
    "sns",
    "telegram",
    "discord",
    "webex",
    "msteams",
    "msteamsv2",
    "jira",
    "incidentio",
    "rocketchat",
    "mattermost",
)
"""Integration names in the order of upstream's BuildReceiverIntegrations."""
