"""What the history's write, read and report modules share: how an event row decodes and
the SQL they all use."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import orjson

from ...history_common import (
    INT64_MAX,
    INT64_MIN,
)
from ...records import HistoryEvent

STATE_IN = "('alert.firing', 'alert.resolved')"
NOTIFY_IN = "('notify.sent', 'notify.failed')"


def event(r: Sequence[Any]) -> HistoryEvent:
    e = HistoryEvent(*r)
    e.labels = orjson.loads(r[3])
    e.annotations = orjson.loads(r[4])
    e.details = None if r[14] is None else orjson.loads(r[14])
    return e


def to_json(value: Any) -> str:
    return orjson.dumps(value).decode()


def change_times(conn: sqlite3.Connection, fp: str, lo: int | None, hi: int | None) -> list[int]:
    rows = conn.execute(
        f"SELECT at FROM history_events WHERE fingerprint = ? AND kind IN {STATE_IN} AND at BETWEEN ? AND ?"
        " ORDER BY at, id",
        (fp, INT64_MIN if lo is None else lo, INT64_MAX if hi is None else hi),
    ).fetchall()
    return [int(r[0]) for r in rows]
