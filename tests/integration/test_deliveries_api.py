"""/api/ampp/v1/deliveries on a running `ampp serve`: listing, paging, inspecting, errors.

Dead letters and their re-drive end to end: tests/integration/test_durability.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.capture import CaptureServer
from tests.support.eventually import eventually
from tests.support.servers import Server, run_server

pytestmark = pytest.mark.integration

CONFIG = """
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1h
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs: [{{url: "{url}/hook"}}]
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with (
        CaptureServer() as hook,
        run_server("ampp", CONFIG.format(url=hook.url), tmp_path_factory.mktemp("deliveries")) as s,
    ):
        alerts = [{"labels": {"alertname": f"A{i}"}, "annotations": {"summary": "ü"}} for i in range(3)]
        assert httpx.post(f"{s.url}/api/v2/alerts", json=alerts).status_code == 200
        hook.wait_for(3)
        eventually(
            lambda: (
                len(
                    httpx.get(f"{s.url}/api/ampp/v1/deliveries", params={"state": "done"}).json()[
                        "deliveries"
                    ]
                )
                == 3
            ),
            "the three deliveries done",
        )
        yield s


def get(s: Server, path: str = "", **params: str) -> httpx.Response:
    return httpx.get(f"{s.url}/api/ampp/v1/deliveries{path}", params=params)


def test_list_pages_newest_first(server: Server) -> None:
    first = get(server, limit="2").json()
    assert [d["groupLabels"]["alertname"] for d in first["deliveries"]] == ["A2", "A1"]
    assert first["nextCursor"] == str(first["deliveries"][-1]["id"])
    rest = get(server, limit="2", cursor=first["nextCursor"]).json()
    assert [d["groupLabels"]["alertname"] for d in rest["deliveries"]] == ["A0"]
    assert rest["nextCursor"] is None
    d = rest["deliveries"][0]
    assert (d["state"], d["outcome"], d["receiver"], d["integration"], d["index"]) == (
        "done", "sent", "hook", "webhook", 0,
    )  # fmt: skip
    assert (d["firing"], d["resolved"], d["attempts"], d["lastError"]) == (1, 0, 1, None)
    assert d["createdAt"].endswith("Z") and d["nextAttemptAt"] is None
    assert get(server, state="dead").json() == {"deliveries": [], "nextCursor": None}
    assert get(server, receiver="nobody").json()["deliveries"] == []


def test_inspect_one(server: Server) -> None:
    [d] = get(server, limit="1").json()["deliveries"]
    detail = get(server, f"/{d['id']}").json()
    assert detail["id"] == d["id"] and detail["key"]
    assert detail["groupKey"] == '{}:{alertname="A2"}'
    assert detail["sendResolved"] is True and detail["repeatInterval"] == 3600
    [a] = detail["alerts"]
    assert a["labels"] == {"alertname": "A2"} and a["annotations"] == {"summary": "ü"}
    assert a["status"] == "firing" and a["endsAt"] == "0001-01-01T00:00:00.000Z"


@pytest.mark.parametrize(
    ("path", "params", "status", "named"),
    [
        ("", {"state": "lost"}, 400, "state:"),
        ("", {"state": ""}, 400, "state:"),
        ("", {"limit": "0"}, 400, "limit:"),
        ("", {"limit": "5000"}, 400, "limit:"),
        ("", {"cursor": "x"}, 400, "cursor:"),
        ("", {"cursor": str(2**63)}, 400, "cursor:"),
        ("", {"colour": "red"}, 400, "colour:"),
        ("/abc", {}, 400, "id:"),
        ("/999999", {}, 404, "id:"),
        (f"/{2**63 - 1}", {}, 404, "id:"),
        (f"/{2**63}", {}, 400, "id:"),
        ("/99999999999999999999999999999999", {}, 400, "id:"),
    ],
)
def test_bad_requests_name_the_parameter(
    server: Server, path: str, params: dict[str, str], status: int, named: str
) -> None:
    r = get(server, path, **params)
    assert r.status_code == status
    assert r.json().startswith(named), r.json()


def test_redrive_answers(server: Server) -> None:
    [d] = get(server, limit="1").json()["deliveries"]
    base = f"{server.url}/api/ampp/v1/deliveries"
    r = httpx.post(f"{base}/{d['id']}/redrive")
    assert r.status_code == 409 and "is done, not dead" in r.json()
    assert httpx.post(f"{base}/999999/redrive").status_code == 404
    assert httpx.post(f"{base}/x/redrive").status_code == 400
    r = httpx.post(f"{base}/{2**63}/redrive")
    assert r.status_code == 400 and r.json().startswith("id:")
    assert httpx.post(f"{base}/redrive", params={"receiver": "hook"}).json() == {"redriven": 0, "skipped": 0}
    assert httpx.post(f"{base}/redrive", params={"state": "dead"}).status_code == 400


def test_redrive_all_is_post_only(server: Server) -> None:
    """/deliveries/redrive is not a delivery id: other methods are refused with Allow: POST."""
    url = f"{server.url}/api/ampp/v1/deliveries/redrive"
    for method in ("GET", "OPTIONS", "DELETE"):
        r = httpx.request(method, url)
        assert r.status_code == 405, (method, r.status_code, r.text)
        assert r.headers["Allow"] == "POST", (method, r.headers.get("Allow"))


def test_metrics_show_the_queue(server: Server) -> None:
    text = httpx.get(f"{server.url}/metrics").text
    for line in (
        'ampp_delivery_enqueued_total{integration="webhook",outcome="queued"} 3.0',
        "ampp_delivery_inflight 0.0",
        "ampp_delivery_workers 10.0",
        'alertmanager_notifications_total{integration="webhook"} 3.0',
    ):
        assert line in text, line
    assert 'ampp_delivery_duration_seconds_count{integration="webhook"} 3.0' in text
    assert 'ampp_delivery_queue_depth{state="dead"} 0.0' in text
