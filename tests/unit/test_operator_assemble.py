"""Base config + resources -> one Config, with a verdict per resource: a bad resource costs
only itself, references resolve when their target appears, the merge blames the right one."""

from __future__ import annotations

from typing import Any

import pytest
from ampp.config.errors import ConfigError, ConfigIssue
from ampp.config.loader import Config, load_document
from ampp_operator.assemble import Assembly, Validator, assemble
from ampp_operator.resources import Ref, Resource, Verdict, make

pytestmark = pytest.mark.unit

BASE: dict[str, Any] = {
    "route": {
        "receiver": "default",
        "group_by": ["alertname"],
        "routes": [{"receiver": "default", "matchers": ['base="yes"']}],
    },
    "receivers": [{"name": "default"}],
    "inhibit_rules": [{"source_matchers": ['a="1"'], "target_matchers": ['b="1"']}],
}
SECRETS = {"team-a": {"hook": {"url": "https://hooks.example/a"}}}
HOOK = {"webhookConfigs": [{"url": {"name": "hook", "key": "url"}}]}


def run(*resources: Resource, base: dict[str, Any] | None = None, enforce: bool = True) -> Assembly:
    return assemble(base or BASE, resources, SECRETS, enforce=enforce, validate=Validator())


def route(ns: str, name: str, receiver: str, **extra: Any) -> Resource:
    return make("AlertRoute", ns, name, {"receiver": receiver, **extra})


def verdict(a: Assembly, kind: str, ns: str, name: str) -> Verdict:
    return a.verdicts[Ref(kind, ns, name)]


def test_everything_valid_is_merged_in_a_stable_order() -> None:
    a = run(
        route("team-b", "z", "pager"),
        route("team-a", "x", "pager"),
        make("Receiver", "team-a", "pager", HOOK),
        make("Receiver", "team-b", "pager", {}),
        make(
            "InhibitRule",
            "team-a",
            "quiet",
            {
                "sourceMatchers": [{"name": "s", "value": "1"}],
                "targetMatchers": [{"name": "t", "value": "1"}],
            },
        ),
        make(
            "TimeInterval",
            "team-a",
            "nights",
            {"timeIntervals": [{"times": [{"startTime": "00:00", "endTime": "06:00"}]}]},
        ),
    )
    assert all(v.accepted for v in a.verdicts.values()), a.verdicts
    assert (
        verdict(a, "Receiver", "team-a", "pager").message
        == 'in the running configuration as receiver "team-a/pager"'
    )
    cfg = a.config
    assert [r.name for r in cfg.alerting.receivers] == ["default", "team-a/pager", "team-b/pager"]
    # Resource routes first (namespace, name order), then the base config's own.
    assert [r.receiver for r in cfg.route.routes or []] == ["team-a/pager", "team-b/pager", "default"]
    assert [len(r.source()) for r in cfg.alerting.inhibit_rules] == [1, 2]
    assert list(cfg.alerting.all_time_intervals()) == ["team-a/nights"]
    assert cfg.alerting.receivers[1].webhook_configs[0].url == "https://hooks.example/a"
    # The same inputs give the same document (every replica applies the same config).
    assert (
        a.digest
        == run(
            *reversed(
                [
                    route("team-a", "x", "pager"),
                    make("Receiver", "team-a", "pager", HOOK),
                    route("team-b", "z", "pager"),
                    make("Receiver", "team-b", "pager", {}),
                ]
            ),
            make(
                "InhibitRule",
                "team-a",
                "quiet",
                {
                    "sourceMatchers": [{"name": "s", "value": "1"}],
                    "targetMatchers": [{"name": "t", "value": "1"}],
                },
            ),
            make(
                "TimeInterval",
                "team-a",
                "nights",
                {"timeIntervals": [{"times": [{"startTime": "00:00", "endTime": "06:00"}]}]},
            ),
        ).digest
    )


