"""Time intervals: upstream's timeinterval_test.go re-expressed, plus property tests."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from ampp.config.timeinterval import (
    InclusiveRange,
    TimeIntervalError,
    TimeIntervalSpec,
    TimeRange,
    intervals_contain,
    load_location,
    parse_time_interval_spec,
)
from hypothesis import given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.unit

IR = InclusiveRange
SYDNEY = ZoneInfo("Australia/Sydney")


def rfc822z(s: str) -> datetime:
    """Go's time.RFC822Z layout, "02 Jan 06 15:04 -0700"."""
    return datetime.strptime(s, "%d %b %y %H:%M %z")


# --- timeIntervalTestCases / TestContainsTime -------------------------------------------------

CONTAINS_CASES: list[tuple[TimeIntervalSpec, list[str], list[str]]] = [
    (
        TimeIntervalSpec(),
        ["02 Jan 06 15:04 +0000", "03 Jan 07 10:04 +0000", "04 Jan 06 09:04 +0000"],
        [],
    ),
    (  # 9am to 5pm, monday to friday
        TimeIntervalSpec(times=(TimeRange(540, 1020),), weekdays=(IR(1, 5),)),
        ["04 May 20 15:04 +0000", "05 May 20 10:04 +0000", "09 Jun 20 09:04 +0000"],
        ["03 May 20 15:04 +0000", "04 May 20 08:59 +0000", "05 May 20 05:00 +0000"],
    ),
    (  # Easter 2020
        TimeIntervalSpec(days_of_month=(IR(4, 6),), months=(IR(4, 4),), years=(IR(2020, 2020),)),
        ["04 Apr 20 15:04 +0000", "05 Apr 20 00:00 +0000", "06 Apr 20 23:05 +0000"],
        [
            "03 May 18 15:04 +0000",
            "03 Apr 20 23:59 +0000",
            "04 Jun 20 23:59 +0000",
            "06 Apr 19 23:59 +0000",
            "07 Apr 20 00:00 +0000",
        ],
    ),
    (  # negative days of month: the last 3 days of each month
        TimeIntervalSpec(days_of_month=(IR(-3, -1),)),
        [
            "31 Jan 20 15:04 +0000",
            "30 Jan 20 15:04 +0000",
            "29 Jan 20 15:04 +0000",
            "30 Jun 20 00:00 +0000",
            "29 Feb 20 23:05 +0000",
        ],
        [
            "03 May 18 15:04 +0000",
            "27 Jan 20 15:04 +0000",
            "03 Apr 20 23:59 +0000",
            "04 Jun 20 23:59 +0000",
            "06 Apr 19 23:59 +0000",
            "07 Apr 20 00:00 +0000",
            "01 Mar 20 00:00 +0000",
        ],
    ),
    (  # out of bound days are clamped to the month
        TimeIntervalSpec(months=(IR(6, 6),), days_of_month=(IR(-31, 31),)),
        ["30 Jun 20 00:00 +0000", "01 Jun 20 00:00 +0000"],
        ["31 May 20 00:00 +0000", "1 Jul 20 00:00 +0000"],
    ),
    (  # another time zone: AEST 9am to 5pm, monday to friday
        TimeIntervalSpec(times=(TimeRange(540, 1020),), weekdays=(IR(1, 5),), location=SYDNEY),
        ["06 Apr 21 13:00 +1000"],
        ["06 Apr 21 13:00 +0000"],
    ),
    (  # that time zone during daylight saving time
        TimeIntervalSpec(
            times=(TimeRange(540, 1020),), weekdays=(IR(1, 5),), months=(IR(11, 11),), location=SYDNEY
        ),
        ["01 Nov 21 09:00 +1100", "31 Oct 21 22:00 +0000"],
        ["31 Oct 21 21:00 +0000"],
    ),
    (  # last-day mutes do not shift in spring-forward months (fixed upstream after 0.25)
        TimeIntervalSpec(days_of_month=(IR(-1, -1),), location=ZoneInfo("America/New_York")),
        ["31 Mar 21 12:00 -0400"],
        ["30 Mar 21 12:00 -0400"],
    ),
]


@pytest.mark.parametrize(("spec", "inside", "outside"), CONTAINS_CASES)
def test_contains_time(spec: TimeIntervalSpec, inside: list[str], outside: list[str]) -> None:
    for s in inside:
        assert spec.contains(rfc822z(s)), s
    for s in outside:
        assert not spec.contains(rfc822z(s)), s


# --- timeStringTestCases / TestParseTimeString -------------------------------------------------

