"""The alert journal: whatever was appended, folded in any chunks, loads as the last change of
each alert says (checked against a plain dict replaying the same changes)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
from ampp.model.alert import Alert
from ampp.store.sqlite import alert_journal
from ampp.store.sqlite import storage as sqlite_storage
from ampp.store.sqlite.schema import STATE_MIGRATIONS, migrate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.eventually import eventually_async

pytestmark = pytest.mark.unit

_FPS = [f"{i:016x}" for i in range(6)]
_CHANGE = st.tuples(st.sampled_from(_FPS), st.none() | st.integers(min_value=0, max_value=3))
"""One alert change: (fingerprint, None to delete it, else a version of its row)."""


def _row(fp: str, version: int) -> tuple[Any, ...]:
    labels = {"alertname": f"A{fp[-1]}", "v": str(version)}
    annotations = {"summary": f"s{version}"}
    return (fp, labels, annotations, version, version + 10, "http://g", version, version % 2 == 0)


def _batch(changes: list[tuple[str, int | None]]) -> tuple[list[tuple[Any, ...]], list[str]]:
    """Puts in order (a fingerprint may repeat: the last wins) and deletes (they win over puts)."""
    puts = [_row(fp, v) for fp, v in changes if v is not None]
    return puts, [fp for fp, v in changes if v is None]


def _pending(conn: sqlite3.Connection) -> int:
    """Changes in the journal not yet folded."""
    return int(conn.execute("SELECT COALESCE(sum(changes), 0) FROM alert_journal").fetchone()[0])


def _stored(conn: sqlite3.Connection) -> dict[str, tuple[Any, ...]]:
    rows = conn.execute("SELECT * FROM alerts").fetchall()
    out = {}
    for fp, labels, annots, starts, ends, url, updated, timeout in rows:
        out[fp] = (fp, orjson.loads(labels), orjson.loads(annots), starts, ends, url, updated, bool(timeout))
    return out


# No deadline: each example opens a SQLite file; on a busy machine that alone can take 200 ms.
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batches=st.lists(st.lists(_CHANGE, min_size=1, max_size=5), max_size=12),
    folds=st.lists(st.none() | st.integers(min_value=1, max_value=6), max_size=12),
)
def test_load_after_any_folds_is_the_last_change_of_each_alert(
    tmp_path: Path, batches: list[list[tuple[str, int | None]]], folds: list[int | None]
) -> None:
    path = tmp_path / "state.db"
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, STATE_MIGRATIONS)
    model: dict[str, tuple[Any, ...]] = {}
    for i, changes in enumerate(batches):
        puts, deletes = _batch(changes)
        alert_journal.append(conn, puts, deletes)
        for row in puts:
            model[row[0]] = row
        for fp in deletes:
            model.pop(fp, None)
        if i < len(folds):  # interleave partial folds (or none) with the appends
            alert_journal.fold(conn, folds[i])
    alert_journal.fold(conn)
    assert _pending(conn) == 0
    assert _stored(conn) == model
    conn.close()


def test_a_fold_takes_about_the_changes_asked_and_always_one_entry(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
    migrate(conn, STATE_MIGRATIONS)
    for n in (3, 3, 3):
        alert_journal.append(conn, [_row(f"{i:016x}", 1) for i in range(n)], [])
    assert alert_journal.fold(conn, 1) == 3  # the first entry, though it holds more than asked
    assert alert_journal.fold(conn, 4) == 6  # the entry that crosses the limit is included
    assert alert_journal.fold(conn, 4) == 0
    assert _pending(conn) == 0 and len(_stored(conn)) == 3


def test_a_batch_with_a_nul_keeps_it_and_comes_after_the_journal(tmp_path: Path) -> None:
    # SQLite's JSON would end the generator URL at the NUL: that batch skips the journal.
    conn = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
    migrate(conn, STATE_MIGRATIONS)
    alert_journal.append(conn, [_row(_FPS[0], 1), _row(_FPS[1], 1)], [])
    nul = (*_row(_FPS[0], 2)[:5], "http://g/\x00after", *_row(_FPS[0], 2)[6:])
    alert_journal.append(conn, [nul], [_FPS[1]])
    alert_journal.append(conn, [_row(_FPS[2], 3)], [])
    alert_journal.fold(conn)
    assert _stored(conn) == {_FPS[0]: nul, _FPS[2]: _row(_FPS[2], 3)}
    assert _pending(conn) == 0


def test_a_failed_fold_leaves_the_journal_as_it_was(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
    migrate(conn, STATE_MIGRATIONS)
    alert_journal.append(conn, [_row(_FPS[0], 1)], [])
    # A row the alerts table refuses (NOT NULL labels) makes the fold fail part way.
    bad = '{"put": [["ff", null]], "del": []}'
    conn.execute("INSERT INTO alert_journal (changes, doc) VALUES (1, ?)", (bad,))
    with pytest.raises(sqlite3.IntegrityError):
        alert_journal.fold(conn)
    assert not conn.in_transaction
    assert _pending(conn) == 2
    assert _stored(conn) == {}


def _alerts(n: int, version: int = 0) -> list[Alert]:
    t0 = 1_700_000_000 * 10**9
    return [
        Alert({"alertname": "J", "i": str(i)}, {"v": str(version)}, t0, t0 + 10**12, "", t0 + version)
        for i in range(n)
    ]


def _journal_rows(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM alert_journal").fetchone()[0])
    finally:
        conn.close()


async def test_the_storage_folds_the_journal_once_writes_go_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_storage, "FOLD_QUIET_S", 0.05)
    s = sqlite_storage.SQLiteStorage(str(tmp_path))
    await s.open()
    try:
        await s.write_alerts(_alerts(50), [])
        await s.write_alerts(_alerts(50, version=1), [_alerts(1)[0].fingerprint])
        assert _journal_rows(Path(s.path)) == 2, "a commit is one journal row, folded later"
        await eventually_async(
            lambda: _journal_rows(Path(s.path)) == 0, "folded once writes stopped", within=2
        )
        loaded = {a.labels["i"]: a.annotations["v"] for a in await s.load_alerts()}
        assert loaded == {str(i): "1" for i in range(1, 50)}
    finally:
        await s.close()


async def test_a_backlog_is_folded_while_writes_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_storage, "FOLD_QUIET_S", 3600.0)  # never quiet
    monkeypatch.setattr(sqlite_storage, "FOLD_BACKLOG", 100)
    monkeypatch.setattr(sqlite_storage, "FOLD_CHUNK", 30)
    s = sqlite_storage.SQLiteStorage(str(tmp_path))
    await s.open()
    try:
        for v in range(40):  # 40 commits of 10 changes, the folder running between them
            await s.write_alerts(_alerts(10, version=v), [])
            await asyncio.sleep(0.005)
        await eventually_async(
            lambda: _journal_rows(Path(s.path)) * 10 < 100,
            "the backlog folded without a quiet moment",
            within=2,
        )
    finally:
        await s.close()
    s = sqlite_storage.SQLiteStorage(str(tmp_path))  # close leaves the rest: the next start folds it
    await s.open()
    try:
        assert {a.annotations["v"] for a in await s.load_alerts()} == {"39"}
    finally:
        await s.close()
    assert _journal_rows(Path(s.path)) == 0, "the start folded what was left"
