"""POST /webhook through the HTTP API of a started engine: every vendor's sample is stored as
an alert like /api/v2/alerts stores one; the answers (200, 207, 400, 404, 413), configured
sources, and resends made harmless by Idempotency-Key or the vendor's delivery id."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from prometheus_client import generate_latest

from tests.support import webhook_samples as s
from tests.support.engine_app import engine_client
from tests.unit.test_webhook_formats import CASES

pytestmark = pytest.mark.unit

CONFIG = """
webhook:
  max_body_bytes: 65536
  sources:
    shipments:
      items: "$.events[*]"
      labels:
        alertname: "{{ item.kind | upper }}"
        severity: "$.level"
        shipment: "$.id"
      annotations:
        summary: "Shipment {{ item.id }} is {{ item.kind }}"
      status: "$.state"
      starts_at: "$.at"
alerting:
  route: {receiver: default, group_by: [alertname]}
  receivers: [{name: default}]
"""


async def alerts(client: Any) -> list[dict[str, Any]]:
    r = await client.get("/api/v2/alerts")
    assert r.status == 200
    return orjson.loads(await r.read())  # type: ignore[no-any-return]


@pytest.mark.parametrize(("case", "body", "headers", "name", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_each_sample_becomes_alerts_with_a_source_label(
    tmp_path: Path, case: str, body: Any, headers: dict[str, str], name: str, expected: list[Any]
) -> None:
    async with engine_client(tmp_path, CONFIG) as (_, client):
        r = await client.post("/webhook", data=orjson.dumps(body), headers=headers)
        answer = orjson.loads(await r.read())
        assert r.status == 200, answer
        assert answer["format"] == name and answer["accepted"] == len(expected)
        stored = {a["fingerprint"]: a for a in await alerts(client)}
        for result, (labels, _status) in zip(answer["results"], expected, strict=True):
            alert = stored.get(result["fingerprint"])
            if alert is None:  # resolved before now: kept but not listed as active
                assert result["alertStatus"] == "resolved"
                continue
            assert labels.items() <= alert["labels"].items()
            assert alert["labels"]["source"] == name


async def test_a_webhook_alert_is_the_alert_v2_stores(tmp_path: Path) -> None:
    """Same body, both ways in: the same alert (fingerprint, times, annotations)."""
    body = copy.deepcopy(s.POSTABLE_ALERTS)
    async with engine_client(tmp_path, CONFIG) as (engine, client):
        r = await client.post("/webhook", json=body)
        assert r.status == 200
        fp = orjson.loads(await r.read())["results"][0]["fingerprint"]
        via_webhook = engine.alerts.get(int(fp, 16))
        body[0]["labels"]["source"] = "prometheus"
        assert (await client.post("/api/v2/alerts", json=body)).status == 200
        via_v2 = engine.alerts.get(int(fp, 16))
        assert via_v2 is not None and via_webhook is not None
        assert (via_v2.labels, via_v2.annotations, via_v2.starts_at, via_v2.generator_url) == (
            via_webhook.labels,
            via_webhook.annotations,
            via_webhook.starts_at,
            via_webhook.generator_url,
        )
        assert engine.runtime.dispatcher.groups, "the alert did not reach the dispatcher"


async def test_a_body_of_no_known_format_is_a_400_listing_the_formats_tried(tmp_path: Path) -> None:
    async with engine_client(tmp_path, CONFIG) as (_, client):
        r = await client.post("/webhook", json={"hello": "world"})
        answer = orjson.loads(await r.read())
        assert r.status == 400
        assert "matches no known format" in answer["error"]
        assert {"alertmanager", "datadog", "sns", "keep", "zabbix"} <= set(answer["tried"])
        r = await client.post("/webhook", data=b"{not json")
        assert r.status == 400 and "not valid JSON" in orjson.loads(await r.read())["error"]


async def test_a_known_format_with_a_bad_field_is_a_400_naming_it(tmp_path: Path) -> None:
    body = copy.deepcopy(s.AZURE)
    body["data"]["essentials"]["firedDateTime"] = "yesterday"
    async with engine_client(tmp_path, CONFIG) as (_, client):
        r = await client.post("/webhook", json=body)
        answer = orjson.loads(await r.read())
        assert r.status == 400
        assert answer["field"] == "data.essentials.firedDateTime" and answer["format"] == "azure"


async def test_some_refused_alerts_give_a_207_with_one_entry_per_item(tmp_path: Path) -> None:
    body = copy.deepcopy(s.GRAFANA)
    body["alerts"][0]["labels"] = {"0bad": "x"}
    async with engine_client(tmp_path, CONFIG) as (_, client):
        r = await client.post("/webhook", json=body)
        answer = orjson.loads(await r.read())
        assert r.status == 207, answer
        first, second = answer["results"]
        assert first["index"] == 0 and first["status"] == "refused" and "0bad" in first["error"]
        assert second["index"] == 1 and second["status"] == "accepted"
        body["alerts"][1]["labels"] = "nope"
        r = await client.post("/webhook", json=body)
        assert r.status == 400 and orjson.loads(await r.read())["refused"] == 2


async def test_a_too_large_body_is_a_413(tmp_path: Path) -> None:
    body = copy.deepcopy(s.KEEP)
    body["description"] = "x" * 70_000
    async with engine_client(tmp_path, CONFIG) as (_, client):
        r = await client.post("/webhook", json=body)
        assert r.status == 413 and "larger than 65536 bytes" in orjson.loads(await r.read())["error"]

        async def chunks() -> Any:  # no Content-Length: counted while reading
            for _ in range(20):
                yield b" " * 4096

        r = await client.post("/webhook", data=chunks())
        assert r.status == 413


async def test_a_resend_with_the_same_idempotency_key_is_not_applied_again(tmp_path: Path) -> None:
    async with engine_client(tmp_path, CONFIG) as (engine, client):
        headers = {"Idempotency-Key": "delivery-1"}
        first = await client.post("/webhook", json=s.KEEP, headers=headers)
        again = await client.post("/webhook", json=s.KEEP, headers=headers)
        assert first.status == again.status == 200
        assert await first.read() == await again.read()
        assert again.headers["Idempotent-Replayed"] == "true"
        metrics = generate_latest(engine.metrics.registry).decode()
        assert 'alertmanager_alerts_received_total{status="firing"} 1.0' in metrics
        other = await client.post("/webhook", json=s.KEEP, headers={"Idempotency-Key": "delivery-2"})
        assert "Idempotent-Replayed" not in other.headers


async def test_the_vendors_own_delivery_id_makes_a_resend_harmless(tmp_path: Path) -> None:
    async with engine_client(tmp_path, CONFIG) as (engine, client):
        for _ in range(3):
            r = await client.post("/webhook", json=s.PAGERDUTY)
            assert r.status == 200
        metrics = generate_latest(engine.metrics.registry).decode()
        assert 'alertmanager_alerts_received_total{status="firing"} 1.0' in metrics
        assert 'ampp_webhook_requests_total{code="200",format="pagerduty"} 3.0' in metrics


async def test_a_configured_source_maps_json_by_path_or_header(tmp_path: Path) -> None:
    body = {
        "events": [
            {
                "id": "S-1",
                "kind": "delayed",
                "level": "warning",
                "state": "open",
                "at": "2024-01-02T03:04:05Z",
            },
            {"id": "S-2", "kind": "lost", "level": "critical", "state": "open"},
            {"id": "S-3", "kind": "", "level": "info"},
        ]
    }
    async with engine_client(tmp_path, CONFIG) as (_, client):
        r = await client.post("/webhook/shipments", json=body)
        answer = orjson.loads(await r.read())
        assert r.status == 207, answer
        assert [x["status"] for x in answer["results"]] == ["accepted", "accepted", "refused"]
        assert (
            answer["results"][2]["error"]
            == "shipments: items[2].labels.alertname: the mapping gave no alertname"
        )
        by_name = {a["labels"]["alertname"]: a for a in await alerts(client)}
        delayed = by_name["DELAYED"]
        assert delayed["labels"] == {
            "alertname": "DELAYED", "severity": "warning", "shipment": "S-1", "source": "shipments",
        }  # fmt: skip
        assert delayed["annotations"] == {"summary": "Shipment S-1 is delayed"}
        assert delayed["startsAt"] == "2024-01-02T03:04:05.000Z"
        r = await client.post(
            "/webhook", json={"events": [body["events"][1]]}, headers={"X-Ampp-Source": "shipments"}
        )
        assert r.status == 200
        r = await client.post("/webhook/nowhere", json=body)
        answer = orjson.loads(await r.read())
        assert r.status == 404 and "shipments" in answer["sources"] and "datadog" in answer["sources"]
        r = await client.post("/webhook/datadog", json=s.DATADOG)  # a format named: no detection
        assert r.status == 200 and orjson.loads(await r.read())["format"] == "datadog"


async def test_a_bad_mapping_expression_is_a_config_error_naming_it(tmp_path: Path) -> None:
    from ampp.config.errors import ConfigError
    from ampp.config.loader import load_file

    cfg = tmp_path / "config.yml"
    cfg.write_text(CONFIG.replace('"$.level"', '"$.level["'), encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_file(str(cfg))
    assert "webhook.sources.shipments.labels.severity" in str(e.value)
    assert "invalid JSONPath" in str(e.value)


def _mutations(seed: int, count: int) -> list[Any]:
    """Vendor samples with values replaced by random JSON (a fixed seed: the same run each time)."""
    import random

    rng = random.Random(seed)
    samples = [c[1] for c in CASES]

    def value(depth: int = 0) -> Any:
        kind = rng.randrange(8 if depth < 2 else 5)
        makers: list[Callable[[], Any]] = [
            lambda: None,
            lambda: rng.choice([True, False]),
            lambda: rng.randint(-(2**63), 2**63 - 1),
            lambda: rng.choice(["", "x", "resolved", "ALARM", "2021-10-12T09:51:03Z", "\x00", "0bad", "P1"]),
            lambda: rng.random() * 1e12,
            lambda: [value(depth + 1) for _ in range(rng.randrange(3))],
            lambda: {rng.choice(["labels", "alerts", "event", "data", "a"]): value(depth + 1)},
            lambda: {"labels": {"alertname": value(depth + 1)}},
        ]
        return makers[kind]()

    out = []
    for _ in range(count):
        body = copy.deepcopy(rng.choice(samples))
        for _ in range(rng.randrange(1, 4)):
            target = body[0] if isinstance(body, list) else body
            while isinstance(target, dict) and target and rng.random() < 0.5:
                inner = target[rng.choice(sorted(target))]
                if not isinstance(inner, dict) or not inner:
                    break
                target = inner
            if isinstance(target, dict) and target:
                target[rng.choice(sorted(target))] = value()
        out.append(body)
    return out


async def test_mangled_vendor_bodies_never_get_a_500(tmp_path: Path) -> None:
    async with engine_client(tmp_path, CONFIG) as (_, client):
        for body in _mutations(seed=15, count=400):
            r = await client.post("/webhook", data=orjson.dumps(body))
            assert r.status in (200, 207, 400, 403, 404), (r.status, await r.text(), body)


async def test_firing_alerts_of_senders_that_do_not_repeat_them_last_event_resolve_timeout(
    tmp_path: Path,
) -> None:
    """Prometheus re-sends every evaluation (resolve_timeout, 5m by default); Datadog does not
    (webhook.event_resolve_timeout, 24h), so its alert does not resolve between notifications."""
    from ampp.model.timefmt import NS, now_ns

    async with engine_client(tmp_path, CONFIG) as (engine, client):
        fps = {}
        for name, body in (("prometheus", s.POSTABLE_ALERTS), ("datadog", s.DATADOG)):
            r = await client.post("/webhook", json=body)
            fps[name] = int(orjson.loads(await r.read())["results"][0]["fingerprint"], 16)
        now = now_ns()
        prometheus, datadog = engine.alerts.get(fps["prometheus"]), engine.alerts.get(fps["datadog"])
        assert abs(prometheus.ends_at - (now + 300 * NS)) < 60 * NS and prometheus.timeout
        assert abs(datadog.ends_at - (now + 86400 * NS)) < 60 * NS and datadog.timeout