def test_missing_receiver_then_it_appears() -> None:
    r = route("team-a", "x", "pager")
    a = run(r)
    assert verdict(a, "AlertRoute", "team-a", "x") == Verdict(
        False, "ReceiverNotFound", "Receiver team-a/pager does not exist"
    )
    assert [x.receiver for x in a.config.route.routes or []] == ["default"]
    a = run(r, make("Receiver", "team-a", "pager", HOOK))
    assert verdict(a, "AlertRoute", "team-a", "x").accepted


def test_receivers_of_other_namespaces_are_out_of_reach() -> None:
    a = run(route("team-b", "x", "pager"), make("Receiver", "team-a", "pager", HOOK))
    assert verdict(a, "AlertRoute", "team-b", "x").reason == "ReceiverNotFound"


def test_time_interval_references() -> None:
    r = route("team-a", "x", "pager", muteTimeIntervals=["nights"])
    rcv = make("Receiver", "team-a", "pager", HOOK)
    assert verdict(run(r, rcv), "AlertRoute", "team-a", "x") == Verdict(
        False, "TimeIntervalNotFound", "TimeInterval team-a/nights does not exist"
    )
    bad_ti = make("TimeInterval", "team-a", "nights", {"timeIntervals": [{"weekdays": ["blursday"]}]})
    a = run(r, rcv, bad_ti)
    assert verdict(a, "TimeInterval", "team-a", "nights").reason == "InvalidConfig"
    assert verdict(a, "AlertRoute", "team-a", "x").reason == "TimeIntervalNotAccepted"


def test_a_bad_receiver_costs_itself_and_its_routes_only() -> None:
    a = run(
        make("Receiver", "team-a", "mail", {"emailConfigs": [{"to": "x@example.com"}]}),
        make("Receiver", "team-a", "nosecret", {"webhookConfigs": [{"url": {"name": "gone", "key": "url"}}]}),
        make("Receiver", "team-a", "pager", HOOK),
        route("team-a", "to-mail", "mail"),
        route("team-a", "ok", "pager"),
    )
    assert verdict(a, "Receiver", "team-a", "mail") == Verdict(
        False, "InvalidConfig", "emailConfigs[0]: no global SMTP smarthost set"
    )
    assert verdict(a, "Receiver", "team-a", "nosecret") == Verdict(
        False, "SecretNotFound", "webhookConfigs[0].url: Secret 'gone' not found"
    )
    assert verdict(a, "AlertRoute", "team-a", "to-mail").reason == "ReceiverNotAccepted"
    assert verdict(a, "AlertRoute", "team-a", "ok").accepted
    assert [r.name for r in a.config.alerting.receivers] == ["default", "team-a/pager"]


def test_global_settings_of_the_base_config_apply_to_resources() -> None:
    base = {**BASE, "global": {"smtp_smarthost": "mail:25", "smtp_from": "am@example.com"}}
    a = run(make("Receiver", "team-a", "mail", {"emailConfigs": [{"to": "x@example.com"}]}), base=base)
    v = verdict(a, "Receiver", "team-a", "mail")
    # Valid config; whether this engine version can send email yet is another matter.
    assert v.accepted or v.reason == "UnsupportedIntegration", v


def test_unsupported_integration() -> None:
    a = run(
        make("Receiver", "team-a", "chat", {"slackConfigs": [{"apiUrl": {"name": "hook", "key": "url"}}]})
    )
    v = verdict(a, "Receiver", "team-a", "chat")
    if v.accepted:  # the engine learnt Slack meanwhile
        return
    assert v.reason == "UnsupportedIntegration" and "slack_configs" in v.message


def test_invalid_spec_and_engine_side_validation() -> None:
    a = run(
        make("Receiver", "team-a", "pager", HOOK),
        route("team-a", "regex", "pager", matchers=[{"name": "a", "value": "(", "matchType": "=~"}]),
        route("team-a", "groupby", "pager", routes=[{"groupBy": ["...", "x"]}]),
    )
    assert verdict(a, "AlertRoute", "team-a", "regex").reason == "InvalidSpec"
    v = verdict(a, "AlertRoute", "team-a", "groupby")
    assert v == Verdict(
        False,
        "InvalidConfig",
        "routes[0].groupBy: cannot have wildcard group_by (`...`) and other other labels at the same time",
    )


