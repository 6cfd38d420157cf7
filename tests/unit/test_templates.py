"""Notification templates: the data model, the functions, the Go-to-Jinja translation of each
construct, the default templates, html/template escaping, and errors that name file and line.

Expected outputs were taken from Alertmanager 0.25's amtool (``amtool template render``) for
the same text and data; tests/integration/test_templates_reference.py compares the two
directly.
"""

from __future__ import annotations

import inspect
import time
from pathlib import Path

import pytest
from ampp.model.alert import Alert
from ampp.model.goregexp import GoRegexpError, compile_go_capturing
from ampp.model.timefmt import ZERO, format_go_duration, parse_rfc3339
from ampp.notify.templates import (
    KV,
    AlertList,
    GoDuration,
    GoTime,
    Pair,
    TemplateAlert,
    TemplateData,
    TemplateError,
    Templates,
    template_data,
)
from ampp.notify.templates import _funcs as funcs
from ampp.notify.templates._gofmt import format_float_v, sprint, sprintf, sprintln
from ampp.notify.templates._goregexp import match_string, replace_all
from ampp.notify.templates._gotime import load_location

pytestmark = pytest.mark.unit


def t(s: str) -> GoTime:
    return GoTime(parse_rfc3339(s))


def alert(
    status: str, labels: dict[str, str], annotations: dict[str, str] | None = None, **kw: object
) -> TemplateAlert:
    return TemplateAlert(
        status=status,
        labels=labels,
        annotations=annotations or {},
        starts_at=kw.get("starts_at", t("2024-03-01T10:00:00Z")),  # type: ignore[arg-type]
        ends_at=kw.get("ends_at", GoTime(ZERO)),  # type: ignore[arg-type]
        generator_url=str(kw.get("generator_url", "http://prom/graph?g0.expr=up")),
        fingerprint=str(kw.get("fingerprint", "1a2b3c4d5e6f7081")),
    )


@pytest.fixture(scope="module")
def data() -> TemplateData:
    """Two alerts of one group, one firing and one resolved."""
    return TemplateData(
        receiver="team-X\\.ops",
        status="firing",
        alerts=[
            alert(
                "firing",
                {"alertname": "HighLatency", "job": "api", "instance": "a:9090", "severity": "critical"},
                {"summary": "p99 > 1s", "runbook": "http://r/x?a=1&b=2"},
            ),
            alert(
                "resolved",
                {"alertname": "HighLatency", "job": "api", "instance": "b:9090", "severity": "warning"},
                {"summary": "p99 > 1s"},
                starts_at=t("2024-03-01T09:00:00.123456789Z"),
                ends_at=t("2024-03-01T09:30:00Z"),
                fingerprint="00000000000000ff",
            ),
        ],
        group_labels={"alertname": "HighLatency"},
        common_labels={"alertname": "HighLatency", "job": "api"},
        common_annotations={"summary": "p99 > 1s"},
        external_url="http://am.example.com:9093",
    )


@pytest.fixture(scope="module")
def tpl() -> Templates:
    return Templates.load()


def render(tpl: Templates, text: str, data: TemplateData) -> str:
    return tpl.render(text, data)


# --- data model ------------------------------------------------------------------------------


