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
    """Notify when alerts resolve too (the default differs per integration, as in Alertmanager)."""

    _globals_applied: bool = PrivateAttr(default=False)


class HTTPNotifierConfig(NotifierConfig):
    http_config: HTTPConfig | None = None
    """The HTTP client: authentication, TLS, proxy (default: global.http_config)."""


class WebhookConfig(HTTPNotifierConfig):
    """A generic webhook (payload version 4)."""

    send_resolved: bool = True
    url: SecretTemplateURL | None = None
    """The URL alerts are POSTed to, as JSON (version 4); it may be a template."""
    url_file: str = ""
    max_alerts: Annotated[int, Field(ge=0)] = 0
    """The most alerts sent in one request (0: all); the rest are counted in truncatedAlerts."""
    timeout: GoDuration = 0.0
    """The time one request may take (0: no limit of its own)."""
    payload: Any = None
    """Accepted as Alertmanager's parser accepts it; the body sent is always the version 4 payload."""

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
    """Send the notifications of one alert group as one thread (In-Reply-To and References headers)."""
    thread_by_date: str = ""
    """Start a new thread each day (daily) or never (none, the default)."""


class EmailConfig(NotifierConfig):
    """An email through an SMTP smarthost."""

    send_resolved: bool = False
    to: str = ""
    """The recipients (comma-separated addresses); a template."""
    from_: str = Field("", alias="from")
    """The sender's address (default: global.smtp_from)."""
    hello: str = ""
    """The host name sent in HELO/EHLO (default: global.smtp_hello)."""
    smarthost: HostPort = ""
    """The SMTP server, host:port (default: global.smtp_smarthost)."""
    auth_username: str = ""
    """The SMTP user name (default: global.smtp_auth_username)."""
    auth_password: Secret_ | None = None
    """The SMTP password for PLAIN or LOGIN authentication."""
    auth_password_file: str = ""
    auth_secret: Secret_ | None = None
    """The secret for CRAM-MD5 authentication."""
    auth_secret_file: str = ""
    auth_identity: str = ""
    """The identity for PLAIN authentication."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra headers (Subject, To, From, ...), each a template."""
    html: str = '{{ template "email.default.html" . }}'
    """The HTML body; a template."""
    text: str = ""
    """The plain-text body; a template."""
    require_tls: bool | None = None
    """Refuse to send unless STARTTLS is available (default: global.smtp_require_tls)."""
    tls_config: TLSConfig | None = None
    """TLS towards the SMTP server."""
    force_implicit_tls: bool | None = None
    """TLS from the first byte (SMTPS) instead of STARTTLS; default: by port (465)."""
    threading: EmailThreading = Field(default_factory=EmailThreading)
    """Threading of a group's notifications in mail clients."""

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
    """The image's URL; a template."""
    alt: str = ""
    """Its alternative text; a template."""
    href: str = ""
    """Where clicking it leads; a template."""


class PagerdutyLink(Block):
    """A link attached to a PagerDuty event."""

    href: str = ""
    """The link's URL; a template."""
    text: str = ""
    """Its text; a template."""


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
    """The integration key of an Events API v1 integration (one of this and routing_key)."""
    service_key_file: str = ""
    routing_key: Secret_ | None = None
    """The integration key of an Events API v2 integration."""
    routing_key_file: str = ""
    url: URL | None = None
    """The Events API URL (default: global.pagerduty_url)."""
    client: str = '{{ template "pagerduty.default.client" . }}'
    """The client shown in PagerDuty; a template."""
    client_url: str = '{{ template "pagerduty.default.clientURL" . }}'
    """A link to the client; a template."""
    description: str = '{{ template "pagerduty.default.description" .}}'
    """The incident's summary; a template."""
    details: dict[str, Any] = Field(default_factory=dict)
    """Custom details (key to template), shown with the incident."""
    images: list[PagerdutyImage] = Field(default_factory=list)
    """Images attached to the event."""
    links: list[PagerdutyLink] = Field(default_factory=list)
    """Links attached to the event."""
    source: str = ""
    """Where the problem is (v2 payload source; default: the client); a template."""
    severity: str = ""
    """The event's severity: critical, error, warning or info (default: error); a template."""
    class_: str = Field("", alias="class")
    """The class or type of the event; a template."""
    component: str = ""
    """The component of the source that is failing; a template."""
    group: str = ""
    """A logical grouping of components; a template."""
    timeout: GoDuration = 0.0
    """The time one request may take (0: no limit of its own)."""

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
    """The question asked; a template."""
    title: str = ""
    """The dialog's title; a template."""
    ok_text: str = ""
    """The confirm button's label; a template."""
    dismiss_text: str = ""
    """The cancel button's label; a template."""

    @model_validator(mode="after")
    def _validate(self) -> SlackConfirmationField:
        if not self.text:
            raise ValueError("missing text in Slack confirmation configuration")
        return self


