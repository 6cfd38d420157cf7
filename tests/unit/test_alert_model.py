"""Alert merge rules, validation and ordering, as Alertmanager's types package defines them."""

from __future__ import annotations

import pytest
from ampp.model.alert import Alert, sort_alerts
from ampp.model.timefmt import NS, ZERO, format_rfc3339millis, format_rfc3339nano, now_ns, parse_rfc3339
from hypothesis import given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.unit


def a(labels: dict[str, str], starts: int, ends: int, updated: int, timeout: bool = False) -> Alert:
    return Alert(dict(labels), {}, starts, ends, "", updated, timeout)


def test_merge_younger_wins_but_earliest_start_kept() -> None:
    now = now_ns()
    old = a({"x": "1"}, now - 100 * NS, now + 300 * NS, now - 50 * NS)
    new = a({"x": "1"}, now - 10 * NS, now + 200 * NS, now)
    m = old.merge(new)
    assert m.starts_at == old.starts_at
    assert m.updated_at == new.updated_at


def test_merge_later_explicit_end_beats_timeout_end() -> None:
    now = now_ns()
    explicit = a({"x": "1"}, now - 100 * NS, now + 900 * NS, now - 50 * NS, timeout=False)
    timed = a({"x": "1"}, now - 100 * NS, now + 300 * NS, now, timeout=True)
    assert explicit.merge(timed).ends_at == explicit.ends_at
    timed_old = a({"x": "1"}, now - 100 * NS, now + 900 * NS, now - 50 * NS, timeout=True)
    assert timed_old.merge(timed).ends_at == timed.ends_at


def test_merge_resolved_keeps_latest_resolution() -> None:
    now = now_ns()
    r1 = a({"x": "1"}, now - 100 * NS, now - 5 * NS, now - 50 * NS)
    r2 = a({"x": "1"}, now - 100 * NS, now - 20 * NS, now)
    assert r1.merge(r2).ends_at == r1.ends_at


@pytest.mark.parametrize(
    ("labels", "starts", "ends", "message"),
    [
        ({"a": "b"}, ZERO, ZERO, "start time missing"),
        ({"a": "b"}, 10, 5, "start time must be before end time"),
        ({}, 10, 20, "at least one label pair required"),
        ({"0a": "b"}, 10, 20, 'invalid label set: invalid name "0a"'),
    ],
)
def test_validate(labels: dict[str, str], starts: int, ends: int, message: str) -> None:
    assert a(labels, starts, ends, 1).validate() == message


def test_sort_by_job_instance_then_labels() -> None:
    x = a({"job": "b", "z": "1"}, 1, 2, 1)
    y = a({"job": "a", "z": "2"}, 1, 2, 1)
    z = a({"z": "0"}, 1, 2, 1)
    w = a({"instance": "i", "job": "a"}, 1, 2, 1)
    # Alerts with a job come first, ordered by it; among equal jobs one with an instance first.
    assert sort_alerts([x, z, y, w]) == [w, y, x, z]


def test_time_formats_match_go() -> None:
    ns = parse_rfc3339("2024-01-02T03:04:05.120000000Z")
    assert format_rfc3339nano(ns) == "2024-01-02T03:04:05.12Z"
    assert format_rfc3339millis(ns) == "2024-01-02T03:04:05.120Z"
    assert format_rfc3339nano(ZERO) == "0001-01-01T00:00:00Z"
    assert parse_rfc3339("2024-01-02T05:04:05+02:00") == parse_rfc3339("2024-01-02T03:04:05Z")


def _fnv_by_definition(labels: dict[str, str]) -> int:
    """Alertmanager's definition, byte by byte: FNV-1a 64 over name 0xff value 0xff, by name.
    Lone surrogates U+DC80..U+DCFF stand for the invalid UTF-8 bytes 0x80..0xff."""
    h = 0xCBF29CE484222325
    for name in sorted(labels):
        for part in (name, labels[name]):
            for b in part.encode("utf-8", "surrogateescape") + b"\xff":
                h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


_tricky = st.text(st.sampled_from("a\x00\xff\u00ff\udc80\udcff\U0001f642 "), max_size=5)


@given(st.dictionaries(st.one_of(_tricky, st.text(max_size=8)), st.one_of(_tricky, st.text(
    st.characters(exclude_categories=["Cs"]), max_size=12)), max_size=6))  # fmt: skip
def test_fingerprint_is_fnv_over_the_label_bytes(labels: dict[str, str]) -> None:
    """Both ways fingerprint() computes (NUL separators, and surrogateescape when a NUL or a
    surrogate is in the labels) give the hash of the bytes Alertmanager hashes."""
    from ampp.model.fingerprint import fingerprint

    assert fingerprint(labels) == _fnv_by_definition(labels)


_names = st.sampled_from(["job", "instance", "a", "ab", "abc", "b", "z", "alertname", "é"])
_values = st.sampled_from(["", "0", "1", "10", "a", "b", "ä"])


@given(st.lists(st.dictionaries(_names, _values, max_size=5), max_size=12))
@settings(max_examples=300, deadline=None)
def test_the_sort_key_orders_as_alertmanagers_comparison(label_sets: list[dict[str, str]]) -> None:
    """sort_alerts sorts by key; Alertmanager's AlertSlice compares pairwise (_alert_cmp)."""
    import functools

    from ampp.model.alert import _alert_cmp

    alerts = [Alert(labels) for labels in label_sets]
    by_key = [a.labels for a in sort_alerts(alerts)]
    by_cmp = [a.labels for a in sorted(alerts, key=functools.cmp_to_key(_alert_cmp))]
    assert by_key == by_cmp
