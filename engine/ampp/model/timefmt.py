"""Timestamps as integer nanoseconds since the Unix epoch, formatted the way Go prints them.

Alertmanager keeps nanosecond timestamps and compares them exactly (merge rules, dedup), so the
engine does too; Go's zero time (0001-01-01T00:00:00Z) is a real value here, not None.
"""

from __future__ import annotations

import functools
import re
import time
from datetime import UTC, datetime, timedelta

from .labels import go_quote

NS = 1_000_000_000
ZERO = -62135596800 * NS  # Go's time.Time{} in Unix nanoseconds
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})$"
)


class TimestampError(ValueError):
    """A timestamp that is not RFC 3339."""


def now_ns() -> int:
    return time.time_ns()


@functools.lru_cache(maxsize=4096)
def parse_rfc3339(text: str) -> int:
    """Parse an RFC 3339 timestamp (any fraction up to nanoseconds, any offset) to nanoseconds.

    Cached: the alerts of one rule evaluation share their startsAt and endsAt, so a batch
    repeats a handful of timestamps.
    """
    m = _RFC3339.match(text)
    if not m:
        raise TimestampError(f"invalid RFC 3339 timestamp {text!r}")
    year, month, day, hour, minute, second, frac, tz = m.groups()
    try:
        dt = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC)
    except ValueError as e:
        raise TimestampError(f"invalid RFC 3339 timestamp {text!r}: {e}") from None
    offset = 0
    if tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        offset = sign * (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60)
    whole = (dt - _EPOCH) // timedelta(seconds=1) - offset
    nanos = int(frac.ljust(9, "0")) if frac else 0
    return whole * NS + nanos


@functools.lru_cache(maxsize=8192)
def _seconds_text(seconds: int) -> str:
    """``2006-01-02T15:04:05`` of a Unix second (four-digit years, as Go writes them). Cached:
    the alerts of a flush or an API answer share a few seconds (those of their rule
    evaluations), and strftime is most of the cost of printing a time."""
    dt = _EPOCH + timedelta(seconds=seconds)
    if dt.year >= 1000:
        return dt.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{dt.year:04d}" + dt.strftime("-%m-%dT%H:%M:%S")


def format_rfc3339nano(ns: int) -> str:
    """Go's time.RFC3339Nano in UTC: trailing zeros of the fraction are dropped."""
    seconds, nanos = divmod(ns, NS)
    base = _seconds_text(seconds)
    if nanos:
        return f"{base}.{nanos:09d}".rstrip("0") + "Z"
    return base + "Z"


@functools.lru_cache(maxsize=8192)
def format_rfc3339millis(ns: int) -> str:
    """go-openapi's strfmt.DateTime: always three fraction digits (what the v2 API returns).
    Cached: a listing prints three times per alert, most of them shared by a batch's alerts."""
    seconds, nanos = divmod(ns, NS)
    return f"{_seconds_text(seconds)}.{nanos // 1_000_000:03d}Z"


_DURATION_UNITS = {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
_DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")


class DurationError(ValueError):
    """A duration that is not in Prometheus' syntax."""


def parse_duration(text: str) -> float:
    """Parse a Prometheus duration (``1h30m``, ``5m``, ``0s``, ``1w``) into seconds."""
    if text == "0":
        return 0.0
    m = _DURATION.match(text)
    if not m or not text:
        raise DurationError(f'not a valid duration string: "{text}"')
    total = 0.0
    for value, unit in zip(m.groups(), ("y", "w", "d", "h", "m", "s", "ms"), strict=True):
        if value:
            total += int(value) * _DURATION_UNITS[unit]
    return total


def format_duration(seconds: float) -> str:
    """Prometheus' model.Duration String(): ``1h30m``, ``5m``, ``0s``."""
    ms = round(seconds * 1000)
    if ms == 0:
        return "0s"
    out = []
    for unit, size in (
        ("y", 365 * 86400000),
        ("w", 7 * 86400000),
        ("d", 86400000),
        ("h", 3600000),
        ("m", 60000),
        ("s", 1000),
        ("ms", 1),
    ):
        if ms >= size:
            out.append(f"{ms // size}{unit}")
            ms %= size
    return "".join(out)


# -- Go's time.Duration (integrations' timeouts, templates): not Prometheus' syntax -----------
_GO_UNITS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,
    "\u03bcs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}


def parse_go_duration(text: str) -> float:
    """Go's time.ParseDuration (``1.5s``, ``300ms``, ``1h2m``) in seconds.

    Integrations that hold a Go ``time.Duration`` (webhook ``timeout``, pushover ``retry``)
    take this syntax, not Prometheus' (no ``d``/``w``/``y``, fractions allowed).
    """
    orig = text
    s = text
    neg = False
    if s and s[0] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        raise ValueError(f"time: invalid duration {go_quote(orig)}")
    total_ns = 0.0
    while s:
        m = re.match(r"(\d*)(?:\.(\d*))?", s)
        assert m is not None
        whole, frac = m.group(1), m.group(2)
        if not whole and not frac:
            raise ValueError(f"time: invalid duration {go_quote(orig)}")
        s = s[m.end() :]
        u = re.match(r"[^\d.]*", s)
        assert u is not None
        unit = u.group(0)
        if not unit:
            raise ValueError(f"time: missing unit in duration {go_quote(orig)}")
        if unit not in _GO_UNITS:
            raise ValueError(f"time: unknown unit {go_quote(unit)} in duration {go_quote(orig)}")
        s = s[u.end() :]
        value = float(f"{whole or '0'}.{frac or '0'}")
        total_ns += value * _GO_UNITS[unit]
    seconds = round(total_ns) / 1e9
    return -seconds if neg else seconds


def _frac(value: int, prec: int) -> str:
    """value / 10**prec with the fraction's trailing zeros (and a bare point) dropped."""
    whole, rest = divmod(value, 10**prec)
    digits = f"{rest:0{prec}d}".rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)


def format_go_duration(ns: int) -> str:
    """Go's time.Duration.String(): ``0s``, ``1m0s``, ``1h0m0s``, ``1.5s``, ``300ms``, ``-5s``."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    u = abs(ns)
    if u < NS:
        if u < 1_000:
            return f"{sign}{u}ns"
        if u < 1_000_000:
            return f"{sign}{_frac(u, 3)}\u00b5s"
        return f"{sign}{_frac(u, 6)}ms"
    out = _frac(u % 60_000_000_000, 9) + "s"
    minutes = u // 60_000_000_000
    if minutes:
        out = f"{minutes % 60}m{out}"
        hours = minutes // 60
        if hours:
            out = f"{hours}h{out}"
    return sign + out
