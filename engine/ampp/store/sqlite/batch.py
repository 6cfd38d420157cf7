"""Writing many rows to SQLite in one statement whose only parameter is one JSON text.

Python's sqlite3 module binds parameters while it holds the GIL, then releases the GIL around
``sqlite3_step`` and takes it back afterwards. A writer thread therefore competes with the
event loop for the GIL twice per statement and for the whole time it binds: with ``executemany``
once per row, with a multi-row ``VALUES`` once per parameter (15 for a history event). Here a
batch of any size is one statement with one parameter, the rows as a JSON array, and SQLite
takes the values out of it (``json_each``) inside the step, with the GIL released. Encoding the
array is one orjson call. Measured on the ingest benchmark: 15 % more alerts/s than multi-row
``VALUES``, whose binding was a third of the history thread's time holding the GIL.

Values may be str, int (64-bit), float, bool (stored as 1/0), None, or lists and dicts, which
are stored as their JSON text. Bytes are refused: store them as JSON or text. SQLite's JSON
functions end a string at a NUL character, so the rare batch with one goes through ordinary
parameter binding, row by row.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

import orjson

JSON_NUL = b"\\u0000"
"""How orjson writes a NUL character (a literal backslash before "u0000" also matches: that
batch merely takes the slower path)."""


@functools.lru_cache(maxsize=64)
def _statement(head: str, columns: int, tail: str) -> str:
    picks = ", ".join(f"value->>{i}" for i in range(columns))
    # "WHERE true" tells SQLite's parser that an ON CONFLICT tail is the upsert, not a join.
    return f"{head} SELECT {picks} FROM json_each(?) WHERE true {tail}"


def insert_rows(
    conn: sqlite3.Connection, head: str, rows: Sequence[Sequence[Any]], tail: str = "", *, bind: bool = False
) -> None:
    """Run ``head SELECT <the columns of each row> tail`` over ``rows`` (all of one width), in
    their order (``json_each`` walks the array in order, so rowids follow it). All or nothing,
    also outside a transaction.

    ``head`` is everything before the values (``INSERT INTO t (a, b)``), ``tail`` what comes
    after (``ON CONFLICT ... DO UPDATE ...``). ``bind=True`` binds each row's values instead:
    cheaper in CPU (SQLite before 3.45 parses a row's JSON again for every column), for a
    connection in a process with no event loop to share the GIL with.
    """
    if not rows:
        return
    if not bind:
        data = orjson.dumps(rows)
        if JSON_NUL not in data:
            conn.execute(_statement(head, len(rows[0]), tail), (data.decode(),))
            return
    marks = ",".join("?" * len(rows[0]))
    sql, params = f"{head} VALUES ({marks}) {tail}", [[_plain(v) for v in row] for row in rows]
    with contextlib.nullcontext() if conn.in_transaction else transaction(conn):  # all or nothing
        conn.executemany(sql, params)


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` (the write lock at once), then ``COMMIT``, or ``ROLLBACK`` if the
    block raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _plain(value: Any) -> Any:
    """A value as sqlite3 binds it: lists and dicts as their JSON text."""
    return orjson.dumps(value).decode() if isinstance(value, list | dict) else value
