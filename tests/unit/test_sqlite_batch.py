"""One statement, one JSON parameter: every row written exactly once, in order, values intact."""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson
import pytest
from ampp.store.sqlite.batch import insert_rows
from hypothesis import given
from hypothesis import strategies as st

pytestmark = pytest.mark.unit

_INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
_FLOAT = st.floats(allow_nan=False, allow_infinity=False)
_LABELS = st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4)


def _connect() -> sqlite3.Connection:
    return sqlite3.connect(":memory:", isolation_level=None)


@given(
    st.lists(
        st.tuples(_INT64, st.text(), st.none() | _FLOAT, st.booleans(), st.none() | _LABELS),
        max_size=300,
    )
)
def test_insert_rows_stores_exactly_the_rows_given(
    rows: list[tuple[int, str, float | None, bool, dict[str, str] | None]],
) -> None:
    # st.text() includes NUL, which SQLite's JSON cannot carry: those batches take the other path.
    conn = _connect()
    conn.execute("CREATE TABLE t (n INTEGER, s TEXT, f REAL, b INTEGER, j TEXT)")
    insert_rows(conn, "INSERT INTO t (n, s, f, b, j)", rows)
    got = conn.execute("SELECT n, s, f, b, j FROM t ORDER BY rowid").fetchall()
    want = [(n, s, f, int(b), None if j is None else j) for n, s, f, b, j in rows]
    decoded = [(n, s, f, b, None if j is None else orjson.loads(j)) for n, s, f, b, j in got]
    assert decoded == want


def test_rows_keep_their_order_in_rowids() -> None:
    conn = _connect()
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER)")
    order = [(n * 7919 % 5000,) for n in range(5000)]
    insert_rows(conn, "INSERT INTO t (n)", order)
    assert conn.execute("SELECT n FROM t ORDER BY id").fetchall() == order


def test_upsert_tail_applies_to_every_row() -> None:
    conn = _connect()
    conn.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
    upsert = "ON CONFLICT (k) DO UPDATE SET v = t.v + excluded.v"
    insert_rows(conn, "INSERT INTO t (k, v)", [(k, 1) for k in range(600)], upsert)
    insert_rows(conn, "INSERT INTO t (k, v)", [(k, 10) for k in range(300, 900)], upsert)
    got = dict(conn.execute("SELECT k, v FROM t").fetchall())
    want = {k: (1 if k < 300 else 11 if k < 600 else 10) for k in range(900)}
    assert got == want


def test_a_batch_is_one_statement_and_a_nul_falls_back_to_binding() -> None:
    conn = _connect()
    conn.execute("CREATE TABLE t (a INTEGER, b TEXT, c TEXT)")
    ran: list[str] = []
    conn.set_trace_callback(lambda sql: ran.append(sql) if sql.startswith("INSERT") else None)
    insert_rows(conn, "INSERT INTO t", [(i, f"v{i}", {"i": str(i)}) for i in range(10_000)])
    assert len(ran) == 1, f"10,000 rows took {len(ran)} statements"
    ran.clear()
    rows: list[tuple[Any, ...]] = [(1, "before\x00after", {"k": "a\x00b"}), (2, "plain", [])]
    insert_rows(conn, "INSERT INTO t", rows)
    assert len(ran) == 2, "the batch with a NUL is bound row by row"
    got = conn.execute("SELECT a, b, c FROM t WHERE a < 3 ORDER BY rowid DESC LIMIT 2").fetchall()
    assert sorted(got) == [(1, "before\x00after", '{"k":"a\\u0000b"}'), (2, "plain", "[]")]


def test_bytes_are_refused_rather_than_stored_differently() -> None:
    conn = _connect()
    conn.execute("CREATE TABLE t (b BLOB)")
    with pytest.raises(TypeError):
        insert_rows(conn, "INSERT INTO t", [(b"\x00\x01",)])


@pytest.mark.parametrize("nul", ["", "\x00"], ids=["json", "nul-fallback"])
def test_a_failing_batch_writes_nothing(nul: str) -> None:
    conn = _connect()
    conn.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, s TEXT NOT NULL)")
    with pytest.raises(sqlite3.IntegrityError):
        insert_rows(conn, "INSERT INTO t (k, s)", [(1, f"a{nul}"), (2, "b"), (2, "again")])
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)
    assert not conn.in_transaction
