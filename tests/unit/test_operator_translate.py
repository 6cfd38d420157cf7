"""Custom resources -> alertmanager.yml fragments: routes, inhibit rules, time intervals, and
the Receiver schema derived from the engine's models. Pure functions, no cluster."""

from __future__ import annotations

from typing import Any

import pytest
from ampp.config.loader import load_document
from ampp.config.receivers import INTEGRATION_KINDS, Receiver
from ampp.model.matchers import MatchType, new_matcher, parse_matchers
from ampp_operator import integrations
from ampp_operator.integrations import MissingSecretError, SpecError
from ampp_operator.translate import (
    Rejected,
    inhibit_rule_fragment,
    matchers_from_spec,
    route_fragment,
    time_interval_fragment,
)

pytestmark = pytest.mark.unit


def m(name: str, value: str, op: str = "=") -> dict[str, str]:
    return {"name": name, "value": value, "matchType": op}


# --------------------------------------------------------------------------------------------
# Routes


def test_route_is_scoped_to_its_namespace_and_names_are_prefixed() -> None:
    spec = {
        "receiver": "pager",
        "matchers": [m("severity", "critical|page", "=~")],
        "groupBy": ["alertname"],
        "groupWait": "10s",
        "groupInterval": "1m",
        "repeatInterval": "2h",
        "muteTimeIntervals": ["weekends"],
        "routes": [
            {
                "matchers": [m("team", "db")],
                "receiver": "db",
                "activeTimeIntervals": ["office"],
                "continue": True,
            },
            {"matchers": [m("team", "web", "!=")]},
        ],
    }
    frag, refs = route_fragment(spec, "team-a", enforce=True)
    assert frag == {
        "receiver": "team-a/pager",
        "matchers": ['namespace="team-a"', 'severity=~"critical|page"'],
        "group_by": ["alertname"],
        "group_wait": "10s",
        "group_interval": "1m",
        "repeat_interval": "2h",
        "continue": True,  # the top route continues by default: base routes still see alerts
        "mute_time_intervals": ["team-a/weekends"],
        "routes": [
            {
                "receiver": "team-a/db",
                "matchers": ['team="db"'],
                "continue": True,
                "active_time_intervals": ["team-a/office"],
            },
            {"matchers": ['team!="web"']},  # nested routes keep Alertmanager's default
        ],
    }
    assert refs.receivers == {"pager", "db"}
    assert refs.time_intervals == {"weekends", "office"}


def test_route_without_enforcement_and_explicit_continue() -> None:
    frag, _ = route_fragment({"receiver": "r", "continue": False}, "ns", enforce=False)
    assert frag == {"receiver": "ns/r", "continue": False}


def test_route_fragment_is_valid_config() -> None:
    frag, _ = route_fragment({"receiver": "r", "matchers": [m("a", 'say "hi"\\n')]}, "ns", enforce=True)
    doc = {"route": {"receiver": "ns/r", "routes": [frag]}, "receivers": [{"name": "ns/r"}]}
    cfg = load_document(doc, "test")
    (child,) = cfg.route.routes or []
    assert child.all_matchers == [
        new_matcher("namespace", MatchType.EQUAL, "ns"),
        new_matcher("a", MatchType.EQUAL, 'say "hi"\\n'),
    ]


@pytest.mark.parametrize(
    "value", ["plain", 'with "quotes"', "back\\slash", "new\nline", "ünïcödé ✓", "{braces}, commas", ""]
)
@pytest.mark.parametrize("op", ["=", "!=", "=~", "!~"])
def test_matchers_round_trip_through_the_config_syntax(value: str, op: str) -> None:
    if op in ("=~", "!~") and value in ("{braces}, commas",):
        value = "a|b"
    (matcher,) = matchers_from_spec([m("label", value, op)], "matchers")
    assert parse_matchers(str(matcher)) == [matcher]


def test_bad_regex_is_rejected_with_go_message() -> None:
    with pytest.raises(Rejected) as e:
        route_fragment({"receiver": "r", "routes": [{"matchers": [m("a", "(x", "=~")]}]}, "ns", enforce=True)
    assert e.value.reason == "InvalidSpec"
    assert (
        e.value.message
        == 'routes[0].matchers[0] (a=~"(x"): error parsing regexp: missing closing ): `^(?:(x)$`'
    )