class SlackAction(Block):
    """A Slack attachment action: a link button (url) or a message button (name/value)."""

    type: str = ""
    """The action's type: button."""
    text: str = ""
    """The button's label; a template."""
    url: str = ""
    """The URL a link button opens; a template."""
    style: str = ""
    """The button's style: default, primary or danger; a template."""
    name: str = ""
    """The name sent to the app when a message button is clicked; a template."""
    value: str = ""
    """The value sent with it; a template."""
    confirm: SlackConfirmationField | None = None
    """A confirmation dialog shown before the action runs."""

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
    """The field's title; a template."""
    value: str = ""
    """The field's value; a template."""
    short: bool | None = None
    """Show the field beside others (default: short_fields)."""

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
    """The incoming webhook's URL, or chat.postMessage with app_token (default: global.slack_api_url)."""
    api_url_file: str = ""
    app_token: Secret_ | None = None
    """A Slack app's bot token, sent as a bearer token to app_url."""
    app_token_file: str = ""
    app_url: URL | None = None
    """The Web API method called with app_token (default: chat.postMessage)."""
    channel: str = ""
    """The channel or user to post to (#channel, @user or an id); a template."""
    username: str = '{{ template "slack.default.username" . }}'
    """The name the message is posted as; a template."""
    color: str = '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}'
    """The attachment's colour (good, warning, danger or #hex); a template."""
    title: str = '{{ template "slack.default.title" . }}'
    """The attachment's title; a template."""
    title_link: str = '{{ template "slack.default.titlelink" . }}'
    """Where the title links to; a template."""
    pretext: str = '{{ template "slack.default.pretext" . }}'
    """Text above the attachment; a template."""
    text: str = '{{ template "slack.default.text" . }}'
    """The attachment's text; a template."""
    message_text: str = ""
    """The message's own text, outside the attachment; a template."""
    fields: list[SlackField] = Field(default_factory=list)
    """The attachment's fields."""
    short_fields: bool = False
    """Show every field short (beside one another) unless it says otherwise."""
    footer: str = '{{ template "slack.default.footer" . }}'
    """The attachment's footer; a template."""
    fallback: str = '{{ template "slack.default.fallback" . }}'
    """Plain text shown where attachments cannot be; a template."""
    callback_id: str = '{{ template "slack.default.callbackid" . }}'
    """The id sent to the app with button clicks; a template."""
    icon_emoji: str = '{{ template "slack.default.iconemoji" . }}'
    """An emoji as the poster's icon (:name:); a template."""
    icon_url: str = '{{ template "slack.default.iconurl" . }}'
    """An image URL as the poster's icon; a template."""
    image_url: str = ""
    """An image shown in the attachment."""
    thumb_url: str = ""
    """A thumbnail shown beside the attachment."""
    link_names: bool = False
    """Turn @names and #channels in the text into links."""
    mrkdwn_in: list[str] = Field(default_factory=list)
    """The attachment fields (pretext, text, fields) whose text is Slack markdown."""
    actions: list[SlackAction] = Field(default_factory=list)
    """Buttons in the attachment."""
    update_message: bool = False
    """Edit the group's first message (chat.update) instead of posting a new one each time."""
    timeout: GoDuration = 0.0
    """The time one request may take (0: no limit of its own)."""

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
    """The responder's id."""
    name: str = ""
    """The responder's name (a team, schedule or escalation); a template."""
    username: str = ""
    """The responder's user name (a user); a template."""
    type: str = ""
    """team, teams, user, escalation or schedule; a template."""

    def go_string(self) -> str:
        """How Go's %v prints the responder struct in error messages."""
        return "{" + " ".join((self.id, self.name, self.username, self.type)) + "}"