class TestData:
    def test_template_data_follows_alertmanager(self) -> None:
        now = parse_rfc3339("2024-03-01T10:00:00Z")
        a1 = Alert(
            {"alertname": "A", "job": "x", "env": "prod"}, {"summary": "s", "d": "1"}, starts_at=now - 10
        )
        a2 = Alert(
            {"alertname": "A", "job": "y", "env": "prod"}, {"summary": "s"}, starts_at=now - 10, ends_at=now
        )
        d = template_data("ops.team (1)", {"alertname": "A"}, [a1, a2], "http://am", now)
        assert d.receiver == "ops\\.team \\(1\\)"  # regexp.QuoteMeta
        assert d.status == "firing"
        assert [a.status for a in d.alerts] == ["firing", "resolved"]
        assert d.common_labels == {"alertname": "A", "env": "prod"}
        assert d.common_annotations == {"summary": "s"}
        assert d.group_labels == {"alertname": "A"}
        assert d.external_url == "http://am"
        assert d.alerts[0].fingerprint == f"{a1.fingerprint:016x}"
        assert d.alerts[1].ends_at.ns == now
        assert d.alerts[0].ends_at.IsZero()
        assert [a.labels["job"] for a in d.firing()] == ["x"]
        assert [a.labels["job"] for a in d.resolved()] == ["y"]
        assert template_data("r", {}, [a2], "", now).status == "resolved"
        assert template_data("r", {}, [], "", now).status == "resolved"

    def test_data_json_is_template_data_as_json(self) -> None:
        """The webhook's body, built directly, is what the template objects print, key order
        included (Go's encoding/json: struct fields in order, map keys sorted)."""
        from ampp.notify.templates._data import data_json

        now = parse_rfc3339("2024-03-01T10:00:00.5Z")
        alerts = [
            Alert(
                {"zz": "1", "alertname": "A", "job": "x"}, {"b": "2", "a": "<&>"}, now - 10, ZERO, "http://g"
            ),
            Alert({"alertname": "A", "job": "y", "env": "é"}, {"b": "2"}, now - 1_500_000_000, now),
            Alert({"alertname": "A", "job": "z"}, {}, now - 10, now + 123_456_789),
        ]
        enriched = {
            alerts[0].fingerprint: {"summary": "disk", "confidence": 0.5},
            alerts[1].fingerprint: None,
        }
        for group, enrichment in ((alerts, None), (alerts, enriched), (alerts[1:2], None), ([], enriched)):
            labels = {"b": "1", "alertname": "A"}
            expected = template_data("ops.team (1)", labels, group, "http://am", now, enrichment).to_json()
            got = data_json("ops.team (1)", labels, group, "http://am", now, enrichment)
            assert got == expected
            assert [list(a) + list(a["labels"]) for a in got["alerts"]] == [
                list(a) + list(a["labels"]) for a in expected["alerts"]
            ]
            assert list(got["commonLabels"]) == list(expected["commonLabels"])
            assert all(("enrichment" in a) == (enrichment is not None) for a in got["alerts"])

    def test_kv(self) -> None:
        kv = KV({"zeta": "1", "alertname": "A", "beta": "2"})
        assert [(p.name, p.value) for p in kv.sorted_pairs()] == [
            ("alertname", "A"),
            ("beta", "2"),
            ("zeta", "1"),
        ]
        assert kv.names() == ["alertname", "beta", "zeta"]
        assert kv.sorted_values() == ["A", "2", "1"]
        assert kv.remove(["beta"]) == {"zeta": "1", "alertname": "A"}
        assert kv["missing"] == ""  # a Go map's zero value
        assert "missing" not in kv
        assert kv.SortedPairs().Values() == ["A", "2", "1"]

    def test_from_dict_and_dict_data(self, tpl: Templates) -> None:
        now = parse_rfc3339("2024-03-01T10:00:00Z")
        a = Alert(
            {"alertname": "A", "job": "x"}, {"summary": "s"}, starts_at=now - 10, generator_url="http://g"
        )
        ours = template_data("r", {"alertname": "A"}, [a], "http://am", now)
        payload = ours.to_json()  # the webhook's dict
        back = TemplateData.from_dict(payload)
        text = '{{ printf "%v" . }}'
        assert tpl.render(text, back) == tpl.render(text, ours) == tpl.render(text, payload)  # type: ignore[arg-type]
        assert back.alerts[0].starts_at.ns == now - 10 and back.alerts[0].ends_at.IsZero()

    def test_go_names_and_python_names(self, data: TemplateData) -> None:
        assert data.CommonLabels is data.common_labels  # type: ignore[attr-defined]
        assert data.alerts.Firing() == data.alerts.firing() == data.firing()
        assert isinstance(data.alerts, AlertList)
        assert data.alerts[0].Labels is data.alerts[0].labels  # type: ignore[attr-defined]
        assert Pair("a", "b").Name == "a"  # type: ignore[attr-defined]


# --- functions -------------------------------------------------------------------------------


