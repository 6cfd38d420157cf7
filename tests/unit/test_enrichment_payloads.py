"""Where a flush's AI enrichment travels: the delivery queue's job (so a retry after a restart
renders what the flush had, merges included), template.Data (``.Enrichment`` of the group and
of each alert, never printed by ``{{ . }}``) and the webhook JSON (an ``enrichment`` per alert
only while enrichment is on)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from ampp.model.alert import Alert
from ampp.model.timefmt import NS, ZERO, now_ns
from ampp.notify.delivery import FlushPolicy, decode, new_delivery
from ampp.notify.stage import FlushContext
from ampp.notify.templates import Templates, template_data

pytestmark = pytest.mark.unit

GOOD = {
    "severity": "critical",
    "summary": "db-1 refuses connections",
    "suggested_action": "Restart the pooler",
    "confidence": 0.8,
    "provider": "openai",
    "model": "gpt-4o-mini",
    "cached": False,
    "source": "llm",
}


class Hook:
    """An integration as the delivery queue's jobs name it; never sent to here."""

    name = "webhook"
    index = 0
    send_resolved = True

    async def notify(self, ctx: FlushContext, alerts: Sequence[Alert]) -> None:
        raise AssertionError("a payload test sends nothing")


def alert(name: str, resolved: bool = False) -> Alert:
    now = now_ns()
    return Alert(
        {"alertname": name, "instance": f"{name}-1"}, {}, now - 60 * NS, now - NS if resolved else ZERO
    )


def flush(alerts: list[Alert], enrichment: dict[int, Any] | None) -> FlushContext:
    now = now_ns()
    return FlushContext(
        "{}:{}",
        {},
        "r",
        3600,
        now,
        firing=tuple(a.fingerprint for a in alerts if not a.resolved_at(now)),
        resolved=tuple(a.fingerprint for a in alerts if a.resolved_at(now)),
        enrichment=enrichment,
    )


def test_the_job_carries_the_enrichment_only_while_it_is_on() -> None:
    a, b = alert("A"), alert("B")
    job = new_delivery(flush([a, b], {a.fingerprint: GOOD, b.fingerprint: None}), Hook(), "r", [a, b])
    ctx, _ = decode(job.payload)
    assert ctx.enrichment == {a.fingerprint: GOOD, b.fingerprint: None}
    off = new_delivery(flush([a, b], None), Hook(), "r", [a, b])
    assert "enrichment" not in off.payload
    assert decode(off.payload)[0].enrichment is None


def test_a_merge_keeps_what_the_carried_over_alerts_were_told() -> None:
    a, b = alert("A"), alert("B", resolved=True)
    older = new_delivery(flush([a, b], {a.fingerprint: GOOD, b.fingerprint: GOOD}), Hook(), "r", [a, b])
    other = {**GOOD, "summary": "newer"}
    newer = new_delivery(flush([a], {a.fingerprint: other}), Hook(), "r", [a])
    merged = FlushPolicy(0).merge(newer, [older.payload])
    ctx, alerts = decode(merged.payload)
    assert {x.fingerprint for x in alerts} == {a.fingerprint, b.fingerprint}
    assert ctx.enrichment == {a.fingerprint: other, b.fingerprint: GOOD}


def test_template_data_gives_the_group_and_each_alert_their_enrichment() -> None:
    a, b = alert("A"), alert("B")
    t = Templates.load([])
    now = now_ns()
    shared = template_data(
        "r", {}, [a, b], "http://am", now, {a.fingerprint: GOOD, b.fingerprint: dict(GOOD)}
    )
    assert t.render(
        "{{ .Enrichment.Summary }}|{{ range .Alerts }}{{ .Enrichment.Severity }} {{ end }}", shared
    ) == ("db-1 refuses connections|critical critical ")
    apart = template_data("r", {}, [a, b], "http://am", now, {a.fingerprint: GOOD, b.fingerprint: None})
    assert t.render("{{ if .Enrichment }}group{{ else }}none{{ end }}", apart) == "none"
    assert t.render(
        "{{ range .Alerts }}{{ with .Enrichment }}{{ .SuggestedAction }}{{ end }};{{ end }}", apart
    ) == ("Restart the pooler;;")
    off = template_data("r", {}, [a, b], "http://am", now)
    printed = "{{ . }}|{{ index .Alerts 0 }}"
    assert t.render(printed, shared) == t.render(printed, off), "{{ . }} prints what Alertmanager prints"


def test_the_webhook_json_has_an_enrichment_per_alert_only_while_it_is_on() -> None:
    a, b = alert("A"), alert("B")
    now = now_ns()
    on = template_data("r", {}, [a, b], "", now, {a.fingerprint: GOOD, b.fingerprint: None}).to_json()
    assert [x["enrichment"] for x in on["alerts"]] == [GOOD, None]
    off = template_data("r", {}, [a, b], "", now).to_json()
    assert all("enrichment" not in x for x in off["alerts"])
    assert {k: v for k, v in on.items() if k != "alerts"} == {k: v for k, v in off.items() if k != "alerts"}


def test_from_dict_reads_a_payloads_enrichment_for_amtool_style_rendering() -> None:
    from ampp.notify.templates import TemplateData

    a = alert("A")
    payload = template_data("r", {}, [a], "", now_ns(), {a.fingerprint: GOOD}).to_json()
    data = TemplateData.from_dict(payload)
    assert data.enrichment is not None and data.enrichment.summary == GOOD["summary"]
    assert data.to_json() == payload