class OpsGenieConfig(HTTPNotifierConfig):
    """OpsGenie alerts API."""

    send_resolved: bool = True
    api_key: Secret_ | None = None
    """The API integration's key (default: global.opsgenie_api_key)."""
    api_key_file: str = ""
    api_url: URL | None = None
    """The OpsGenie API (default: global.opsgenie_api_url)."""
    message: str = '{{ template "opsgenie.default.message" . }}'
    """The alert's message (130 characters at most); a template."""
    description: str = '{{ template "opsgenie.default.description" . }}'
    """The alert's description; a template."""
    source: str = '{{ template "opsgenie.default.source" . }}'
    """The alert's source; a template."""
    details: dict[str, str] = Field(default_factory=dict)
    """Extra properties of the alert (key to template)."""
    entity: str = ""
    """The entity the alert is about; a template."""
    responders: list[OpsGenieResponder] = Field(default_factory=list)
    """Who the alert is assigned to."""
    actions: str = ""
    """Comma-separated custom actions offered on the alert; a template."""
    tags: str = ""
    """Comma-separated tags; a template."""
    note: str = ""
    """A note added to the alert; a template."""
    priority: str = ""
    """P1 to P5; a template."""
    update_alerts: bool = False
    """Update the message and description of an existing alert instead of only adding notes."""

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
    """The application's secret (default: global.wechat_api_secret)."""
    api_secret_file: str = ""
    corp_id: str = ""
    """The corporation id (default: global.wechat_api_corp_id)."""
    message: str = '{{ template "wechat.default.message" . }}'
    """The message; a template."""
    api_url: URL | None = None
    """The WeChat Work API (default: global.wechat_api_url)."""
    to_user: str = '{{ template "wechat.default.to_user" . }}'
    """The users to notify (| separated, @all for everyone); a template."""
    to_party: str = '{{ template "wechat.default.to_party" . }}'
    """The departments to notify; a template."""
    to_tag: str = '{{ template "wechat.default.to_tag" . }}'
    """The tags to notify; a template."""
    agent_id: str = '{{ template "wechat.default.agent_id" . }}'
    """The application's agent id; a template."""
    message_type: str = ""
    """text (the default) or markdown."""

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
    """The recipient's user (or group) key."""
    user_key_file: str = ""
    token: Secret_ | None = None
    """The application's API token."""
    token_file: str = ""
    title: str = '{{ template "pushover.default.title" . }}'
    """The message's title; a template."""
    message: str = '{{ template "pushover.default.message" . }}'
    """The message; a template."""
    url: str = '{{ template "pushover.default.url" . }}'
    """A supplementary URL shown with the message; a template."""
    url_title: str = ""
    """The URL's title; a template."""
    device: str = ""
    """The device to send to (default: all of the user's); a template."""
    sound: str = ""
    """The notification sound; a template."""
    priority: str = '{{ if eq .Status "firing" }}2{{ else }}0{{ end }}'
    """-2 to 2; 2 (emergency) repeats until acknowledged; a template."""
    retry: GoDuration = 60.0
    """How often an emergency (priority 2) message is repeated until acknowledged."""
    expire: GoDuration = 3600.0
    """How long an emergency message keeps being repeated."""
    ttl: GoDuration = 0.0
    """How long the message lives on the device before it is deleted (0: for ever)."""
    html: bool = False
    """The message is HTML."""
    monospace: bool = False
    """Show the message in a monospace font (not with html)."""

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
    """The REST integration's key (default: global.victorops_api_key)."""
    api_key_file: str = ""
    api_url: URL | None = None
    """The REST endpoint (default: global.victorops_api_url)."""
    routing_key: str = ""
    """The routing key, naming the team's escalation policy; a template."""
    message_type: str = "CRITICAL"
    """CRITICAL, WARNING or INFO (RECOVERY when resolved); a template."""
    state_message: str = '{{ template "victorops.default.state_message" . }}'
    """The long description of the incident; a template."""
    entity_display_name: str = '{{ template "victorops.default.entity_display_name" . }}'
    """The incident's summary; a template."""
    monitoring_tool: str = '{{ template "victorops.default.monitoring_tool" . }}'
    """The tool named as the alert's origin; a template."""
    custom_fields: dict[str, str] = Field(default_factory=dict)
    """Extra fields of the incident (key to template)."""

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
    """The AWS region (default: from the environment or profile)."""
    access_key: str = ""
    """The access key id."""
    secret_key: Secret_ | None = None
    """The secret access key."""
    profile: str = ""
    """The named profile of the shared credentials file."""
    role_arn: str = ""
    """A role assumed through STS before signing."""
    external_id: str = ""
    """The external id given to STS when assuming role_arn."""
    use_fips_sts_endpoint: bool = False
    """Assume the role through STS's FIPS endpoint."""
    service_name: str = ""
    """The service the request is signed for (default: sns)."""

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
    """The SNS endpoint (default: the region's)."""
    sigv4: SigV4Config = Field(default_factory=SigV4Config)
    """How requests are signed: region, credentials, role."""
    topic_arn: str = ""
    """The topic to publish to; a template."""
    phone_number: str = ""
    """A phone number to send an SMS to (E.164); a template."""
    target_arn: str = ""
    """A mobile platform endpoint to publish to; a template."""
    subject: str = '{{ template "sns.default.subject" . }}'
    """The subject (for email subscriptions); a template."""
    message: str = '{{ template "sns.default.message" . }}'
    """The message; a template."""
    attributes: dict[str, str] = Field(default_factory=dict)
    """Message attributes (key to value)."""
    use_aws_http_client: bool = False
    """Send with AWS's default HTTP client instead of http_config's."""

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
    """The Bot API (default: global.telegram_api_url)."""
    bot_token: Secret_ | None = None
    """The bot's token (default: global.telegram_bot_token)."""
    bot_token_file: str = ""
    chat_id: _StrictInt = 0
    """The chat to post to."""
    chat_id_file: str = ""
    message_thread_id: _StrictInt = 0
    """The topic of a forum chat to post to."""
    message: str = '{{ template "telegram.default.message" . }}'
    """The message; a template."""
    disable_notifications: bool = False
    """Deliver silently (no sound on the recipients' devices)."""
    parse_mode: str = "HTML"
    """How the message is parsed: HTML (the default), Markdown or MarkdownV2."""

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
    """The messages API (default: global.webex_api_url)."""
    message: str = '{{ template "webex.default.message" . }}'
    """The message, in Markdown; a template."""
    room_id: str = ""
    """The room to post to; a template."""

    @model_validator(mode="after")
    def _validate(self) -> WebexConfig:
        if not self.room_id:
            raise ValueError("missing room_id on webex_config")
        if self.http_config is None or self.http_config.authorization is None:
            raise ValueError("missing webex_configs.http_config.authorization")
        return self