class TestFunctions:
    def test_case(self) -> None:
        assert funcs.to_upper("ßaİǆ") == "ßAİǄ"
        assert funcs.to_lower("İÀǅ") == "iàǆ"
        assert funcs.title(
            "hello wORLD 1st foo-bar foo_bar foo.bar foo,bar foo:bar it's a..b ÉCOLE ǆx ßa x2y 2x"
        ) == ("Hello World 1St Foo-Bar Foo_bar Foo.bar Foo,Bar Foo:bar It's A..B École ǅx Ssa X2y 2X")
        assert funcs.title("a;b a/b a\u2019b a·b a日b") == "A;B A/B A\u2019b A·b A日B"

    def test_trim_join_slice(self) -> None:
        assert funcs.trim_space("\u0085 \u00a0x\u001c \t\n") == "x\u001c"
        assert funcs.join(",", ["a", "b"]) == "a,b"
        assert funcs.string_slice("a", "b") == ["a", "b"]
        with pytest.raises(Exception, match="expected \\[\\]string"):
            funcs.join(",", [Pair("a", "b")])

    def test_regexp_functions(self) -> None:
        assert funcs.match("^High", "HighLatency") is True
        assert funcs.match("^foo$", "foo\n") is False  # Go's $ is the end of the text
        assert funcs.re_replace_all("x*", "-", "abxd") == "-a-b-d-"
        assert funcs.re_replace_all("(a)(?P<n>b)", "[$2${1}$n$1x$$]", "abab") == "[bab$][bab$]"
        assert funcs.re_replace_all("", "-", "abc") == "-a-b-c-"
        assert funcs.re_replace_all("a|", "X", "baaac") == "XbXXXcX"
        assert funcs.re_replace_all("([a-z]+):(\\d+)", "$2@$1", "host:9090 other:80") == "9090@host 80@other"
        with pytest.raises(Exception, match="missing closing \\)"):
            funcs.re_replace_all("(a", "", "x")

    def test_go_regexp_translation(self) -> None:
        assert match_string(r"\d", "٣") is False  # \d is ASCII in Go
        assert match_string(r"\w+\b", "é") is False
        assert match_string(r"(?i)ab(?-i)c|x", "ABc")
        assert not match_string(r"(?i)ab(?-i)c", "ABC")
        assert match_string(r"[[:alpha:]]+\z", "abc")
        assert match_string(r"\Qa.b\E", "a.b") and not match_string(r"\Qa.b\E", "axb")
        assert match_string(r"(?<year>\d{4})", "2024")
        assert replace_all(r"(?m)^", "> ", "a\nb") == "> a\n> b"
        assert compile_go_capturing(r"a{,2}").match("a{,2}")  # not a repeat in Go
        assert match_string(r"\p{Lu}", "É") and not match_string(r"\p{Lu}", "é")  # as matchers do
        assert replace_all(r"(?U)a+", "x", "aaa") == "xxx"  # (?U): non-greedy by default
        for bad in (r"(?=x)", r"\1", r"a**", r"\p{Greek}"):
            with pytest.raises(GoRegexpError):
                compile_go_capturing(bad)

    def test_safe_and_url(self) -> None:
        assert funcs.safe_html("<b>") == "<b>"
        assert funcs.url_unescape("a+b%20c%2F") == "a b c/"
        with pytest.raises(Exception, match="invalid URL escape"):
            funcs.url_unescape("%zz")
        assert funcs.query_escape("a b/c?&=é~") == "a+b%2Fc%3F%26%3D%C3%A9~"

    def test_time_functions(self) -> None:
        ts = t("2024-03-01T10:04:05.5Z")
        assert funcs.date("2006-01-02 15:04:05.000 MST", ts) == "2024-03-01 10:04:05.500 UTC"
        assert funcs.date("Mon Jan _2 3:04PM", funcs.tz("Europe/Paris", ts)) == "Fri Mar  1 11:04AM"
        assert str(funcs.tz("America/New_York", ts)) == "2024-03-01 05:04:05.5 -0500 EST"
        with pytest.raises(Exception, match="unknown time zone"):
            funcs.tz("Nowhere/Else", ts)
        d = funcs.since(GoTime(time.time_ns() - 90 * 1_000_000_000))
        assert isinstance(d, GoDuration) and 89 < d.Seconds() < 120
        assert isinstance(funcs.now(), GoTime)

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (0, "0s"),
            (0.1, "100ms"),
            (0.0001, "100us"),
            (1, "1s"),
            (1.5, "1.5s"),
            (59.999, "60s"),
            (60, "1m 0s"),
            (3600, "1h 0m 0s"),
            (86400 + 3723, "1d 1h 2m 3s"),
            (-90, "-1m 30s"),
            ("123.5", "2m 3s"),
            (GoDuration(1_500_000_000), "1.5s"),
            (float("inf"), "+Inf"),
        ],
    )
    def test_humanize_duration(self, value: object, expected: str) -> None:
        assert funcs.humanize_duration(value) == expected

    def test_json_base64_collections(self, data: TemplateData) -> None:
        assert (
            funcs.to_json({"b": "<x>", "a": [1, 2.5, None, True]})
            == '{"a":[1,2.5,null,true],"b":"\\u003cx\\u003e"}'
        )
        j = funcs.to_json(data.alerts[0])
        assert j.startswith('{"status":"firing","labels":{"alertname":"HighLatency",')
        assert '"startsAt":"2024-03-01T10:00:00Z","endsAt":"0001-01-01T00:00:00Z"' in j
        assert funcs.base64_encode("a?b") == "YT9i" and funcs.base64_decode("YT9i") == "a?b"
        assert funcs.dict_("a", 1, "b", "x") == {"a": 1, "b": "x"}
        assert funcs.append(funcs.list_(1), 2) == [1, 2]
        with pytest.raises(Exception, match="even number"):
            funcs.dict_("a")

    def test_comparisons(self) -> None:
        assert funcs.eq("a", "b", "a") is True
        assert funcs.eq(1, 2) is False and funcs.ne(1, 2) is True
        assert funcs.lt("a", "b") and funcs.le(1, 1) and funcs.gt(2.5, 1.5) and funcs.ge(1, 1)
        with pytest.raises(Exception, match="incompatible types for comparison"):
            funcs.eq(1, "a")
        with pytest.raises(Exception, match="incompatible types for comparison"):
            funcs.lt(1, 1.5)
        with pytest.raises(Exception, match="invalid type for comparison"):
            funcs.lt([1], 1)
        with pytest.raises(Exception, match="invalid type for comparison"):
            funcs.eq(KV(), KV())

    def test_builtins(self, data: TemplateData) -> None:
        assert funcs.index(data.common_labels, "alertname") == "HighLatency"
        assert funcs.index(data.common_labels, "nope") == ""
        assert funcs.index("abc", 1) == 98  # a byte, as in Go
        with pytest.raises(Exception, match="index out of range: 9"):
            funcs.index(data.alerts, 9)
        assert funcs.slice_("abcdef", 1, 4) == "bcd" and funcs.slice_([1, 2, 3], 1) == [2, 3]
        assert funcs.len_("héllo") == 6  # bytes
        assert funcs.html("<x&'\">") == "&lt;x&amp;&#39;&#34;&gt;"
        assert funcs.js("a'\"<>&=\\\n`") == "a\\'\\\"\\u003C\\u003E\\u0026\\u003D\\\\\\u000A`"
        assert funcs.urlquery("a b", "c") == "a+bc"


class TestFmt:
    def test_print(self) -> None:
        assert sprint(1, 2, "a", 3, "b", "c") == "1 2a3bc"
        assert sprintln(1, "a") == "1 a\n"
        assert [format_float_v(x) for x in (1e6, 123456.0, 1234567.0, 0.00001, 3.0, 0.5, 1e21)] == [
            "1e+06",
            "123456",
            "1.234567e+06",
            "1e-05",
            "3",
            "0.5",
            "1e+21",
        ]

    def test_printf(self) -> None:
        assert sprintf(
            "%v %.2f %5.1f|%-5d|%05d %q %x %e %g", 1.5, 3.14159, 2.25, 42, -42, 'a"b', "hi", 1234.5, 0.0001
        ) == ('1.5 3.14   2.2|42   |-0042 "a\\"b" 6869 1.234500e+03 0.0001')
        assert sprintf("%d %s %s %s", "x", 5, "a") == "%!d(string=x) %!s(int=5) a %!s(MISSING)"
        assert sprintf("%s", "a", "b") == "a%!(EXTRA string=b)"
        assert sprintf("%z", 3) == "%!z(int=3)"
        assert sprintf("%[2]d %[1]s", "a", 1) == "1 a"
        assert sprintf("%T %T %T %T", [], KV(), 1.5, None) == "[]interface {} template.KV float64 <nil>"
        assert sprintf("%+v", KV({"a": "b"}).sorted_pairs()) == "[{Name:a Value:b}]"
        assert sprintf("%5d|%-4s|%q", [1], ["a", "bb"], KV({"k": "v"})) == '[    1]|[a    bb  ]|map["k":"v"]'
        assert sprintf("%c %U %+d %8.3s| %x %X %o %b %t", 65, 0x1F600, 5, "abcdef", 255, 255, 8, 5, True) == (
            "A U+1F600 +5      abc| ff FF 10 101 true"
        )


