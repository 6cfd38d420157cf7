"""Each vendor's documented sample is detected as that vendor and mapped by the documented
table: alertname, severity (critical/warning/info), status, times, the vendor's ids as labels."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from ampp.ingest.formats import FORMATS, NAMES, FormatError, Incoming, detect
from ampp.ingest.formats.base import label_name, timestamp
from ampp.model.severity import severity
from ampp.model.timefmt import parse_rfc3339
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support import webhook_samples as s

pytestmark = pytest.mark.unit

# (sample, headers, format, [(labels subset, status)])
CASES: list[tuple[str, Any, dict[str, str], str, list[tuple[dict[str, str], str]]]] = [
    ("alertmanager", s.ALERTMANAGER, {}, "alertmanager",
     [({"alertname": "ProbeFailure", "severity": "critical", "job": "http_checks"}, "firing")]),
    ("prometheus", s.POSTABLE_ALERTS, {}, "prometheus", [({"alertname": "ProbeFailure"}, "firing")]),
    ("grafana", s.GRAFANA, {}, "grafana",
     [({"alertname": "High memory usage", "zone": "us-1"}, "firing"),
      ({"alertname": "High CPU usage", "zone": "eu-1"}, "firing")]),
    ("grafana-legacy", s.GRAFANA_LEGACY, {}, "grafana-legacy",
     [({"alertname": "Panel Title alert", "severity": "critical", "rule_id": "1", "tag_name": "tag value"},
       "firing")]),
    ("datadog", s.DATADOG, {}, "datadog",
     [({"alertname": "[Triggered on {host:ip-012345}] Host is Down", "severity": "critical", "monitor_id": "1234",  # noqa: E501
        "host": "my-host", "availability_zone": "us-east-1a", "role": "computing-node"}, "firing")]),
    ("azure", s.AZURE, {}, "azure",
     [({"alertname": "WCUS-R2-Gen2", "severity": "info", "signal_type": "Metric",
        "resource": "wcus-r2-gen2"}, "resolved")]),
    ("gcp", s.GCP, {}, "gcp",
     [({"alertname": "CPU Usage", "incident_id": "0.lsnwib31sglo", "resource_type": "gce_instance"}, "firing")]),  # noqa: E501
    ("sentry-issue", s.SENTRY_ISSUE_ALERT, {"sentry-hook-resource": "event_alert"}, "sentry",
     [({"alertname": "Very Important Alert Rule!", "issue_id": "1117540176"}, "firing")]),
    ("sentry-metric", s.SENTRY_METRIC_ALERT, {"sentry-hook-resource": "metric_alert"}, "sentry",
     [({"alertname": "SentryMetricAlert", "severity": "info"}, "resolved")]),
    ("pagerduty", s.PAGERDUTY, {}, "pagerduty",
     [({"alertname": "A little bump in the road", "severity": "critical", "incident_id": "PGR0VU2",
        "service": "API Service"}, "firing")]),
    ("opsgenie", s.OPSGENIE, {}, "opsgenie",
     [({"alertname": "test alert", "alert_id": "052652ac-5d1c-464a-812a-7dd18bbfba8c", "alias": "aliastest"},
       "firing")]),
    ("newrelic", s.NEWRELIC, {}, "newrelic",
     [({"alertname": "Memory high", "severity": "critical", "issue_id": "d1b1f3fd-995a-4066-88ab-8ce4f6960654"},  # noqa: E501
       "firing")]),
    ("zabbix", s.ZABBIX, {}, "zabbix",
     [({"alertname": "High CPU utilization", "severity": "critical", "host": "web-01", "trigger_id": "23456",
        "component": "cpu"}, "firing")]),
    ("pingdom", s.PINGDOM, {}, "pingdom",
     [({"alertname": "Name of HTTP check", "severity": "critical", "check_id": "12345"}, "firing")]),
    ("splunk", s.SPLUNK, {}, "splunk",
     [({"alertname": "SplunkAlert", "app": "search", "owner": "admin"}, "firing")]),
    ("dynatrace", s.DYNATRACE, {}, "dynatrace",
     [({"alertname": "Dynatrace problem notification test run", "severity": "critical",
        "problem_id": "99999999999999999"}, "firing")]),
    ("alerta", s.ALERTA, {}, "alerta",
     [({"alertname": "NodeDown", "resource": "web01", "environment": "Production", "severity": "critical"},
       "firing")]),
    ("keep", s.KEEP, {}, "keep",
     [({"alertname": "Pod 'api-service-production' lacks memory", "severity": "critical",
        "keep_fingerprint": "1234", "pod": "api-service-production"}, "firing")]),
]  # fmt: skip


@pytest.mark.parametrize(("case", "body", "headers", "name", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_documented_sample_is_detected_and_mapped(
    case: str, body: Any, headers: dict[str, str], name: str, expected: list[tuple[dict[str, str], str]]
) -> None:
    body = orjson.loads(orjson.dumps(body))  # as the API sees it
    fmt = detect(body, headers)
    assert fmt is not None and fmt.name == name
    parsed = fmt.parse(body, headers)
    alerts = [a for a in parsed.items if isinstance(a, Incoming)]
    assert len(alerts) == len(parsed.items) == len(expected)
    for alert, (labels, status) in zip(alerts, expected, strict=True):
        assert labels.items() <= alert.labels.items(), alert.labels
        assert alert.status == status
        if name not in ("alertmanager", "prometheus", "grafana"):  # their labels are kept as sent
            assert alert.labels["severity"] in ("critical", "warning", "info")
        assert all(label_name(k) == k for k in alert.labels)


def test_every_format_has_a_documented_sample() -> None:
    assert {c[3] for c in CASES} >= set(NAMES) - {"sns"}  # SNS: tests/integration/test_webhook_sns.py


def test_times_come_from_the_payload() -> None:
    az = detect(s.AZURE, {}).parse(s.AZURE, {}).items[0]  # type: ignore[union-attr]
    assert isinstance(az, Incoming)
    assert az.starts_at == parse_rfc3339("2019-03-22T13:58:24.3713213Z")
    assert az.ends_at == parse_rfc3339("2019-03-22T14:03:16.2246313Z")
    dd = detect(s.DATADOG, {}).parse(s.DATADOG, {}).items[0]  # type: ignore[union-attr]
    assert isinstance(dd, Incoming) and dd.starts_at == 1406662672000 * 1_000_000
    pd = detect(s.PINGDOM, {}).parse(s.PINGDOM, {}).items[0]  # type: ignore[union-attr]
    assert isinstance(pd, Incoming) and pd.starts_at == 1451610061 * 1_000_000_000


def test_resolving_events_resolve() -> None:
    cases = [
        (s.DATADOG, {"alert_transition": "Recovered", "alert_type": "success"}),
        (s.PINGDOM, {"current_state": "UP", "previous_state": "DOWN"}),
        (s.NEWRELIC, {"state": "CLOSED"}),
        (s.KEEP, {"status": "resolved"}),
        (s.ALERTA, {"severity": "normal"}),
        (s.DYNATRACE, {"State": "RESOLVED"}),
        (s.OPSGENIE, {"action": "Close"}),
        (s.ZABBIX, {"EVENT.VALUE": "0"}),
        (s.GRAFANA_LEGACY, {"state": "ok"}),
    ]
    for sample, change in cases:
        body = {**copy.deepcopy(sample), **change}
        fmt = detect(body, {})
        assert fmt is not None
        item = fmt.parse(body, {}).items[0]
        assert isinstance(item, Incoming) and item.status == "resolved", fmt.name
    gcp = copy.deepcopy(s.GCP)
    gcp["incident"].update(state="closed", ended_at=1602000900)
    item = detect(gcp, {}).parse(gcp, {}).items[0]  # type: ignore[union-attr]
    assert isinstance(item, Incoming) and item.status == "resolved" and item.ends_at == 1602000900 * 10**9
    pd = copy.deepcopy(s.PAGERDUTY)
    pd["event"]["event_type"] = "incident.resolved"
    item = detect(pd, {}).parse(pd, {}).items[0]  # type: ignore[union-attr]
    assert isinstance(item, Incoming) and item.status == "resolved"


def test_a_missing_required_field_is_named() -> None:
    body = copy.deepcopy(s.AZURE)
    del body["data"]["essentials"]["alertRule"]
    fmt = detect(body, {})
    assert fmt is not None
    with pytest.raises(FormatError) as e:
        fmt.parse(body, {})
    assert e.value.field == "data.essentials.alertRule"
    body2 = copy.deepcopy(s.PINGDOM)
    del body2["check_name"]
    with pytest.raises(FormatError, match="check_name: is required"):
        detect(body2, {}).parse(body2, {})  # type: ignore[union-attr]


def test_one_bad_alert_of_a_batch_is_refused_alone() -> None:
    body = copy.deepcopy(s.GRAFANA)
    body["alerts"][1]["labels"] = "not an object"
    items = detect(body, {}).parse(body, {}).items  # type: ignore[union-attr]
    assert isinstance(items[0], Incoming)
    assert isinstance(items[1], FormatError) and items[1].field == "alerts[1].labels"


def test_severity_table() -> None:
    assert [severity(w) for w in ("Sev0", "P1", "Disaster", "HIGH", "fatal")] == ["critical"] * 5
    assert [severity(w) for w in ("Sev2", "P3", "Average", "warn", "minor")] == ["warning"] * 5
    assert [severity(w) for w in ("Sev4", "P5", "Information", "low", "ok")] == ["info"] * 5
    assert severity("something else") == "warning" and severity(None, "info") == "info"


def test_timestamps_in_the_spellings_vendors_use() -> None:
    ref = parse_rfc3339("2015-06-03T17:43:27.123Z")
    assert timestamp("2015-06-03T17:43:27.123+0000", "t") == ref
    assert timestamp(1433353407123, "t") == ref
    assert timestamp(1433353407.5, "t") == 1433353407500000000
    assert timestamp(1433353407, "t") == 1433353407 * 10**9
    assert timestamp("0001-01-01T00:00:00Z", "t") is None
    with pytest.raises(FormatError, match="is not a timestamp"):
        timestamp("yesterday", "t")


@pytest.mark.parametrize("empty", [None, "", [], [""]])
def test_an_id_that_would_be_an_empty_label_is_a_missing_field(empty: Any) -> None:
    """Found by the mutation test below: a Pingdom check_id of [] passed as present, then
    the event id could not be made (KeyError, a 500 at the API)."""
    pingdom = copy.deepcopy(s.PINGDOM) | {"check_id": empty}
    with pytest.raises(FormatError, match="check_id"):
        detect_and_parse(pingdom)
    opsgenie = copy.deepcopy(s.OPSGENIE)
    opsgenie["alert"]["alertId"] = empty
    with pytest.raises(FormatError, match="alertId"):
        detect_and_parse(opsgenie)


def detect_and_parse(body: Any) -> None:
    for fmt in FORMATS:
        if fmt.detect(body, {}):
            fmt.parse(body, {})


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([c[1] for c in CASES]), st.data())
def test_mutated_samples_parse_or_name_a_field(sample: Any, data: st.DataObject) -> None:
    """Any value in any place: a mapping either maps the body or raises FormatError, never
    another exception (which the API would turn into a 500)."""
    body = copy.deepcopy(sample)
    target = body[0] if isinstance(body, list) else body
    key = data.draw(st.sampled_from(sorted(target)))
    target[key] = data.draw(JSON)
    for fmt in FORMATS:
        if fmt.detect(body, {}):
            try:
                fmt.parse(body, {})
            except FormatError:
                pass