TIME_STRINGS: list[tuple[dict[str, Any], TimeRange | None]] = [
    ({"start_time": "00:00", "end_time": "24:00"}, TimeRange(0, 1440)),
    ({"start_time": "01:35", "end_time": "17:39"}, TimeRange(95, 1059)),
    ({"start_time": "09:35", "end_time": "09:39"}, TimeRange(575, 579)),
    ({"start_time": "17:31", "end_time": "17:31"}, None),  # begin == end
    ({"start_time": "12:30", "end_time": "24:01"}, None),  # end out of range
    ({"start_time": "09:30", "end_time": "07:41"}, None),  # start after end
    ({"start_time": "24:00", "end_time": "17:41"}, None),
    ({"start_time": "14:03"}, None),  # no end
]


@pytest.mark.parametrize(("entry", "want"), TIME_STRINGS)
def test_parse_time_range(entry: dict[str, Any], want: TimeRange | None) -> None:
    if want is None:
        with pytest.raises(TimeIntervalError):
            parse_time_interval_spec({"times": [entry]})
    else:
        assert parse_time_interval_spec({"times": [entry]}).times == (want,)


# --- yamlUnmarshalTestCases / TestYamlUnmarshal -----------------------------------------------

YAML_OK: list[tuple[str, list[TimeIntervalSpec], list[str], list[str]]] = [
    (
        """
- weekdays: ['monday:friday']
  times:
    - start_time: '09:00'
      end_time: '17:00'
""",
        [TimeIntervalSpec(weekdays=(IR(1, 5),), times=(TimeRange(540, 1020),))],
        ["08 Jul 20 09:00 +0000", "08 Jul 20 16:59 +0000"],
        ["08 Jul 20 05:00 +0000", "08 Jul 20 08:59 +0000"],
    ),
    (
        """
# Last week, excluding Saturday, of the first quarter of the year during business hours
# from 2020 to 2025 and 2030-2035
- weekdays: ['monday:friday', 'sunday']
  months: ['january:march']
  days_of_month: ['-7:-1']
  years: ['2020:2025', '2030:2035']
  times:
    - start_time: '09:00'
      end_time: '17:00'
""",
        [
            TimeIntervalSpec(
                weekdays=(IR(1, 5), IR(0, 0)),
                times=(TimeRange(540, 1020),),
                months=(IR(1, 3),),
                days_of_month=(IR(-7, -1),),
                years=(IR(2020, 2025), IR(2030, 2035)),
            )
        ],
        [
            "27 Jan 21 09:00 +0000",
            "28 Jan 21 16:59 +0000",
            "29 Jan 21 13:00 +0000",
            "31 Mar 25 13:00 +0000",
            "31 Jan 35 13:00 +0000",
        ],
        [
            "30 Jan 21 13:00 +0000",  # Saturday
            "01 Apr 21 13:00 +0000",  # 4th month
            "30 Jan 26 13:00 +0000",  # 2026
            "31 Jan 35 17:01 +0000",  # after 5pm
        ],
    ),
    ("- days_of_month: ['1:-1']", [TimeIntervalSpec(days_of_month=(IR(1, -1),))], [], []),
    ("- months: ['January:december']", [TimeIntervalSpec(months=(IR(1, 12),))], [], []),
    (
        "- years: ['2020:2022']\n  location: 'Australia/Sydney'",
        [TimeIntervalSpec(years=(IR(2020, 2022),), location=SYDNEY)],
        [],
        [],
    ),
]


@pytest.mark.parametrize(("text", "want", "inside", "outside"), YAML_OK)
def test_yaml_intervals(
    text: str, want: list[TimeIntervalSpec], inside: list[str], outside: list[str]
) -> None:
    specs = [parse_time_interval_spec(d) for d in yaml.safe_load(text)]
    assert specs == want
    for s in inside:
        assert intervals_contain(specs, rfc822z(s)), s
    for s in outside:
        assert not intervals_contain(specs, rfc822z(s)), s


