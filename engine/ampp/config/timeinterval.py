"""Alertmanager's time intervals (``time_intervals`` / ``mute_time_intervals``).

Parsing and validation follow timeinterval.go's UnmarshalYAML methods, messages included, and
:meth:`TimeIntervalSpec.contains` follows ContainsTime. One deliberate difference from 0.25:
the length of a month is the calendar's, not "hours between the 1st of this month and the 1st
of the next, divided by 24", which 0.25 gets wrong in months with a daylight-saving change
(March in Europe counts 30 days there, so ``-1`` would be the 30th); upstream fixed it later.

A field that is absent (or null) does not restrict; a field given as an empty list matches
nothing, as upstream's ``nil`` versus empty slice do.
"""

from __future__ import annotations

import calendar
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "InclusiveRange",
    "TimeIntervalError",
    "TimeIntervalSpec",
    "TimeRange",
    "intervals_contain",
    "load_location",
    "parse_time_interval_spec",
]


class TimeIntervalError(ValueError):
    """A time interval that Alertmanager would reject; names the field and the value."""


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Minutes of the day, ``start_minute`` inclusive, ``end_minute`` exclusive (max 1440)."""

    start_minute: int
    end_minute: int


@dataclass(frozen=True, slots=True)
class InclusiveRange:
    """Both ends included: weekdays 0-6 (Sunday = 0), days of month (negative from the end,
    -1 = last day), months 1-12, years."""

    begin: int
    end: int


@dataclass(frozen=True, slots=True)
class TimeIntervalSpec:
    """One entry of a named time interval; it contains a time when every given field does."""

    times: tuple[TimeRange, ...] | None = None
    weekdays: tuple[InclusiveRange, ...] | None = None
    days_of_month: tuple[InclusiveRange, ...] | None = None
    months: tuple[InclusiveRange, ...] | None = None
    years: tuple[InclusiveRange, ...] | None = None
    location: ZoneInfo | None = None

    def contains(self, t: datetime) -> bool:
        """ContainsTime: evaluated in ``location`` if set, otherwise in ``t``'s own zone.

        A naive ``t`` is taken as UTC.
        """
        if t.tzinfo is None:
            t = t.replace(tzinfo=UTC)
        if self.location is not None:
            t = t.astimezone(self.location)
        if self.times is not None:
            minute = t.hour * 60 + t.minute
            if not any(r.start_minute <= minute < r.end_minute for r in self.times):
                return False
        if self.days_of_month is not None and not _in_days_of_month(self.days_of_month, t):
            return False
        if self.months is not None and not any(r.begin <= t.month <= r.end for r in self.months):
            return False
        if self.weekdays is not None:
            weekday = (t.weekday() + 1) % 7  # Go counts from Sunday = 0
            if not any(r.begin <= weekday <= r.end for r in self.weekdays):
                return False
        if self.years is not None and not any(r.begin <= t.year <= r.end for r in self.years):
            return False
        return True


def _in_days_of_month(ranges: Sequence[InclusiveRange], t: datetime) -> bool:
    days = calendar.monthrange(t.year, t.month)[1]
    for r in ranges:
        begin = days + r.begin + 1 if r.begin < 0 else r.begin
        end = days + r.end + 1 if r.end < 0 else r.end
        if begin > days:
            continue  # e.g. 30:31 in February: never, rather than clamped to the 28th
        begin = max(-days, min(begin, days))
        end = max(-days, min(end, days))
        if begin <= t.day <= end:
            return True
    return False


def intervals_contain(specs: Sequence[TimeIntervalSpec], t: datetime) -> bool:
    """Whether any entry contains ``t``; like upstream's Intervener, ``t`` is taken in UTC
    (entries with a ``location`` convert it)."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    t = t.astimezone(UTC)
    return any(spec.contains(t) for spec in specs)


# --------------------------------------------------------------------------------------------
# Parsing

_FIELDS = ("times", "weekdays", "days_of_month", "months", "years", "location")

