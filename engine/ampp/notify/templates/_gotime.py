"""Go's time.Time and time.Duration as templates see them: printing, Format layouts, methods.

Alertmanager hands templates time.Time values (StartsAt, EndsAt) and, in newer versions,
durations (``since``). Templates print them (``{{ .StartsAt }}`` gives
``2024-01-02 03:04:05 +0000 UTC``), format them with Go's reference-time layouts
(``{{ .StartsAt.Format "15:04" }}``) and call their methods, so this module reproduces those.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ...model.timefmt import format_go_duration
from ._gofmt import GoStringer

NS = 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


class GoMonth(int, GoStringer):
    """time.Month: an int that prints as its English name."""

    go_type_name = "time.Month"

    def go_string(self) -> str:
        return _MONTHS[self - 1] if 1 <= self <= 12 else f"%!Month({int(self)})"

    def __str__(self) -> str:
        return self.go_string()

    def String(self) -> str:
        return self.go_string()


class GoWeekday(int, GoStringer):
    """time.Weekday: an int (Sunday = 0) that prints as its English name."""

    go_type_name = "time.Weekday"

    def go_string(self) -> str:
        return _DAYS[self] if 0 <= self <= 6 else f"%!Weekday({int(self)})"

    def __str__(self) -> str:
        return self.go_string()

    def String(self) -> str:
        return self.go_string()


class GoDuration(int, GoStringer):
    """time.Duration: nanoseconds as an int, printed the way Go prints durations."""

    go_type_name = "time.Duration"

    def go_string(self) -> str:
        return format_go_duration(int(self))

    def __str__(self) -> str:
        return self.go_string()

    # Go methods
    def String(self) -> str:
        return self.go_string()

    def Seconds(self) -> float:
        return int(self) / NS

    def Minutes(self) -> float:
        return int(self) / (60 * NS)

    def Hours(self) -> float:
        return int(self) / (3600 * NS)

    def Milliseconds(self) -> int:
        return int(int(self) / 1_000_000)

    def Microseconds(self) -> int:
        return int(int(self) / 1000)

    def Nanoseconds(self) -> int:
        return int(self)

    def Round(self, m: int) -> GoDuration:
        if m <= 0:
            return self
        d = int(self)
        r = abs(d) % m
        if d < 0:
            r = -r
            return GoDuration(d - r - m if r + r < -m or (r + r == -m) else d - r)
        return GoDuration(d - r + m if r + r >= m else d - r)

    def Truncate(self, m: int) -> GoDuration:
        if m <= 0:
            return self
        d = int(self)
        return GoDuration(d - (abs(d) % m) * (1 if d >= 0 else -1))

    def Abs(self) -> GoDuration:
        return GoDuration(abs(int(self)))

    go_methods = frozenset(
        {
            "String",
            "Seconds",
            "Minutes",
            "Hours",
            "Milliseconds",
            "Microseconds",
            "Nanoseconds",
            "Round",
            "Truncate",
            "Abs",
        }
    )


# --- locations -----------------------------------------------------------------------------


class _Location:
    """A time.Location: a tzinfo plus the name Go reports."""

    __slots__ = ("name", "tz")

    def __init__(self, name: str, tz: tzinfo) -> None:
        self.name = name
        self.tz = tz


UTC_LOC = _Location("UTC", UTC)


@lru_cache(maxsize=1)
def local_location() -> _Location:
    """time.Local: $TZ, else /etc/localtime, else UTC (what Go does)."""
    name = os.environ.get("TZ")
    if name is not None:
        if name in ("", "UTC"):
            return UTC_LOC
        try:
            return _Location("Local", ZoneInfo(name.lstrip(":")))
        except (ZoneInfoNotFoundError, ValueError):
            return UTC_LOC
    try:
        with open("/etc/localtime", "rb") as f:
            return _Location("Local", ZoneInfo.from_file(f, key="Local"))
    except (OSError, ValueError):
        return UTC_LOC


class UnknownTimeZone(ValueError):
    pass


@lru_cache(maxsize=64)
def load_location(name: str) -> _Location:
    """time.LoadLocation."""
    if name in ("", "UTC"):
        return UTC_LOC
    if name == "Local":
        return local_location()
    if name.startswith("/") or ".." in name or "\\" in name:
        raise UnknownTimeZone(f"unknown time zone {name}")
    try:
        return _Location(name, ZoneInfo(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise UnknownTimeZone(f"unknown time zone {name}") from None


# --- time ----------------------------------------------------------------------------------


class GoTime(GoStringer):
    """time.Time: an instant in nanoseconds since the Unix epoch, shown in a location.

    ``str()`` and template printing give Go's ``2006-01-02 15:04:05.999999999 -0700 MST``;
    the Go methods (Format, Unix, UTC, Add, Sub, Before, ...) are there for translated
    templates, ``datetime``/``ns``/``isoformat()`` for Jinja templates.
    """

    __slots__ = ("_dt", "loc", "ns")
    go_type_name = "time.Time"
    go_methods = frozenset(
        {
            "Format",
            "String",
            "Unix",
            "UnixNano",
            "UnixMilli",
            "UnixMicro",
            "UTC",
            "Local",
            "Add",
            "Sub",
            "Before",
            "After",
            "Equal",
            "IsZero",
            "Year",
            "Month",
            "Day",
            "Hour",
            "Minute",
            "Second",
            "Nanosecond",
            "Weekday",
            "YearDay",
            "Truncate",
            "Round",
        }
    )

    def __init__(self, ns: int, loc: _Location = UTC_LOC) -> None:
        self.ns = ns
        self.loc = loc
        self._dt: datetime | None = None

    # Python side
    @property
    def datetime(self) -> datetime:
        """The instant as an aware datetime in this time's zone (microsecond precision)."""
        if self._dt is None:
            secs, _ = divmod(self.ns, NS)
            base = _EPOCH + timedelta(seconds=secs)
            self._dt = base.astimezone(self.loc.tz) if self.loc is not UTC_LOC else base
        return self._dt

    @property
    def nanosecond(self) -> int:
        return self.ns % NS

    def isoformat(self) -> str:
        return self.Format("2006-01-02T15:04:05.999999999Z07:00")

    def strftime(self, fmt: str) -> str:
        return self.datetime.strftime(fmt)

    def go_string(self) -> str:
        return self.Format("2006-01-02 15:04:05.999999999 -0700 MST")

    def __str__(self) -> str:
        return self.go_string()

    def __repr__(self) -> str:
        return f"GoTime({self.go_string()!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GoTime) and other.ns == self.ns and other.loc is self.loc

    def __hash__(self) -> int:
        return hash(self.ns)

    def _zone(self) -> tuple[str, int]:
        dt = self.datetime
        off = dt.utcoffset()
        offset = int(off.total_seconds()) if off is not None else 0
        if self.loc is UTC_LOC:
            return "UTC", 0
        name = dt.tzname() or ""
        if isinstance(self.loc.tz, timezone) and name.startswith("UTC") and len(name) > 3:
            name = ""  # fixed zone without a name
        return name, offset

    # Go methods
    def Format(self, layout: str) -> str:
        return format_time(self, layout)

    def String(self) -> str:
        return self.go_string()

    def Unix(self) -> int:
        return self.ns // NS

    def UnixNano(self) -> int:
        return self.ns

    def UnixMilli(self) -> int:
        return self.ns // 1_000_000

    def UnixMicro(self) -> int:
        return self.ns // 1000

    def UTC(self) -> GoTime:
        return GoTime(self.ns, UTC_LOC)

    def Local(self) -> GoTime:
        return GoTime(self.ns, local_location())

    def In(self, loc: _Location) -> GoTime:
        return GoTime(self.ns, loc)

    def Add(self, d: int) -> GoTime:
        return GoTime(self.ns + int(d), self.loc)

    def Sub(self, u: GoTime) -> GoDuration:
        # Go saturates at the limits of a Duration (int64 nanoseconds)
        return GoDuration(max(-(2**63), min(2**63 - 1, self.ns - u.ns)))

    def Before(self, u: GoTime) -> bool:
        return self.ns < u.ns

    def After(self, u: GoTime) -> bool:
        return self.ns > u.ns

    def Equal(self, u: GoTime) -> bool:
        return self.ns == u.ns

    def IsZero(self) -> bool:
        return self.ns == ZERO_NS

    def Year(self) -> int:
        return self.datetime.year

    def Month(self) -> GoMonth:
        return GoMonth(self.datetime.month)

    def Day(self) -> int:
        return self.datetime.day

    def Hour(self) -> int:
        return self.datetime.hour

    def Minute(self) -> int:
        return self.datetime.minute

    def Second(self) -> int:
        return self.datetime.second

    def Nanosecond(self) -> int:
        return self.ns % NS

    def Weekday(self) -> GoWeekday:
        return GoWeekday((self.datetime.weekday() + 1) % 7)

    def YearDay(self) -> int:
        return self.datetime.timetuple().tm_yday

    def Truncate(self, d: int) -> GoTime:
        d = int(d)
        if d <= 0:
            return self
        # Go truncates relative to the zero time; so does this (absolute time since year 1)
        rel = self.ns - ZERO_NS
        return GoTime(self.ns - rel % d, self.loc)

    def Round(self, d: int) -> GoTime:
        d = int(d)
        if d <= 0:
            return self
        rel = self.ns - ZERO_NS
        r = rel % d
        return GoTime(self.ns - r + d if r + r >= d else self.ns - r, self.loc)


