"""One model per integration (``<kind>_configs``), as Alertmanager's ``<Kind>Config``.

Field names, defaults and the checks of the Go ``UnmarshalYAML`` methods are the same, with
the same error messages, so a file Alertmanager accepts is accepted here and a refused one is
refused with the words users already know.

The models accept the union of the fields of Alertmanager 0.25 and of current upstream (file
variants of every secret, Slack app tokens, the newer integrations). Where a rule changed only
because a newer field appeared (``url`` or ``url_file``), the newer rule and message are used;
the default templates of the integrations 0.25 already had are 0.25's, those of the newer
integrations are upstream's.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeAlias

from pydantic import (
    Field,
    PrivateAttr,
    model_validator,
)

from ..model.labels import go_quote
from .base import URL, Duration
from .blocks import (
    Block,
    GoDuration,
    HostPort,
    Secret_,
    SecretTemplateURL,
    SecretURL_,
    canonical_header_key,
    has_template,
    is_set,
    scalar_to_str,
)
from .httpclient import HTTPConfig, TLSConfig

# --------------------------------------------------------------------------------------------
# Integrations


DEFAULT_SLACK_APP_URL = "https://slack.com/api/chat.postMessage"
"""The Web API method Slack app tokens post to (global slack_app_url's default)."""


class NotifierConfig(Block):
    """What every integration has: ``send_resolved`` (its default differs per kind)."""

    send_resolved: bool = True

    _globals_applied: bool = PrivateAttr(default=False)


class HTTPNotifierConfig(NotifierConfig):
    http_config: HTTPConfig | None = None


class WebhookConfig(HTTPNotifierConfig):
    """A generic webhook (payload version 4)."""

    send_resolved: bool = True
    url: SecretTemplateURL | None = None
    url_file: str = ""
    max_alerts: Annotated[int, Field(ge=0)] = 0
    timeout: GoDuration = 0.0
    payload: Any = None

    @model_validator(mode="after")
    def _validate(self) -> WebhookConfig:
        if not is_set(self.url) and not self.url_file:
            raise ValueError("one of url or url_file must be configured")
        if is_set(self.url) and self.url_file:
            raise ValueError("at most one of url & url_file must be configured")
        return self


class EmailThreading(Block):
    """Email threading: notifications of one group in one thread."""

    enabled: bool = False
    thread_by_date: str = ""


class EmailConfig(NotifierConfig):
    """An email through an SMTP smarthost."""

    send_resolved: bool = False
    to: str = ""
    from_: str = Field("", alias="from")
    hello: str = ""
    smarthost: HostPort = ""
    auth_username: str = ""
    auth_password: Secret_ | None = None
    auth_password_file: str = ""
    auth_secret: Secret_ | None = None
    auth_secret_file: str = ""
    auth_identity: str = ""
    headers: dict[str, str] = Field(default_factory=dict)
    html: str = '{{ template "email.default.html" . }}'
    text: str = ""
    require_tls: bool | None = None
    tls_config: TLSConfig | None = None
    force_implicit_tls: bool | None = None
    threading: EmailThreading = Field(default_factory=EmailThreading)

    @model_validator(mode="after")
    def _validate(self) -> EmailConfig:
        if not self.to:
            raise ValueError("missing to address in email config")
        normalized: dict[str, str] = {}
        for name, value in self.headers.items():
            key = canonical_header_key(name)
            if key in normalized:
                raise ValueError(f"duplicate header {go_quote(key)} in email config")
            normalized[key] = value
        self.headers = normalized
        if self.threading.enabled:
            if "References" in normalized:
                raise ValueError(
                    "conflicting configuration: threading.enabled conflicts with custom References header"
                )
            if "In-Reply-To" in normalized:
                raise ValueError(
                    "conflicting configuration: threading.enabled conflicts with custom In-Reply-To header"
                )
            if self.threading.thread_by_date not in ("none", "daily"):
                raise ValueError("threading.thread_by_date must be either 'none' or 'daily'")
        return self


class PagerdutyImage(Block):
    """An image attached to a PagerDuty event."""

    src: str = ""
    alt: str = ""
    href: str = ""


class PagerdutyLink(Block):
    """A link attached to a PagerDuty event."""

    href: str = ""
    text: str = ""


DEFAULT_PAGERDUTY_DETAILS: dict[str, str] = {
    "firing": '{{ template "pagerduty.default.instances" .Alerts.Firing }}',
    "resolved": '{{ template "pagerduty.default.instances" .Alerts.Resolved }}',
    "num_firing": "{{ .Alerts.Firing | len }}",
    "num_resolved": "{{ .Alerts.Resolved | len }}",
}


class PagerdutyConfig(HTTPNotifierConfig):
    """PagerDuty Events API v2 (routing_key) or v1 (service_key)."""

    send_resolved: bool = True
    service_key: Secret_ | None = None
    service_key_file: str = ""
    routing_key: Secret_ | None = None
    routing_key_file: str = ""
    url: URL | None = None
    client: str = '{{ template "pagerduty.default.client" . }}'
    client_url: str = '{{ template "pagerduty.default.clientURL" . }}'
    description: str = '{{ template "pagerduty.default.description" .}}'
    details: dict[str, Any] = Field(default_factory=dict)
    images: list[PagerdutyImage] = Field(default_factory=list)
    links: list[PagerdutyLink] = Field(default_factory=list)
    source: str = ""
    severity: str = ""
    class_: str = Field("", alias="class")
    component: str = ""
    group: str = ""
    timeout: GoDuration = 0.0

    @model_validator(mode="after")
    def _validate(self) -> PagerdutyConfig:
        if not (
            is_set(self.routing_key)
            or is_set(self.service_key)
            or self.routing_key_file
            or self.service_key_file
        ):
            raise ValueError("missing service or routing key in PagerDuty config")
        if is_set(self.routing_key) and self.routing_key_file:
            raise ValueError("at most one of routing_key & routing_key_file must be configured")
        if is_set(self.service_key) and self.service_key_file:
            raise ValueError("at most one of service_key & service_key_file must be configured")
        if not self.source:
            self.source = self.client
        for key, value in DEFAULT_PAGERDUTY_DETAILS.items():
            self.details.setdefault(key, value)
        return self


class SlackConfirmationField(Block):
    """The confirmation dialog of a Slack button."""

    text: str = ""
    title: str = ""
    ok_text: str = ""
    dismiss_text: str = ""

    @model_validator(mode="after")
    def _validate(self) -> SlackConfirmationField:
        if not self.text:
            raise ValueError("missing text in Slack confirmation configuration")
        return self


class SlackAction(Block):
    """A Slack attachment action: a link button (url) or a message button (name/value)."""

    type: str = ""
    text: str = ""
    url: str = ""
    style: str = ""
    name: str = ""
    value: str = ""
    confirm: SlackConfirmationField | None = None

    @model_validator(mode="after")
    def _validate(self) -> SlackAction:
        if not self.type:
            raise ValueError("missing type in Slack action configuration")
        if not self.text:
            raise ValueError("missing text in Slack action configuration")
        if self.url:
            # A link button: the message-button fields are dropped, as upstream does.
            self.name = ""
            self.value = ""
            self.confirm = None
        elif not self.name:
            raise ValueError("missing name or url in Slack action configuration")
        return self


class SlackField(Block):
    """A Slack attachment field."""

    title: str = ""
    value: str = ""
    short: bool | None = None

    @model_validator(mode="after")
    def _validate(self) -> SlackField:
        if not self.title:
            raise ValueError("missing title in Slack field configuration")
        if not self.value:
            raise ValueError("missing value in Slack field configuration")
        return self


class SlackConfig(HTTPNotifierConfig):
    """Slack, by incoming webhook (api_url) or by app token (chat.postMessage)."""

    send_resolved: bool = False
    api_url: SecretURL_ | None = None
    api_url_file: str = ""
    app_token: Secret_ | None = None
    app_token_file: str = ""
    app_url: URL | None = None
    channel: str = ""
    username: str = '{{ template "slack.default.username" . }}'
    color: str = '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}'
    title: str = '{{ template "slack.default.title" . }}'
    title_link: str = '{{ template "slack.default.titlelink" . }}'
    pretext: str = '{{ template "slack.default.pretext" . }}'
    text: str = '{{ template "slack.default.text" . }}'
    message_text: str = ""
    fields: list[SlackField] = Field(default_factory=list)
    short_fields: bool = False
    footer: str = '{{ template "slack.default.footer" . }}'
    fallback: str = '{{ template "slack.default.fallback" . }}'
    callback_id: str = '{{ template "slack.default.callbackid" . }}'
    icon_emoji: str = '{{ template "slack.default.iconemoji" . }}'
    icon_url: str = '{{ template "slack.default.iconurl" . }}'
    image_url: str = ""
    thumb_url: str = ""
    link_names: bool = False
    mrkdwn_in: list[str] = Field(default_factory=list)
    actions: list[SlackAction] = Field(default_factory=list)
    update_message: bool = False
    timeout: GoDuration = 0.0

    @model_validator(mode="after")
    def _validate(self) -> SlackConfig:
        url = self.api_url is not None or bool(self.api_url_file)
        token = is_set(self.app_token) or bool(self.app_token_file)
        if self.api_url is not None and self.api_url_file:
            raise ValueError("at most one of api_url & api_url_file must be configured")
        if is_set(self.app_token) and self.app_token_file:
            raise ValueError("at most one of app_token & app_token_file must be configured")
        if url and token:
            raise ValueError(
                "at most one of api_url/api_url_file & app_token/app_token_file must be configured"
            )
        if self.update_message and (self.api_url or "") != DEFAULT_SLACK_APP_URL:
            raise ValueError(
                "update_message can only be used with bot tokens. api_url must be set to "
                f"{DEFAULT_SLACK_APP_URL}"
            )
        return self


_OPSGENIE_TYPES_RE = "^(team|teams|user|escalation|schedule)$"


class OpsGenieResponder(Block):
    """An OpsGenie responder: one of id, name or username, and a type."""

    id: str = ""
    name: str = ""
    username: str = ""
    type: str = ""

    def go_string(self) -> str:
        """How Go's %v prints the responder struct in error messages."""
        return "{" + " ".join((self.id, self.name, self.username, self.type)) + "}"


class OpsGenieConfig(HTTPNotifierConfig):
    """OpsGenie alerts API."""

    send_resolved: bool = True
    api_key: Secret_ | None = None
    api_key_file: str = ""
    api_url: URL | None = None
    message: str = '{{ template "opsgenie.default.message" . }}'
    description: str = '{{ template "opsgenie.default.description" . }}'
    source: str = '{{ template "opsgenie.default.source" . }}'
    details: dict[str, str] = Field(default_factory=dict)
    entity: str = ""
    responders: list[OpsGenieResponder] = Field(default_factory=list)
    actions: str = ""
    tags: str = ""
    note: str = ""
    priority: str = ""
    update_alerts: bool = False

    @model_validator(mode="after")
    def _validate(self) -> OpsGenieConfig:
        if is_set(self.api_key) and self.api_key_file:
            raise ValueError("at most one of api_key & api_key_file must be configured")
        for r in self.responders:
            if not (r.id or r.username or r.name):
                raise ValueError(
                    f"opsGenieConfig responder {r.go_string()} has to have at least one of id, "
                    "username or name specified"
                )
            try:
                templated = has_template(r.type)
            except ValueError as e:
                raise ValueError(
                    f"opsGenieConfig responder {r.go_string()} type contains invalid template syntax: {e}"
                ) from None
            # Upstream lowercases a copy of the responder: the check is case-insensitive but
            # the stored type keeps the user's spelling.
            if not templated and not re.match(_OPSGENIE_TYPES_RE, r.type.lower()):
                raise ValueError(
                    f"opsGenieConfig responder {r.go_string()} type does not match valid options "
                    f"{_OPSGENIE_TYPES_RE}"
                )
        return self


_WECHAT_TYPES_RE = "^(text|markdown)$"


class WechatConfig(HTTPNotifierConfig):
    """WeChat Work application messages."""

    send_resolved: bool = False
    api_secret: Secret_ | None = None
    api_secret_file: str = ""
    corp_id: str = ""
    message: str = '{{ template "wechat.default.message" . }}'
    api_url: URL | None = None
    to_user: str = '{{ template "wechat.default.to_user" . }}'
    to_party: str = '{{ template "wechat.default.to_party" . }}'
    to_tag: str = '{{ template "wechat.default.to_tag" . }}'
    agent_id: str = '{{ template "wechat.default.agent_id" . }}'
    message_type: str = ""

    @model_validator(mode="after")
    def _validate(self) -> WechatConfig:
        if not self.message_type:
            self.message_type = "text"
        if not re.match(_WECHAT_TYPES_RE, self.message_type):
            raise ValueError(
                f"weChat message type {go_quote(self.message_type)} does not match valid options "
                f"{_WECHAT_TYPES_RE}"
            )
        if is_set(self.api_secret) and self.api_secret_file:
            raise ValueError("at most one of api_secret & api_secret_file must be configured")
        return self


class PushoverConfig(HTTPNotifierConfig):
    """Pushover messages."""

    send_resolved: bool = True
    user_key: Secret_ | None = None
    user_key_file: str = ""
    token: Secret_ | None = None
    token_file: str = ""
    title: str = '{{ template "pushover.default.title" . }}'
    message: str = '{{ template "pushover.default.message" . }}'
    url: str = '{{ template "pushover.default.url" . }}'
    url_title: str = ""
    device: str = ""
    sound: str = ""
    priority: str = '{{ if eq .Status "firing" }}2{{ else }}0{{ end }}'
    retry: GoDuration = 60.0
    expire: GoDuration = 3600.0
    ttl: GoDuration = 0.0
    html: bool = False
    monospace: bool = False

    @model_validator(mode="after")
    def _validate(self) -> PushoverConfig:
        if not is_set(self.user_key) and not self.user_key_file:
            raise ValueError("one of user_key or user_key_file must be configured")
        if is_set(self.user_key) and self.user_key_file:
            raise ValueError("at most one of user_key & user_key_file must be configured")
        if not is_set(self.token) and not self.token_file:
            raise ValueError("one of token or token_file must be configured")
        if is_set(self.token) and self.token_file:
            raise ValueError("at most one of token & token_file must be configured")
        if self.html and self.monospace:
            raise ValueError("at most one of monospace & html must be configured")
        return self


_VICTOROPS_RESERVED = (
    "routing_key",
    "message_type",
    "state_message",
    "entity_display_name",
    "monitoring_tool",
    "entity_id",
    "entity_state",
)


class VictorOpsConfig(HTTPNotifierConfig):
    """VictorOps (Splunk On-Call) REST endpoint."""

    send_resolved: bool = True
    api_key: Secret_ | None = None
    api_key_file: str = ""
    api_url: URL | None = None
    routing_key: str = ""
    message_type: str = "CRITICAL"
    state_message: str = '{{ template "victorops.default.state_message" . }}'
    entity_display_name: str = '{{ template "victorops.default.entity_display_name" . }}'
    monitoring_tool: str = '{{ template "victorops.default.monitoring_tool" . }}'
    custom_fields: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _validate(self) -> VictorOpsConfig:
        if not self.routing_key:
            raise ValueError("missing Routing key in VictorOps config")
        if is_set(self.api_key) and self.api_key_file:
            raise ValueError("at most one of api_key & api_key_file must be configured")
        for name in _VICTOROPS_RESERVED:
            if name in self.custom_fields:
                raise ValueError(
                    f"victorOps config contains custom field {name} which cannot be used as it "
                    "conflicts "
                    "with the fixed/static fields"
                )
        return self


class SigV4Config(Block):
    """AWS Signature V4 signing for SNS; empty values come from the default credential chain."""

    region: str = ""
    access_key: str = ""
    secret_key: Secret_ | None = None
    profile: str = ""
    role_arn: str = ""
    external_id: str = ""
    use_fips_sts_endpoint: bool = False
    service_name: str = ""

    @model_validator(mode="after")
    def _validate(self) -> SigV4Config:
        if bool(self.access_key) != is_set(self.secret_key):
            raise ValueError(
                "must provide a AWS SigV4 Access key and Secret Key if credentials are specified "
                "in the SigV4 config"
            )
        if self.external_id and not self.role_arn:
            raise ValueError("external_id can only be used with role_arn")
        return self


class SNSConfig(HTTPNotifierConfig):
    """Amazon SNS: a topic, a target (mobile endpoint) or a phone number."""

    send_resolved: bool = True
    api_url: str = ""
    sigv4: SigV4Config = Field(default_factory=SigV4Config)
    topic_arn: str = ""
    phone_number: str = ""
    target_arn: str = ""
    subject: str = '{{ template "sns.default.subject" . }}'
    message: str = '{{ template "sns.default.message" . }}'
    attributes: dict[str, str] = Field(default_factory=dict)
    use_aws_http_client: bool = False

    @model_validator(mode="after")
    def _validate(self) -> SNSConfig:
        # Upstream's chained comparison, kept as is: it also accepts all three set.
        if ((self.target_arn == "") != (self.topic_arn == "")) != (self.phone_number == ""):
            raise ValueError("must provide either a Target ARN, Topic ARN, or Phone Number for SNS config")
        return self


_StrictInt = Annotated[int, Field(strict=True)]


class TelegramConfig(HTTPNotifierConfig):
    """Telegram Bot API messages."""

    send_resolved: bool = True
    api_url: URL | None = None
    bot_token: Secret_ | None = None
    bot_token_file: str = ""
    chat_id: _StrictInt = 0
    chat_id_file: str = ""
    message_thread_id: _StrictInt = 0
    message: str = '{{ template "telegram.default.message" . }}'
    disable_notifications: bool = False
    parse_mode: str = "HTML"

    @model_validator(mode="after")
    def _validate(self) -> TelegramConfig:
        if is_set(self.bot_token) and self.bot_token_file:
            raise ValueError("at most one of bot_token & bot_token_file must be configured")
        if self.chat_id == 0 and not self.chat_id_file:
            raise ValueError("missing chat_id or chat_id_file on telegram_config")
        if self.chat_id != 0 and self.chat_id_file:
            raise ValueError("at most one of chat_id & chat_id_file must be configured")
        if self.parse_mode not in ("", "Markdown", "MarkdownV2", "HTML"):
            raise ValueError(
                "unknown parse_mode on telegram_config, must be Markdown, MarkdownV2, HTML or empty string"
            )
        return self


class WebexConfig(HTTPNotifierConfig):
    """Webex Teams messages; the bot token is the http_config authorization."""

    send_resolved: bool = True
    api_url: URL | None = None
    message: str = '{{ template "webex.default.message" . }}'
    room_id: str = ""

    @model_validator(mode="after")
    def _validate(self) -> WebexConfig:
        if not self.room_id:
            raise ValueError("missing room_id on webex_config")
        if self.http_config is None or self.http_config.authorization is None:
            raise ValueError("missing webex_configs.http_config.authorization")
        return self


class WebhookURLNotifierConfig(HTTPNotifierConfig):
    webhook_url: SecretURL_ | None = None
    webhook_url_file: str = ""

    def _check_webhook_url(self, required: bool = True) -> None:
        if required and self.webhook_url is None and not self.webhook_url_file:
            raise ValueError("one of webhook_url or webhook_url_file must be configured")
        if self.webhook_url is not None and self.webhook_url_file:
            raise ValueError("at most one of webhook_url & webhook_url_file must be configured")


class DiscordConfig(WebhookURLNotifierConfig):
    """Discord webhook messages."""

    send_resolved: bool = True
    content: str = ""
    title: str = '{{ template "discord.default.title" . }}'
    message: str = '{{ template "discord.default.message" . }}'
    username: str = ""
    avatar_url: str = ""

    @model_validator(mode="after")
    def _validate(self) -> DiscordConfig:
        self._check_webhook_url()
        return self


class MSTeamsConfig(WebhookURLNotifierConfig):
    """Microsoft Teams incoming webhook (legacy connector cards)."""

    send_resolved: bool = True
    title: str = '{{ template "msteams.default.title" . }}'
    summary: str = '{{ template "msteams.default.summary" . }}'
    text: str = '{{ template "msteams.default.text" . }}'

    @model_validator(mode="after")
    def _validate(self) -> MSTeamsConfig:
        self._check_webhook_url()
        return self


class MSTeamsV2Config(WebhookURLNotifierConfig):
    """Microsoft Teams via Workflows (adaptive cards)."""

    send_resolved: bool = True
    title: str = '{{ template "msteamsv2.default.title" . }}'
    text: str = '{{ template "msteamsv2.default.text" . }}'

    @model_validator(mode="after")
    def _validate(self) -> MSTeamsV2Config:
        self._check_webhook_url()
        return self


class JiraFieldConfig(Block):
    """A Jira issue field rendered from a template: a string, or {template, enable_update}."""

    template: str = ""
    enable_update: bool | None = None

    @property
    def enable_update_value(self) -> bool:
        """Updating is on unless explicitly disabled."""
        return True if self.enable_update is None else self.enable_update


_JIRA_FIELD_DEFAULTS = {
    "summary": '{{ template "jira.default.summary" . }}',
    "description": '{{ template "jira.default.description" . }}',
}


class JiraConfig(HTTPNotifierConfig):
    """Jira issues, created, updated, resolved and reopened."""

    send_resolved: bool = True
    api_url: URL | None = None
    api_type: str = "auto"
    project: str = ""
    summary: JiraFieldConfig = Field(
        default_factory=lambda: JiraFieldConfig(template=_JIRA_FIELD_DEFAULTS["summary"])
    )
    description: JiraFieldConfig = Field(
        default_factory=lambda: JiraFieldConfig(template=_JIRA_FIELD_DEFAULTS["description"])
    )
    labels: list[str] = Field(default_factory=list)
    priority: str = '{{ template "jira.default.priority" . }}'
    issue_type: str = ""
    reopen_transition: str = ""
    resolve_transition: str = ""
    wont_fix_resolution: str = ""
    reopen_duration: Duration | None = None
    fields: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _field_configs(cls, data: Any) -> Any:
        """A string is the template; a mapping keeps the default template unless it sets one."""
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for key, default in _JIRA_FIELD_DEFAULTS.items():
            if key not in out:
                continue
            value = scalar_to_str(out[key])
            if value is None:
                out[key] = {}
            elif isinstance(value, str):
                out[key] = {"template": value}
            elif isinstance(value, dict) and "template" not in value:
                out[key] = {"template": default, **value}
        return out

    @model_validator(mode="after")
    def _validate(self) -> JiraConfig:
        if not self.project:
            raise ValueError("missing project in jira_config")
        if not self.issue_type:
            raise ValueError("missing issue_type in jira_config")
        if self.api_type not in ("auto", "cloud", "datacenter"):
            raise ValueError("unknown api_type on jira_config, must be auto, cloud or datacenter")
        return self


class RocketchatAttachmentField(Block):
    """A Rocket.Chat attachment field."""

    short: bool | None = None
    title: str = ""
    value: str = ""


class RocketchatAttachmentAction(Block):
    """A Rocket.Chat attachment button.

    Upstream gives these fields no yaml tags, so Go's decoder uses the lowercased Go field
    names (``imageurl``, ``msginchatwindow``): the same keys are accepted here.
    """

    type: str = ""
    text: str = ""
    url: str = ""
    imageurl: str = ""
    iswebview: bool = False
    webviewheightratio: str = ""
    msg: str = ""
    msginchatwindow: bool = False
    msgprocessingtype: str = ""


class RocketchatConfig(HTTPNotifierConfig):
    """Rocket.Chat chat.postMessage with a personal access token."""

    send_resolved: bool = False
    api_url: URL | None = None
    token_id: Secret_ | None = None
    token_id_file: str = ""
    token: Secret_ | None = None
    token_file: str = ""
    channel: str = ""
    color: str = '{{ if eq .Status "firing" }}red{{ else }}green{{ end }}'
    title: str = '{{ template "rocketchat.default.title" . }}'
    title_link: str = '{{ template "rocketchat.default.titlelink" . }}'
    text: str = '{{ template "rocketchat.default.text" . }}'
    fields: list[RocketchatAttachmentField] = Field(default_factory=list)
    short_fields: bool = False
    emoji: str = '{{ template "rocketchat.default.emoji" . }}'
    icon_url: str = '{{ template "rocketchat.default.iconurl" . }}'
    image_url: str = ""
    thumb_url: str = ""
    link_names: bool = False
    actions: list[RocketchatAttachmentAction] = Field(default_factory=list)

    @model_validator(mode="after")
    def _validate(self) -> RocketchatConfig:
        # Upstream holds these as pointers: present (even empty) counts as set.
        if self.token is not None and self.token_file:
            raise ValueError("at most one of token & token_file must be configured")
        if self.token_id is not None and self.token_id_file:
            raise ValueError("at most one of token_id & token_id_file must be configured")
        return self


class MattermostField(Block):
    """A Mattermost attachment field."""

    title: str = ""
    value: str = ""
    short: bool | None = None

    @model_validator(mode="after")
    def _validate(self) -> MattermostField:
        if not self.title:
            raise ValueError("missing title in Mattermost field configuration")
        if not self.value:
            raise ValueError("missing value in Mattermost field configuration")
        return self


class MattermostAttachment(Block):
    """A Mattermost message attachment (deprecated upstream in favour of top-level fields)."""

    fallback: str = ""
    color: str = ""
    pretext: str = ""
    text: str = ""
    author_name: str = ""
    author_link: str = ""
    author_icon: str = ""
    title: str = ""
    title_link: str = ""
    fields: list[MattermostField] = Field(default_factory=list)
    thumb_url: str = ""
    footer: str = ""
    footer_icon: str = ""
    image_url: str = ""


class MattermostProps(Block):
    """Extra Markdown shown in Mattermost's side panel."""

    card: str = ""


class MattermostPriority(Block):
    """Message priority and acknowledgement (Mattermost enterprise)."""

    priority: str = ""
    requested_ack: bool = False
    persistent_notifications: bool = False


class MattermostConfig(WebhookURLNotifierConfig):
    """Mattermost incoming webhook."""

    send_resolved: bool = True
    channel: str = ""
    username: str = '{{ template "mattermost.default.username" . }}'
    text: str = '{{ template "mattermost.default.text" . }}'
    fallback: str = '{{ template "mattermost.default.fallback" . }}'
    color: str = '{{ template "mattermost.default.color" . }}'
    pretext: str = ""
    author_name: str = ""
    author_link: str = ""
    author_icon: str = ""
    title: str = '{{ template "mattermost.default.title" . }}'
    title_link: str = '{{ template "mattermost.default.titlelink" . }}'
    fields: list[MattermostField] = Field(default_factory=list)
    thumb_url: str = ""
    footer: str = ""
    footer_icon: str = ""
    image_url: str = ""
    icon_url: str = ""
    icon_emoji: str = ""
    attachments: list[MattermostAttachment] = Field(default_factory=list)
    type: str = ""
    props: MattermostProps | None = None
    priority: MattermostPriority | None = None

    @model_validator(mode="after")
    def _validate(self) -> MattermostConfig:
        # The URL may come from global.mattermost_webhook_url: required only after inheritance.
        self._check_webhook_url(required=False)
        return self


class IncidentioConfig(HTTPNotifierConfig):
    """incident.io alert source."""

    send_resolved: bool = True
    url: URL | None = None
    url_file: str = ""
    alert_source_token: Secret_ | None = None
    alert_source_token_file: str = ""
    max_alerts: Annotated[int, Field(ge=0)] = 0
    timeout: GoDuration = 0.0

    @model_validator(mode="after")
    def _validate(self) -> IncidentioConfig:
        token = is_set(self.alert_source_token) or bool(self.alert_source_token_file)
        if self.url is None and not self.url_file:
            raise ValueError("one of url or url_file must be configured")
        if self.url is not None and self.url_file:
            raise ValueError("at most one of url & url_file must be configured")
        if is_set(self.alert_source_token) and self.alert_source_token_file:
            raise ValueError("at most one of alert_source_token & alert_source_token_file must be configured")
        if self.http_config is not None and self.http_config.authorization is not None and token:
            raise ValueError(
                "cannot specify alert_source_token or alert_source_token_file when using "
                "http_config.authorization"
            )
        if self.http_config is not None and self.http_config.authorization is None and not token:
            raise ValueError(
                "at least one of alert_source_token, alert_source_token_file or "
                "http_config.authorization must be configured"
            )
        return self


IntegrationConfig: TypeAlias = (
    WebhookConfig
    | EmailConfig
    | PagerdutyConfig
    | OpsGenieConfig
    | WechatConfig
    | SlackConfig
    | VictorOpsConfig
    | PushoverConfig
    | SNSConfig
    | TelegramConfig
    | DiscordConfig
    | WebexConfig
    | MSTeamsConfig
    | MSTeamsV2Config
    | JiraConfig
    | IncidentioConfig
    | RocketchatConfig
    | MattermostConfig
)
"""Any integration config."""
