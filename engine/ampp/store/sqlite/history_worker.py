"""The process that writes history.db: ``python -m ampp.store.sqlite.history_worker PATH NICE LOG_FORMAT``.

History is most of the SQLite work of a new alert (its event, its occurrence, its flapping
state, its label values). In a thread of the engine, that work's Python parts took the GIL
from the event loop; in a process of its own it competes for CPU only, at a lower priority.
The engine (history_writer.HistoryWriter) sends one request at a time on stdin and reads the
reply on stdout, each a pickled frame behind its 4-byte length. Both ends are the same code,
started by the engine itself, so pickle carries exactly the engine's types.

Requests are ``(op, args)``; replies ``(True, result)`` or ``(False, reason)``. A request that
fails rolls its transaction back, so only a process that dies while writing leaves the
engine in doubt; every append therefore stores its batch id in the same transaction, and
``committed`` answers whether a batch id was the last one written.
"""

from __future__ import annotations

import ctypes
import logging
import os
import pickle
import signal
import sqlite3
import struct
import sys
from collections.abc import Callable
from typing import IO, Any

from ... import logs
from ..records import HistoryEvent
from .batch import transaction
from .history import write as history_write

log = logging.getLogger("ampp.history_worker")

FRAME = struct.Struct(">I")
"""Every frame starts with its length."""

LABEL_VALUES_KEPT = 20_000
"""At most this many known label values are remembered; beyond, the memory starts over (and
INSERT OR IGNORE finds the ones already stored). Label values mostly repeat (job, severity,
namespace): a few thousand cover them, and 100,000 held 7 MiB for the rare unique ones."""

CHUNK = 1024
"""Events per statement within an append's transaction."""


def encode(message: Any) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return FRAME.pack(len(data)) + data


def read_frame(stream: IO[bytes]) -> Any | None:
    """The next message, or None at the end of the stream."""
    head = stream.read(FRAME.size)
    if len(head) < FRAME.size:
        return None
    (size,) = FRAME.unpack(head)
    body = stream.read(size)
    if len(body) < size:
        return None
    return pickle.loads(body)


class HistoryWorker:
    """The writes of history.db on one connection; the engine reads it on its own."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.known: set[int] = set()
        """Hashes of the label (name, value) pairs known to be in alert_label_values."""
        self.ops: dict[str, Callable[..., Any]] = {
            "append": self.append,
            "committed": self.committed,
            "delete_before": self.delete_before,
            "prune_label_values": self.prune_label_values,
        }

    def append(self, batch_id: str, rows: list[tuple[Any, ...]]) -> None:
        """Insert the events and bring the summary up to date, in one transaction.

        The statements take CHUNK events at a time: the rows and summary being written weigh
        a quarter of a full batch's, and the one commit still writes each page once.
        """
        added: set[int] = set()
        try:
            with transaction(self.conn):
                for i in range(0, len(rows), CHUNK):
                    part = rows[i : i + CHUNK]
                    history_write.insert_events(self.conn, part)
                    new = history_write.apply(self.conn, [HistoryEvent(*r) for r in part], self.known)
                    hashes = set(map(hash, new))
                    added |= hashes
                    self.known |= hashes  # later chunks need not write them again
                self.conn.execute("UPDATE history_writer SET last_batch = ?", (batch_id,))
        except BaseException:
            self.known -= added  # rolled back: not stored after all
            raise
        if len(self.known) > LABEL_VALUES_KEPT:
            self.known.clear()

    def committed(self, batch_id: str) -> bool:
        row = self.conn.execute("SELECT last_batch FROM history_writer").fetchone()
        return row is not None and row[0] == batch_id

    def delete_before(self, cutoff: int, limit: int) -> int:
        with transaction(self.conn):
            return history_write.delete_before(self.conn, cutoff, limit)

    def prune_label_values(self) -> int:
        with transaction(self.conn):
            n = history_write.prune_label_values(self.conn)
        self.known.clear()  # it may name a value just deleted: appends would not write it again
        return n

    def handle(self, request: Any) -> tuple[bool, Any]:
        try:
            op, args = request
            return True, self.ops[op](*args)
        except Exception as e:
            log.exception("history worker: %s failed", request[0] if isinstance(request, tuple) else request)
            return False, f"{type(e).__name__}: {e}"


def _heap_trimmer() -> Callable[[int], object]:
    """glibc's malloc_trim, or nothing elsewhere.

    A batch of a few thousand events is a few MiB of pickled and unpickled objects; glibc
    keeps the freed memory for later unless told to give it back, and between bursts this
    process would hold its largest batch's worth of memory for nothing.
    """
    try:
        trim: Callable[[int], object] = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return lambda pad: None
    return trim


def serve(path: str, stdin: IO[bytes], stdout: IO[bytes]) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=5000")
    history_write.prepare(conn)
    worker = HistoryWorker(conn)
    stdout.write(encode((True, os.getpid())))  # ready
    stdout.flush()
    trim = _heap_trimmer()
    while (request := read_frame(stdin)) is not None:
        stdout.write(encode(worker.handle(request)))
        stdout.flush()
        trim(0)
    conn.close()


def main() -> int:
    path, nice, log_format = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    # Ctrl-C reaches the whole process group: the engine decides when this process ends, by
    # closing its stdin once the last batch is written.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logs.setup("warn", log_format)  # only failures, in the engine's format on the engine's stderr
    if nice:
        os.nice(nice)
    try:
        serve(path, sys.stdin.buffer, sys.stdout.buffer)
    except BrokenPipeError:  # the engine is gone: what was committed stays committed
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
