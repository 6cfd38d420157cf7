"""Receivers, integrations and the global block: upstream's defaults, checks and messages."""
# ruff: noqa: E501 - the tables of cases keep one case per line

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from ampp.config.base import Secret
from ampp.config.blocks import canonical_header_key
from ampp.config.globals import GlobalConfig, apply_global_defaults
from ampp.config.httpclient import HTTPConfig, TLSConfig
from ampp.config.notifiers import (
    EmailConfig,
    JiraConfig,
    OpsGenieConfig,
    PagerdutyConfig,
    PushoverConfig,
    SlackConfig,
    WebhookConfig,
    WechatConfig,
)
from ampp.config.receivers import INTEGRATION_KINDS, Receiver
from ampp.model.timefmt import NS, format_go_duration, parse_go_duration
from pydantic import ValidationError

from tests.support.prereq import REFERENCE

pytestmark = pytest.mark.unit


def receiver(**configs: Any) -> Receiver:
    return Receiver.model_validate({"name": "r", **configs})


def errors_of(model: type[Any], data: Any) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return [
        (tuple(e["loc"]), str(e["msg"]).removeprefix("Value error, "))
        for e in info.value.errors(include_url=False)
    ]


def message_of(model: type[Any], data: Any) -> str:
    errs = errors_of(model, data)
    assert len(errs) == 1, errs
    return errs[0][1]


# ---------------------------------------------------------------------------------------------
# Minimal blocks and upstream's defaults

AUTH = {"authorization": {"credentials": "tok"}}

MINIMAL: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "webhook": (
        {"url": "http://example.com/hook"},
        {"send_resolved": True, "max_alerts": 0, "timeout": 0.0, "url_file": ""},
    ),
    "email": (
        {"to": "ops@example.com"},
        {"send_resolved": False, "html": '{{ template "email.default.html" . }}', "text": ""},
    ),
    "pagerduty": (
        {"routing_key": "rk"},
        {
            "send_resolved": True,
            "description": '{{ template "pagerduty.default.description" .}}',
            "client": '{{ template "pagerduty.default.client" . }}',
            "client_url": '{{ template "pagerduty.default.clientURL" . }}',
            "source": '{{ template "pagerduty.default.client" . }}',
            "details": {
                "firing": '{{ template "pagerduty.default.instances" .Alerts.Firing }}',
                "resolved": '{{ template "pagerduty.default.instances" .Alerts.Resolved }}',
                "num_firing": "{{ .Alerts.Firing | len }}",
                "num_resolved": "{{ .Alerts.Resolved | len }}",
            },
        },
    ),
    "slack": (
        {"api_url": "https://hooks.slack.com/services/x"},
        {
            "send_resolved": False,
            "color": '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}',
            "username": '{{ template "slack.default.username" . }}',
            "title": '{{ template "slack.default.title" . }}',
            "title_link": '{{ template "slack.default.titlelink" . }}',
            "icon_emoji": '{{ template "slack.default.iconemoji" . }}',
            "icon_url": '{{ template "slack.default.iconurl" . }}',
            "pretext": '{{ template "slack.default.pretext" . }}',
            "text": '{{ template "slack.default.text" . }}',
            "fallback": '{{ template "slack.default.fallback" . }}',
            "callback_id": '{{ template "slack.default.callbackid" . }}',
            "footer": '{{ template "slack.default.footer" . }}',
            "short_fields": False,
            "link_names": False,
        },
    ),
    "opsgenie": (
        {"api_key": "k"},
        {
            "send_resolved": True,
            "message": '{{ template "opsgenie.default.message" . }}',
            "description": '{{ template "opsgenie.default.description" . }}',
            "source": '{{ template "opsgenie.default.source" . }}',
            "update_alerts": False,
        },
    ),
    "wechat": (
        {"api_secret": "s", "corp_id": "c"},
        {
            "send_resolved": False,
            "message": '{{ template "wechat.default.message" . }}',
            "to_user": '{{ template "wechat.default.to_user" . }}',
            "to_party": '{{ template "wechat.default.to_party" . }}',
            "to_tag": '{{ template "wechat.default.to_tag" . }}',
            "agent_id": '{{ template "wechat.default.agent_id" . }}',
            "message_type": "text",
        },
    ),
    "pushover": (
        {"user_key": "u", "token": "t"},
        {
            "send_resolved": True,
            "title": '{{ template "pushover.default.title" . }}',
            "message": '{{ template "pushover.default.message" . }}',
            "url": '{{ template "pushover.default.url" . }}',
            "priority": '{{ if eq .Status "firing" }}2{{ else }}0{{ end }}',
            "retry": 60.0,
            "expire": 3600.0,
            "html": False,
        },
    ),
    "victorops": (
        {"routing_key": "team", "api_key": "k"},
        {
            "send_resolved": True,
            "message_type": "CRITICAL",
            "state_message": '{{ template "victorops.default.state_message" . }}',
            "entity_display_name": '{{ template "victorops.default.entity_display_name" . }}',
            "monitoring_tool": '{{ template "victorops.default.monitoring_tool" . }}',
        },
    ),
    "sns": (
        {"topic_arn": "arn:aws:sns:us-east-2:1:t"},
        {
            "send_resolved": True,
            "subject": '{{ template "sns.default.subject" . }}',
            "message": '{{ template "sns.default.message" . }}',
        },
    ),
    "telegram": (
        {"bot_token": "t", "chat_id": -1001},
        {
            "send_resolved": True,
            "message": '{{ template "telegram.default.message" . }}',
            "parse_mode": "HTML",
            "disable_notifications": False,
        },
    ),
    "webex": (
        {"room_id": "room", "http_config": AUTH},
        {"send_resolved": True, "message": '{{ template "webex.default.message" . }}'},
    ),
    "discord": (
        {"webhook_url": "https://discord.com/api/webhooks/x"},
        {
            "send_resolved": True,
            "title": '{{ template "discord.default.title" . }}',
            "message": '{{ template "discord.default.message" . }}',
        },
    ),
    "msteams": (
        {"webhook_url": "https://example.webhook.office.com/x"},
        {
            "send_resolved": True,
            "title": '{{ template "msteams.default.title" . }}',
            "summary": '{{ template "msteams.default.summary" . }}',
            "text": '{{ template "msteams.default.text" . }}',
        },
    ),
    "msteamsv2": (
        {"webhook_url": "https://prod.logic.azure.com/x"},
        {
            "send_resolved": True,
            "title": '{{ template "msteamsv2.default.title" . }}',
            "text": '{{ template "msteamsv2.default.text" . }}',
        },
    ),
    "jira": (
        {"api_url": "https://x.atlassian.net/rest/api/2/", "project": "OPS", "issue_type": "Bug"},
        {
            "send_resolved": True,
            "api_type": "auto",
            "priority": '{{ template "jira.default.priority" . }}',
        },
    ),
    "incidentio": (
        {"url": "https://api.incident.io/v2/alert_events/http/x", "alert_source_token": "t"},
        {"send_resolved": True, "max_alerts": 0, "timeout": 0.0},
    ),
    "rocketchat": (
        {"token": "t", "token_id": "i"},
        {
            "send_resolved": False,
            "color": '{{ if eq .Status "firing" }}red{{ else }}green{{ end }}',
            "emoji": '{{ template "rocketchat.default.emoji" . }}',
            "icon_url": '{{ template "rocketchat.default.iconurl" . }}',
            "text": '{{ template "rocketchat.default.text" . }}',
            "title": '{{ template "rocketchat.default.title" . }}',
            "title_link": '{{ template "rocketchat.default.titlelink" . }}',
        },
    ),
    "mattermost": (
        {"webhook_url": "https://mm.example.com/hooks/x"},
        {
            "send_resolved": True,
            "username": '{{ template "mattermost.default.username" . }}',
            "color": '{{ template "mattermost.default.color" . }}',
            "text": '{{ template "mattermost.default.text" . }}',
            "title": '{{ template "mattermost.default.title" . }}',
            "title_link": '{{ template "mattermost.default.titlelink" . }}',
            "fallback": '{{ template "mattermost.default.fallback" . }}',
        },
    ),
}