ZERO_NS = -62135596800 * NS


# --- Format layouts ------------------------------------------------------------------------


def _tokenize(layout: str) -> list[tuple[str, str]]:
    """Split a Go layout into (kind, text) chunks; kind "" is literal text."""
    out: list[tuple[str, str]] = []
    i = 0
    n = len(layout)
    lit_start = 0

    def push(kind: str, length: int) -> None:
        nonlocal i, lit_start
        if lit_start < i:
            out.append(("", layout[lit_start:i]))
        out.append((kind, layout[i : i + length]))
        i += length
        lit_start = i

    while i < n:
        c = layout[i]
        rest = layout[i:]
        if c == "J" and rest.startswith("Jan"):
            if rest.startswith("January"):
                push("January", 7)
                continue
            if not rest[3:4].islower():  # "Janet" is text
                push("Jan", 3)
                continue
        if c == "M":
            if rest.startswith("Mon"):
                if rest.startswith("Monday"):
                    push("Monday", 6)
                    continue
                if not rest[3:4].islower():
                    push("Mon", 3)
                    continue
            if rest.startswith("MST"):
                push("MST", 3)
                continue
        if c == "0" and len(rest) >= 2 and rest[1] in "123456":
            push("0" + rest[1], 2)
            continue
        if c == "0" and rest.startswith("002"):
            push("002", 3)
            continue
        if c == "1":
            if rest.startswith("15"):
                push("15", 2)
            else:
                push("1", 1)
            continue
        if c == "2":
            if rest.startswith("2006"):
                push("2006", 4)
            else:
                push("2", 1)
            continue
        if c == "_":
            if rest.startswith("_2"):
                if rest.startswith("_2006"):
                    # "_2006" is a literal "_" followed by the year
                    i += 1
                    continue
                push("_2", 2)
                continue
            if rest.startswith("__2"):
                push("__2", 3)
                continue
        if c in "345":
            push(c, 1)
            continue
        if c == "P" and rest.startswith("PM"):
            push("PM", 2)
            continue
        if c == "p" and rest.startswith("pm"):
            push("pm", 2)
            continue
        if c == "-":
            for z in ("-070000", "-07:00:00", "-0700", "-07:00", "-07"):
                if rest.startswith(z):
                    push(z, len(z))
                    break
            else:
                i += 1
            continue
        if c == "Z":
            for z in ("Z070000", "Z07:00:00", "Z0700", "Z07:00", "Z07"):
                if rest.startswith(z):
                    push(z, len(z))
                    break
            else:
                i += 1
            continue
        if c in ".," and len(rest) >= 2 and rest[1] in "09":
            ch = rest[1]
            j = 1
            while j < len(rest) and rest[j] == ch:
                j += 1
            if not (j < len(rest) and rest[j].isdigit()):
                push(c + ch + str(j - 1), j)
                continue
            i += 1
            continue
        i += 1
    if lit_start < n:
        out.append(("", layout[lit_start:]))
    return out


