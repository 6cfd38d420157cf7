"""Each of config.yaml's server, metrics and logging settings does what its name says, seen
from outside `ampp serve`: where it listens, how long it waits for a body, an answer, or
requests in flight at shutdown, where its metrics are, how it logs."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.eventually import eventually
from tests.support.servers import free_port, run_ampp

pytestmark = pytest.mark.integration

ALERTING = "alerting:\n  route: {receiver: r, group_wait: 1h}\n  receivers: [{name: r}]\n"


@contextlib.contextmanager
def serve(tmp_path: Path, settings: str, *flags: str) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """`ampp serve` on a config.yaml of ``settings``; its address from the file unless a flag says."""
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(settings.replace("PORT", str(port)) + ALERTING)
    log_path = tmp_path / "ampp.log"
    args = [f"--config.file={config}", f"--storage.path={tmp_path / 'data'}", *flags]
    if "address:" not in settings:
        args.append(f"--web.listen-address=127.0.0.1:{port}")
    url = f"http://127.0.0.1:{port}"
    with run_ampp(args, url, log_path) as proc:
        yield url, proc, log_path


def test_server_address_is_where_it_listens(tmp_path: Path) -> None:
    with serve(tmp_path, "server: {address: '127.0.0.1:PORT'}\n") as (url, _, _):
        assert httpx.get(f"{url}/-/healthy", timeout=5).status_code == 200


def test_listen_address_is_the_same_setting(tmp_path: Path) -> None:
    with serve(tmp_path, "server: {listen_address: '127.0.0.1:PORT'}\n") as (url, _, _):
        assert httpx.get(f"{url}/-/healthy", timeout=5).status_code == 200


def partial_post(url: str, path: str, announced: int, sent: bytes) -> socket.socket:
    """A request whose body is announced but only partly sent: the server waits for the rest."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {announced}\r\n\r\n"
    sock.sendall(head.encode() + sent)
    return sock


def answer(sock: socket.socket) -> bytes:
    data = b""
    with contextlib.suppress(OSError):
        while chunk := sock.recv(65536):
            data += chunk
    return data


def test_read_timeout_answers_a_body_that_does_not_arrive(tmp_path: Path) -> None:
    with serve(tmp_path, "server: {read_timeout: 1s}\n") as (url, _, _):
        sock = partial_post(url, "/api/v2/alerts", 1000, b'[{"labels":')
        with sock:
            reply = answer(sock)
        assert reply.startswith(b"HTTP/1.1 408"), reply
        assert b"server.read_timeout (1s)" in reply, reply


def test_write_timeout_answers_a_request_that_takes_too_long(tmp_path: Path) -> None:
    with serve(tmp_path, "server: {write_timeout: 1s}\n") as (url, _, _):
        # hold SQLite's write lock: the POST waits for its alerts to be committed
        lock = sqlite3.connect(tmp_path / "data" / "ampp.db", timeout=5, isolation_level=None)
        try:
            lock.execute("BEGIN EXCLUSIVE")
            alert = [{"labels": {"alertname": "Slow"}}]
            r = httpx.post(f"{url}/api/v2/alerts", json=alert, timeout=30)
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        assert r.status_code == 503 and "server.write_timeout (1s)" in r.text, r.text
        # the event stream stays open longer than write_timeout: reading it times out on our side
        with httpx.stream("GET", f"{url}/api/ampp/v1/events", timeout=3) as stream:
            assert stream.status_code == 200
            with pytest.raises(httpx.ReadTimeout):
                for _ in stream.iter_bytes():
                    pass


def test_shutdown_timeout_bounds_the_wait_for_requests_in_flight(tmp_path: Path) -> None:
    with serve(tmp_path, "server: {shutdown_timeout: 1s}\n") as (url, proc, _):
        sock = partial_post(url, "/api/v2/alerts", 1000, b"[")
        time.sleep(0.3)  # the request is being read
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        waited = time.monotonic() - started
        sock.close()
    assert proc.returncode == 0
    assert waited < 15, f"exited {waited:.1f}s after SIGTERM: the 30s default, not the 1s set"


def test_metrics_path_and_enabled(tmp_path: Path) -> None:
    with serve(tmp_path, "metrics: {path: /internal/metrics}\n") as (url, _, _):
        assert "alertmanager_build_info" in httpx.get(f"{url}/internal/metrics", timeout=5).text
        assert httpx.get(f"{url}/metrics", timeout=5).status_code == 404
    with serve(tmp_path, "metrics: {enabled: false}\n") as (url, _, _):
        assert httpx.get(f"{url}/metrics", timeout=5).status_code == 404


def test_logging_format_and_level_from_the_file(tmp_path: Path) -> None:
    with serve(tmp_path, "logging: {level: debug, format: json}\n") as (url, _, log_path):
        httpx.post(f"{url}/-/reload", timeout=10)
        eventually(lambda: "Completed loading" in log_path.read_text(), "the reload logged")
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    assert {"debug", "info"} <= {line["level"] for line in lines}, lines
    # the flag wins over the file
    with serve(
        tmp_path, "logging: {level: debug, format: json}\n", "--log.format=text", "--log.level=info"
    ) as (
        url,
        _,
        _,
    ):
        httpx.get(f"{url}/api/v2/status", timeout=5)
    tail = log_path.read_text().splitlines()[len(lines) :]
    assert tail and all(line.startswith("ts=") and "level=debug" not in line for line in tail), tail


def test_a_reload_says_which_settings_wait_for_a_restart(tmp_path: Path) -> None:
    with serve(tmp_path, "server: {read_timeout: 5s}\n") as (url, _, log_path):
        config = tmp_path / "config.yaml"
        config.write_text(config.read_text().replace("read_timeout: 5s", "read_timeout: 9s"))
        assert httpx.post(f"{url}/-/reload", timeout=10).status_code == 200
        eventually(lambda: "restart to apply them: server" in log_path.read_text(), "the warning")
