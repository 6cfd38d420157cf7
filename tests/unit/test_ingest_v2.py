"""POST /api/v2/alerts bodies into alerts: labels kept exactly (empty values dropped, as
Alertmanager's removeEmptyLabels does), shared label values held once, each refused alert
named by its position."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from ampp.ingest.v2 import parse_postable_alerts
from ampp.model.timefmt import NS
from hypothesis import given
from hypothesis import strategies as st

pytestmark = pytest.mark.unit

NOW = 1_700_000_000 * NS
HOUR = 3600 * NS


def parse(body: list[Any]) -> Any:
    """As the API does: from the JSON text, so the parser sees what orjson builds."""
    return parse_postable_alerts(orjson.loads(orjson.dumps(body)), NOW, HOUR)


NAMES = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]*", fullmatch=True)
VALUES = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))


@given(st.dictionaries(NAMES, VALUES, min_size=1))
def test_labels_are_kept_as_sent_but_for_empty_values(labels: dict[str, str]) -> None:
    batch = parse([{"labels": labels}])
    kept = {k: v for k, v in labels.items() if v}
    if not kept:
        assert batch.errors and not batch.alerts
        return
    assert not batch.errors, batch.errors
    assert batch.alerts[0].labels == kept


def test_alerts_of_separate_requests_share_their_equal_label_values() -> None:
    """100,000 alerts each holding its own "prod", "node", "critical"... cost tens of MiB."""
    first = parse([{"labels": {"alertname": "Down", "job": "node-exporter", "instance": "a:9100"}}])
    second = parse([{"labels": {"alertname": "Down", "job": "node-exporter", "instance": "b:9100"}}])
    a, b = first.alerts[0].labels, second.alerts[0].labels
    assert a["job"] is b["job"] and a["alertname"] is b["alertname"], "equal label values are held twice"
    assert (a["instance"], b["instance"]) == ("a:9100", "b:9100")


def test_refused_alerts_are_named_and_the_others_kept() -> None:
    batch = parse([
        {"labels": {"alertname": "A"}},
        {"labels": {"alertname": 1}},
        {"annotations": {}},
        {"labels": {"alertname": "B"}, "startsAt": "yesterday"},
        {"labels": {"alertname": "C"}},
    ])  # fmt: skip
    assert [a.labels["alertname"] for a in batch.alerts] == ["A", "C"]
    assert batch.errors == [
        "alert 2 of 5: labels must be an object of string values",
        "alert 3 of 5: labels in body is required",
        batch.errors[2],
    ]
    assert batch.errors[2].startswith("alert 4 of 5: startsAt: "), batch.errors[2]


def test_an_alert_without_end_times_out_after_resolve_timeout() -> None:
    (alert,) = parse([{"labels": {"alertname": "A"}}]).alerts
    assert (alert.starts_at, alert.ends_at, alert.timeout) == (NOW, NOW + HOUR, True)
