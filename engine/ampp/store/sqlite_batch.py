"""Writing many rows to SQLite in few statements.

Python's sqlite3 module releases the GIL around every ``sqlite3_step`` and takes it back
afterwards. ``executemany`` steps once per row, so a writer thread hands the GIL back and
forth once per row; while the event loop is busy parsing alerts, each of those hand-offs waits
for it, and a 400-row write that SQLite does in 4 ms took over 20 ms. A multi-row ``VALUES`` is one
step per statement: the thread waits for the GIL a handful of times per batch instead of once
per row.

Statements are cached by the sqlite3 module per SQL text, so batches are cut into chunks
whose sizes are powers of two: a batch of any size uses at most ``log2(MAX_CHUNK) + 1``
statements, drawn from a small fixed set.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

MAX_CHUNK = 512
"""Rows per statement at most; fewer when the library's parameter limit asks (``_most``)."""


@functools.lru_cache(maxsize=256)
def _statement(head: str, columns: int, rows: int, tail: str) -> str:
    row = "(" + ",".join("?" * columns) + ")"
    return f"{head} VALUES {','.join([row] * rows)} {tail}"


def chunks(n: int, most: int = MAX_CHUNK) -> Iterator[tuple[int, int]]:
    """(start, size) slices of ``n`` rows: the largest power-of-two chunks first, none over
    ``most`` (a power of two)."""
    start = 0
    while start < n:
        size = min(most, 1 << ((n - start).bit_length() - 1))
        yield start, size
        start += size


def _most(conn: sqlite3.Connection, width: int) -> int:
    """Rows per statement: SQLite before 3.32 allowed 999 parameters a statement, later ones
    32,766 (or what the build set), and a chunk never needs more than the library takes."""
    fit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width
    return min(MAX_CHUNK, 1 << (fit.bit_length() - 1))


def statement_count(conn: sqlite3.Connection, rows: Sequence[Sequence[Any]]) -> int:
    """How many statements ``insert_rows`` runs for ``rows``."""
    return len(list(chunks(len(rows), _most(conn, len(rows[0]))))) if rows else 0


def insert_rows(conn: sqlite3.Connection, head: str, rows: Sequence[Sequence[Any]], tail: str = "") -> None:
    """Run ``head VALUES (...), (...) tail`` over ``rows`` (all of one width).

    ``head`` is everything before ``VALUES`` (``INSERT INTO t (a, b)``), ``tail`` what comes
    after (``ON CONFLICT ... DO UPDATE ...``).
    """
    if not rows:
        return
    width = len(rows[0])
    for start, size in chunks(len(rows), _most(conn, width)):
        params = [value for row in rows[start : start + size] for value in row]
        conn.execute(_statement(head, width, size, tail), params)
