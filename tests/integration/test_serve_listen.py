"""`ampp serve` listens before it loads anything: early requests wait instead of being refused."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support.eventually import eventually
from tests.support.servers import ampp_command, free_port

pytestmark = pytest.mark.integration

CONFIG = """
route: {receiver: hook}
receivers: [{name: hook, webhook_configs: [{url: "http://127.0.0.1:1/hook"}]}]
"""


def start(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    cfg = tmp_path / "alertmanager.yml"
    cfg.write_text(CONFIG)
    return subprocess.Popen(
        [*ampp_command(), "--config.file", str(cfg), "--storage.path", str(tmp_path / "data"),
         "--web.listen-address", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def stop(proc: subprocess.Popen[bytes]) -> str:
    proc.terminate()
    out, _ = proc.communicate(timeout=20)
    return out.decode(errors="replace")


def test_a_request_made_during_start_up_is_answered(tmp_path: Path) -> None:
    port = free_port()
    proc = start(tmp_path, port)
    try:

        def listening() -> bool:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except ConnectionRefusedError:
                return False
            return True

        # the socket is bound within milliseconds; the engine takes longer
        eventually(listening, "ampp serve to listen", interval=0.005)
        r = httpx.get(f"http://127.0.0.1:{port}/api/v2/status", timeout=10)
        assert r.status_code == 200, r.text
        assert r.json()["config"]["original"].startswith("global:")
    finally:
        stop(proc)


def test_a_busy_listen_address_is_a_clear_error(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        proc = start(tmp_path, port)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 1
    text = out.decode()
    assert f"--web.listen-address 127.0.0.1:{port} failed" in text, text
    assert "Address already in use" in text, text
    assert "Traceback" not in text, text