def test_every_upstream_kind_is_covered() -> None:
    assert set(MINIMAL) == set(INTEGRATION_KINDS)
    assert len(INTEGRATION_KINDS) == 18


@pytest.mark.parametrize("kind", list(MINIMAL))
def test_minimal_block_parses_with_upstream_defaults(kind: str) -> None:
    block, expected = MINIMAL[kind]
    rcv = receiver(**{f"{kind}_configs": [block]})
    [(got_kind, index, cfg)] = rcv.integrations()
    assert (got_kind, index) == (kind, 0)
    for field, value in expected.items():
        assert getattr(cfg, field) == value, field


def test_jira_field_defaults_and_forms() -> None:
    base = {"project": "P", "issue_type": "Bug"}
    cfg = JiraConfig.model_validate(base)
    assert cfg.summary.template == '{{ template "jira.default.summary" . }}'
    assert cfg.description.template == '{{ template "jira.default.description" . }}'
    assert cfg.summary.enable_update_value is True
    cfg = JiraConfig.model_validate({**base, "summary": "S", "description": {"enable_update": False}})
    assert cfg.summary.template == "S"
    assert cfg.description.template == '{{ template "jira.default.description" . }}'
    assert cfg.description.enable_update_value is False
    cfg = JiraConfig.model_validate({**base, "reopen_duration": "1d", "fields": {"a": [{"v": 1}]}})
    assert cfg.reopen_duration == 86400
    assert cfg.fields == {"a": [{"v": 1}]}


def test_pagerduty_details_keep_user_values_and_source_defaults_to_client() -> None:
    cfg = PagerdutyConfig.model_validate(
        {"service_key": "k", "client": "me", "details": {"firing": "mine", "extra": {"n": 1}}}
    )
    assert cfg.source == "me"
    assert cfg.details["firing"] == "mine"
    assert cfg.details["extra"] == {"n": 1}
    assert cfg.details["num_firing"] == "{{ .Alerts.Firing | len }}"


def test_slack_action_with_url_drops_message_button_fields() -> None:
    cfg = SlackConfig.model_validate(
        {
            "actions": [
                {
                    "type": "button",
                    "text": "t",
                    "url": "http://x",
                    "name": "n",
                    "value": "v",
                    "confirm": {"text": "sure?"},
                },
                {"type": "button", "text": "t", "name": "n", "value": "v"},
            ],
            "fields": [{"title": "a", "value": "b", "short": True}],
        }
    )
    link, button = cfg.actions
    assert (link.url, link.name, link.value, link.confirm) == ("http://x", "", "", None)
    assert (button.name, button.value) == ("n", "v")
    assert cfg.fields[0].short is True


def test_email_headers_are_canonicalized() -> None:
    cfg = EmailConfig.model_validate({"to": "a@b", "headers": {"x-custom-id": "1", "subject": "s"}})
    assert cfg.headers == {"X-Custom-Id": "1", "Subject": "s"}


def test_yaml_leniencies_numbers_and_nulls() -> None:
    # Go's decoder turns scalars into string fields and nulls into zero values.
    cfg = WechatConfig.model_validate({"agent_id": 1000002, "api_secret": 12345, "to_user": None})
    assert cfg.agent_id == "1000002"
    assert cfg.api_secret == "12345"
    assert cfg.to_user == ""
    rcv = Receiver.model_validate({"name": "r", "webhook_configs": None, "email_configs": []})
    assert rcv.integrations() == []


def test_receiver_labels_get_the_name() -> None:
    rcv = Receiver.model_validate({"name": "team", "labels": {"tier": "1"}})
    assert rcv.labels == {"tier": "1", "name": "team"}


def test_integrations_follow_upstream_order() -> None:
    rcv = receiver(
        mattermost_configs=[MINIMAL["mattermost"][0]],
        webhook_configs=[MINIMAL["webhook"][0], MINIMAL["webhook"][0]],
        slack_configs=[MINIMAL["slack"][0]],
        email_configs=[MINIMAL["email"][0]],
    )
    assert [(k, i) for k, i, _ in rcv.integrations()] == [
        ("webhook", 0),
        ("webhook", 1),
        ("email", 0),
        ("slack", 0),
        ("mattermost", 0),
    ]


# ---------------------------------------------------------------------------------------------
# Every validation message

INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("webhook", {}, "one of url or url_file must be configured"),
    ("webhook", {"url": "http://a", "url_file": "/f"}, "at most one of url & url_file must be configured"),
    ("webhook", {"url": "ftp://a"}, 'invalid URL: unsupported scheme "ftp" for URL'),
    ("webhook", {"url": "http://"}, "invalid URL: missing host for URL"),
    ("webhook", {"url": "http://{{ .x"}, "invalid template syntax: template: :1: unclosed action"),
    ("webhook", {"url": "http://a", "timeout": "5"}, 'time: missing unit in duration "5"'),
    ("webhook", {"url": "http://a", "timeout": "5d"}, 'time: unknown unit "d" in duration "5d"'),
    ("email", {"to": ""}, "missing to address in email config"),
    ("email", {"to": "a", "headers": {"Subject": "a", "subject": "b"}}, 'duplicate header "Subject" in email config'),
    ("email", {"to": "a", "smarthost": "localhost:"}, 'address "localhost:": port cannot be empty'),
    ("email", {"to": "a", "smarthost": "localhost"}, "address localhost: missing port in address"),
    ("email", {"to": "a", "threading": {"enabled": True}}, "threading.thread_by_date must be either 'none' or 'daily'"),
    ("email", {"to": "a", "headers": {"references": "x"}, "threading": {"enabled": True, "thread_by_date": "daily"}},
     "conflicting configuration: threading.enabled conflicts with custom References header"),
    ("email", {"to": "a", "headers": {"in-reply-to": "x"}, "threading": {"enabled": True, "thread_by_date": "none"}},
     "conflicting configuration: threading.enabled conflicts with custom In-Reply-To header"),
    ("pagerduty", {}, "missing service or routing key in PagerDuty config"),
    ("pagerduty", {"routing_key": "a", "routing_key_file": "f"}, "at most one of routing_key & routing_key_file must be configured"),
    ("pagerduty", {"service_key": "a", "service_key_file": "f"}, "at most one of service_key & service_key_file must be configured"),
    ("slack", {"api_url": "http://a", "api_url_file": "f"}, "at most one of api_url & api_url_file must be configured"),
    ("slack", {"app_token": "a", "app_token_file": "f"}, "at most one of app_token & app_token_file must be configured"),
    ("slack", {"api_url": "http://a", "app_token": "t"}, "at most one of api_url/api_url_file & app_token/app_token_file must be configured"),
    ("slack", {"api_url": "http://a", "update_message": True},
     "update_message can only be used with bot tokens. api_url must be set to https://slack.com/api/chat.postMessage"),
    ("slack", {"fields": [{"value": "v"}]}, "missing title in Slack field configuration"),
    ("slack", {"fields": [{"title": "t"}]}, "missing value in Slack field configuration"),
    ("slack", {"actions": [{"text": "t"}]}, "missing type in Slack action configuration"),
    ("slack", {"actions": [{"type": "button"}]}, "missing text in Slack action configuration"),
    ("slack", {"actions": [{"type": "button", "text": "t"}]}, "missing name or url in Slack action configuration"),
    ("slack", {"actions": [{"type": "b", "text": "t", "name": "n", "confirm": {"title": "x"}}]},
     "missing text in Slack confirmation configuration"),
    ("opsgenie", {"api_key": "a", "api_key_file": "f"}, "at most one of api_key & api_key_file must be configured"),
    ("opsgenie", {"responders": [{"type": "team"}]},
     "opsGenieConfig responder {   team} has to have at least one of id, username or name specified"),
    ("opsgenie", {"responders": [{"name": "n", "type": "group"}]},
     "opsGenieConfig responder { n  group} type does not match valid options ^(team|teams|user|escalation|schedule)$"),
    ("opsgenie", {"responders": [{"id": "i", "type": "{{ .x"}]},
     "opsGenieConfig responder {i   {{ .x} type contains invalid template syntax: template: :1: unclosed action"),
    ("wechat", {"message_type": "html"}, 'weChat message type "html" does not match valid options ^(text|markdown)$'),
    ("wechat", {"api_secret": "a", "api_secret_file": "f"}, "at most one of api_secret & api_secret_file must be configured"),
    ("pushover", {"token": "t"}, "one of user_key or user_key_file must be configured"),
    ("pushover", {"user_key": "u", "user_key_file": "f", "token": "t"}, "at most one of user_key & user_key_file must be configured"),
    ("pushover", {"user_key": "u"}, "one of token or token_file must be configured"),
    ("pushover", {"user_key": "u", "token": "t", "token_file": "f"}, "at most one of token & token_file must be configured"),
    ("pushover", {"user_key": "u", "token": "t", "html": True, "monospace": True}, "at most one of monospace & html must be configured"),
    ("pushover", {"user_key": "u", "token": "t", "retry": "abc"}, 'time: invalid duration "abc"'),
    ("victorops", {}, "missing Routing key in VictorOps config"),
    ("victorops", {"routing_key": "r", "api_key": "a", "api_key_file": "f"}, "at most one of api_key & api_key_file must be configured"),
    ("victorops", {"routing_key": "r", "custom_fields": {"entity_state": "x"}},
     "victorOps config contains custom field entity_state which cannot be used as it conflicts with the fixed/static fields"),
    ("sns", {}, "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config"),
    ("sns", {"topic_arn": "a", "phone_number": "1"}, "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config"),
    ("sns", {"topic_arn": "a", "sigv4": {"access_key": "a"}},
     "must provide a AWS SigV4 Access key and Secret Key if credentials are specified in the SigV4 config"),
    ("sns", {"topic_arn": "a", "sigv4": {"external_id": "e"}}, "external_id can only be used with role_arn"),
    ("telegram", {"bot_token": "t"}, "missing chat_id or chat_id_file on telegram_config"),
    ("telegram", {"bot_token": "t", "bot_token_file": "f", "chat_id": 1}, "at most one of bot_token & bot_token_file must be configured"),
    ("telegram", {"chat_id": 1, "chat_id_file": "f"}, "at most one of chat_id & chat_id_file must be configured"),
    ("telegram", {"chat_id": 1, "parse_mode": "BBCode"},
     "unknown parse_mode on telegram_config, must be Markdown, MarkdownV2, HTML or empty string"),
    ("webex", {"http_config": AUTH}, "missing room_id on webex_config"),
    ("webex", {"room_id": "r"}, "missing webex_configs.http_config.authorization"),
    ("webex", {"room_id": "r", "http_config": {"basic_auth": {"username": "u"}}}, "missing webex_configs.http_config.authorization"),
    ("discord", {}, "one of webhook_url or webhook_url_file must be configured"),
    ("discord", {"webhook_url": "http://a", "webhook_url_file": "f"}, "at most one of webhook_url & webhook_url_file must be configured"),
    ("msteams", {}, "one of webhook_url or webhook_url_file must be configured"),
    ("msteams", {"webhook_url": "http://a", "webhook_url_file": "f"}, "at most one of webhook_url & webhook_url_file must be configured"),
    ("msteamsv2", {}, "one of webhook_url or webhook_url_file must be configured"),
    ("msteamsv2", {"webhook_url": "http://a", "webhook_url_file": "f"}, "at most one of webhook_url & webhook_url_file must be configured"),
    ("jira", {"issue_type": "Bug"}, "missing project in jira_config"),
    ("jira", {"project": "P"}, "missing issue_type in jira_config"),
    ("jira", {"project": "P", "issue_type": "Bug", "api_type": "server"}, "unknown api_type on jira_config, must be auto, cloud or datacenter"),
    ("incidentio", {}, "one of url or url_file must be configured"),
    ("incidentio", {"url": "http://a", "url_file": "f"}, "at most one of url & url_file must be configured"),
    ("incidentio", {"url": "http://a", "alert_source_token": "t", "alert_source_token_file": "f"},
     "at most one of alert_source_token & alert_source_token_file must be configured"),
    ("incidentio", {"url": "http://a", "alert_source_token": "t", "http_config": AUTH},
     "cannot specify alert_source_token or alert_source_token_file when using http_config.authorization"),
    ("incidentio", {"url": "http://a", "http_config": {}},
     "at least one of alert_source_token, alert_source_token_file or http_config.authorization must be configured"),
    ("rocketchat", {"token": "t", "token_file": "f"}, "at most one of token & token_file must be configured"),
    ("rocketchat", {"token_id": "", "token_id_file": "f"}, "at most one of token_id & token_id_file must be configured"),
    ("mattermost", {"webhook_url": "http://a", "webhook_url_file": "f"}, "at most one of webhook_url & webhook_url_file must be configured"),
    ("mattermost", {"fields": [{"value": "v"}]}, "missing title in Mattermost field configuration"),
    ("mattermost", {"attachments": [{"fields": [{"title": "t"}]}]}, "missing value in Mattermost field configuration"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "block", "message"), INVALID)
def test_validation_message(kind: str, block: dict[str, Any], message: str) -> None:
    valid = MINIMAL[kind][0]
    errs = errors_of(Receiver, {"name": "r", f"{kind}_configs": [valid, block]})
    assert [m for _, m in errs] == [message]
    # The failing block is located by its index.
    assert errs[0][0][:2] == (f"{kind}_configs", 1)


def test_receiver_checks() -> None:
    assert message_of(Receiver, {"webhook_configs": []}) == "missing name in receiver"
    assert message_of(Receiver, {"name": None}) == "missing name in receiver"
    assert (
        message_of(Receiver, {"name": "a", "labels": {"name": "b"}})
        == 'receiver label "name" must match receiver name "a", got "b"'
    )
    errs = errors_of(Receiver, {"name": "a", "slack_configs": [None]})
    assert errs == [(("slack_configs", 0), "missing slack config")]


def test_unknown_fields_are_rejected_where_they_are() -> None:
    errs = errors_of(Receiver, {"name": "r", "webhook_configs": [{"url": "http://a", "urls": 1}]})
    assert errs[0][0] == ("webhook_configs", 0, "urls")
    errs = errors_of(Receiver, {"name": "r", "foo_configs": []})
    assert errs[0][0] == ("foo_configs",)
    errs = errors_of(GlobalConfig, {"http_config": {"tls_config": {"insecure": True}}})
    assert errs[0][0] == ("http_config", "tls_config", "insecure")
    errs = errors_of(GlobalConfig, {"slack_url": "http://a"})
    assert errs[0][0] == ("slack_url",)
    assert all(e["type"] == "extra_forbidden" for e in _raw_errors(EmailConfig, {"to": "a", "cc": "b"}))