class TestTime:
    def test_string_and_format(self) -> None:
        ts = t("2024-03-01T09:00:00.123456789Z")
        assert str(ts) == "2024-03-01 09:00:00.123456789 +0000 UTC"
        assert str(GoTime(ZERO)) == "0001-01-01 00:00:00 +0000 UTC"
        layout = (
            "2006-01-02T15:04:05.000Z07:00 Mon Jan _2 3:4:5 PM -0700 MST ,999 .00 002 __2 06 January "
            "Monday pm 15h Z0700 -07 Janet Month"
        )
        assert t("2024-03-01T10:00:00Z").Format(layout) == (
            "2024-03-01T10:00:00.000Z Fri Mar  1 10:0:0 AM +0000 UTC  .00 061  61 24 March "
            "Friday am 10h Z +00 Janet Month"
        )
        assert ts.Format("15:04:05.999999") == "09:00:00.123456"
        assert ts.In(load_location("Asia/Kolkata")).Format(
            time.strftime("Z07:00") and "Z07:00 -0700 MST"
        ) == ("+05:30 +0530 IST")

    def test_methods(self) -> None:
        a, b = t("2024-03-01T09:00:00.123456789Z"), t("2024-03-01T09:30:00Z")
        assert str(b.Sub(a)) == "29m59.876543211s"
        assert a.Unix() == 1709283600 and str(a.Month()) == "March" and str(a.Weekday()) == "Friday"
        assert a.YearDay() == 61 and a.Before(b) and not a.After(b)
        assert str(a.Truncate(3600 * 1_000_000_000)) == "2024-03-01 09:00:00 +0000 UTC"

    @pytest.mark.parametrize(
        ("ns", "expected"),
        [
            (0, "0s"),
            (1, "1ns"),
            (1500, "1.5µs"),
            (1_500_000, "1.5ms"),
            (61_000_000_000, "1m1s"),
            (3600 * 10**9, "1h0m0s"),
            (-5 * 10**9, "-5s"),
        ],
    )
    def test_duration_string(self, ns: int, expected: str) -> None:
        assert format_go_duration(ns) == expected


# --- translation of each construct ----------------------------------------------------------