def test_deleting_resources_are_left_out() -> None:
    a = run(make("Receiver", "team-a", "pager", HOOK, deleting=True), route("team-a", "x", "pager"))
    assert Ref("Receiver", "team-a", "pager") not in a.verdicts
    assert verdict(a, "AlertRoute", "team-a", "x").reason == "ReceiverNotFound"


def test_name_clash_with_the_base_config() -> None:
    base = {**BASE, "receivers": [{"name": "default"}, {"name": "team-a/pager"}]}
    a = run(make("Receiver", "team-a", "pager", HOOK), base=base)
    v = verdict(a, "Receiver", "team-a", "pager")
    assert v.reason == "InvalidConfig" and "not unique" in v.message


def test_extended_base_config() -> None:
    base = {"alerting": dict(BASE), "server": {}}
    a = run(make("Receiver", "team-a", "pager", HOOK), route("team-a", "x", "pager"), base=base)
    assert a.config.extended and verdict(a, "AlertRoute", "team-a", "x").accepted
    assert a.document["alerting"]["route"]["routes"][0]["receiver"] == "team-a/pager"


class ClashingValidator(Validator):
    """Fails any document holding both named receivers, blaming the second one's path."""

    def __call__(self, document: dict[str, Any], source: str) -> Config:
        names = [r["name"] for r in document.get("receivers") or []]
        if "team-a/one" in names and "team-b/two" in names:
            idx = names.index("team-b/two")
            raise ConfigError([ConfigIssue(source, ("receivers", idx, "name"), "clash")])
        return load_document(document, source)


def test_merge_failure_drops_only_the_blamed_resource_and_its_routes() -> None:
    a = assemble(
        BASE,
        [
            make("Receiver", "team-a", "one", HOOK),
            make("Receiver", "team-b", "two", {}),
            route("team-b", "r", "two"),
            route("team-a", "r", "one"),
        ],
        SECRETS,
        enforce=True,
        validate=ClashingValidator(),
    )
    assert verdict(a, "Receiver", "team-b", "two") == Verdict(False, "Conflict", "name: clash")
    assert verdict(a, "AlertRoute", "team-b", "r").reason == "ReceiverNotAccepted"
    assert (
        verdict(a, "Receiver", "team-a", "one").accepted and verdict(a, "AlertRoute", "team-a", "r").accepted
    )


class UnblamableValidator(Validator):
    """Fails when three or more receivers are present, with an issue pointing nowhere."""

    def __call__(self, document: dict[str, Any], source: str) -> Config:
        if len(document.get("receivers") or []) >= 3:
            raise ConfigError([ConfigIssue(source, (), "too many")])
        return load_document(document, source)


def test_unattributable_merge_failure_falls_back_to_one_by_one() -> None:
    a = assemble(
        BASE,
        [make("Receiver", "team-a", "one", HOOK), make("Receiver", "team-a", "two", {})],
        SECRETS,
        enforce=True,
        validate=UnblamableValidator(),
    )
    assert verdict(a, "Receiver", "team-a", "one").accepted
    assert verdict(a, "Receiver", "team-a", "two") == Verdict(False, "Conflict", "too many")
    assert [r.name for r in a.config.alerting.receivers] == ["default", "team-a/one"]


def test_validator_memoizes() -> None:
    v = Validator()
    run_once = assemble(BASE, [make("Receiver", "team-a", "pager", HOOK)], SECRETS, enforce=True, validate=v)
    misses = v.misses
    again = assemble(BASE, [make("Receiver", "team-a", "pager", HOOK)], SECRETS, enforce=True, validate=v)
    assert v.misses == misses and again.digest == run_once.digest