class WebhookURLNotifierConfig(HTTPNotifierConfig):
    webhook_url: SecretURL_ | None = None
    """The incoming webhook's URL."""
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
    """Plain message content above the embed; a template."""
    title: str = '{{ template "discord.default.title" . }}'
    """The embed's title; a template."""
    message: str = '{{ template "discord.default.message" . }}'
    """The embed's description; a template."""
    username: str = ""
    """The name the message is posted as (default: the webhook's)."""
    avatar_url: str = ""
    """The avatar the message is posted with (default: the webhook's)."""

    @model_validator(mode="after")
    def _validate(self) -> DiscordConfig:
        self._check_webhook_url()
        return self


class MSTeamsConfig(WebhookURLNotifierConfig):
    """Microsoft Teams incoming webhook (legacy connector cards)."""

    send_resolved: bool = True
    title: str = '{{ template "msteams.default.title" . }}'
    """The card's title; a template."""
    summary: str = '{{ template "msteams.default.summary" . }}'
    """The card's summary, shown in notifications; a template."""
    text: str = '{{ template "msteams.default.text" . }}'
    """The card's text; a template."""

    @model_validator(mode="after")
    def _validate(self) -> MSTeamsConfig:
        self._check_webhook_url()
        return self


class MSTeamsV2Config(WebhookURLNotifierConfig):
    """Microsoft Teams via Workflows (adaptive cards)."""

    send_resolved: bool = True
    title: str = '{{ template "msteamsv2.default.title" . }}'
    """The adaptive card's title; a template."""
    text: str = '{{ template "msteamsv2.default.text" . }}'
    """The adaptive card's text; a template."""

    @model_validator(mode="after")
    def _validate(self) -> MSTeamsV2Config:
        self._check_webhook_url()
        return self