def _raw_errors(model: type[Any], data: Any) -> list[Any]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return list(info.value.errors())


# ---------------------------------------------------------------------------------------------
# prometheus/common HTTP client config

HTTP_INVALID: list[tuple[dict[str, Any], str]] = [
    ({"bearer_token": "a", "bearer_token_file": "f"}, "at most one of bearer_token & bearer_token_file must be configured"),
    ({"basic_auth": {"username": "u"}, "bearer_token": "a"}, "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured"),
    ({"basic_auth": {"username": "u", "username_file": "f"}}, "at most one of basic_auth username, username_file & username_ref must be configured"),
    ({"basic_auth": {"password": "p", "password_file": "f"}}, "at most one of basic_auth password, password_file & password_ref must be configured"),
    ({"authorization": {"credentials": "c"}, "bearer_token_file": "f"}, "authorization is not compatible with bearer_token & bearer_token_file"),
    ({"authorization": {"credentials": "c", "credentials_file": "f"}}, "at most one of authorization credentials & credentials_file must be configured"),
    ({"authorization": {"type": " Basic "}}, 'authorization type cannot be set to "basic", use "basic_auth" instead'),
    ({"authorization": {"credentials": "c"}, "basic_auth": {"username": "u"}}, "at most one of basic_auth, oauth2 & authorization must be configured"),
    ({"oauth2": {"client_id": "i", "token_url": "t"}, "basic_auth": {"username": "u"}}, "at most one of basic_auth, oauth2 & authorization must be configured"),
    ({"oauth2": {"token_url": "t"}}, "oauth2 client_id must be configured"),
    ({"oauth2": {"client_id": "i"}}, "oauth2 token_url must be configured"),
    ({"oauth2": {"client_id": "i", "token_url": "t", "client_secret": "s", "client_secret_file": "f"}},
     "at most one of oauth2 client_secret, client_secret_file & client_secret_ref must be configured using grant-type=client_credentials"),
    ({"oauth2": {"client_id": "i", "token_url": "t", "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "signature_algorithm": "HS256"}},
     "valid signature algorithms are RS256, RS384 and RS512"),
    ({"oauth2": {"client_id": "i", "token_url": "t", "no_proxy": "x"}}, "if no_proxy is configured, proxy_url must also be configured"),
    ({"proxy_connect_header": {"X": ["v"]}}, "if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured"),
    ({"proxy_from_environment": True, "proxy_url": "http://p"}, "if proxy_from_environment is configured, proxy_url must not be configured"),
    ({"proxy_from_environment": True, "no_proxy": "x"}, "if proxy_from_environment is configured, no_proxy must not be configured"),
    ({"no_proxy": "x"}, "if no_proxy is configured, proxy_url must also be configured"),
    ({"http_headers": {"user-agent": {"values": ["x"]}}}, 'setting header "User-Agent" is not allowed'),
    ({"tls_config": {"min_version": "TLS14"}}, "unknown TLS version: TLS14"),
    ({"tls_config": {"ca": "x", "ca_file": "f"}}, "at most one of ca, ca_file & ca_ref must be configured"),
    ({"tls_config": {"cert": "x", "cert_file": "f", "key_file": "k"}}, "at most one of cert, cert_file & cert_ref must be configured"),
    ({"tls_config": {"cert_file": "c", "key": "x", "key_file": "f"}}, "at most one of key and key_file must be configured"),
    ({"tls_config": {"cert_file": "c"}}, "exactly one of key or key_file must be configured when a client certificate is configured"),
    ({"tls_config": {"key_file": "k"}}, "exactly one of cert or cert_file must be configured when a client key is configured"),
]  # fmt: skip


@pytest.mark.parametrize(("block", "message"), HTTP_INVALID)
def test_http_config_message(block: dict[str, Any], message: str) -> None:
    assert message_of(HTTPConfig, block) == message


def test_http_config_defaults_and_bearer_token_rewrite() -> None:
    cfg = HTTPConfig.model_validate({})
    assert (cfg.follow_redirects, cfg.enable_http2, cfg.authorization) == (True, True, None)
    cfg = HTTPConfig.model_validate({"bearer_token": "tok"})
    assert cfg.bearer_token is None
    assert cfg.authorization is not None
    assert (cfg.authorization.type, cfg.authorization.credentials) == ("Bearer", "tok")
    cfg = HTTPConfig.model_validate({"authorization": {"type": "  ", "credentials_file": "/t"}})
    assert cfg.authorization is not None and cfg.authorization.type == "Bearer"
    cfg = HTTPConfig.model_validate(
        {
            "oauth2": {
                "client_id": "i",
                "token_url": "https://t",
                "scopes": ["a"],
                "proxy_url": "http://p",
            },
            "proxy_url": "http://proxy:3128",
            "no_proxy": "localhost",
            "proxy_connect_header": {"Proxy-Auth": ["s1"]},
            "http_headers": {"X-Team": {"values": ["a"], "secrets": ["b"], "files": ["/f"]}},
            "tls_config": {
                "ca_file": "/ca",
                "cert_file": "/c",
                "key_file": "/k",
                "min_version": "TLS12",
            },
            "follow_redirects": False,
            "enable_http2": False,
        }
    )
    assert cfg.oauth2 is not None and cfg.oauth2.scopes == ["a"]
    assert cfg.tls_config.min_version == "TLS12"


def test_tls_config_standalone() -> None:
    assert TLSConfig.model_validate({"insecure_skip_verify": True}).insecure_skip_verify


# ---------------------------------------------------------------------------------------------
# Global block and inheritance


def test_global_defaults() -> None:
    g = GlobalConfig.model_validate({})
    assert g.resolve_timeout == 300
    assert g.smtp_hello == "localhost"
    assert g.smtp_require_tls is True
    assert g.pagerduty_url == "https://events.pagerduty.com/v2/enqueue"
    assert g.opsgenie_api_url == "https://api.opsgenie.com/"
    assert g.wechat_api_url == "https://qyapi.weixin.qq.com/cgi-bin/"
    assert g.victorops_api_url == "https://alert.victorops.com/integrations/generic/20131114/alert/"
    assert g.telegram_api_url == "https://api.telegram.org"
    assert g.webex_api_url == "https://webexapis.com/v1/messages"
    assert g.rocketchat_api_url == "https://open.rocket.chat/"
    assert g.slack_app_url == "https://slack.com/api/chat.postMessage"
    assert g.http_config.follow_redirects and g.http_config.enable_http2
    assert g.jira_api_url is None and g.slack_api_url is None


GLOBAL_INVALID: list[tuple[dict[str, Any], str]] = [
    ({"slack_app_token": "a", "slack_app_token_file": "f"}, "at most one of slack_app_token & slack_app_token_file must be configured"),
    ({"slack_api_url": "http://a", "slack_api_url_file": "f"}, "at most one of slack_api_url & slack_api_url_file must be configured"),
    ({"slack_api_url": "http://a", "slack_app_token": "t"},
     "at most one of slack_app_token/slack_app_token_file & slack_api_url/slack_api_url_file must be configured"),
    ({"opsgenie_api_key": "a", "opsgenie_api_key_file": "f"}, "at most one of opsgenie_api_key & opsgenie_api_key_file must be configured"),
    ({"victorops_api_key": "a", "victorops_api_key_file": "f"}, "at most one of victorops_api_key & victorops_api_key_file must be configured"),
    ({"telegram_bot_token": "a", "telegram_bot_token_file": "f"}, "at most one of telegram_bot_token & telegram_bot_token_file must be configured"),
    ({"smtp_auth_password": "a", "smtp_auth_password_file": "f"}, "at most one of smtp_auth_password & smtp_auth_password_file must be configured"),
    ({"rocketchat_token": "a", "rocketchat_token_file": "f"}, "at most one of rocketchat_token & rocketchat_token_file must be configured"),
    ({"rocketchat_token_id": "a", "rocketchat_token_id_file": "f"}, "at most one of rocketchat_token_id & rocketchat_token_id_file must be configured"),
    ({"smtp_auth_secret": "a", "smtp_auth_secret_file": "f"}, "at most one of smtp_auth_secret & smtp_auth_secret_file must be configured"),
    ({"wechat_api_secret": "a", "wechat_api_secret_file": "f"}, "at most one of wechat_api_secret & wechat_api_secret_file must be configured"),
    ({"mattermost_webhook_url": "http://a", "mattermost_webhook_url_file": "f"},
     "at most one of mattermost_webhook_url & mattermost_webhook_url_file must be configured"),
    ({"smtp_smarthost": "mail.example.com:"}, 'address "mail.example.com:": port cannot be empty'),
    ({"smtp_smarthost": "a:b:25"}, "address a:b:25: too many colons in address"),
    ({"resolve_timeout": "5 minutes"}, 'not a valid duration string: "5 minutes"'),
    ({"pagerduty_url": "events.pagerduty.com"}, 'unsupported scheme "" for URL'),
]  # fmt: skip


@pytest.mark.parametrize(("block", "message"), GLOBAL_INVALID)
def test_global_message(block: dict[str, Any], message: str) -> None:
    assert message_of(GlobalConfig, block) == message


def test_slack_api_url_equal_to_app_url_tolerates_app_token() -> None:
    GlobalConfig.model_validate(
        {"slack_api_url": "https://slack.com/api/chat.postMessage", "slack_app_token": "t"}
    )


def test_email_inherits_smtp_settings() -> None:
    g = GlobalConfig.model_validate(
        {
            "smtp_from": "am@example.com",
            "smtp_smarthost": "smtp.example.com:587",
            "smtp_auth_username": "u",
            "smtp_auth_password": "p",
            "smtp_auth_identity": "i",
            "smtp_auth_secret": "s",
            "smtp_require_tls": False,
            "smtp_tls_config": {"server_name": "smtp"},
            "smtp_force_implicit_tls": True,
        }
    )
    rcv = receiver(email_configs=[{"to": "a"}, {"to": "b", "from": "me@x", "auth_password_file": "/p"}])
    assert apply_global_defaults([rcv], g) == []
    first, second = rcv.email_configs
    assert (first.from_, first.smarthost, first.hello) == (
        "am@example.com",
        "smtp.example.com:587",
        "localhost",
    )
    assert (first.auth_username, first.auth_password, first.auth_identity, first.auth_secret) == (
        "u",
        "p",
        "i",
        "s",
    )
    assert (first.require_tls, first.force_implicit_tls) == (False, True)
    assert first.tls_config is not None and first.tls_config.server_name == "smtp"
    # A file set locally keeps the global password out.
    assert (second.from_, second.auth_password, second.auth_password_file) == ("me@x", None, "/p")


def test_http_config_is_inherited_but_not_shared() -> None:
    g = GlobalConfig.model_validate({"http_config": {"proxy_url": "http://proxy:3128"}})
    rcv = receiver(
        webhook_configs=[
            {"url": "http://a"},
            {"url": "http://b", "http_config": {"follow_redirects": False}},
        ],
        msteamsv2_configs=[{"webhook_url": "http://c", "http_config": {"enable_http2": False}}],
        msteams_configs=[{"webhook_url": "http://c", "http_config": {"enable_http2": False}}],
    )
    assert apply_global_defaults([rcv], g) == []
    inherited, own = rcv.webhook_configs
    assert inherited.http_config is not None and inherited.http_config.proxy_url == "http://proxy:3128"
    assert inherited.http_config is not g.http_config
    assert own.http_config is not None and own.http_config.proxy_url is None
    # msteamsv2 alone takes the global proxy into its own partial http_config.
    v2 = rcv.msteamsv2_configs[0].http_config
    assert v2 is not None and (v2.proxy_url, v2.enable_http2) == ("http://proxy:3128", False)
    v1 = rcv.msteams_configs[0].http_config
    assert v1 is not None and v1.proxy_url is None


def test_urls_and_keys_are_inherited() -> None:
    g = GlobalConfig.model_validate(
        {
            "slack_api_url": "https://hooks.slack.com/services/x",
            "opsgenie_api_key": "og",
            "opsgenie_api_url": "https://api.eu.opsgenie.com",
            "victorops_api_key": "vo",
            "victorops_api_url": "https://vo.example.com/alert",
            "wechat_api_secret": "ws",
            "wechat_api_corp_id": "corp",
            "wechat_api_url": "https://wechat.example.com/cgi-bin",
            "telegram_bot_token": "tg",
            "jira_api_url": "https://x.atlassian.net/rest/api/2/",
            "rocketchat_token": "rt",
            "rocketchat_token_id": "rid",
            "mattermost_webhook_url": "https://mm.example.com/hooks/x",
        }
    )
    rcv = receiver(
        slack_configs=[{}],
        opsgenie_configs=[{}],
        victorops_configs=[{"routing_key": "r"}],
        wechat_configs=[{}],
        telegram_configs=[{"chat_id": 1}],
        pagerduty_configs=[{"routing_key": "k"}],
        webex_configs=[{"room_id": "r", "http_config": AUTH}],
        jira_configs=[{"project": "P", "issue_type": "Bug"}],
        rocketchat_configs=[{}],
        mattermost_configs=[{}],
    )
    assert apply_global_defaults([rcv], g) == []
    assert rcv.slack_configs[0].api_url == "https://hooks.slack.com/services/x"
    og = rcv.opsgenie_configs[0]
    assert (og.api_key, og.api_url) == ("og", "https://api.eu.opsgenie.com/")
    vo = rcv.victorops_configs[0]
    assert (vo.api_key, vo.api_url) == ("vo", "https://vo.example.com/alert/")
    wc = rcv.wechat_configs[0]
    assert (wc.api_secret, wc.corp_id, wc.api_url) == (
        "ws",
        "corp",
        "https://wechat.example.com/cgi-bin/",
    )
    tg = rcv.telegram_configs[0]
    assert (tg.bot_token, tg.api_url) == ("tg", "https://api.telegram.org")
    assert rcv.pagerduty_configs[0].url == "https://events.pagerduty.com/v2/enqueue"
    assert rcv.webex_configs[0].api_url == "https://webexapis.com/v1/messages"
    assert rcv.jira_configs[0].api_url == "https://x.atlassian.net/rest/api/2/"
    rc = rcv.rocketchat_configs[0]
    assert (rc.token, rc.token_id, rc.api_url) == ("rt", "rid", "https://open.rocket.chat/")
    assert rcv.mattermost_configs[0].webhook_url == "https://mm.example.com/hooks/x"


def test_slack_app_token_becomes_authorization() -> None:
    g = GlobalConfig.model_validate({"slack_app_token": "xoxb-1"})
    rcv = receiver(slack_configs=[{"channel": "#a"}, {"api_url": "https://hooks.slack.com/x"}])
    assert apply_global_defaults([rcv], g) == []
    by_token, by_hook = rcv.slack_configs
    assert by_token.api_url == "https://slack.com/api/chat.postMessage"
    assert by_token.http_config is not None and by_token.http_config.authorization is not None
    assert by_token.http_config.authorization.credentials == "xoxb-1"
    assert by_hook.app_token is None
    assert by_hook.http_config is not None and by_hook.http_config.authorization is None
    # Applying twice changes nothing and reports nothing.
    assert apply_global_defaults([rcv], g) == []


def test_apply_global_defaults_reports_every_error_with_its_location() -> None:
    receivers = [
        receiver(email_configs=[{"to": "a"}]),
        Receiver.model_validate(
            {
                "name": "r",
                "slack_configs": [{}],
                "opsgenie_configs": [{}],
                "victorops_configs": [{"routing_key": "x"}],
                "wechat_configs": [{}, {"api_secret": "s"}],
                "telegram_configs": [{"chat_id": 1}],
                "jira_configs": [{"project": "P", "issue_type": "B"}],
                "rocketchat_configs": [{}, {"token_id": "i"}],
                "mattermost_configs": [{}],
            }
        ),
    ]
    g = GlobalConfig.model_validate({"pagerduty_url": None})
    assert apply_global_defaults(receivers, g) == [
        (("receivers", 0, "email_configs", 0), "no global SMTP smarthost set"),
        (("receivers", 1, "name"), 'notification config name "r" is not unique'),
        (("receivers", 1, "slack_configs", 0), "no Slack API URL nor App token set either inline or in a file"),
        (("receivers", 1, "opsgenie_configs", 0), "no global OpsGenie API Key set either inline or in a file"),
        (("receivers", 1, "wechat_configs", 0), "no global Wechat Api Secret set either inline or in a file"),
        (("receivers", 1, "wechat_configs", 1), "no global Wechat CorpID set"),
        (("receivers", 1, "victorops_configs", 0), "no global VictorOps API Key set"),
        (("receivers", 1, "telegram_configs", 0), "missing bot_token or bot_token_file on telegram_config"),
        (("receivers", 1, "jira_configs", 0), "no global Jira Cloud URL set"),
        (("receivers", 1, "rocketchat_configs", 0), "no global Rocketchat TokenID set either inline or in a file"),
        (("receivers", 1, "rocketchat_configs", 1), "no global Rocketchat Token set either inline or in a file"),
        (("receivers", 1, "mattermost_configs", 0), "missing webhook_url or webhook_url_file on mattermost_config"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("glob", "kind", "block", "message"),
    [
        ({"smtp_smarthost": "h:25"}, "email", {"to": "a"}, "no global SMTP from set"),
        ({"pagerduty_url": None}, "pagerduty", {"routing_key": "k"}, "no global PagerDuty URL set"),
        ({"opsgenie_api_url": None}, "opsgenie", {"api_key": "k"}, "no global OpsGenie URL set"),
        ({"wechat_api_url": None}, "wechat", {"api_secret": "s", "corp_id": "c"}, "no global Wechat URL set"),
        ({"victorops_api_url": None}, "victorops", {"routing_key": "r"}, "no global VictorOps URL set"),
        ({"webex_api_url": None}, "webex", {"room_id": "r", "http_config": AUTH}, "no global Webex URL set"),
        ({"slack_app_url": None}, "slack", {"api_url": "http://a"}, "no global Slack App URL set"),
        ({"slack_app_token": "t", "http_config": AUTH}, "slack", {},
         "http authorization can't be set when using Slack App tokens"),
    ],
)  # fmt: skip
def test_apply_global_defaults_message(
    glob: dict[str, Any], kind: str, block: dict[str, Any], message: str
) -> None:
    rcv = receiver(**{f"{kind}_configs": [block]})
    errs = apply_global_defaults([rcv], GlobalConfig.model_validate(glob))
    assert errs == [(("receivers", 0, f"{kind}_configs", 0), message)]


# ---------------------------------------------------------------------------------------------
# Secrets


def test_secrets_dump_as_secret() -> None:
    g = GlobalConfig.model_validate(
        {
            "smtp_auth_password": "ZZ1ZZ",
            "slack_api_url": "https://hooks.slack.com/services/T/B/X",
            "opsgenie_api_key": "ZZ2ZZ",
            "http_config": {
                "basic_auth": {"username": "u", "password": "ZZ3ZZ"},
                "proxy_url": "http://p",
                "proxy_connect_header": {"A": ["ZZ4ZZ"]},
                "http_headers": {"X-A": {"secrets": ["ZZ5ZZ"]}},
                "tls_config": {"cert_file": "/c", "key": "ZZ6ZZ"},
            },
        }
    )
    rcv = receiver(
        webhook_configs=[{"url": "https://user:ZZ7ZZ@hooks.example.com/x"}],
        email_configs=[
            {
                "to": "a",
                "from": "f@x",
                "smarthost": "h:25",
                "auth_password": "ZZ8ZZ",
                "auth_secret": "ZZ9ZZ",
            }
        ],
        pagerduty_configs=[{"routing_key": "ZZ10ZZ", "service_key": "ZZ11ZZ"}],
        pushover_configs=[{"user_key": "ZZ12ZZ", "token": "ZZ13ZZ"}],
        telegram_configs=[{"bot_token": "ZZ14ZZ", "chat_id": 1}],
        discord_configs=[{"webhook_url": "https://discord.com/api/webhooks/ZZ15ZZ"}],
        sns_configs=[{"topic_arn": "t", "sigv4": {"access_key": "a", "secret_key": "ZZ16ZZ"}}],
        rocketchat_configs=[{"token": "ZZ17ZZ", "token_id": "ZZ18ZZ"}],
        incidentio_configs=[{"url": "https://i.example.com", "alert_source_token": "ZZ19ZZ"}],
        wechat_configs=[{"api_secret": "ZZ20ZZ", "corp_id": "c"}],
        victorops_configs=[{"api_key": "ZZ21ZZ", "routing_key": "r"}],
    )
    g_oauth = GlobalConfig.model_validate(
        {"http_config": {"oauth2": {"client_id": "i", "client_secret": "ZZ22ZZ", "token_url": "t"}}}
    )
    assert apply_global_defaults([rcv], g) == []
    dumped = json.dumps(
        [
            g.model_dump(mode="json"),
            rcv.model_dump(mode="json", by_alias=True),
            g_oauth.model_dump(mode="json"),
        ]
    )
    for n in range(1, 23):
        assert f"ZZ{n}ZZ" not in dumped, n
    assert dumped.count("<secret>") >= 22
    # The values stay usable in code.
    assert isinstance(rcv.pushover_configs[0].token, Secret)
    assert rcv.pushover_configs[0].token == "ZZ13ZZ"
    assert "ZZ13ZZ" not in repr(rcv.pushover_configs[0])


def test_secret_url_placeholder_is_accepted_back() -> None:
    # The status API prints "<secret>"; Alertmanager reads that back without a URL error.
    cfg = SlackConfig.model_validate({"api_url": "<secret>"})
    assert cfg.api_url == "<secret>"
    assert WebhookConfig.model_validate({"url": "<secret>"}).url == "<secret>"


# ---------------------------------------------------------------------------------------------
# Scalars


@pytest.mark.parametrize(
    ("text", "seconds", "printed"),
    [
        ("0", 0.0, "0s"),
        ("30s", 30.0, "30s"),
        ("1m", 60.0, "1m0s"),
        ("1h", 3600.0, "1h0m0s"),
        ("1h30m", 5400.0, "1h30m0s"),
        ("1.5s", 1.5, "1.5s"),
        ("300ms", 0.3, "300ms"),
        ("2us", 0.000002, "2\u00b5s"),
        ("90m", 5400.0, "1h30m0s"),
    ],
)
def test_go_duration(text: str, seconds: float, printed: str) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds)
    assert format_go_duration(round(parse_go_duration(text) * NS)) == printed


def test_go_duration_fields_print_like_go() -> None:
    cfg = PushoverConfig.model_validate({"user_key": "u", "token": "t", "retry": "90s"})
    dumped = cfg.model_dump(mode="json")
    assert (dumped["retry"], dumped["expire"], dumped["ttl"]) == ("1m30s", "1h0m0s", "0s")


def test_canonical_header_key() -> None:
    assert canonical_header_key("content-type") == "Content-Type"
    assert canonical_header_key("X-CUSTOM-ID") == "X-Custom-Id"
    assert canonical_header_key("bad header") == "bad header"


def test_opsgenie_responder_type_is_case_insensitive_and_templatable() -> None:
    cfg = OpsGenieConfig.model_validate(
        {
            "responders": [
                {"name": "a", "type": "Team"},
                {"id": "b", "type": "{{ .CommonLabels.t }}"},
            ]
        }
    )
    assert [r.type for r in cfg.responders] == ["Team", "{{ .CommonLabels.t }}"]


def test_webhook_templated_url_and_payload() -> None:
    cfg = WebhookConfig.model_validate(
        {
            "url": "https://x/{{ .GroupLabels.team }}",
            "payload": {"text": "{{ .Status }}"},
            "timeout": "10s",
        }
    )
    assert cfg.timeout == 10.0 and cfg.payload == {"text": "{{ .Status }}"}


# ---------------------------------------------------------------------------------------------
# Side by side with the real amtool (Alertmanager 0.25)

AMTOOL = "/usr/bin/amtool"

# Each case: (name, global block, receivers). Kinds 0.25 does not know are left out, as are
# rules that changed after 0.25 (optional oauth2 client_secret, TLS cert without key, ...).
AMTOOL_CASES: list[tuple[str, dict[str, Any], list[dict[str, Any]]]] = [
    ("all-kinds-valid", {"smtp_smarthost": "smtp.example.com:587", "smtp_from": "am@example.com",
                         "slack_api_url": "https://hooks.slack.com/services/x", "opsgenie_api_key": "k",
                         "victorops_api_key": "k", "wechat_api_secret": "s", "wechat_api_corp_id": "c"},
     [{"name": "r",
       "webhook_configs": [{"url": "http://hook.example.com/x", "max_alerts": 3}],
       "email_configs": [{"to": "ops@example.com", "headers": {"X-A": "1"}}],
       "pagerduty_configs": [{"routing_key": "rk", "images": [{"src": "s"}], "links": [{"href": "h"}]}],
       "slack_configs": [{"channel": "#a", "fields": [{"title": "t", "value": "v"}],
                          "actions": [{"type": "button", "text": "t", "url": "http://x"}]}],
       "opsgenie_configs": [{"responders": [{"name": "n", "type": "Team"}]}],
       "wechat_configs": [{"message_type": "markdown"}],
       "pushover_configs": [{"user_key": "u", "token": "t", "retry": "2m"}],
       "victorops_configs": [{"routing_key": "r", "custom_fields": {"a": "b"}}],
       "sns_configs": [{"topic_arn": "arn:aws:sns:us-east-2:1:t", "sigv4": {"region": "us-east-2"}}],
       "telegram_configs": [{"bot_token": "t", "chat_id": 12, "parse_mode": "MarkdownV2"}],
       "webex_configs": [{"room_id": "r", "http_config": {"authorization": {"credentials": "c"}}}],
       "discord_configs": [{"webhook_url": "https://discord.com/api/webhooks/x"}]}]),
    ("http-config-valid", {"http_config": {"proxy_url": "http://p:3128", "follow_redirects": False,
                                           "tls_config": {"insecure_skip_verify": True, "min_version": "TLS12"}}},
     [{"name": "r", "webhook_configs": [{"url": "http://a", "http_config": {"basic_auth": {"username": "u", "password": "p"}}},
                                        {"url": "http://a", "http_config": {"bearer_token": "t"}},
                                        {"url": "http://a", "http_config": {"oauth2": {"client_id": "i", "client_secret": "s", "token_url": "http://t"}}}]}]),
    ("nameless-receiver", {}, [{"webhook_configs": [{"url": "http://a"}]}]),
    ("receiver-without-integrations", {}, [{"name": "r", "webhook_configs": None}]),
    ("numbers-in-string-fields", {"wechat_api_secret": "s", "wechat_api_corp_id": 12345},
     [{"name": "r", "wechat_configs": [{"agent_id": 1000002, "to_party": 2}]}]),
    ("sns-all-three-targets-quirk", {}, [{"name": "r", "sns_configs": [{"topic_arn": "a", "target_arn": "b", "phone_number": "1"}]}]),
    ("email-ipv6-smarthost", {"smtp_from": "a@b"}, [{"name": "r", "email_configs": [{"to": "a", "smarthost": "[::1]:25"}]}]),
    ("opsgenie-templated-type", {"opsgenie_api_key": "k"},
     [{"name": "r", "opsgenie_configs": [{"responders": [{"id": "i", "type": "{{ .CommonLabels.t }}"}]}]}]),
    ("http-custom-authorization-type", {}, [{"name": "r", "webhook_configs": [{"url": "http://a", "http_config": {
        "authorization": {"type": "Token", "credentials_file": "/f"}}}]}]),
    ("victorops-and-pagerduty-files", {"victorops_api_key_file": "/k"},
     [{"name": "r", "victorops_configs": [{"routing_key": "r"}], "pagerduty_configs": [{"service_key_file": "/s"}]}]),
    ("duplicate-receiver", {}, [{"name": "r"}, {"name": "r"}]),
    ("unknown-field", {}, [{"name": "r", "webhook_configs": [{"url": "http://a", "uri": "x"}]}]),
    ("unknown-global-field", {"smtp_server": "x"}, [{"name": "r"}]),
    ("webhook-missing-url", {}, [{"name": "r", "webhook_configs": [{}]}]),
    ("webhook-bad-scheme", {}, [{"name": "r", "webhook_configs": [{"url": "ftp://a"}]}]),
    ("email-no-smarthost", {"smtp_from": "a@b"}, [{"name": "r", "email_configs": [{"to": "a"}]}]),
    ("email-no-from", {"smtp_smarthost": "h:25"}, [{"name": "r", "email_configs": [{"to": "a"}]}]),
    ("email-no-to", {}, [{"name": "r", "email_configs": [{"smarthost": "h:25", "from": "a@b"}]}]),
    ("email-dup-headers", {}, [{"name": "r", "email_configs": [{"to": "a", "smarthost": "h:25", "from": "a@b",
                                                              "headers": {"subject": "a", "Subject": "b"}}]}]),
    ("email-port-empty", {"smtp_smarthost": "h:"}, [{"name": "r"}]),
    ("email-port-missing", {"smtp_smarthost": "h"}, [{"name": "r"}]),
    ("pagerduty-no-key", {}, [{"name": "r", "pagerduty_configs": [{}]}]),
    ("pagerduty-key-and-file", {}, [{"name": "r", "pagerduty_configs": [{"routing_key": "a", "routing_key_file": "/f"}]}]),
    ("slack-no-url", {}, [{"name": "r", "slack_configs": [{}]}]),
    ("slack-url-and-file", {}, [{"name": "r", "slack_configs": [{"api_url": "http://a", "api_url_file": "/f"}]}]),
    ("slack-global-url-and-file", {"slack_api_url": "http://a", "slack_api_url_file": "/f"}, [{"name": "r"}]),
    ("slack-field-no-value", {"slack_api_url": "http://a"}, [{"name": "r", "slack_configs": [{"fields": [{"title": "t"}]}]}]),
    ("slack-action-no-name", {"slack_api_url": "http://a"}, [{"name": "r", "slack_configs": [{"actions": [{"type": "b", "text": "t"}]}]}]),
    ("opsgenie-no-key", {}, [{"name": "r", "opsgenie_configs": [{}]}]),
    ("opsgenie-bad-responder", {"opsgenie_api_key": "k"}, [{"name": "r", "opsgenie_configs": [{"responders": [{"name": "n", "type": "group"}]}]}]),
    ("opsgenie-empty-responder", {"opsgenie_api_key": "k"}, [{"name": "r", "opsgenie_configs": [{"responders": [{"type": "team"}]}]}]),
    ("wechat-no-secret", {}, [{"name": "r", "wechat_configs": [{"corp_id": "c"}]}]),
    ("wechat-no-corp", {"wechat_api_secret": "s"}, [{"name": "r", "wechat_configs": [{}]}]),
    ("wechat-bad-type", {}, [{"name": "r", "wechat_configs": [{"api_secret": "s", "corp_id": "c", "message_type": "html"}]}]),
    ("pushover-no-token", {}, [{"name": "r", "pushover_configs": [{"user_key": "u"}]}]),
    ("pushover-no-user", {}, [{"name": "r", "pushover_configs": [{"token": "t"}]}]),
    ("victorops-no-routing-key", {"victorops_api_key": "k"}, [{"name": "r", "victorops_configs": [{}]}]),
    ("victorops-no-key", {}, [{"name": "r", "victorops_configs": [{"routing_key": "r"}]}]),
    ("victorops-reserved-field", {"victorops_api_key": "k"}, [{"name": "r", "victorops_configs": [{"routing_key": "r", "custom_fields": {"entity_id": "x"}}]}]),
    ("sns-no-target", {}, [{"name": "r", "sns_configs": [{}]}]),
    ("sns-two-targets", {}, [{"name": "r", "sns_configs": [{"topic_arn": "a", "target_arn": "b"}]}]),
    ("sns-sigv4-half-credentials", {}, [{"name": "r", "sns_configs": [{"topic_arn": "a", "sigv4": {"access_key": "a"}}]}]),
    ("telegram-no-chat", {}, [{"name": "r", "telegram_configs": [{"bot_token": "t"}]}]),
    ("telegram-no-token", {}, [{"name": "r", "telegram_configs": [{"chat_id": 1}]}]),
    ("telegram-bad-parse-mode", {}, [{"name": "r", "telegram_configs": [{"bot_token": "t", "chat_id": 1, "parse_mode": "x"}]}]),
    ("webex-no-room", {}, [{"name": "r", "webex_configs": [{"http_config": {"authorization": {"credentials": "c"}}}]}]),
    ("webex-no-auth", {}, [{"name": "r", "webex_configs": [{"room_id": "r"}]}]),
    ("discord-no-url", {}, [{"name": "r", "discord_configs": [{}]}]),
    ("http-basic-and-authorization", {}, [{"name": "r", "webhook_configs": [{"url": "http://a", "http_config": {
        "basic_auth": {"username": "u"}, "authorization": {"credentials": "c"}}}]}]),
    ("http-bearer-and-file", {}, [{"name": "r", "webhook_configs": [{"url": "http://a", "http_config": {
        "bearer_token": "a", "bearer_token_file": "/f"}}]}]),
    ("http-authorization-basic", {}, [{"name": "r", "webhook_configs": [{"url": "http://a", "http_config": {
        "authorization": {"type": "Basic", "credentials": "c"}}}]}]),
    ("http-oauth2-no-client-id", {}, [{"name": "r", "webhook_configs": [{"url": "http://a", "http_config": {
        "oauth2": {"client_secret": "s", "token_url": "http://t"}}}]}]),
    ("http-proxy-header-no-proxy", {}, [{"name": "r", "webhook_configs": [{"url": "http://a", "http_config": {
        "proxy_connect_header": {"A": ["b"]}}}]}]),
    ("http-bad-tls-version", {"http_config": {"tls_config": {"max_version": "TLS9"}}}, [{"name": "r"}]),
    ("global-opsgenie-key-and-file", {"opsgenie_api_key": "k", "opsgenie_api_key_file": "/f"}, [{"name": "r"}]),
    ("global-bad-pagerduty-url", {"pagerduty_url": "mailto:x"}, [{"name": "r"}]),
]  # fmt: skip


# Rules whose wording changed after 0.25 because of newer fields (url_file, app tokens, ...),
# and strict-decoding errors, which pydantic words its own way: same verdict, other words.
REWORDED = {
    "unknown-field",
    "unknown-global-field",
    "webhook-missing-url",
    "slack-no-url",
    "wechat-no-secret",
    "pushover-no-token",
    "pushover-no-user",
    "telegram-no-chat",
    "telegram-no-token",
    "discord-no-url",
    "http-proxy-header-no-proxy",
}


def _our_messages(doc: dict[str, Any]) -> list[str]:
    try:
        glob = GlobalConfig.model_validate(doc.get("global") or {})
        receivers = [Receiver.model_validate(r) for r in doc.get("receivers") or []]
    except ValidationError as e:
        return [str(err["msg"]).removeprefix("Value error, ") for err in e.errors()]
    return [message for _, message in apply_global_defaults(receivers, glob)]


@pytest.mark.integration
@REFERENCE.mark()
@pytest.mark.parametrize(("name", "glob", "receivers"), AMTOOL_CASES, ids=[c[0] for c in AMTOOL_CASES])
def test_same_verdict_as_amtool(
    tmp_path: Path, name: str, glob: dict[str, Any], receivers: list[dict[str, Any]]
) -> None:
    doc: dict[str, Any] = {"route": {"receiver": "r"}, "receivers": receivers}
    if glob:
        doc["global"] = glob
    path = tmp_path / "alertmanager.yml"
    text = yaml.safe_dump(doc, sort_keys=False)
    path.write_text(text)
    proc = subprocess.run([AMTOOL, "check-config", str(path)], capture_output=True, text=True, timeout=30)
    ours = _our_messages(doc)
    context = f"{name}: amtool said:\n{proc.stdout}{proc.stderr}\nwe said: {ours}\n{text}"
    assert (proc.returncode == 0) == (not ours), context
    if proc.returncode != 0 and name not in REWORDED:
        theirs = proc.stdout.split("FAILED: ", 1)[1].splitlines()[0].strip()
        assert any(theirs in message for message in ours), context


@pytest.mark.integration
@REFERENCE.mark()
@pytest.mark.parametrize("reveal", [True, False], ids=["serve", "operator"])
def test_hidden_webhook_urls_read_back_by_amtool(tmp_path: Path, reveal: bool) -> None:
    """A webhook URL the status API does not show (credentials in it; or, under the operator,
    every URL, since they come from Secrets) is a URL amtool 0.25 loads back: its webhook url
    is no secret type, and refuses "<secret>" (`unsupported scheme "" for URL`)."""
    from ampp.config.loader import HIDDEN_WEBHOOK_URL, dump_yaml, load_text

    cfg = load_text(
        "route: {receiver: r}\nreceivers:\n- name: r\n  webhook_configs:\n"
        "  - url: https://user:ZZ1ZZ@hooks.example.com/x\n  - url: https://hooks.example.com/plain\n"
    )
    cfg.reveal_webhook_urls = reveal
    original = dump_yaml(cfg)
    urls = [c["url"] for c in yaml.safe_load(original)["receivers"][0]["webhook_configs"]]
    assert urls == [HIDDEN_WEBHOOK_URL, "https://hooks.example.com/plain" if reveal else HIDDEN_WEBHOOK_URL]
    path = tmp_path / "status.yml"
    path.write_text(original)
    proc = subprocess.run([AMTOOL, "check-config", str(path)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr
