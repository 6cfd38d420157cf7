"""SIGTERM while notifications are in flight: every notification at least once, and none that
was answered before the exit sent again.

Issue 21, item 6 (and issue 13's exit time): a shutdown gives the sends in flight a second; a
send the endpoint answers meanwhile is recorded, one cut off is sent again after the restart.
How long the exit takes is bench.py's to measure.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.support.capture import CaptureServer
from tests.support.eventually import eventually
from tests.support.servers import Server, free_port, run_server

pytestmark = pytest.mark.integration

GROUPS = 20


def config(url: str) -> str:
    return f"""
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


def per_group(hook: CaptureServer) -> Counter[str]:
    return Counter(r.json()["groupLabels"]["alertname"] for r in hook.requests)


def terminate(s: Server) -> None:
    s.process.send_signal(signal.SIGTERM)
    s.process.wait(30)
    assert s.process.returncode == 0, s.log()[-2000:]


@pytest.mark.parametrize("answer_after", [0.3, 5.0], ids=["answered-within-the-grace", "endpoint-hangs"])
def test_sigterm_mid_send_then_restart(tmp_path: Path, answer_after: float) -> None:
    storage, port = tmp_path / "data", free_port()
    with CaptureServer(delay=answer_after) as hook:
        with run_server("ampp", config(hook.url), tmp_path / "a", storage_path=storage, port=port) as s:
            alerts = [{"labels": {"alertname": f"G{i}"}} for i in range(GROUPS)]
            assert httpx.post(f"{s.url}/api/v2/alerts", json=alerts).status_code == 200
            hook.wait_for(10, timeout=10)  # the worker pool's 10 sends are in flight
            terminate(s)
        in_flight = set(per_group(hook))
        hook.delay = 0
        with run_server("ampp", config(hook.url), tmp_path / "b", storage_path=storage, port=port) as s:
            eventually(lambda: len(per_group(hook)) == GROUPS, "every group notified", within=30)
            time.sleep(1)  # anything sent twice would arrive by now
            terminate(s)
    counts = per_group(hook)
    assert set(counts) == {f"G{i}" for i in range(GROUPS)}, f"groups never notified: {counts}"
    if answer_after < 1:
        twice = {g: n for g, n in counts.items() if n > 1}
        assert not twice, f"answered before the exit, yet sent again after the restart: {twice}"
    else:
        assert all(counts[g] == 2 for g in in_flight), counts  # cut off: sent again, at least once
