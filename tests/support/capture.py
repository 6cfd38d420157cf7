"""An HTTP server that records every request it receives (a stand-in webhook endpoint).

Runs in a thread so synchronous tests and benchmarks can use it; `status` sets what it
answers, to exercise retries and failures.
"""

from __future__ import annotations

import json
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class CapturedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float

    def json(self) -> Any:
        return json.loads(self.body)


class _Server(ThreadingHTTPServer):
    request_queue_size = 128
    """socketserver's backlog is 5: a burst of connections (a worker pool's sends) would lose
    SYNs and wait a second for the kernel to retry them."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ssl.SSLError):
            return  # a client refused in the handshake (no certificate): what a test may want
        super().handle_error(request, client_address)


@dataclass
class CaptureServer:
    status: int = 200
    response_body: bytes = b"ok"
    delay: float = 0.0
    """Seconds to hold each request before answering (an endpoint that hangs)."""
    tls: ssl.SSLContext | None = None
    """Serve HTTPS with this server context (one that may require client certificates)."""
    requests: list[CapturedRequest] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _cond: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host!s}:{port}"

    def start(self) -> CaptureServer:
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = CapturedRequest(self.command, self.path, dict(self.headers.items()), body, time.time())
                with capture._cond:
                    capture.requests.append(req)
                    capture._cond.notify_all()
                if capture.delay:
                    time.sleep(capture.delay)
                self.send_response(capture.status)
                self.send_header("Content-Length", str(len(capture.response_body)))
                self.end_headers()
                self.wfile.write(capture.response_body)

            do_POST = do_PUT = do_GET = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        if self.tls is not None:  # each connection's handshake on its own thread, at its first read
            self._server.socket = self.tls.wrap_socket(
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def wait_for(self, count: int, timeout: float = 10) -> list[CapturedRequest]:
        """Wait until at least `count` requests arrived; return all received so far."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} requests within {timeout}s, got {len(self.requests)}"
                    )
                self._cond.wait(left)
            return list(self.requests)

    def __enter__(self) -> CaptureServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
