"""Inhibition as inhibit/inhibit.go defines it."""

from __future__ import annotations

import pytest
from ampp.config.matchers import parse_matchers
from ampp.model.alert import Alert
from ampp.model.timefmt import NS, ZERO, now_ns
from ampp.mute.inhibit import Inhibitor, InhibitRule
from ampp.mute.marker import Marker

pytestmark = pytest.mark.unit


def alert(labels: dict[str, str], resolved: bool = False) -> Alert:
    now = now_ns()
    return Alert(labels, {}, now - 60 * NS, now - NS if resolved else ZERO, "", now)


def inhibitor(source: str, target: str, equal: list[str]) -> tuple[Inhibitor, Marker]:
    marker = Marker()
    return Inhibitor([InhibitRule(parse_matchers(source), parse_matchers(target), equal)], marker), marker


def test_source_inhibits_target_with_equal_labels() -> None:
    inh, marker = inhibitor('severity="critical"', 'severity="warning"', ["cluster"])
    src = alert({"alertname": "Down", "severity": "critical", "cluster": "a"})
    inh.observe(src)
    target = {"alertname": "Slow", "severity": "warning", "cluster": "a"}
    assert inh.mutes(target)
    assert marker.status(alert(target).fingerprint).inhibited_by == [f"{src.fingerprint:016x}"]
    assert not inh.mutes({"alertname": "Slow", "severity": "warning", "cluster": "b"})


def test_missing_equal_labels_count_as_empty() -> None:
    inh, _ = inhibitor('severity="critical"', 'severity="warning"', ["cluster"])
    inh.observe(alert({"severity": "critical"}))
    assert inh.mutes({"severity": "warning"})
    assert not inh.mutes({"severity": "warning", "cluster": "x"})


def test_resolved_sources_do_not_inhibit() -> None:
    inh, _ = inhibitor('severity="critical"', 'severity="warning"', [])
    inh.observe(alert({"severity": "critical"}, resolved=True))
    assert not inh.mutes({"severity": "warning"})


def test_an_alert_never_inhibits_itself() -> None:
    # matches both sides: it must not inhibit itself, nor other alerts matching both sides
    inh, _ = inhibitor('team="x"', 'team="x"', [])
    a = alert({"team": "x", "alertname": "A"})
    inh.observe(a)
    assert not inh.mutes(a.labels)
    assert not inh.mutes({"team": "x", "alertname": "B"})