@lru_cache(maxsize=256)
def _layout(layout: str) -> tuple[tuple[str, str], ...]:
    return tuple(_tokenize(layout))


def format_time(t: GoTime, layout: str) -> str:
    """time.Time.Format with Go's reference layout (Mon Jan 2 15:04:05 MST 2006)."""
    dt = t.datetime
    nanos = t.ns % NS
    name, offset = t._zone()
    out: list[str] = []
    for kind, text in _layout(layout):
        if kind == "":
            out.append(text)
        elif kind == "2006":
            out.append(f"{dt.year:04d}")
        elif kind == "06":
            out.append(f"{dt.year % 100:02d}")
        elif kind == "January":
            out.append(_MONTHS[dt.month - 1])
        elif kind == "Jan":
            out.append(_MONTHS[dt.month - 1][:3])
        elif kind == "01":
            out.append(f"{dt.month:02d}")
        elif kind == "1":
            out.append(str(dt.month))
        elif kind == "Monday":
            out.append(_DAYS[(dt.weekday() + 1) % 7])
        elif kind == "Mon":
            out.append(_DAYS[(dt.weekday() + 1) % 7][:3])
        elif kind == "02":
            out.append(f"{dt.day:02d}")
        elif kind == "_2":
            out.append(f"{dt.day:2d}")
        elif kind == "2":
            out.append(str(dt.day))
        elif kind == "002":
            out.append(f"{dt.timetuple().tm_yday:03d}")
        elif kind == "__2":
            out.append(f"{dt.timetuple().tm_yday:3d}")
        elif kind == "15":
            out.append(f"{dt.hour:02d}")
        elif kind in ("3", "03"):
            h = dt.hour % 12 or 12
            out.append(f"{h:02d}" if kind == "03" else str(h))
        elif kind == "04":
            out.append(f"{dt.minute:02d}")
        elif kind == "4":
            out.append(str(dt.minute))
        elif kind == "05":
            out.append(f"{dt.second:02d}")
        elif kind == "5":
            out.append(str(dt.second))
        elif kind == "PM":
            out.append("PM" if dt.hour >= 12 else "AM")
        elif kind == "pm":
            out.append("pm" if dt.hour >= 12 else "am")
        elif kind == "MST":
            if name:
                out.append(name)
            else:
                z = offset // 60
                sign = "-" if z < 0 else "+"
                z = abs(z)
                out.append(f"{sign}{z // 60:02d}{z % 60:02d}")
        elif kind[0] in "-Z":
            out.append(_format_offset(kind, offset))
        elif kind[0] in ".,":
            digits = int(kind[2:])
            sep = kind[0]
            frac = f"{nanos:09d}"[:digits]
            if kind[1] == "9":
                frac = frac.rstrip("0")
                if frac:
                    out.append(sep + frac)
            else:
                out.append(sep + frac)
    return "".join(out)


def _format_offset(kind: str, offset: int) -> str:
    if kind[0] == "Z" and offset == 0:
        return "Z"
    zone = offset // 60
    absoff = abs(offset)
    sign = "-" if zone < 0 else "+"
    zone = abs(zone)
    body = kind[1:]
    s = sign + f"{zone // 60:02d}"
    if body in ("07:00", "07:00:00"):
        s += f":{zone % 60:02d}"
    elif body in ("0700", "070000"):
        s += f"{zone % 60:02d}"
    if body == "07:00:00":
        s += f":{absoff % 60:02d}"
    elif body == "070000":
        s += f"{absoff % 60:02d}"
    return s
