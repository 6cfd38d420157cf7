"""Route tree: matching order, continue, inheritance and route keys as Alertmanager builds them."""

from __future__ import annotations

import pytest
import yaml
from ampp.config.model import RouteConfig
from ampp.dispatch.route import Route, build_route

pytestmark = pytest.mark.unit

TREE = """
receiver: default
group_by: [alertname]
group_wait: 10s
routes:
  - matchers: ['team="a"']
    receiver: team-a
    continue: true
    routes:
      - match: {severity: critical}
        receiver: team-a-pager
        group_by: ['...']
  - match_re: {team: "a|b"}
    receiver: team-ab
    group_interval: 1m
  - matchers: ['team="c"']
    receiver: team-c
    mute_time_intervals: [weekend]
"""


def tree() -> Route:
    return build_route(RouteConfig.model_validate(yaml.safe_load(TREE)))


def receivers(labels: dict[str, str]) -> list[str]:
    return [r.opts.receiver for r in tree().match(labels)]


def test_first_match_wins_unless_continue() -> None:
    assert receivers({"team": "a"}) == ["team-a", "team-ab"]
    assert receivers({"team": "a", "severity": "critical"}) == ["team-a-pager", "team-ab"]
    assert receivers({"team": "b"}) == ["team-ab"]
    assert receivers({"team": "z"}) == ["default"]


def test_inheritance() -> None:
    root = tree()
    a, ab, c = root.routes
    assert a.opts.group_wait == 10 and a.opts.group_by == frozenset({"alertname"})
    assert a.routes[0].opts.group_by_all
    assert ab.opts.group_interval == 60 and ab.opts.repeat_interval == 4 * 3600
    assert c.opts.mute_time_intervals == ("weekend",)
    # mute_time_intervals are not inherited
    assert root.opts.mute_time_intervals == ()


def test_route_keys_match_alertmanager() -> None:
    root = tree()
    assert root.key() == "{}"
    assert root.routes[0].key() == '{}/{team="a"}'
    assert root.routes[0].routes[0].key() == '{}/{team="a"}/{severity="critical"}'
    # match_re values are anchored by config.Regexp before becoming matchers
    assert root.routes[1].key() == '{}/{team=~"^(?:a|b)$"}'


def test_group_labels() -> None:
    root = tree()
    assert root.group_labels({"alertname": "x", "job": "y"}) == {"alertname": "x"}
    assert root.routes[0].routes[0].group_labels({"a": "1", "b": "2"}) == {"a": "1", "b": "2"}