def test_unknown_operator_is_rejected() -> None:
    with pytest.raises(Rejected, match="invalid matchType '=='"):
        matchers_from_spec([m("a", "b", "==")], "matchers")


# --------------------------------------------------------------------------------------------
# Inhibit rules and time intervals


def test_inhibit_rule_scopes_both_sides() -> None:
    spec = {
        "sourceMatchers": [m("alertname", "Outage")],
        "targetMatchers": [m("severity", "warn.*", "=~")],
        "equal": ["cluster"],
    }
    assert inhibit_rule_fragment(spec, "ns", enforce=True) == {
        "source_matchers": ['namespace="ns"', 'alertname="Outage"'],
        "target_matchers": ['namespace="ns"', 'severity=~"warn.*"'],
        "equal": ["cluster"],
    }
    assert inhibit_rule_fragment(spec, "ns", enforce=False)["source_matchers"] == ['alertname="Outage"']


def test_time_interval_fragment() -> None:
    spec = {
        "timeIntervals": [
            {
                "times": [{"startTime": "09:00", "endTime": "17:00"}],
                "weekdays": ["monday:friday"],
                "daysOfMonth": ["1:7"],
                "months": ["january"],
                "years": ["2030"],
                "location": "Europe/Berlin",
            },
            {"weekdays": ["saturday"]},
        ]
    }
    frag = time_interval_fragment(spec, "ns", "office")
    assert frag == {
        "name": "ns/office",
        "time_intervals": [
            {
                "times": [{"start_time": "09:00", "end_time": "17:00"}],
                "weekdays": ["monday:friday"],
                "days_of_month": ["1:7"],
                "months": ["january"],
                "years": ["2030"],
                "location": "Europe/Berlin",
            },
            {"weekdays": ["saturday"]},
        ],
    }
    cfg = load_document(
        {"route": {"receiver": "a"}, "receivers": [{"name": "a"}], "time_intervals": [frag]}, "t"
    )
    assert list(cfg.alerting.all_time_intervals()) == ["ns/office"]


# --------------------------------------------------------------------------------------------
# Receivers


def test_receiver_schema_covers_every_integration_without_file_fields() -> None:
    shape = integrations.receiver_shape()
    kinds = {f.yaml for f in shape.fields}
    assert kinds == {"labels"} | {f"{k}_configs" for k in INTEGRATION_KINDS}
    assert set(Receiver.model_fields) - {"name"} == {f.yaml for f in shape.fields} | set()

    def walk(model: integrations.ModelShape, seen: set[str]) -> None:
        if model.name in seen:
            return
        seen.add(model.name)
        for f in model.fields:
            assert not f.yaml.endswith("_file") and f.yaml != "files", (model.name, f.yaml)
            shape: integrations.Shape | None = f.shape
            while shape is not None and shape.kind in ("list", "map"):
                shape = shape.item
            if shape is not None and shape.model is not None:
                walk(shape.model, seen)

    seen: set[str] = set()
    walk(shape, seen)
    assert {"WebhookConfig", "SlackConfig", "HTTPConfig", "TLSConfig", "OAuth2", "SigV4Config"} <= seen


def _bare(schema: dict[str, Any]) -> dict[str, Any]:
    """A field's schema without its description (tested in test_operator_crds.py)."""
    return {k: v for k, v in schema.items() if k != "description"}


