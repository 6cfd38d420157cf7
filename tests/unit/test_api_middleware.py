"""What every request goes through: Alertmanager's per-handler histograms, and a 500 with a
message instead of a traceback when a handler fails unexpectedly."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from ampp.api.keys import ENGINE
from prometheus_client import generate_latest

from tests.support.apps import build_app

pytestmark = pytest.mark.unit


async def test_an_unexpected_error_is_a_500_that_says_so_and_is_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = build_app(tmp_path, "/am")

    async def broken(request: web.Request) -> web.Response:
        raise KeyError("no such thing")

    app.router.add_get("/am/broken", broken)
    async with TestClient(TestServer(app)) as client:
        r = await client.get("/am/broken")
        assert r.status == 500
        assert "internal error; see the server log" in await r.text()
        assert "Traceback" not in await r.text()
        for _ in range(2):
            assert (await client.get("/am/-/healthy")).status == 200
        assert (await client.get("/am/api/v2/status/nowhere")).status == 404
    assert "unhandled error serving GET /am/broken" in caplog.text
    metrics = generate_latest(app[ENGINE].metrics.registry).decode()
    durations = "alertmanager_http_request_duration_seconds_count"
    assert f'{durations}{{handler="/broken",method="get"}} 1.0' in metrics
    assert f'{durations}{{handler="/-/healthy",method="get"}} 2.0' in metrics
    assert 'alertmanager_http_response_size_bytes_count{handler="/broken",method="get"} 1.0' in metrics
    assert "nowhere" not in metrics, "an unmatched path became a label value"
