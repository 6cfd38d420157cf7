"""Row encodings shared by the storage backends."""

from __future__ import annotations

from typing import Any

import orjson

from ..config.matchers import MatchType, new_matcher
from ..model.alert import Alert
from ..model.silence import Silence


def alert_row(a: Alert) -> tuple[str, bytes, bytes, int, int, str, int, int]:
    return (
        f"{a.fingerprint:016x}",
        orjson.dumps(a.labels),
        orjson.dumps(a.annotations),
        a.starts_at,
        a.ends_at,
        a.generator_url,
        a.updated_at,
        int(a.timeout),
    )


def alert_from_row(row: Any) -> Alert:
    fp, labels, annotations, starts, ends, url, updated, timeout = row
    return Alert(
        orjson.loads(labels),
        orjson.loads(annotations),
        starts,
        ends,
        url,
        updated,
        bool(timeout),
        int(fp, 16),
    )


def silence_row(s: Silence) -> tuple[str, bytes, int, int, int, str, str]:
    matchers = [[m.name, m.type.value, m.value] for m in s.matchers]
    return (s.id, orjson.dumps(matchers), s.starts_at, s.ends_at, s.updated_at, s.created_by, s.comment)


def silence_from_row(row: Any) -> Silence:
    sid, matchers, starts, ends, updated, created_by, comment = row
    ms = [new_matcher(n, MatchType(t), v) for n, t, v in orjson.loads(matchers)]
    return Silence(sid, ms, starts, ends, updated, created_by, comment)
