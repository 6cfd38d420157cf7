"""The delivery queue's hot queries on SQLite read indexes, never the rows' payloads.

Issue 21, item 1: under sustained load half the engine's time went to claiming. A row's columns
after its payload (the state, the target) are reached through the payload's overflow pages, a
megabyte for a group of 2,000 alerts, and the claim's check for an older live row of the same
target read every done row of it that way. These plans, checked on a real SQLite with the
engine's migrations, keep the claim, the idle poll and the enqueue's look-up on indexes; the
timing is in ``bench.py --soak``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from ampp.store.sqlite import delivery
from ampp.store.sqlite.schema import STATE_MIGRATIONS, migrate

pytestmark = pytest.mark.unit


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    c = sqlite3.connect(tmp_path / "ampp.db", isolation_level=None)
    migrate(c, STATE_MIGRATIONS)
    big = '"' + "x" * 100_000 + '"'
    rows = [
        (f"k{i}", big, "done" if i < 400 else "pending", f"g{i % 20}", "hook", "webhook", 0)
        for i in range(420)
    ]
    c.executemany(
        "INSERT INTO delivery_queue (key, payload, state, attempts, next_attempt_at, created_at, updated_at,"
        " group_key, receiver, integration, idx) VALUES (?, ?, ?, 0, 1, 1, 1, ?, ?, ?, ?)",
        rows,
    )
    c.execute("ANALYZE")
    return c


def plan(c: sqlite3.Connection, sql: str, *args: object) -> list[str]:
    return [row[3] for row in c.execute("EXPLAIN QUERY PLAN " + sql, args).fetchall()]


def test_finding_claimable_rows_reads_covering_indexes_only(conn: sqlite3.Connection) -> None:
    steps = [
        r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + delivery._CLAIMABLE, {"now": 10, "limit": 10})
    ]
    searches = [s for s in steps if s.startswith(("SEARCH", "SCAN delivery_queue"))]
    assert searches, steps
    for s in searches:
        assert "USING COVERING INDEX" in s, steps
    assert any("delivery_queue_live_target" in s for s in searches), steps


def test_the_next_due_time_reads_an_index(conn: sqlite3.Connection) -> None:
    [step] = plan(
        conn,
        "SELECT MIN(next_attempt_at) FROM delivery_queue INDEXED BY delivery_queue_due_target"
        " WHERE state = 'pending' AND next_attempt_at > ?",
        5,
    )
    assert "COVERING INDEX delivery_queue_due_target" in step
    assert delivery._next_due(conn, 0) == pytest.approx(1e-9)


def test_a_targets_live_rows_are_found_without_its_done_ones(conn: sqlite3.Connection) -> None:
    steps = plan(
        conn,
        "SELECT id FROM delivery_queue WHERE group_key = ? AND receiver = ? AND integration = ? AND idx = ?"
        " AND state IN ('pending', 'inflight')",
        "g1", "hook", "webhook", 0,
    )  # fmt: skip
    assert any("delivery_queue_live_target" in s for s in steps), steps
    assert [r.id for r in delivery._live(conn, ("g1", "hook", "webhook", 0))] == [402]


def test_the_idle_poll_and_a_claim_agree_with_the_rules(conn: sqlite3.Connection) -> None:
    assert delivery.idle(conn, 10) is None  # pending rows are due
    conn.execute("BEGIN IMMEDIATE")
    claim = delivery.claim(conn, "me", 10**9, 100, 10)
    conn.execute("COMMIT")
    assert sorted(j.id for j in claim.jobs) == list(range(401, 421))  # one per target, the oldest
    idle = delivery.idle(conn, 10)
    assert idle is not None and idle.jobs == [] and idle.next_due_in is None