def test_secrets_are_references_in_the_schema() -> None:
    schema = integrations.receiver_schema()["properties"]
    webhook = schema["webhookConfigs"]["items"]["properties"]
    assert webhook["url"]["required"] == ["name", "key"]
    assert _bare(webhook["sendResolved"]) == {"type": "boolean"}
    assert _bare(webhook["maxAlerts"]) == {"type": "integer", "minimum": 0}
    assert _bare(webhook["payload"]) == {"x-kubernetes-preserve-unknown-fields": True}
    http = webhook["httpConfig"]["properties"]
    assert http["basicAuth"]["properties"]["password"]["required"] == ["name", "key"]
    assert _bare(http["basicAuth"]["properties"]["username"]) == {"type": "string"}
    assert http["httpHeaders"]["additionalProperties"]["properties"]["secrets"]["items"]["required"] == [
        "name",
        "key",
    ]
    assert "files" not in http["httpHeaders"]["additionalProperties"]["properties"]
    slack = schema["slackConfigs"]["items"]["properties"]
    assert slack["apiUrl"]["required"] == ["name", "key"] and "apiUrlFile" not in slack
    assert _bare(schema["emailConfigs"]["items"]["properties"]["from"]) == {"type": "string"}
    assert _bare(schema["pagerdutyConfigs"]["items"]["properties"]["class"]) == {"type": "string"}


SECRETS = {"hooks": {"url": "https://hooks.example/T0/secret", "token": "s3cr3t"}, "pd": {"key": "routing"}}


def test_receiver_translation_resolves_secrets_and_keeps_data_keys() -> None:
    spec: dict[str, Any] = {
        "labels": {"team": "a"},
        "webhookConfigs": [
            {
                "url": {"name": "hooks", "key": "url"},
                "sendResolved": False,
                "maxAlerts": 5,
                "timeout": "10s",
                "httpConfig": {
                    "authorization": {"credentials": {"name": "hooks", "key": "token"}},
                    "httpHeaders": {"X-Team_Name": {"values": ["a"]}},
                    "tlsConfig": {"insecureSkipVerify": True},
                },
            }
        ],
        "pagerdutyConfigs": [
            {"routingKey": {"name": "pd", "key": "key"}, "details": {"run_book": "x", "nested": {"a": 1}}}
        ],
    }
    assert integrations.secret_names(spec) == {"hooks", "pd"}
    body = integrations.to_config(spec, SECRETS)
    assert body == {
        "labels": {"team": "a"},
        "webhook_configs": [
            {
                "url": "https://hooks.example/T0/secret",
                "send_resolved": False,
                "max_alerts": 5,
                "timeout": "10s",
                "http_config": {
                    "authorization": {"credentials": "s3cr3t"},
                    "http_headers": {"X-Team_Name": {"values": ["a"]}},
                    "tls_config": {"insecure_skip_verify": True},
                },
            }
        ],
        "pagerduty_configs": [{"routing_key": "routing", "details": {"run_book": "x", "nested": {"a": 1}}}],
    }
    cfg = load_document({"route": {"receiver": "ns/r"}, "receivers": [{"name": "ns/r", **body}]}, "t")
    (rcv,) = cfg.alerting.receivers
    assert rcv.webhook_configs[0].url == "https://hooks.example/T0/secret"
    assert rcv.pagerduty_configs[0].details["run_book"] == "x"


def test_missing_secret_and_key() -> None:
    spec = {"webhookConfigs": [{"url": {"name": "nope", "key": "url"}}]}
    with pytest.raises(MissingSecretError) as e:
        integrations.to_config(spec, SECRETS)
    assert str(e.value) == "Secret 'nope' not found"
    assert integrations.spec_path(e.value.path) == "webhookConfigs[0].url"
    with pytest.raises(MissingSecretError, match="key 'other' of Secret 'hooks' not found"):
        integrations.to_config({"webhookConfigs": [{"url": {"name": "hooks", "key": "other"}}]}, SECRETS)


def test_unknown_fields_and_inline_secrets_are_spec_errors() -> None:
    with pytest.raises(SpecError) as e:
        integrations.to_config({"webhookConfigs": [{"urlFile": "/etc/passwd"}]}, SECRETS)
    assert e.value.path == ("webhookConfigs", 0, "urlFile")
    with pytest.raises(SpecError, match="secret reference"):
        integrations.to_config({"webhookConfigs": [{"url": "https://inline.example"}]}, SECRETS)


def test_spec_path_spells_engine_paths_in_camel_case() -> None:
    assert (
        integrations.spec_path(("webhook_configs", 0, "http_config", "tls_config"))
        == "webhookConfigs[0].httpConfig.tlsConfig"
    )
    assert integrations.camel("msteamsv2_configs") == "msteamsv2Configs"
