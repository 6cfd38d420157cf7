"""Hostile request bodies: oversized and gzip bombs leave no memory behind and stall nothing.

Issue 21, item 2: each body refused with 413 used to keep memory for good (five 100 MB bodies:
67 -> 428 MB RSS) and a 1 MB gzip body inflating to 1 GiB was decompressed whole, stalling the
health checks for seconds.
"""

from __future__ import annotations

import socket
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.servers import Server, run_server

pytestmark = pytest.mark.integration

CONFIG = "route: {receiver: blackhole}\nreceivers: [{name: blackhole}]\n"
MiB = 1 << 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with run_server("ampp", CONFIG, tmp_path_factory.mktemp("hostile")) as s:
        yield s


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """About 1 MB of gzip that inflates to 1 GiB of spaces (the issue's reproduction)."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b" " * (16 * MiB)
    out = [c.compress(block) for _ in range(64)]
    return b"".join([*out, c.flush()])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def post_raw(server: Server, headers: dict[str, str], chunks: Iterator[bytes], chunked: bool) -> int | None:
    """POST /api/v2/alerts over a raw socket (no client buffers the body); the status, or None
    if the server closed the connection before its answer could be read."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    head = [f"POST {server.url.split(str(server.port), 1)[1]}/api/v2/alerts HTTP/1.1", "Host: 127.0.0.1"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    if chunked:
        head.append("Transfer-Encoding: chunked")
    try:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        for chunk in chunks:
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
        if chunked:
            sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # refused before the end of the body: the answer may still be readable
    try:
        answer = sock.recv(4096)
    except OSError:
        return None
    finally:
        sock.close()
    return int(answer.split()[1]) if answer.startswith(b"HTTP/1.1 ") else None


class HealthProbe:
    """GET /-/healthy every 20 ms in a thread; the slowest answer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.worst = 0.0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        with httpx.Client(timeout=10) as c:
            while not self._stop.is_set():
                t = time.perf_counter()
                try:
                    status = c.get(f"{self.url}/-/healthy").status_code
                except httpx.HTTPError as e:
                    self.failures.append(repr(e))
                else:
                    if status != 200:
                        self.failures.append(str(status))
                self.worst = max(self.worst, time.perf_counter() - t)
                self._stop.wait(0.02)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_oversized_and_bomb_bodies_leave_no_memory_behind(server: Server, bomb: bytes) -> None:
    alerts = [{"labels": {"alertname": f"Warm{i}", "instance": "x" * 50}} for i in range(200)]
    for _ in range(20):  # warm up: the allocator's and the handlers' first use
        assert httpx.post(f"{server.url}/api/v2/alerts", json=alerts).status_code == 200
    baseline = rss_mib(server.process.pid)
    block = b"[" + b" " * (MiB - 1)
    statuses: list[int | None] = []
    with HealthProbe(server.url) as probe:
        for i in range(20):
            json_headers = {"Content-Type": "application/json"}
            if i % 2:  # announced: refused before it is read
                json_headers["Content-Length"] = str(100 * MiB)
            statuses.append(post_raw(server, json_headers, iter([block] * 100), chunked=i % 2 == 0))
        for i in range(20):
            gz = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
            if i % 2:
                gz["Content-Length"] = str(len(bomb))
            parts = iter([bomb[o : o + MiB] for o in range(0, len(bomb), MiB)])
            statuses.append(post_raw(server, gz, parts, chunked=i % 2 == 0))
    time.sleep(0.5)
    after = rss_mib(server.process.pid)
    assert statuses.count(413) >= 20, statuses  # a refusal may close before the answer is read
    assert set(statuses) <= {413, None}, statuses
    assert not probe.failures, probe.failures[:5]
    assert probe.worst < 0.1, f"a health check took {probe.worst * 1000:.0f} ms"
    assert after - baseline < 50, f"RSS {baseline:.0f} -> {after:.0f} MiB"
    # Still serving, with the same limits for ordinary bodies.
    assert httpx.post(f"{server.url}/api/v2/alerts", json=alerts).status_code == 200


def test_a_gzip_body_within_the_limit_is_read(server: Server) -> None:
    body = zlib.compress(b'[{"labels": {"alertname": "Zipped"}}]', wbits=31)
    r = httpx.post(
        f"{server.url}/api/v2/alerts",
        content=body,
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert r.status_code == 200, r.text
    names = {a["labels"]["alertname"] for a in httpx.get(f"{server.url}/api/v2/alerts").json()}
    assert "Zipped" in names


def test_the_refusal_names_the_limit(server: Server) -> None:
    r = httpx.post(
        f"{server.url}/api/v2/alerts",
        content=b"[" + b" " * (65 * MiB),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert "64 MiB" in r.json(), r.text