YAML_ERRORS = [
    (
        {"times": [{"start_time": "01:99", "end_time": "23:59"}]},
        "couldn't parse timestamp 01:99, invalid format",
    ),
    (
        {"times": [{"start_time": "00:00", "end_time": "99:99"}]},
        "couldn't parse timestamp 99:99, invalid format",
    ),
    ({"weekdays": ["friday:monday"]}, "start day cannot be before end day"),
    ({"weekdays": ["blurgsday:flurgsday"]}, "blurgsday is not a valid weekday"),
    ({"weekdays": ["1:3"]}, "1 is not a valid weekday"),
    ({"weekdays": ["-2:-1"]}, "-2 is not a valid weekday"),
    ({"days_of_month": ["0"]}, "0 is not a valid day of the month: out of range"),
    ({"days_of_month": ["-50:-20"]}, "-50 is not a valid day of the month: out of range"),
    ({"days_of_month": ["1:50"]}, "50 is not a valid day of the month: out of range"),
    ({"days_of_month": ["-15:5"]}, "end day must be negative if start day is negative"),
    ({"days_of_month": ["10:-25"]}, "end day -25 is always before start day 10"),
    ({"days_of_month": ["28:-1"]}, "end day -1 is always before start day 28"),
    ({"days_of_month": ["x"]}, 'strconv.Atoi: parsing "x": invalid syntax'),
    ({"months": ["martius:june"]}, "martius is not a valid month"),
    ({"months": ["march:junius"]}, "junius is not a valid month"),
    ({"months": ["december:january"]}, "end month january is before start month december"),
    ({"years": ["2022:2020"]}, "end year 2020 is before start year 2022"),
    ({"years": ["2020:2021:2022"]}, "couldn't parse range 2020:2021:2022, invalid format"),
    ({"times": [{"start_time": "09:00"}]}, "both start and end times must be provided"),
    ({"times": [{"start_time": "09:00", "end_time": 1020}]}, 'expected a string like "17:00"'),
    ({"location": "Mars/Olympus_Mons"}, "unknown time zone Mars/Olympus_Mons"),
    ({"location": "../etc/passwd"}, "time: invalid location name"),
    ({"weekdays": ["x"], "bogus": 1}, "x is not a valid weekday"),  # values before unknown fields
    ({"weekday": ["monday"]}, 'unknown field "weekday"'),
    ({"weekdays": "monday"}, "weekdays: expected a list"),
]


@pytest.mark.parametrize(("data", "message"), YAML_ERRORS)
def test_yaml_errors(data: dict[str, Any], message: str) -> None:
    with pytest.raises(TimeIntervalError) as e:
        parse_time_interval_spec(data)
    assert message in str(e.value)


def test_error_names_field_and_value() -> None:
    with pytest.raises(TimeIntervalError, match=r'^weekdays "friday:monday": start day'):
        parse_time_interval_spec({"weekdays": ["friday:monday"]})


# --- completeTestCases / TestTimeIntervalComplete ---------------------------------------------

COMPLETE = [
    (
        """
weekdays: ['monday:wednesday', 'saturday', 'sunday']
times:
  - start_time: '13:00'
    end_time: '15:00'
days_of_month: ['1', '10', '20:-1']
years: ['2020:2023']
months: ['january:march']
""",
        ["10 Jan 21 13:00 +0000", "30 Jan 21 14:24 +0000"],
        ["09 Jan 21 13:00 +0000", "20 Jan 21 12:59 +0000", "02 Feb 21 13:00 +0000"],
    ),
    (  # a start day after the end of the month is skipped, not clamped
        "days_of_month: ['30:31']\nyears: ['2020:2023']\nmonths: ['february']",
        [],
        ["28 Feb 21 13:00 +0000"],
    ),
]


@pytest.mark.parametrize(("text", "inside", "outside"), COMPLETE)
def test_complete(text: str, inside: list[str], outside: list[str]) -> None:
    spec = parse_time_interval_spec(yaml.safe_load(text))
    for s in inside:
        assert spec.contains(rfc822z(s)), s
    for s in outside:
        assert not spec.contains(rfc822z(s)), s


# --- TestIntervener_Mutes --------------------------------------------------------------------

EVENINGS = [TimeIntervalSpec(times=(TimeRange(0, 540), TimeRange(1020, 1440)), location=SYDNEY)]
WEEKENDS = [TimeIntervalSpec(weekdays=(IR(6, 6), IR(0, 0)), location=SYDNEY)]


@pytest.mark.parametrize(
    ("now", "evenings", "weekends"),
    [
        (datetime(2024, 1, 1, 0, 0, tzinfo=SYDNEY), True, False),
        (datetime(2024, 1, 1, 9, 0, tzinfo=SYDNEY), False, False),
        (datetime(2024, 1, 6, 10, 0, tzinfo=SYDNEY), False, True),
        (datetime(2024, 1, 6, 17, 0, tzinfo=SYDNEY), True, True),
        (datetime(2024, 1, 1, 10, 0, tzinfo=UTC), True, False),
        (datetime(2024, 1, 6, 10, 0, tzinfo=UTC), True, True),
    ],
)
def test_intervener(now: datetime, evenings: bool, weekends: bool) -> None:
    assert intervals_contain(EVENINGS, now) is evenings
    assert intervals_contain(WEEKENDS, now) is weekends


# --- beyond upstream's tables -----------------------------------------------------------------


