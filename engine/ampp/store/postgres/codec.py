"""How values cross between the engine and PostgreSQL.

Times are kept as ``timestamptz`` (microseconds, queryable with SQL and Grafana) plus a
``*_ns`` column with the sub-microsecond rest (0-999), so the engine's int nanoseconds
round-trip exactly, Go's zero time (year 1, beyond int64 nanoseconds) included. Every pool
connection carries two codecs: ``timestamptz`` is a Python int of Unix *microseconds* (exact,
no datetime), and ``jsonb`` is encoded and decoded with orjson.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

_US_2000 = 946_684_800_000_000  # PostgreSQL's timestamp epoch (2000-01-01) in Unix microseconds


def split_ns(ns: int) -> tuple[int, int]:
    """Unix nanoseconds -> (Unix microseconds for a timestamptz, the 0-999 rest)."""
    return divmod(ns, 1000)


def join_ns(us: int, rest: int) -> int:
    return us * 1000 + rest


def _ts_encode(us: int) -> tuple[int]:
    return (us - _US_2000,)


def _ts_decode(value: tuple[int]) -> int:
    return value[0] + _US_2000


def _jsonb_encode(value: Any) -> bytes:
    return b"\x01" + orjson.dumps(value)  # jsonb binary format: version 1, then the text


def _jsonb_decode(data: bytes) -> Any:
    return orjson.loads(data[1:])


async def init_connection(conn: asyncpg.Connection[Any]) -> None:
    """Codecs for every connection: timestamptz as int Unix microseconds, jsonb via orjson."""
    await conn.set_type_codec(
        "timestamptz", schema="pg_catalog", encoder=_ts_encode, decoder=_ts_decode, format="tuple"
    )
    await conn.set_type_codec(
        "jsonb", schema="pg_catalog", encoder=_jsonb_encode, decoder=_jsonb_decode, format="binary"
    )
