"""Inhibition as inhibit/inhibit.go defines it."""

from __future__ import annotations

import pytest
from ampp.model.alert import Alert
from ampp.model.matchers import parse_matchers
from ampp.model.timefmt import NS, ZERO, now_ns
from ampp.mute.inhibit import Inhibitor, InhibitRule
from ampp.mute.marker import Marker
from hypothesis import given
from hypothesis import strategies as st

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


_LABELS = st.fixed_dictionaries(
    {"severity": st.sampled_from(["critical", "warning"])},
    optional={"cluster": st.sampled_from(["", "a", "b"]), "team": st.sampled_from(["x", "y"])},
)


@given(
    st.lists(st.tuples(_LABELS, st.booleans()), max_size=25),
    st.lists(st.integers(min_value=0, max_value=24), max_size=10),
    st.lists(_LABELS, min_size=1, max_size=10),
)
def test_the_sources_index_answers_as_a_scan_of_every_source(
    sources: list[tuple[dict[str, str], bool]], forgotten: list[int], targets: list[dict[str, str]]
) -> None:
    """Bucketing sources by their equal labels finds a muting source exactly when a scan of
    all of them (inhibit.go's hasEqual) does, including after sources are forgotten."""
    rule = InhibitRule(parse_matchers('severity="critical"'), parse_matchers('team="x"'), ["cluster", "team"])
    seen: dict[int, Alert] = {}
    for labels, resolved in sources:
        a = alert(labels, resolved)
        rule.observe(a)
        if labels["severity"] == "critical":
            seen[a.fingerprint] = a
    for i in forgotten:
        if i < len(sources):
            fp = alert(sources[i][0]).fingerprint
            rule.forget(fp)
            seen.pop(fp, None)
    now = now_ns()
    for labels in targets:
        two_sided = labels["severity"] == "critical"
        found = rule.has_equal(labels, two_sided, now)
        eligible = {
            fp
            for fp, a in seen.items()
            if not a.resolved_at(now)
            and all(a.labels.get(n, "") == labels.get(n, "") for n in ("cluster", "team"))
            and not (two_sided and a.labels.get("team") == "x")
        }
        assert (found is None) == (not eligible), f"{labels}: found {found}, eligible {eligible}"
        assert found is None or found in eligible
