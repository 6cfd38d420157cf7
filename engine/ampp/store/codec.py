"""Row encodings shared by the storage backends."""

from __future__ import annotations

from typing import Any

import orjson

from ..model.alert import Alert
from ..model.labels import share_values
from ..model.matchers import MatchType, new_matcher
from ..model.silence import Silence

_INT64 = (-(2**63), 2**63 - 1)


def ts(ns: int) -> int | str:
    """A nanosecond time as SQLite stores it: an integer, or text beyond int64 (Go's zero time,
    dates after 2262), so no value a client can send makes a write fail."""
    # The prefix keeps SQLite's INTEGER affinity from turning the text into a lossy REAL.
    return ns if _INT64[0] <= ns <= _INT64[1] else f"ns:{ns}"


def from_ts(value: int | str) -> int:
    return value if isinstance(value, int) else int(str(value).removeprefix("ns:"))


def alert_row(
    a: Alert,
) -> tuple[str, dict[str, str], dict[str, str], int | str, int | str, str, int | str, bool]:
    """The alerts table's row; labels and annotations are stored as JSON text (sqlite.batch)."""
    return (
        f"{a.fingerprint:016x}",
        a.labels,
        a.annotations,
        ts(a.starts_at),
        ts(a.ends_at),
        a.generator_url,
        ts(a.updated_at),
        a.timeout,
    )


def alert_from_row(row: Any) -> Alert:
    fp, labels, annotations, starts, ends, url, updated, timeout = row
    return Alert(
        share_values(orjson.loads(labels)),
        orjson.loads(annotations),
        from_ts(starts),
        from_ts(ends),
        url,
        from_ts(updated),
        bool(timeout),
        int(fp, 16),
    )


def silence_row(s: Silence) -> tuple[str, bytes, int | str, int | str, int | str, str, str]:
    matchers = [[m.name, m.type.value, m.value] for m in s.matchers]
    times = (ts(s.starts_at), ts(s.ends_at), ts(s.updated_at))
    return (s.id, orjson.dumps(matchers), *times, s.created_by, s.comment)


def silence_from_row(row: Any) -> Silence:
    sid, matchers, starts, ends, updated, created_by, comment = row
    ms = [new_matcher(n, MatchType(t), v) for n, t, v in orjson.loads(matchers)]
    return Silence(sid, ms, from_ts(starts), from_ts(ends), from_ts(updated), created_by, comment)