class JiraFieldConfig(Block):
    """A Jira issue field rendered from a template: a string, or {template, enable_update}."""

    template: str = ""
    """The field's value; a template."""
    enable_update: bool | None = None
    """Rewrite the field of an open issue when the group's alerts change."""

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
    """The Jira REST API (default: global.jira_api_url)."""
    api_type: str = "auto"
    """auto (the default: by host), cloud (API v3) or datacenter (API v2)."""
    project: str = ""
    """The project's key issues are created in; a template."""
    summary: JiraFieldConfig = Field(
        default_factory=lambda: JiraFieldConfig(template=_JIRA_FIELD_DEFAULTS["summary"])
    )
    """The issue's summary."""
    description: JiraFieldConfig = Field(
        default_factory=lambda: JiraFieldConfig(template=_JIRA_FIELD_DEFAULTS["description"])
    )
    """The issue's description."""
    labels: list[str] = Field(default_factory=list)
    """Labels set on the issue; each a template."""
    priority: str = '{{ template "jira.default.priority" . }}'
    """The issue's priority name; a template."""
    issue_type: str = ""
    """The issue type (Bug, Task, ...); a template."""
    reopen_transition: str = ""
    """The transition that reopens a resolved issue when the alerts fire again."""
    resolve_transition: str = ""
    """The transition that resolves the issue when the alerts resolve."""
    wont_fix_resolution: str = ""
    """A resolution whose issues are never reopened."""
    reopen_duration: Duration | None = None
    """How long after resolution an issue is reopened rather than a new one created."""
    fields: dict[str, Any] = Field(default_factory=dict)
    """Other issue fields (customfield_...), their values templates."""

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
    """Show the field beside others (default: short_fields)."""
    title: str = ""
    """The field's title; a template."""
    value: str = ""
    """The field's value; a template."""


class RocketchatAttachmentAction(Block):
    """A Rocket.Chat attachment button.

    Upstream gives these fields no yaml tags, so Go's decoder uses the lowercased Go field
    names (``imageurl``, ``msginchatwindow``): the same keys are accepted here.
    """

    type: str = ""
    """The action's type: button."""
    text: str = ""
    """The button's label; a template."""
    url: str = ""
    """The URL the button opens; a template."""
    imageurl: str = ""
    """An image shown as the button."""
    iswebview: bool = False
    """Open the URL in a web view."""
    webviewheightratio: str = ""
    """The web view's height: compact, tall or full."""
    msg: str = ""
    """The message the button sends; a template."""
    msginchatwindow: bool = False
    """Put msg into the chat window instead of sending it."""
    msgprocessingtype: str = ""
    """How msg is processed: sendMessage or respondWithMessage."""


class RocketchatConfig(HTTPNotifierConfig):
    """Rocket.Chat chat.postMessage with a personal access token."""

    send_resolved: bool = False
    api_url: URL | None = None
    """The Rocket.Chat server (default: global.rocketchat_api_url)."""
    token_id: Secret_ | None = None
    """The user id of the personal access token (default: global.rocketchat_token_id)."""
    token_id_file: str = ""
    token: Secret_ | None = None
    """The personal access token (default: global.rocketchat_token)."""
    token_file: str = ""
    channel: str = ""
    """The channel or user to post to (#channel or @user; default: the token's); a template."""
    color: str = '{{ if eq .Status "firing" }}red{{ else }}green{{ end }}'
    """The attachment's colour; a template."""
    title: str = '{{ template "rocketchat.default.title" . }}'
    """The attachment's title; a template."""
    title_link: str = '{{ template "rocketchat.default.titlelink" . }}'
    """Where the title links to; a template."""
    text: str = '{{ template "rocketchat.default.text" . }}'
    """The attachment's text; a template."""
    fields: list[RocketchatAttachmentField] = Field(default_factory=list)
    """The attachment's fields."""
    short_fields: bool = False
    """Show every field short (beside one another) unless it says otherwise."""
    emoji: str = '{{ template "rocketchat.default.emoji" . }}'
    """An emoji as the poster's avatar; a template."""
    icon_url: str = '{{ template "rocketchat.default.iconurl" . }}'
    """An image URL as the poster's avatar; a template."""
    image_url: str = ""
    """An image shown in the attachment."""
    thumb_url: str = ""
    """A thumbnail shown beside the attachment."""
    link_names: bool = False
    """Turn @names and #channels in the text into links."""
    actions: list[RocketchatAttachmentAction] = Field(default_factory=list)
    """Buttons in the attachment."""

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
    """The field's title; a template."""
    value: str = ""
    """The field's value; a template."""
    short: bool | None = None
    """Show the field beside others."""

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
    """Plain text shown where attachments cannot be; a template."""
    color: str = ""
    """The attachment's colour (#hex, good, warning or danger); a template."""
    pretext: str = ""
    """Text above the attachment; a template."""
    text: str = ""
    """The attachment's text; a template."""
    author_name: str = ""
    """The author shown; a template."""
    author_link: str = ""
    """Where the author's name links to; a template."""
    author_icon: str = ""
    """The author's icon URL; a template."""
    title: str = ""
    """The attachment's title; a template."""
    title_link: str = ""
    """Where the title links to; a template."""
    fields: list[MattermostField] = Field(default_factory=list)
    """The attachment's fields."""
    thumb_url: str = ""
    """A thumbnail shown beside the attachment."""
    footer: str = ""
    """The attachment's footer; a template."""
    footer_icon: str = ""
    """The footer's icon URL."""
    image_url: str = ""
    """An image shown in the attachment."""


