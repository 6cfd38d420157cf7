"""Multi-row statements write every row exactly once, from a small fixed set of statements."""

from __future__ import annotations

import sqlite3

import pytest
from ampp.store import sqlite_batch
from ampp.store.sqlite_batch import MAX_CHUNK, chunks, insert_rows, statement_count
from hypothesis import given
from hypothesis import strategies as st

pytestmark = pytest.mark.unit


@given(st.integers(min_value=0, max_value=5 * MAX_CHUNK))
def test_chunks_cover_every_row_once_in_power_of_two_sizes(n: int) -> None:
    parts = list(chunks(n))
    covered = [i for start, size in parts for i in range(start, start + size)]
    assert covered == list(range(n)), f"chunks of {n} rows: {parts}"
    for _, size in parts:
        assert size & (size - 1) == 0 and size <= MAX_CHUNK, f"chunk of {size} rows for {n}"
    # At most one chunk of each size below the maximum: a bounded number of statements.
    small = [size for _, size in parts if size < MAX_CHUNK]
    assert len(small) == len(set(small)), f"{n} rows cut into {parts}"


@given(
    st.lists(
        st.tuples(st.integers(min_value=-(2**63), max_value=2**63 - 1), st.text(), st.none() | st.binary()),
        max_size=700,
    )
)
def test_insert_rows_stores_exactly_the_rows_given(rows: list[tuple[int, str, bytes | None]]) -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE t (n INTEGER, s TEXT, b BLOB)")
    insert_rows(conn, "INSERT INTO t (n, s, b)", rows)
    assert conn.execute("SELECT n, s, b FROM t ORDER BY rowid").fetchall() == rows


def test_upsert_tail_applies_to_every_chunk() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
    upsert = "ON CONFLICT (k) DO UPDATE SET v = t.v + excluded.v"
    insert_rows(conn, "INSERT INTO t (k, v)", [(k, 1) for k in range(600)], upsert)
    insert_rows(conn, "INSERT INTO t (k, v)", [(k, 10) for k in range(300, 900)], upsert)
    got = dict(conn.execute("SELECT k, v FROM t").fetchall())
    want = {k: (1 if k < 300 else 11 if k < 600 else 10) for k in range(900)}
    assert got == want


def test_statements_come_from_a_small_fixed_set() -> None:
    sqlite_batch._statement.cache_clear()
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE t (n INTEGER)")
    for n in range(1, 2 * MAX_CHUNK + 1):
        insert_rows(conn, "INSERT INTO t (n)", [(i,) for i in range(n)])
    # One statement per power of two up to MAX_CHUNK, whatever the batch sizes were.
    assert sqlite_batch._statement.cache_info().currsize == MAX_CHUNK.bit_length()


def test_chunks_fit_the_librarys_parameter_limit() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)  # SQLite before 3.32
    conn.execute("CREATE TABLE t (a, b, c, d, e, f, g, h, i, j, k, l, m, n, o)")
    rows = [tuple(range(i, i + 15)) for i in range(1000)]
    insert_rows(conn, "INSERT INTO t", rows)  # 15 columns: at most 32 rows (480 parameters) a statement
    assert conn.execute("SELECT count(*), sum(a) FROM t").fetchone() == (1000, sum(range(1000)))


def test_statement_count_is_what_insert_rows_runs() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE t (a, b)")
    ran: list[str] = []
    conn.set_trace_callback(lambda sql: ran.append(sql) if sql.startswith("INSERT") else None)
    for n in (0, 1, 3, 512, 700):
        ran.clear()
        rows = [(i, i) for i in range(n)]
        insert_rows(conn, "INSERT INTO t", rows)
        assert statement_count(conn, rows) == len(ran), f"{n} rows"