CONSTRUCTS = [
    (
        "fields",
        "{{ .Receiver }}|{{ .Status }}|{{ .ExternalURL }}",
        "team-X\\.ops|firing|http://am.example.com:9093",
    ),
    ("nested field", "{{ .CommonLabels.alertname }}|{{ .CommonLabels.nope }}|", "HighLatency||"),
    ("method chain", '{{ .GroupLabels.SortedPairs.Values | join " " }}', "HighLatency"),
    ("pipeline into len", "{{ .Alerts.Firing | len }} {{ len .Alerts }}", "1 2"),
    (
        "range with index",
        "{{ range $i, $a := .Alerts }}{{ $i }}:{{ $a.Fingerprint }} {{ end }}",
        "0:1a2b3c4d5e6f7081 1:00000000000000ff ",
    ),
    ("range else", "{{ range .Alerts.Resolved }}{{ .Labels.instance }}{{ else }}none{{ end }}", "b:9090"),
    (
        "range map",
        "{{ range $k, $v := .CommonLabels }}{{ $k }}={{ $v }};{{ end }}",
        "alertname=HighLatency;job=api;",
    ),
    ("range one variable", "{{ range $a := .Alerts }}{{ $a.Status }} {{ end }}", "firing resolved "),
    (
        "dollar in range",
        "{{ range .Alerts.Firing }}{{ .Labels.instance }}@{{ $.Receiver }}{{ end }}",
        "a:9090@team-X\\.ops",
    ),
    (
        "if else if else",
        '{{ if .CommonLabels.nope }}x{{ else if eq .Status "firing" }}f{{ else }}e{{ end }}',
        "f",
    ),
    (
        "with else",
        "{{ with .CommonLabels.job }}job={{ . }}{{ else }}nojob{{ end }} "
        "{{ with .CommonLabels.x }}x{{ else }}no{{ end }}",
        "job=api no",
    ),
    (
        "with variable",
        "{{ with $a := index .Alerts 0 }}{{ $a.Labels.instance }} {{ .GeneratorURL }}{{ end }}",
        "a:9090 http://prom/graph?g0.expr=up",
    ),
    (
        "variables and assignment",
        '{{ $x := "a" }}{{ range .Alerts }}{{ $x = printf "%s%s" $x .Status }}{{ end }}{{ $x }}',
        "afiringresolved",
    ),
    ("shadowing", "{{ $n := 1 }}{{ range .Alerts }}{{ $n := 5 }}{{ $n }}{{ end }}{{ $n }}", "551"),
    (
        "nested ranges",
        "{{ range $i, $x := .Alerts }}{{ range $j, $y := $.Alerts }}{{ $i }}{{ $j }} {{ end }}{{ end }}",
        "00 01 10 11 ",
    ),
    (
        "break continue",
        '{{ range .Alerts }}{{ if eq .Status "firing" }}{{ continue }}{{ end }}'
        "{{ .Fingerprint }}{{ break }}{{ end }}",
        "00000000000000ff",
    ),
    (
        "and or not",
        '{{ and 1 "" 3 }}|{{ or 0 "" "x" }}|{{ not .Alerts }}|{{ or .CommonLabels.nope "dflt" }}',
        "|x|false|dflt",
    ),
    (
        "index",
        '{{ index .CommonLabels "alertname" }}|{{ index .CommonLabels "nope" }}|'
        "{{ (index .Alerts 1).Labels.instance }}",
        "HighLatency||b:9090",
    ),
    (
        "printf",
        '{{ printf "%-10s|%5d|%.2f|%q|%v" .Status (len .Alerts) 3.14159 .CommonLabels.alertname '
        ".GroupLabels.Names }}",
        'firing    |    2|3.14|"HighLatency"|[alertname]',
    ),
    (
        "pipeline into printf",
        '{{ "x" | printf "%s-%s" "y" }} {{ .Status | printf "%s!" | toUpper }}',
        "y-x FIRING!",
    ),
    ("parenthesized", "{{ if gt (len .CommonLabels) (len .GroupLabels) }}more{{ end }}", "more"),
    (
        "comparisons",
        '{{ eq .Status "firing" "resolved" }} {{ ne 1 2 }} {{ lt 1 2 }} {{ le "a" "a" }} {{ gt 2.5 1.5 }}',
        "true true true true true",
    ),
    (
        "literals",
        '{{ "q\\"s\\" \\u00e9 \\x41" }} {{ `raw\\n` }} {{ \'x\' }} {{ 1.5 }} {{ 1e3 }} {{ -2 }} '
        "{{ 0x10 }} {{ 017 }} {{ true }}",
        'q"s" é A raw\\n 120 1.5 1000 -2 16 15 true',
    ),
    ("trim markers", "a  {{- .Status -}}  b\n  {{- 1 }}\n", "afiringb1\n"),
    ("comments", '{{- /* comment */ -}}  x  {{- " y " -}}  z{{/* another */}}', "x y z"),
    (
        "define and template",
        '{{ define "t2" }}<{{ . }}>{{ end }}'
        '{{ define "t1" }}{{ $x := .Status }}{{ template "t2" $x }}{{ end }}{{ template "t1" . }}',
        "<firing>",
    ),
    ("template without data", '{{ define "n" }}[{{ . }}]{{ end }}{{ template "n" }}', "[<no value>]"),
    ("block", '{{ block "blk" .Receiver }}default:{{ . }}{{ end }}', "default:team-X\\.ops"),
    (
        "printing values",
        "{{ .CommonLabels }} {{ .GroupLabels.SortedPairs }} {{ .Alerts.Resolved | len }} {{ 1e6 }}",
        "map[alertname:HighLatency job:api] [{alertname HighLatency}] 1 1e+06",
    ),
    (
        "times",
        "{{ (index .Alerts 1).StartsAt }} {{ (index .Alerts 1).EndsAt.Sub (index .Alerts 1).StartsAt }} "
        '{{ (index .Alerts 0).StartsAt.Format "Jan 2, 2006 at 3:04pm (MST)" }}',
        "2024-03-01 09:00:00.123456789 +0000 UTC 29m59.876543211s Mar 1, 2024 at 10:00am (UTC)",
    ),
    (
        "remove and stringSlice",
        '{{ .CommonLabels.Remove (stringSlice "job") }} {{ stringSlice "a" "b" | join "+" }}',
        "map[alertname:HighLatency] a+b",
    ),
    (
        "regexp",
        '{{ reReplaceAll "(\\\\w+)@(\\\\w+)" "${2}_$1" "me@host you@there" }} {{ match "^[a-z]+$" "abc" }}',
        "host_me there_you true",
    ),
    ("jinja-looking text", '{% raw %} {# x #} {{ "{{" }}', "{% raw %} {# x #} {{"),
    ("carriage returns", "a\r\nb{{ .Status }}\r\n", "a\r\nbfiring\r\n"),
]


class TestTranslation:
    @pytest.mark.parametrize(("name", "text", "expected"), CONSTRUCTS, ids=[c[0] for c in CONSTRUCTS])
    def test_construct(self, tpl: Templates, data: TemplateData, name: str, text: str, expected: str) -> None:
        assert tpl.render(text, data) == expected

    def test_empty_text(self, tpl: Templates, data: TemplateData) -> None:
        assert tpl.render("", data) == "" and tpl.render_html("", data) == ""

    def test_translation_is_cached_per_text(self, tpl: Templates, data: TemplateData) -> None:
        text = "{{ .Status }}-cached"
        assert tpl.render(text, data) == "firing-cached"
        assert text in tpl._render_text
        assert tpl.render(text, data) == "firing-cached"

    def test_generated_jinja_keeps_go_lines(self, tmp_path: Path) -> None:
        f = tmp_path / "lines.tmpl"
        f.write_text('{{ define "x" }}\n{{ if .Status }}\n  {{ .Status }}\n{{ end }}\n{{ end }}\n')
        d = Templates.load([str(f)])._defs["x"]
        assert d.text_translation is not None
        source = d.text_translation.source
        # line 3 of the file (the action) is on line 3 - 1 + 1 of the Jinja source (body starts on line 1)
        assert "(dot)|_gf('Status')" in source.splitlines()[2]