class MattermostProps(Block):
    """Extra Markdown shown in Mattermost's side panel."""

    card: str = ""
    """Markdown shown in the side panel when the message's info icon is clicked; a template."""


class MattermostPriority(Block):
    """Message priority and acknowledgement (Mattermost enterprise)."""

    priority: str = ""
    """urgent, important or standard (an unknown one is standard)."""
    requested_ack: bool = False
    """Ask recipients to acknowledge the message."""
    persistent_notifications: bool = False
    """Notify recipients again until they acknowledge (urgent only)."""


class MattermostConfig(WebhookURLNotifierConfig):
    """Mattermost incoming webhook."""

    send_resolved: bool = True
    channel: str = ""
    """The channel to post to (default: the webhook's); a template."""
    username: str = '{{ template "mattermost.default.username" . }}'
    """The name the message is posted as; a template."""
    text: str = '{{ template "mattermost.default.text" . }}'
    """The message; a template."""
    fallback: str = '{{ template "mattermost.default.fallback" . }}'
    """Plain text shown where attachments cannot be; a template."""
    color: str = '{{ template "mattermost.default.color" . }}'
    """The attachment's colour; a template."""
    pretext: str = ""
    """Text above the attachment; a template."""
    author_name: str = ""
    """The author shown; a template."""
    author_link: str = ""
    """Where the author's name links to; a template."""
    author_icon: str = ""
    """The author's icon URL; a template."""
    title: str = '{{ template "mattermost.default.title" . }}'
    """The attachment's title; a template."""
    title_link: str = '{{ template "mattermost.default.titlelink" . }}'
    """Where the title links to; a template."""
    fields: list[MattermostField] = Field(default_factory=list)
    """The attachment's fields."""
    thumb_url: str = ""
    """A thumbnail shown beside the attachment."""
    footer: str = ""
    """The attachment's footer; a template."""
    footer_icon: str = ""
    """The footer's icon URL."""
    image_url: str = ""
    """An image shown in the attachment."""
    icon_url: str = ""
    """An image URL as the poster's icon; a template."""
    icon_emoji: str = ""
    """An emoji as the poster's icon (:name:); a template."""
    attachments: list[MattermostAttachment] = Field(default_factory=list)
    """Further attachments, each with its own fields."""
    type: str = ""
    """The post's type (custom_...); empty for a plain post."""
    props: MattermostProps | None = None
    """Extra properties: the side panel's card."""
    priority: MattermostPriority | None = None
    """The message's priority and acknowledgement."""

    @model_validator(mode="after")
    def _validate(self) -> MattermostConfig:
        # The URL may come from global.mattermost_webhook_url: required only after inheritance.
        self._check_webhook_url(required=False)
        return self


class IncidentioConfig(HTTPNotifierConfig):
    """incident.io alert source."""

    send_resolved: bool = True
    url: URL | None = None
    """The alert source's HTTP URL (one of this and url_file)."""
    url_file: str = ""
    alert_source_token: Secret_ | None = None
    """The alert source's token, sent as a bearer token."""
    alert_source_token_file: str = ""
    max_alerts: Annotated[int, Field(ge=0)] = 0
    """The most alerts sent in one request (0: all)."""
    timeout: GoDuration = 0.0
    """The time one request may take (0: no limit of its own)."""

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
