"""A TCP port forwarder: lets a config that names a fixed address (the specification's
``localhost:5432``) reach the test services on their own ports, with the config unchanged."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # connections in TIME_WAIT do not count
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def forward(listen_port: int, target: tuple[str, int], host: str = "127.0.0.1") -> Iterator[None]:
    """Accept on ``host:listen_port`` and relay each connection to ``target`` until the block ends."""
    server = socket.create_server((host, listen_port), reuse_port=False)
    server.settimeout(0.2)
    stop = threading.Event()
    conns: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            client.settimeout(None)
            conns.extend((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)
        server.close()
        for c in conns:
            with contextlib.suppress(OSError):
                c.close()