# --- html/template --------------------------------------------------------------------------

HTML = [
    ("text escaping", '{{ "a+b<\'&\\"" }} a < b <b>x</b>', "a&#43;b&lt;&#39;&amp;&#34; a &lt; b <b>x</b>"),
    ("comments dropped", "<!-- {{ .Status }} --> after", " after"),
    (
        "safeHtml",
        '{{ "<b>" | safeHtml }} <i title="{{ "<b>x</b>" | safeHtml }}">i</i>',
        '<b> <i title="x">i</i>',
    ),
    (
        "url attribute",
        '<a href="{{ .ExternalURL }}?r={{ .Receiver }}">x</a>',
        '<a href="http://am.example.com:9093?r=team-X%5c.ops">x</a>',
    ),
    (
        "unsafe url",
        '<a href="{{ "javascript:x" }}">j</a> <a href="{{ "HTTPS://x.y/a b" }}">h</a>',
        '<a href="#ZgotmplZ">j</a> <a href="HTTPS://x.y/a%20b">h</a>',
    ),
    ("unquoted attribute", "<p title={{ .Status }}>x</p>", "<p title=firing>x</p>"),
    (
        "rcdata",
        '<title>{{ "a+b<" | safeHtml }}</title><textarea>{{ "<x>" }}</textarea>',
        "<title>a&#43;b&lt;</title><textarea>&lt;x&gt;</textarea>",
    ),
    (
        "predefined escapers",
        '{{ "a+b" | html }} <a href="/x?q={{ "a b&c" | urlquery }}">q</a>',
        'a+b <a href="/x?q=a&#43;b%26c">q</a>',
    ),
    ("query part", '<a href="/x?q={{ "a b" }}#{{ "f g" }}">q</a>', '<a href="/x?q=a%20b#f%20g">q</a>'),
    (
        "css comments",
        '<style>p { color: red; } /* c */ a { b: "/*" } </style>x',
        '<style>p { color: red; }   a { b: "/*" } </style>x',
    ),
    ("js comments", "<script>var x = 1; // c\n</script>y", "<script>var x = 1; \n</script>y"),
    (
        "templates in context",
        '<title>{{ template "__subject" . }}</title><a href="{{ template "__alertmanagerURL" . }}">l</a>',
        '<title>[FIRING:1] HighLatency (api)</title><a href="http://am.example.com:9093/#/alerts?receiver=team-X%5C.ops">l</a>',
    ),
]


class TestHTML:
    @pytest.mark.parametrize(("name", "text", "expected"), HTML, ids=[c[0] for c in HTML])
    def test_escaping(self, tpl: Templates, data: TemplateData, name: str, text: str, expected: str) -> None:
        assert tpl.render_html(text, data) == expected

    def test_text_mode_does_not_escape(self, tpl: Templates, data: TemplateData) -> None:
        assert tpl.render('<a href="{{ "javascript:x" }}">{{ "<b>" }}</a><!-- c -->', data) == (
            '<a href="javascript:x"><b></a><!-- c -->'
        )

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ('<a onclick="{{ .Status }}">z</a>', "JavaScript"),
            ("<style>{{ .Status }}</style>", "CSS"),
            ("<a {{ .Status }}>", "attribute or tag name"),
            ('<a href="{{ .Status }}', "ends in a non-text context"),
            ('{{ .Status | html | printf "%s" }}', 'predefined escaper "html" disallowed'),
            ('<a href="{{ if .Alerts }}/a?{{ end }}{{ .Status }}">', "ambiguous context within a URL"),
        ],
    )
    def test_refused(self, tpl: Templates, data: TemplateData, text: str, reason: str) -> None:
        with pytest.raises(TemplateError, match=reason) as e:
            tpl.render_html(text, data)
        assert "<text>" in str(e.value)


# --- default templates ----------------------------------------------------------------------