_WEEKDAYS = {
    "sunday": 0,
    "monday": 1,
    "tuesday": 2,
    "wednesday": 3,
    "thursday": 4,
    "friday": 5,
    "saturday": 6,
}
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTH_NAMES = {i: name for name, i in _MONTHS.items()}

_VALID_TIME = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00")
_GO_INT = re.compile(r"[+-]?[0-9]+")


def _err(field: str, value: object, message: str) -> TimeIntervalError:
    return TimeIntervalError(f'{field} "{value}": {message}')


def _atoi(s: str) -> int:
    """strconv.Atoi, with its error text."""
    if not _GO_INT.fullmatch(s):
        raise ValueError(f'strconv.Atoi: parsing "{s}": invalid syntax')
    n = int(s)
    if not -(2**63) <= n < 2**63:
        raise ValueError(f'strconv.Atoi: parsing "{s}": value out of range')
    return n


def _weekday(s: str) -> int:
    if s not in _WEEKDAYS:
        raise ValueError(f"{s} is not a valid weekday")
    return _WEEKDAYS[s]


def _month(s: str) -> int:
    if s in _MONTHS:
        return _MONTHS[s]
    try:
        return _atoi(s)  # numbers are not range-checked upstream: "13" is accepted
    except ValueError:
        raise ValueError(f"{s} is not a valid month") from None


def _range_from_string(s: str, member: Any) -> InclusiveRange:
    """stringableRangeFromString: ``a:b`` or ``a``, case-insensitive."""
    s = s.lower()
    if ":" in s:
        parts = s.split(":")
        if len(parts) != 2:
            raise ValueError(f"couldn't parse range {s}, invalid format")
        return InclusiveRange(member(parts[0]), member(parts[1]))
    value = member(s)
    return InclusiveRange(value, value)


def _check_weekdays(r: InclusiveRange, raw: str) -> None:
    if r.begin > r.end:
        raise ValueError("start day cannot be before end day")  # upstream's wording
    for v in (r.begin, r.end):
        if not 0 <= v <= 6:
            raise ValueError(f"{raw} is not a valid day of the week: out of range")


def _check_days_of_month(r: InclusiveRange, raw: str) -> None:
    for v in (r.begin, r.end):
        if v == 0 or v < -31 or v > 31:
            raise ValueError(f"{v} is not a valid day of the month: out of range")
    if r.begin < 0 and r.end > 0:
        raise ValueError("end day must be negative if start day is negative")
    # Months have at least 28 days: reject ranges that are empty in every month.
    begin = 28 + r.begin if r.begin < 0 else r.begin
    end = 28 + r.end if r.end < 0 else r.end
    if begin > end:
        raise ValueError(f"end day {r.end} is always before start day {r.begin}")


def _check_months(r: InclusiveRange, raw: str) -> None:
    if r.begin > r.end:
        end, begin = _MONTH_NAMES.get(r.end, ""), _MONTH_NAMES.get(r.begin, "")
        raise ValueError(f"end month {end} is before start month {begin}")


def _check_years(r: InclusiveRange, raw: str) -> None:
    if r.begin > r.end:
        raise ValueError(f"end year {r.end} is before start year {r.begin}")


_RANGE_FIELDS: dict[str, tuple[Any, Any]] = {
    "weekdays": (_weekday, _check_weekdays),
    "days_of_month": (_atoi, _check_days_of_month),
    "months": (_month, _check_months),
    "years": (_atoi, _check_years),
}