def test_last_day_in_a_dst_month_in_europe() -> None:
    """0.25 computed 30 days for March in Berlin (a 23-hour day); the month has 31."""
    spec = parse_time_interval_spec({"days_of_month": ["-1"], "location": "Europe/Berlin"})
    assert spec.contains(datetime(2021, 3, 31, 10, 0, tzinfo=UTC))
    assert not spec.contains(datetime(2021, 3, 30, 10, 0, tzinfo=UTC))


def test_absent_field_does_not_restrict_but_empty_list_matches_nothing() -> None:
    t = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert parse_time_interval_spec({"weekdays": None}).contains(t)
    assert parse_time_interval_spec({}).contains(t)
    for name in ("weekdays", "times", "days_of_month", "months", "years"):
        assert not parse_time_interval_spec({name: []}).contains(t), name


def test_lenient_values_accepted_like_upstream() -> None:
    spec = parse_time_interval_spec({"years": [2020], "months": ["13", "MAY"], "days_of_month": [5]})
    assert spec.years == (IR(2020, 2020),)
    assert spec.months == (IR(13, 13), IR(5, 5))  # upstream does not range-check numeric months
    assert spec.days_of_month == (IR(5, 5),)


def test_locations() -> None:
    assert load_location("") == ZoneInfo("UTC")
    assert load_location("UTC") == ZoneInfo("UTC")
    assert load_location("Local") is not None
    assert parse_time_interval_spec({"location": "Europe/Berlin"}).location == ZoneInfo("Europe/Berlin")


def test_naive_times_are_utc() -> None:
    spec = TimeIntervalSpec(times=(TimeRange(600, 660),))
    assert spec.contains(datetime(2024, 1, 1, 10, 30))
    assert intervals_contain([spec], datetime(2024, 1, 1, 10, 30))


# --- properties ----------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
zones = st.sampled_from(
    [ZoneInfo(z) for z in ("UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata")]
)


@st.composite
def time_ranges(draw: st.DrawFn) -> TimeRange:
    start = draw(st.integers(0, 1439))
    return TimeRange(start, draw(st.integers(start + 1, 1440)))


@settings(max_examples=300, deadline=None)
@given(t=instants, r=time_ranges())
def test_times_property(t: datetime, r: TimeRange) -> None:
    minute = t.hour * 60 + t.minute
    assert TimeIntervalSpec(times=(r,)).contains(t) is (r.start_minute <= minute < r.end_minute)


@settings(max_examples=300, deadline=None)
@given(t=instants, a=st.integers(0, 6), b=st.integers(0, 6))
def test_weekdays_property(t: datetime, a: int, b: int) -> None:
    lo, hi = min(a, b), max(a, b)
    names = list(calendar.day_name)  # Monday first
    spec = parse_time_interval_spec({"weekdays": [f"{names[(lo - 1) % 7]}:{names[(hi - 1) % 7]}"]})
    sunday_first = (t.weekday() + 1) % 7
    assert spec.contains(t) is (lo <= sunday_first <= hi)


@settings(max_examples=300, deadline=None)
@given(d=st.dates(min_value=date(1970, 1, 1), max_value=date(2100, 1, 1)), k=st.integers(1, 28))
def test_negative_day_of_month_counts_from_the_end(d: date, k: int) -> None:
    t = datetime(d.year, d.month, d.day, 12, tzinfo=UTC)
    days = calendar.monthrange(d.year, d.month)[1]
    spec = parse_time_interval_spec({"days_of_month": [f"-{k}"]})
    assert spec.contains(t) is (d.day == days - k + 1)
    assert parse_time_interval_spec({"days_of_month": [f"-{k}:-1"]}).contains(t) is (d.day >= days - k + 1)


@settings(max_examples=300, deadline=None)
@given(t=instants, zone=zones, r=time_ranges(), dom=st.integers(1, 31))
def test_location_is_a_conversion(t: datetime, zone: ZoneInfo, r: TimeRange, dom: int) -> None:
    fields: dict[str, Any] = {"times": (r,), "days_of_month": (IR(dom, 31),)}
    local = t.astimezone(zone)
    assert TimeIntervalSpec(location=zone, **fields).contains(t) is TimeIntervalSpec(**fields).contains(local)


@settings(max_examples=200, deadline=None)
@given(t=instants, starts=st.lists(st.integers(0, 23), min_size=1, max_size=4))
def test_intervals_contain_is_any(t: datetime, starts: list[int]) -> None:
    specs = [TimeIntervalSpec(times=(TimeRange(h * 60, h * 60 + 60),)) for h in starts]
    assert intervals_contain(specs, t) is (t.hour in starts)
    assert intervals_contain(specs, t + timedelta(days=7)) is (t.hour in starts)