class TestDefaults:
    def test_names(self, tpl: Templates) -> None:
        names = tpl.names()
        for n in (
            "__subject",
            "__description",
            "__text_alert_list",
            "slack.default.title",
            "slack.default.color",
            "pagerduty.default.instances",
            "opsgenie.default.description",
            "wechat.default.message",
            "victorops.default.state_message",
            "pushover.default.message",
            "sns.default.message",
            "telegram.default.message",
            "discord.default.message",
            "webex.default.message",
            "email.default.subject",
            "email.default.html",
            "msteams.default.text",
            "msteamsv2.default.title",
            "jira.default.priority",
            "rocketchat.default.title",
            "mattermost.default.text",
        ):
            assert n in names

    def test_all_defaults_render(self, tpl: Templates, data: TemplateData) -> None:
        for n in tpl.names():
            arg = (
                ".Alerts" if n.startswith("__text_alert_list") or n == "pagerduty.default.instances" else "."
            )
            text = f'{{{{ template "{n}" {arg} }}}}'
            assert isinstance(tpl.render(text, data), str)
            assert isinstance(tpl.render_html(text, data), str)

    def test_subject_and_friends(self, tpl: Templates, data: TemplateData) -> None:
        assert tpl.render('{{ template "slack.default.title" . }}', data) == "[FIRING:1] HighLatency (api)"
        assert tpl.render('{{ template "slack.default.fallback" . }}', data) == (
            "[FIRING:1] HighLatency (api) | http://am.example.com:9093/#/alerts?receiver=team-X%5C.ops"
        )
        assert tpl.render('{{ template "slack.default.color" . }}', data) == "danger"
        assert tpl.render('{{ template "jira.default.priority" . }}', data) == "High"
        assert tpl.render('{{ template "opsgenie.default.description" . }}', data) == (
            "p99 > 1s\nAlerts Firing:\nLabels:\n - alertname = HighLatency\n - instance = a:9090\n"
            " - job = api\n - severity = critical\nAnnotations:\n - runbook = http://r/x?a=1&b=2\n"
            " - summary = p99 > 1s\n"
            "Source: http://prom/graph?g0.expr=up\n\nAlerts Resolved:\nLabels:\n - alertname = HighLatency\n"
            " - instance = b:9090\n - job = api\n - severity = warning\nAnnotations:\n - summary = p99 > 1s\n"
            "Source: http://prom/graph?g0.expr=up\n"
        )

    def test_email_html(self, tpl: Templates, data: TemplateData) -> None:
        html = tpl.render_html('{{ template "email.default.html" . }}', data)
        text = tpl.render('{{ template "email.default.html" . }}', data)
        assert html.startswith("\n\n<!DOCTYPE html")
        assert "<!--" not in html and "The MIT License" in text
        assert "<title>[FIRING:1] HighLatency (api)</title>" in html
        assert 'href="http://am.example.com:9093/#/alerts?receiver=team-X%5C.ops"' in html
        assert "[1] Firing" in html and "[1] Resolved" in html

    def test_user_overrides_default(self, tmp_path: Path, data: TemplateData) -> None:
        f = tmp_path / "over.tmpl"
        f.write_text(
            '{{ define "__alertmanager" }}AM++{{ end }}{{ define "__subject" }}  {{/* empty */}} {{ end }}'
        )
        t2 = Templates.load([str(f)])
        assert t2.render('{{ template "slack.default.username" . }}', data) == "AM++"
        # a definition with only white space and comments replaces nothing (Go's rule)
        assert t2.render('{{ template "slack.default.title" . }}', data) == "[FIRING:1] HighLatency (api)"
        assert "over.tmpl" in t2.names()


# --- Jinja files ------------------------------------------------------------------------------


class TestJinjaFiles:
    def test_jinja_file_defines_templates(self, tmp_path: Path, data: TemplateData) -> None:
        j = tmp_path / "mine.j2"
        j.write_text(
            '{# helpers #}\n{% define "mine.title" -%}\n'
            "{{ dot.status | toUpper }}: {{ dot.common_labels.alertname }} "
            "({{ dot.alerts.firing() | length }}) {{ dot.CommonLabels.job }}\n{%- enddefine %}\n"
            '{% define "mine.list" %}{% for a in dot.alerts %}{{ a.labels.instance }} {% endfor %}'
            "{% enddefine %}"
        )
        g = tmp_path / "go.tmpl"
        g.write_text('{{ define "go.uses.jinja" }}<{{ template "mine.title" . }}>{{ end }}')
        t2 = Templates.load([str(j), str(g)])
        assert t2.render('{{ template "mine.title" . }}', data) == "FIRING: HighLatency (1) api"
        assert t2.render('{{ template "go.uses.jinja" . }}', data) == "<FIRING: HighLatency (1) api>"
        assert t2.render('{{ template "mine.list" . }}', data) == "a:9090 b:9090 "
        assert (
            t2.render_html('<b>{{ template "mine.title" . }}</b>', data)
            == "<b>FIRING: HighLatency (1) api</b>"
        )

    def test_jinja_calls_go_and_escapes_like_go(self, tmp_path: Path, data: TemplateData) -> None:
        j = tmp_path / "mail.jinja"
        j.write_text(
            '{% define "mail" %}<a href="{{ dot.external_url | go_url }}/x?r={{ "a b" | go_query }}">'
            '{{ "1+1<2" }}</a>{{ template("__subject", dot) }}{% enddefine %}'
        )
        t2 = Templates.load([str(j)])
        assert t2.render_html('{{ template "mail" . }}', data) == (
            '<a href="http://am.example.com:9093/x?r=a%20b">1&#43;1&lt;2</a>[FIRING:1] HighLatency (api)'
        )
        assert t2.render('{{ template "mail" . }}', data) == (
            '<a href="http://am.example.com:9093/x?r=a b">1+1<2</a>[FIRING:1] HighLatency (api)'
        )


# --- errors -----------------------------------------------------------------------------------