def _scalar_text(field: str, value: object) -> str:
    """YAML scalars decode into Go strings by their text (``years: [2020]`` works)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    raise TimeIntervalError(f"{field}: expected a string, got {type(value).__name__} {value!r}")


def _parse_ranges(field: str, values: object) -> tuple[InclusiveRange, ...]:
    if not isinstance(values, list):
        raise TimeIntervalError(f"{field}: expected a list, got {type(values).__name__}")
    member, check = _RANGE_FIELDS[field]
    out: list[InclusiveRange] = []
    for item in values:
        raw = _scalar_text(field, item)
        try:
            r = _range_from_string(raw, member)
            check(r, raw)
        except ValueError as e:
            raise _err(field, raw, str(e)) from None
        out.append(r)
    return tuple(out)


def _parse_minutes(field: str, value: object) -> int:
    if not isinstance(value, str):
        # A YAML 1.1 loader reads unquoted 17:00 as the base-60 number 1020; YAML 1.2 and Go's
        # loader read it as the string "17:00". Refuse rather than guess.
        raise TimeIntervalError(
            f'times {field}: expected a string like "17:00", got {type(value).__name__} {value!r}'
        )
    if not _VALID_TIME.fullmatch(value):
        raise _err(f"times {field}", value, f"couldn't parse timestamp {value}, invalid format")
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def _parse_times(values: object) -> tuple[TimeRange, ...]:
    if not isinstance(values, list):
        raise TimeIntervalError(f"times: expected a list, got {type(values).__name__}")
    out: list[TimeRange] = []
    for item in values:
        if not isinstance(item, Mapping):
            raise TimeIntervalError(f"times: expected entries with start_time and end_time, got {item!r}")
        start, end = item.get("start_time"), item.get("end_time")
        if start in (None, "") or end in (None, ""):
            raise TimeIntervalError("times: both start and end times must be provided")
        start_minute = _parse_minutes("start_time", start)
        end_minute = _parse_minutes("end_time", end)
        if start_minute >= end_minute:
            raise _err("times", f"{start}-{end}", "start time cannot be equal or greater than end time")
        for key in item:
            if key not in ("start_time", "end_time"):
                raise TimeIntervalError(f'times: unknown field "{key}"')
        out.append(TimeRange(start_minute, end_minute))
    return tuple(out)


def load_location(name: str) -> ZoneInfo:
    """time.LoadLocation: "" and "UTC" are UTC, "Local" is the machine's zone (TZ, then
    /etc/localtime), anything else an IANA name."""
    if name in ("", "UTC"):
        return ZoneInfo("UTC")
    if name == "Local":
        tz = os.environ.get("TZ")
        if tz is not None:  # Go: TZ="" is UTC, an unloadable TZ falls back to UTC
            tz = tz.removeprefix(":")
            try:
                return ZoneInfo(tz) if tz not in ("", "UTC", "Local") else ZoneInfo("UTC")
            except (KeyError, ValueError, OSError):
                return ZoneInfo("UTC")
        try:
            with open("/etc/localtime", "rb") as f:
                return ZoneInfo.from_file(f, key="Local")
        except (OSError, ValueError):
            return ZoneInfo("UTC")
    if ".." in name or name[0] in "/\\":
        raise TimeIntervalError(f'location "{name}": time: invalid location name')
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # not found, not a valid key, not a TZif file
        raise TimeIntervalError(f'location "{name}": unknown time zone {name}') from None


def parse_time_interval_spec(data: Mapping[str, Any]) -> TimeIntervalSpec:
    """One ``time_intervals`` entry in its YAML form, validated as Alertmanager does."""
    if not isinstance(data, Mapping):
        raise TimeIntervalError(f"time interval: expected a mapping, got {type(data).__name__}")
    # Fields are validated in document order, as Go's YAML decoder does, and unknown fields
    # are reported after the values (its strict mode collects them): the first error is the same.
    parsed: dict[str, Any] = {}
    unknown = [key for key in data if key not in _FIELDS]
    for key, value in data.items():
        if value is None or key in unknown:
            continue
        if key == "times":
            parsed[key] = _parse_times(value)
        elif key == "location":
            if not isinstance(value, str):
                raise TimeIntervalError(f"location: expected a string, got {type(value).__name__}")
            parsed[key] = load_location(value)
        else:
            parsed[key] = _parse_ranges(key, value)
    if unknown:
        raise TimeIntervalError(f'time interval: unknown field "{unknown[0]}"')
    return TimeIntervalSpec(**parsed)
