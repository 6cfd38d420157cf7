"""The dashboard's server side without a browser: its files (gzip, ETag, CSP, no traversal,
under a route prefix) and the live change stream (/api/ampp/v1/events)."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from ampp.api import stream
from ampp.api.keys import ENGINE
from ampp.model.alert import Alert
from ampp.model.matchers import parse_matcher
from ampp.model.silence import Silence
from ampp.model.timefmt import NS, now_ns

from tests.support.apps import build_app

pytestmark = pytest.mark.unit

UI = Path(__file__).resolve().parents[2] / "engine" / "ampp" / "api" / "ui"


async def test_the_page_and_its_files_are_served_gzipped_with_etags_under_the_prefix(tmp_path: Path) -> None:
    app = build_app(tmp_path, "/am")
    async with TestClient(TestServer(app)) as client:
        r = await client.get("/am/", headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
        assert r.status == 200
        assert r.headers["Content-Encoding"] == "gzip"
        assert r.headers["Content-Type"].startswith("text/html")
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]
        page = gzip.decompress(await r.read()).decode()
        assert page == (UI / "index.html").read_text()
        assert 'src="ui/js/app.js"' in page, "URLs are relative, so any prefix works"

        js = await client.get("/am/ui/js/app.js")
        assert js.status == 200 and js.headers["Content-Type"].startswith("text/javascript")
        assert await js.text() == (UI / "js" / "app.js").read_text()
        again = await client.get("/am/ui/js/app.js", headers={"If-None-Match": js.headers["ETag"]})
        assert again.status == 304

        assert (await client.get("/am/ui/../app.py")).status == 404
        assert (await client.get("/am/ui/js/nothing.js")).status == 404
        bare = await client.get("/am", allow_redirects=False)
        assert bare.status == 302 and bare.headers["Location"] == "/am/"
        root = await client.get("/", allow_redirects=False)
        assert root.status == 302 and root.headers["Location"] == "/am/"


async def _read_event(resp: object) -> tuple[str, str]:
    """The next event (name, data) of an SSE stream, skipping comments and the retry line."""
    name, data = "", ""
    content = resp.content  # type: ignore[attr-defined]
    async with asyncio.timeout(3.0):
        while True:
            line = (await content.readline()).decode().rstrip("\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
            elif line == "" and name:
                return name, data


async def test_the_stream_announces_alert_and_silence_changes_coalesced(tmp_path: Path) -> None:
    app = build_app(tmp_path)
    engine = app[ENGINE]
    await engine.storage.open()  # silences are saved as they change
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/api/ampp/v1/events")
        assert resp.headers["Content-Type"] == "text/event-stream"
        assert await _read_event(resp) == ("hello", '{"alerts":0,"silences":0}')

        now = now_ns()
        engine.alerts.put(
            [Alert({"alertname": f"A{i}"}, {}, now, now + 300 * NS, "", now) for i in range(50)]
        )
        assert await _read_event(resp) == ("change", '{"alerts":50,"silences":0}'), "50 puts, one event"

        sil = Silence("", [parse_matcher("alertname=A1")], now, now + 3600 * NS, 0, "me", "why")
        sid = await engine.silences.set(sil)
        assert await _read_event(resp) == ("change", '{"alerts":50,"silences":1}')
        await engine.silences.expire(sid)
        assert await _read_event(resp) == ("change", '{"alerts":50,"silences":2}')
        resp.close()
    await engine.storage.close()


async def test_shutdown_ends_open_streams(tmp_path: Path) -> None:
    app = build_app(tmp_path)
    server = TestServer(app)
    client = TestClient(server)
    await client.start_server()
    resp = await client.get("/api/ampp/v1/events")
    await _read_event(resp)
    started = asyncio.get_running_loop().time()
    await client.close()  # the app's on_shutdown ends the stream; the server need not wait
    assert asyncio.get_running_loop().time() - started < stream.HEARTBEAT_S


def test_the_whole_dashboard_weighs_less_than_300_kb_compressed() -> None:
    """Every file a visit can load (all pages' modules, not just the first), gzipped as served."""
    total = sum(len(gzip.compress(p.read_bytes(), 9)) for p in UI.rglob("*") if p.is_file())
    assert total < 300 * 1024, f"{total} bytes"


def test_the_dashboard_loads_nothing_from_another_origin() -> None:
    for p in UI.rglob("*"):
        if p.is_file():
            text = p.read_text()
            for needle in ("http://", "https://", "//fonts.", "@import"):
                assert needle not in text.replace("http://www.w3.org/2000/svg", ""), f"{p.name}: {needle}"