class TestErrors:
    def test_parse_errors_name_file_and_line(self, tmp_path: Path) -> None:
        cases = {
            '{{ define "x" }}\n{{ if .A }}\n{{ foo }}\n{{ end }}{{ end }}\n': (
                3,
                'function "foo" not defined',
            ),
            '{{ define "x" }}\n{{ if .A }}\n{{ end }\n': (4, "unclosed action"),
            '{{ define "x" }}\n\n{{ $y }}{{ end }}': (3, 'undefined variable "$y"'),
            "{{ range .Alerts }}\n{{ end }}{{ break }}": (2, "{{break}} outside {{range}}"),
            "\n\n{{ if .X }}": (3, "unexpected EOF"),
            "{{ .X | 1 }}": (1, "non executable command in pipeline stage 2"),
            "{{ 1+2i }}": (1, "complex constants are not supported"),
            '{{ define "a" }}x{{ end }}{{ define "a" }}y{{ end }}': (
                1,
                'multiple definition of template "a"',
            ),
        }
        for i, (text, (line, reason)) in enumerate(cases.items()):
            f = tmp_path / f"bad{i}.tmpl"
            f.write_text(text)
            with pytest.raises(TemplateError) as e:
                Templates.load([str(f)])
            assert e.value.file == str(f) and e.value.line == line, str(e.value)
            assert reason in str(e.value)
            assert str(e.value).startswith(f"template: {f}:{line}: ")

    def test_jinja_file_errors(self, tmp_path: Path) -> None:
        f = tmp_path / "bad.j2"
        f.write_text('{% define "j" %}\nhello {{ dot.receiver | nofilter }}\n{% enddefine %}\n')
        with pytest.raises(TemplateError, match="No filter named 'nofilter'") as e:
            Templates.load([str(f)])
        assert (e.value.file, e.value.line) == (str(f), 2)
        f.write_text('{% define "j" %}\nno end\n')
        with pytest.raises(TemplateError, match="define without enddefine"):
            Templates.load([str(f)])

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(TemplateError, match="cannot read template file"):
            Templates.load([str(tmp_path / "nope.tmpl")])

    def test_exec_errors_name_template_file_and_line(self, tmp_path: Path, data: TemplateData) -> None:
        f = tmp_path / "exec.tmpl"
        f.write_text(
            '{{ define "ok" }}fine{{ end }}\n{{ define "bad" }}\nline2\n{{ .Nope }}\n{{ end }}\n'
            '{{ define "calls" }}\n{{ template "bad" . }}{{ end }}\n'
        )
        t2 = Templates.load([str(f)])
        for render in (t2.render, t2.render_html):
            with pytest.raises(TemplateError) as e:
                render('{{ template "calls" . }}', data)
            assert (e.value.file, e.value.line, e.value.name) == (str(f), 4, "bad")
            assert (
                str(e.value)
                == f'template: {f}:4: executing "bad": can\'t evaluate field Nope in type template.Data'
            )

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("{{ index .Alerts 9 }}", "error calling index: index out of range: 9"),
            ('{{ eq 1 "a" }}', "error calling eq: incompatible types for comparison"),
            ("{{ toUpper 1 }}", "expected string; got int"),
            ('{{ toUpper "a" "b" }}', "wrong number of args for toUpper"),
            ("{{ .Alerts.Firing.Firing }}", "can't evaluate field Firing"),
            ('{{ template "missing" . }}', 'template "missing" not defined'),
            ("{{ range .Status }}x{{ end }}", "range can't iterate over firing"),
            ("{{ nil }}", "nil is not a command"),
            ('{{ reReplaceAll "(a" "" "x" }}', "missing closing )"),
            (
                '{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}',
                "exceeded maximum template depth",
            ),
            ('{{ tz "Nowhere/Else" (index .Alerts 0).StartsAt }}', "unknown time zone"),
        ],
    )
    def test_exec_errors(self, tpl: Templates, data: TemplateData, text: str, reason: str) -> None:
        with pytest.raises(TemplateError, match=reason.replace("(", "\\(").replace(")", "\\)")) as e:
            tpl.render(text, data)
        assert e.value.file == "<text>" and e.value.line == 1

    def test_error_in_second_line_of_text(self, tpl: Templates, data: TemplateData) -> None:
        with pytest.raises(TemplateError) as e:
            tpl.render("a\n{{ .X }}", data)
        assert (
            str(e.value) == 'template: <text>:2: executing "": can\'t evaluate field X in type template.Data'
        )


# --- package ----------------------------------------------------------------------------------


def test_public_api_is_complete() -> None:
    import ampp.notify.templates as pkg

    public = {
        n
        for n, v in vars(pkg).items()
        if not n.startswith("_") and (inspect.isclass(v) or inspect.isfunction(v))
    }
    assert public <= set(pkg.__all__)
    for name in pkg.__all__:
        assert hasattr(pkg, name)
    assert {"TemplateError", "TemplateData", "template_data", "Templates"} <= set(pkg.__all__)


def test_concurrent_renders(tpl: Templates, data: TemplateData) -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = [f'{{{{ template "slack.default.title" . }}}} {i}' for i in range(40)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        out = list(pool.map(lambda x: tpl.render(x, data) + tpl.render_html(x, data), texts))
    assert out == [f"[FIRING:1] HighLatency (api) {i}" * 2 for i in range(40)]


def test_jinja_comments_do_not_define(tmp_path: Path, data: TemplateData) -> None:
    f = tmp_path / "c.j2"
    f.write_text('{# {% define "ghost" %}x{% enddefine %} #}{% define "real" %}y{% enddefine %}')
    names = Templates.load([str(f)]).names()
    assert "real" in names and "ghost" not in names


def test_range_over_int_is_an_error_as_in_go_1_19(tpl: Templates, data: TemplateData) -> None:
    with pytest.raises(TemplateError, match="range can't iterate over 3"):
        tpl.render("{{ range 3 }}x{{ end }}", data)


def test_depth_limit_does_not_leak(tmp_path: Path, data: TemplateData) -> None:
    f = tmp_path / "rec.tmpl"
    f.write_text(
        '{{ define "r" }}{{ template "r" . }}{{ end }}{{ define "ok" }}{{ template "__subject" . }}{{ end }}'
    )
    t2 = Templates.load([str(f)])
    for _ in range(3):
        with pytest.raises(TemplateError, match="exceeded maximum template depth"):
            t2.render('{{ template "r" . }}', data)
    assert t2._text_env.globals["_go"]._depth.n == 0  # type: ignore[attr-defined]
    assert t2.render('{{ template "ok" . }}', data) == "[FIRING:1] HighLatency (api)"


def test_refused_constructs_name_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "refused.tmpl"
    f.write_text('{{ define "x" }}\n{{ ($v := 1) }}\n{{ end }}')
    with pytest.raises(TemplateError, match=r"declaring \$v inside parentheses is not supported") as e:
        Templates.load([str(f)])
    assert e.value.line == 2
