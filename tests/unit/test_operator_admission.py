"""Admission review: what CEL cannot check is refused with the status' message; missing
references and integrations this engine cannot send yet are warnings."""

from __future__ import annotations

from typing import Any

import pytest
from ampp_operator.admission import review
from ampp_operator.assemble import Validator
from ampp_operator.resources import Ref, Resource, make

pytestmark = pytest.mark.unit

BASE: dict[str, Any] = {"route": {"receiver": "default"}, "receivers": [{"name": "default"}]}


def check(res: Resource, *known: Resource) -> tuple[list[str], list[str]]:
    r = review(res, base=BASE, known={k.ref: k for k in known}, enforce=True, validate=Validator())
    return r.errors, r.warnings


def test_valid_route_with_existing_references() -> None:
    route = make("AlertRoute", "a", "r", {"receiver": "pager", "muteTimeIntervals": ["nights"]})
    assert check(route, make("Receiver", "a", "pager", {}), make("TimeInterval", "a", "nights", {})) == (
        [],
        [],
    )


def test_missing_references_are_warnings_only() -> None:
    route = make("AlertRoute", "a", "r", {"receiver": "pager", "muteTimeIntervals": ["nights"]})
    errors, warnings = check(route, make("Receiver", "b", "pager", {}))
    assert errors == []
    assert warnings == [
        "Receiver a/pager does not exist (yet): the route waits for it",
        "TimeInterval a/nights does not exist (yet): the route waits for it",
    ]


def test_go_regex_and_engine_validation_are_errors() -> None:
    bad_regex = make(
        "AlertRoute",
        "a",
        "r",
        {"receiver": "p", "matchers": [{"name": "x", "value": "a(?=b)", "matchType": "=~"}]},
    )
    errors, _ = check(bad_regex)
    assert len(errors) == 1 and "matchers[0]" in errors[0] and "regexp" in errors[0]
    bad_group = make("AlertRoute", "a", "r", {"receiver": "p", "routes": [{"groupInterval": "0s"}]})
    errors, _ = check(bad_group)
    assert errors == ["routes[0]: group_interval cannot be zero"]
    assert check(make("TimeInterval", "a", "t", {"timeIntervals": [{"location": "Mars/Olympus"}]}))[0]
    assert check(
        make(
            "Silence",
            "a",
            "s",
            {"matchers": [{"name": "a", "value": "[", "matchType": "=~"}], "duration": "1h", "comment": "c"},
        )
    )[0]


def test_receivers_are_checked_without_reading_secrets() -> None:
    ok = make(
        "Receiver",
        "a",
        "r",
        {"webhookConfigs": [{"url": {"name": "not-read", "key": "url"}, "maxAlerts": 1}]},
    )
    assert check(ok) == ([], [])
    mail = make("Receiver", "a", "m", {"emailConfigs": [{"to": "x@example.com"}]})
    assert check(mail)[0] == ["emailConfigs[0]: no global SMTP smarthost set"]
    http = {"basicAuth": {"username": "u"}, "authorization": {"credentials": {"name": "s", "key": "t"}}}
    auth = make(
        "Receiver", "a", "t", {"webhookConfigs": [{"url": {"name": "s", "key": "k"}, "httpConfig": http}]}
    )
    assert check(auth)[0] == [
        "webhookConfigs[0].httpConfig: at most one of basic_auth, oauth2 & authorization must be configured"
    ]


def test_unsupported_integration_is_a_warning() -> None:
    slack = make("Receiver", "a", "s", {"slackConfigs": [{"apiUrl": {"name": "s", "key": "url"}}]})
    errors, warnings = check(slack)
    assert errors == []
    assert warnings == [] or "slack_configs" in warnings[0]


def test_resources_being_deleted_pass() -> None:
    bad = make(
        "AlertRoute",
        "a",
        "r",
        {"receiver": "p", "matchers": [{"name": "x", "value": "(", "matchType": "=~"}]},
        deleting=True,
    )
    assert check(bad) == ([], [])
    assert Ref("AlertRoute", "a", "r") == bad.ref
