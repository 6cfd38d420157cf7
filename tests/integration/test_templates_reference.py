"""Templates.render against Alertmanager 0.25's own renderer, ``amtool template render``.

amtool executes a template text with Alertmanager's template package (FromGlobs,
ExecuteTextString / ExecuteHTMLString), so for the same template files and the same data its
output is the reference. Each test renders the same texts through amtool and through
``Templates`` and requires byte-equal output:

* every default template (default.tmpl and email.tmpl from Alertmanager's source, plus the
  templates newer Alertmanager versions added, for which the reference is upstream's
  default.tmpl text below), with amtool's built-in example data (cli/template_render.go's
  ``defaultData``, rebuilt in ``builtin_data``) and with data sets passed as JSON
  (``--template.data``), in text and in HTML mode;
* a typical user's template file (define, range, if/else if, with, variables, pipelines,
  printf, regexps, an HTML e-mail);
* one text per construct of the language, and texts that must fail in both.

Known, deliberate differences are not tested here: an empty value in an unquoted HTML
attribute is ``ZgotmplZ`` (as in Go >= 1.20.4; Debian's amtool is built with Go 1.19), actions
inside JavaScript or CSS are refused, and ``%d`` of a time.Time does not print Go's internals.
"""

# ruff: noqa: E501  (reference template texts are data; their lines stay as written)
from __future__ import annotations

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from ampp.model.timefmt import NS
from ampp.notify.templates import GoTime, TemplateAlert, TemplateData, TemplateError, Templates

from tests.support.amtool import run_command
from tests.support.prereq import ALERTMANAGER_SOURCES, GO_SRC, REFERENCE
from tests.support.servers import AMTOOL

pytestmark = [pytest.mark.integration, REFERENCE.mark(), ALERTMANAGER_SOURCES.mark()]

GO_TEMPLATES = GO_SRC / "github.com/prometheus/alertmanager/template"
DEFAULT_TMPL = GO_TEMPLATES / "default.tmpl"
EMAIL_TMPL = GO_TEMPLATES / "email.tmpl"

SEP = "\n@@ampp-separator@@\n"  # plain text in HTML too

# The default templates Alertmanager added after 0.25: the definitions 0.25 lacks, from
# upstream's template/default.tmpl (prometheus/alertmanager@5d9e838a17522e270c10bebc7a69671306d1a7ec).
UPSTREAM_NEWER = r"""{{ define "__text_alert_list_markdown" }}{{ range . }}
Labels:
{{ range .Labels.SortedPairs }}  - {{ .Name }} = {{ .Value }}
{{ end }}
Annotations:
{{ range .Annotations.SortedPairs }}  - {{ .Name }} = {{ .Value }}
{{ end }}
Source: {{ .GeneratorURL }}
{{ end }}
{{ end }}
{{ define "slack.default.color" }}{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}{{ end }}
{{ define "discord.default.content" }}{{ end }}
{{ define "msteams.default.summary" }}{{ template "__subject" . }}{{ end }}
{{ define "msteams.default.title" }}{{ template "__subject" . }}{{ end }}
{{ define "msteams.default.text" }}
{{ if gt (len .Alerts.Firing) 0 }}
# Alerts Firing:
{{ template "__text_alert_list_markdown" .Alerts.Firing }}
{{ end }}
{{ if gt (len .Alerts.Resolved) 0 }}
# Alerts Resolved:
{{ template "__text_alert_list_markdown" .Alerts.Resolved }}
{{ end }}
{{ end }}
{{ define "msteamsv2.default.title" }}{{ template "__subject" . }}{{ end }}
{{ define "msteamsv2.default.text" }}
{{ if gt (len .Alerts.Firing) 0 }}
# Alerts Firing:
{{ template "__text_alert_list_markdown" .Alerts.Firing }}
{{ end }}
{{ if gt (len .Alerts.Resolved) 0 }}
# Alerts Resolved:
{{ template "__text_alert_list_markdown" .Alerts.Resolved }}
{{ end }}
{{ end }}
{{ define "jira.default.summary" }}{{ template "__subject" . }}{{ end }}
{{ define "jira.default.description" }}
{{ if gt (len .Alerts.Firing) 0 }}
# Alerts Firing:
{{ template "__text_alert_list_markdown" .Alerts.Firing }}
{{ end }}
{{ if gt (len .Alerts.Resolved) 0 }}
# Alerts Resolved:
{{ template "__text_alert_list_markdown" .Alerts.Resolved }}
{{ end }}
{{ end }}
{{- define "jira.default.priority" -}}
{{- $priority := "" }}
{{- range .Alerts.Firing -}}
    {{- $severity := index .Labels "severity" -}}
    {{- if (eq $severity "critical") -}}
        {{- $priority = "High" -}}
    {{- else if (and (eq $severity "warning") (ne $priority "High")) -}}
        {{- $priority = "Medium" -}}
    {{- else if (and (eq $severity "info") (eq $priority "")) -}}
        {{- $priority = "Low" -}}
    {{- end -}}
{{- end -}}
{{- if eq $priority "" -}}
    {{- range .Alerts.Resolved -}}
        {{- $severity := index .Labels "severity" -}}
        {{- if (eq $severity "critical") -}}
            {{- $priority = "High" -}}
        {{- else if (and (eq $severity "warning") (ne $priority "High")) -}}
            {{- $priority = "Medium" -}}
        {{- else if (and (eq $severity "info") (eq $priority "")) -}}
            {{- $priority = "Low" -}}
        {{- end -}}
    {{- end -}}
{{- end -}}
{{- $priority -}}
{{- end -}}
{{ define "rocketchat.default.title" }}{{ template "__subject" . }}{{ end }}
{{ define "rocketchat.default.alias" }}{{ template "__alertmanager" . }}{{ end }}
{{ define "rocketchat.default.titlelink" }}{{ template "__alertmanagerURL" . }}{{ end }}
{{ define "rocketchat.default.emoji" }}{{ end }}
{{ define "rocketchat.default.iconurl" }}{{ end }}
{{ define "rocketchat.default.text" }}{{ end }}
{{ define "mattermost.default.color" }}{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}{{ end }}
{{ define "mattermost.default.username" }}{{ template "__alertmanager" . }}{{ end }}
{{ define "mattermost.default.title" }}{{ template "__subject" . }}{{ end }}
{{ define "mattermost.default.titlelink" }}{{ template "__alertmanagerURL" . }}{{ end }}
{{ define "mattermost.default.fallback" }}{{ template "mattermost.default.title" . }} | {{ template "mattermost.default.titlelink" . }}{{ end }}
{{ define "mattermost.default.text" }}
{{ if gt (len .Alerts.Firing) 0 }}
# Alerts Firing:
{{ template "__text_alert_list_markdown" .Alerts.Firing }}
{{ end }}
{{ if gt (len .Alerts.Resolved) 0 }}
# Alerts Resolved:
{{ template "__text_alert_list_markdown" .Alerts.Resolved }}
{{ end }}
{{ end }}
"""

# A typical user's template file.
USER_TEMPLATES = r"""{{/*
  A typical user's notification templates: Slack/Teams text, a title, and an HTML e-mail.
*/}}
{{ define "custom.title" -}}
[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .CommonLabels.alertname }}
{{- if .CommonLabels.severity }} ({{ .CommonLabels.severity | title }}){{ end -}}
{{- end }}

{{ define "custom.severity.emoji" -}}
{{- if eq . "critical" }}:rotating_light:{{ else if eq . "warning" }}:warning:{{ else }}:information_source:{{ end -}}
{{- end }}

{{ define "custom.slack.text" }}
{{- $root := . -}}
{{- range $i, $a := .Alerts }}
{{ $i }}. {{ if eq $a.Status "firing" }}{{ template "custom.severity.emoji" (index $a.Labels "severity") }}{{ else }}:white_check_mark:{{ end }} *{{ $a.Labels.alertname }}* - {{ index $a.Annotations "summary" }}
{{- with $a.Annotations.description }}
   _{{ . }}_
{{- end }}
{{- if and (eq $a.Status "firing") (ne (index $a.Labels "severity") "info") }}
   severity: {{ or $a.Labels.severity "unknown" }} | started {{ $a.StartsAt.Format "2006-01-02 15:04:05 MST" }}
{{- else if eq $a.Status "resolved" }}
   resolved after {{ $a.EndsAt.Sub $a.StartsAt }}
{{- end }}
   labels: {{ range $a.Labels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}
   {{- if gt (len $a.Annotations) 1 }} ({{ len $a.Annotations }} annotations){{ end }}
   <{{ $a.GeneratorURL }}|source> <{{ $root.ExternalURL }}/#/silences/new?filter=%7B{{ range $n, $p := $a.Labels.SortedPairs }}{{ if $n }}%2C{{ end }}{{ $p.Name }}%3D%22{{ $p.Value | urlquery }}%22{{ end }}%7D|silence>
{{- end }}
{{ $count := 0 }}{{ range .Alerts.Firing }}{{ $count = 1 }}{{ end -}}
firing-any={{ $count }} receiver={{ .Receiver }} group={{ .GroupLabels.SortedPairs.Values | join "," }}
{{ printf "%-10s|%5d|%.2f|%q|%v" .Status (len .Alerts) 3.14159 .CommonLabels.alertname .GroupLabels.Names }}
{{ reReplaceAll "([a-z]+):(\\d+)" "$2@$1" "host:9090 other:80" }} {{ match "^High" .CommonLabels.alertname }} {{ stringSlice "a" "b" | join "+" }}
{{ with .CommonAnnotations.nothing }}never{{ else }}no common annotation 'nothing'{{ end }}
{{ if not .Alerts.Resolved }}none resolved{{ else if gt (len .Alerts.Resolved) 1 }}many resolved{{ else }}one resolved{{ end }}
{{ end }}

{{ define "custom.teams.text" }}{{ range .Alerts.Firing }}
- **{{ .Labels.alertname }}** {{ .Annotations.summary }}{{ range $k, $v := .Annotations }}{{ if ne $k "summary" }}
  - {{ $k }}: {{ $v }}{{ end }}{{ end }}{{ end }}
{{ template "__subject" . }}
{{ end }}

{{ define "custom.email.html" }}
<html><head><title>{{ template "custom.title" . }}</title>
<style>
  /* dropped by html/template */
  td { padding: 2px; }
</style></head>
<body>
<!-- this comment disappears in html/template -->
<h1 class="{{ .Status }}">{{ .CommonLabels.alertname }} &amp; friends</h1>
<table>
{{ range .Alerts }}<tr><td><a href="{{ .GeneratorURL }}">{{ .Labels.instance }}</a></td><td>{{ .Annotations.summary }}</td>
<td><a href="{{ $.ExternalURL }}/#/alerts?filter={{ .Labels.alertname }}&x={{ .Fingerprint }}">am</a></td></tr>
{{ end }}</table>
<p title='{{ .CommonAnnotations.summary }}'>{{ .CommonAnnotations.summary | safeHtml }} a < b</p>
<a href="{{ template "__alertmanagerURL" . }}">{{ template "__subject" . }}</a>
</body></html>
{{ end }}
"""


# --- data ---------------------------------------------------------------------------------


def builtin_data() -> TemplateData:
    """amtool's built-in example data (cli/template_render.go ``defaultData``)."""
    now = time.time_ns()
    common_labels = {"commonlabelkey1": "commonlabelvalue1", "commonlabelkey2": "commonlabelvalue2"}
    common_annotations = {
        "commonannotationkey1": "commonannotationvalue1",
        "commonannotationkey2": "commonannotationvalue2",
    }
    return TemplateData(
        receiver="receiver",
        status="alertstatus",
        alerts=[
            TemplateAlert(
                status="alertstatus",
                labels={"label1": "value1", "label2": "value2", "instance": "foo.bar:1234", **common_labels},
                annotations={"annotation1": "value1", "annotation2": "value2", **common_annotations},
                starts_at=GoTime(now - 5 * 60 * NS),
                ends_at=GoTime(now),
                generator_url="https://generatorurl.com",
                fingerprint="fingerprint1",
            ),
            TemplateAlert(
                status="alertstatus",
                labels={"foo": "bar", "baz": "qux", **common_labels},
                annotations={"aaa": "bbb", "ccc": "ddd", **common_annotations},
                starts_at=GoTime(now - 10 * 60 * NS),
                ends_at=GoTime(now),
                generator_url="https://generatorurl.com",
                fingerprint="fingerprint2",
            ),
        ],
        group_labels={"grouplabelkey1": "grouplabelvalue1", "grouplabelkey2": "grouplabelvalue2"},
        common_labels=common_labels,
        common_annotations=common_annotations,
        external_url="https://example.com",
    )


def _alert(
    status: str,
    labels: dict[str, str],
    annotations: dict[str, str],
    starts: str,
    ends: str,
    fingerprint: str,
    url: str = "http://prom:9090/graph?g0.expr=up%3D%3D0&g0.tab=1",
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": labels,
        "annotations": annotations,
        "startsAt": starts,
        "endsAt": ends,
        "generatorURL": url,
        "fingerprint": fingerprint,
    }


_FIRING = _alert(
    "firing",
    {"alertname": "HighLatency", "job": "api", "instance": "a:9090", "severity": "critical"},
    {
        "summary": "p99 > 1s",
        "description": "Latency is <high> & \"rising\" + 'fast'",
        "runbook": "http://r/x?a=1&b=2",
    },
    "2024-03-01T10:00:00Z",
    "0001-01-01T00:00:00Z",
    "1a2b3c4d5e6f7081",
)
_RESOLVED = _alert(
    "resolved",
    {"alertname": "HighLatency", "job": "api", "instance": "b:9090", "severity": "warning"},
    {"summary": "p99 > 1s"},
    "2024-03-01T09:00:00.123456789Z",
    "2024-03-01T09:30:00Z",
    "00000000000000ff",
)
_ODD = _alert(
    "firing",
    {"alertname": "A&B<c>", "x": "1+1 \"q\" 'a'", "zz": "é ü", "severity": "info"},
    {"description": "<b>x</b> & y", "summary": "a\tb\nc"},
    "2024-01-31T23:59:59.999Z",
    "0001-01-01T00:00:00Z",
    "ffffffffffffffff",
    url="javascript:alert(1)",
)


def _data(
    alerts: list[dict[str, Any]],
    group: dict[str, str],
    common: dict[str, str],
    annotations: dict[str, str],
    status: str,
    receiver: str = "team-X\\.ops",
    url: str = "http://am.example.com:9093",
) -> dict[str, Any]:
    return {
        "receiver": receiver,
        "status": status,
        "alerts": alerts,
        "groupLabels": group,
        "commonLabels": common,
        "commonAnnotations": annotations,
        "externalURL": url,
    }


DATASETS: dict[str, dict[str, Any]] = {
    "mixed": _data(
        [_FIRING, _RESOLVED],
        {"alertname": "HighLatency"},
        {"alertname": "HighLatency", "job": "api"},
        {"summary": "p99 > 1s"},
        "firing",
    ),
    "firing": _data(
        [_FIRING],
        {"alertname": "HighLatency", "job": "api"},
        _FIRING["labels"],
        _FIRING["annotations"],
        "firing",
    ),
    "resolved": _data([_RESOLVED], {}, _RESOLVED["labels"], {}, "resolved", receiver="pager"),
    "escaping": _data(
        [_ODD],
        {"x": "1+1 \"q\" 'a'"},
        _ODD["labels"],
        _ODD["annotations"],
        "firing",
        receiver="a b/c?d&e",
        url="http://am.example.com/x y",
    ),
    "no-alerts": _data([], {}, {}, {}, "resolved"),
}


def to_template_data(d: dict[str, Any]) -> TemplateData:
    """What Alertmanager's json.Unmarshal makes of a --template.data file."""
    return TemplateData.from_dict(d)


# --- running both --------------------------------------------------------------------------


class Files:
    """The template and data files amtool reads."""

    def __init__(self, root: Path) -> None:
        self.newer = root / "upstream_newer.tmpl"
        self.newer.write_text(UPSTREAM_NEWER)
        self.user = root / "user.tmpl"
        self.user.write_text(USER_TEMPLATES)
        self.data: dict[str, Path] = {}
        for name, d in DATASETS.items():
            path = root / f"data-{name}.json"
            path.write_text(json.dumps(d))
            self.data[name] = path

    @property
    def reference_globs(self) -> list[str]:
        return [str(DEFAULT_TMPL), str(EMAIL_TMPL), str(self.newer)]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    return Files(tmp_path_factory.mktemp("templates-reference"))


@pytest.fixture(scope="module")
def ours() -> Templates:
    return Templates.load()


@pytest.fixture(scope="module")
def ours_with_user(files: Files) -> Templates:
    return Templates.load([str(files.user)])


Reference = tuple[int, str, str]


def amtool(text: str, globs: list[str], mode: str, data_file: Path | None = None) -> Reference:
    args = [AMTOOL, "template", "render", f"--template.text={text}", f"--template.type={mode}"]
    args += [f"--template.glob={g}" for g in globs]
    if data_file is not None:
        args.append(f"--template.data={data_file}")
    res = run_command(args, check=False)
    return res.returncode, res.stdout, res.stderr


def ours_render(t: Templates, text: str, mode: str, data: TemplateData) -> str:
    return t.render(text, data) if mode == "text" else t.render_html(text, data)


def call_text(name: str) -> str:
    lists = ("__text_alert_list", "__text_alert_list_markdown", "pagerduty.default.instances")
    return f'{{{{ template "{name}" {".Alerts" if name in lists else "."} }}}}'


def compare_batch(labels: list[str], reference: str, ours_out: list[str]) -> None:
    parts = reference.split(SEP)
    assert len(parts) == len(ours_out), "separator found inside a rendered template"
    mismatches = [
        f"{label}:\n  amtool: {r!r}\n  ampp:   {o!r}"
        for label, r, o in zip(labels, parts, ours_out, strict=True)
        if r != o
    ]
    assert not mismatches, "\n".join(mismatches)


# --- default templates --------------------------------------------------------------------


AMPP_NAMES = frozenset({"__enrichment", "pagerduty.default.enrichment"})
"""Default templates of ampp's own (the AI enrichment), which Alertmanager does not have."""


@pytest.fixture(scope="module")
def default_names(ours: Templates) -> list[str]:
    names = [n for n in ours.names() if n not in AMPP_NAMES]
    assert len(names) >= 60
    return names


@pytest.mark.parametrize("mode", ["text", "html"])
def test_defaults_with_amtool_builtin_data(
    files: Files, ours: Templates, default_names: list[str], mode: str
) -> None:
    texts = [call_text(n) for n in default_names]
    rc, out, err = amtool(SEP.join(texts), files.reference_globs, mode)
    assert rc == 0, err
    data = builtin_data()
    compare_batch(default_names, out, [ours_render(ours, t, mode, data) for t in texts])


@pytest.mark.parametrize("mode", ["text", "html"])
@pytest.mark.parametrize("dataset", list(DATASETS))
def test_defaults_with_data(
    files: Files, ours: Templates, default_names: list[str], dataset: str, mode: str
) -> None:
    texts = [call_text(n) for n in default_names]
    rc, out, err = amtool(SEP.join(texts), files.reference_globs, mode, files.data[dataset])
    assert rc == 0, err
    data = to_template_data(DATASETS[dataset])
    compare_batch(default_names, out, [ours_render(ours, t, mode, data) for t in texts])


def test_data_files_mean_the_same(files: Files) -> None:
    """amtool reads the JSON data sets as to_template_data does (times, statuses, receiver)."""
    text = "{{ range .Alerts }}{{ .Status }} {{ .StartsAt.UnixNano }} {{ .EndsAt }}|{{ end }}{{ .Receiver }}"
    for name, d in DATASETS.items():
        rc, out, err = amtool(text, files.reference_globs, "text", files.data[name])
        assert rc == 0, err
        data = to_template_data(d)
        assert (
            out == "".join(f"{a.status} {a.starts_at.ns} {a.ends_at}|" for a in data.alerts) + data.receiver
        )


# --- a user's template file ------------------------------------------------------------------

USER_ENTRY_POINTS = {
    "text": [
        '{{ template "custom.title" . }}',
        '{{ template "custom.slack.text" . }}',
        '{{ template "custom.teams.text" . }}',
        '{{ template "custom.email.html" . }}',
        '{{ template "slack.default.title" . }}',
        '{{ template "custom.severity.emoji" "warning" }}',
        '[{{ template "custom.title" . }}] {{ .CommonLabels.job | toUpper }} {{ len .Alerts }}',
    ],
    "html": [
        '{{ template "custom.email.html" . }}',
        '{{ template "email.default.html" . }}',
        '<b>{{ template "custom.title" . }}</b>',
    ],
}


@pytest.mark.parametrize("mode", ["text", "html"])
@pytest.mark.parametrize("dataset", ["mixed", "firing", "resolved", "escaping"])
def test_user_template_file(files: Files, ours_with_user: Templates, dataset: str, mode: str) -> None:
    texts = USER_ENTRY_POINTS[mode]
    rc, out, err = amtool(
        SEP.join(texts), [*files.reference_globs, str(files.user)], mode, files.data[dataset]
    )
    assert rc == 0, err
    data = to_template_data(DATASETS[dataset])
    compare_batch(texts, out, [ours_render(ours_with_user, t, mode, data) for t in texts])


# --- one text per construct -----------------------------------------------------------------

CONSTRUCTS = [
    r"{{ .Receiver }}|{{ .Status }}|{{ .ExternalURL }}",
    r"{{ range $i, $a := .Alerts }}{{ $i }}:{{ $a.Fingerprint }} {{ end }}",
    r"{{ range .Alerts.Resolved }}{{ .Labels.alertname }}{{ else }}none{{ end }}|"
    r"{{ range .Alerts }}{{ .Status }}{{ else }}none{{ end }}",
    r"{{ with .CommonLabels.job }}job={{ . }}{{ else }}nojob{{ end }} "
    r"{{ with .CommonLabels.nope }}x{{ else }}nope{{ end }}",
    r'{{- /* comment */ -}}  x  {{- " y " -}}  z',
    r'{{ $x := "a" }}{{ range .Alerts }}{{ $x = printf "%s%s" $x .Status }}{{ end }}{{ $x }}',
    r'{{ if and .Alerts (gt (len .Alerts) 1) }}many{{ end }} {{ or .CommonLabels.nope "dflt" }} '
    r'{{ not .Alerts }} {{ and 1 "" 3 }} {{ or 0 "" }}',
    r'{{ index .CommonLabels "alertname" }}|{{ index .CommonLabels "nope" }}|{{ index "abc" 1 }}',
    r'{{ len .Alerts }} {{ len .CommonLabels }} {{ len "héllo" }}',
    r'{{ printf "%s=%d %05.1f %x %X %o %b %e %t %c %U %+d %q %v %8.3s| %-6s| %6.2f %[2]d %%" "a" 42 3.14159 '
    r'255 255 8 5 1234.5678 true 65 128512 5 "x\ty" .GroupLabels "abcdef" "ab" 2.5 }}',
    r'{{ print 1 2 "x" 3.5 nil true }}{{ println "a" 1 }}',
    r"{{ .CommonLabels.SortedPairs }} {{ .CommonLabels }} {{ .Alerts.Firing | len }} {{ .GroupLabels.Names }} "
    r"{{ .GroupLabels.Values }} {{ .CommonLabels.Values }}",
    r"{{ range .Alerts }}{{ .StartsAt }} {{ .StartsAt.Unix }} {{ .EndsAt.IsZero }} {{ .StartsAt.UnixNano }} "
    r'{{ .StartsAt.Format "Jan 2, 2006 at 3:04pm (MST) Monday 002 .000" }}|{{ end }}',
    r"{{ range .Alerts }}{{ .EndsAt.Sub .StartsAt }} {{ .StartsAt.Month }} {{ .StartsAt.Weekday }} "
    r"{{ .StartsAt.Before .EndsAt }}|{{ end }}",
    r'{{ define "inline" }}[{{ . }}]{{ end }}{{ template "inline" .Status }}',
    r'{{ block "blk" .Receiver }}default:{{ . }}{{ end }}',
    r"{{ range $k, $v := .CommonLabels }}{{ $k }}={{ $v }};{{ end }}",
    r'{{ range .Alerts }}{{ if eq .Status "resolved" }}{{ continue }}{{ end }}{{ .Fingerprint }}{{ break }}{{ end }}',
    r'{{ "quoted \"s\" \u00e9 \x41 \101 \t|" }} {{ `raw\n` }} {{ ' + "'x'" + r" }} {{ " + "'\\n'" + r" }} "
    r"{{ 1.5 }} {{ 1e3 }} {{ -2 }} {{ 0x10 }} {{ 017 }} {{ 1_000 }} {{ true }} {{ 1e21 }} {{ 0.000012 }} "
    r"{{ 100000000.0 }}",
    r'{{ eq .Status "firing" "resolved" }} {{ ne 1 2 }} {{ lt 1 2 }} {{ le "a" "a" }} {{ gt 2.5 1.5 }} {{ ge 1 1 }}',
    r'{{ html "<x&' + "'" + r'\">" }} {{ js "it' + "'" + r's <b>" }} {{ urlquery "a b" "c" }} '
    r'{{ slice "abcdef" 1 4 }} {{ slice .Alerts 0 | len }} {{ slice "abc" }}',
    r'{{ .Status | printf "%s!" | toUpper }} {{ "Hello World" | toLower }} '
    r'{{ title "hello wORLD it' + "'" + r's a-b c_d" }}',
    r'{{ reReplaceAll "(\\w+)@(\\w+)" "${2}_$1" "me@host you@there" }} {{ match "^[a-z]+$" "abc" }} '
    r'{{ reReplaceAll "\\s+" " " "a   b\t\nc" }} {{ reReplaceAll "(?i)HIGH" "low" "HighLatency" }}',
    r'{{ join "," (stringSlice "a" "b" "c") }} {{ .CommonLabels.Remove (stringSlice "job") }} {{ stringSlice }}',
    "a  {{- .Status -}}  b\n  {{- 1 }}\n",
    r"{{ with $a := .Alerts }}{{ len $a }} {{ . | len }}{{ end }}",
    r'{{ if .CommonLabels.nope }}x{{ else if eq .Status "firing" }}f{{ else }}e{{ end }}',
    r"{{ range .Alerts }}{{ .Labels.instance }}{{ $.Receiver }}{{ end }}",
    r'{{ range .Alerts }}{{ printf "%v" . }}{{ end }} {{ printf "%+v" .CommonLabels.SortedPairs }} '
    r'{{ printf "%d" (len .Alerts.Firing) }}',
    r"{{ range $i, $e := .CommonLabels.SortedPairs }}{{ if $i }}, {{ end }}{{ $e.Name }}{{ end }}",
    r'{{ define "t1" }}{{ $x := .Status }}{{ template "t2" $x }}{{ end }}{{ define "t2" }}<{{ . }}>{{ end }}'
    r'{{ template "t1" . }}',
    r'{{ .GroupLabels.alertname }} {{ .GroupLabels.SortedPairs.Values | join " " }} '
    r"{{ if gt (len .CommonLabels) (len .GroupLabels) }}({{ with .CommonLabels.Remove .GroupLabels.Names }}"
    r'{{ .Values | join " " }}{{ end }}){{ end }}',
    r"{{ $a := .Alerts }}{{ $n := len $a }}{{ range $a }}{{ $n = 0 }}{{ $m := 5 }}{{ $m }}{{ end }}{{ $n }}",
    r"{{ range $i, $x := .Alerts }}{{ range $j, $y := $.Alerts }}{{ $i }}{{ $j }} {{ end }}{{ end }}",
    r'{{ template "__subject" . }}|{{ template "slack.default.fallback" . }}|'
    r'{{ template "__text_alert_list" .Alerts }}',
    r'{{ range .Alerts }}{{ .Labels.severity | printf "%-10s" }}|{{ .Annotations.runbook | urlquery }}|{{ end }}',
    r'{{ printf "%.3s|%5.1f|%-8v|%08.3f|% d|%x" "abcdef" 3.14159 "ab" -3.14159 5 "hi" }}',
    r'{{ printf "%s" }} {{ printf "%d" "x" }} {{ printf "%d %d" 1 }} {{ printf "no verbs" 1 2 }} '
    r'{{ printf "%!" }} {{ printf "%z" 1 }}',
    r'{{ "{{ not an action }}" }} {% raw %} {# jinja-looking text #}',
    r'{{ define "n" }}[{{ . }}]{{ end }}{{ template "n" }}|{{ print nil }}|{{ printf "%v" nil }}|{{ $.Alerts | len }}',
    r"{{ range .CommonLabels }}{{ . }},{{ end }} {{ range $i, $p := .GroupLabels.SortedPairs }}{{ $i }}{{ $p }}{{ end }}",
    r"{{ if eq (len .Alerts.Firing) 0 }}quiet{{ else }}{{ (index .Alerts.Firing 0).Labels.alertname | toLower }}{{ end }}",
]

HTML_CONSTRUCTS = [
    r'<a href="{{ .ExternalURL }}?r={{ .Receiver }}">{{ .Status }}</a>',
    r"<p title={{ .Status }}>x</p>",
    r"<!-- {{ .Status }} --> after",
    r'{{ "<b>" | safeHtml }} {{ "<b>" }} <i title="{{ "<b>x</b>" | safeHtml }}">i</i>',
    r'<textarea>{{ "<x>" }}</textarea><title>{{ "a+b<" | safeHtml }}</title>',
    r'<a href="{{ "javascript:x" }}">j</a> <a href="{{ "HTTPS://x.y/a b" }}">h</a> '
    r'<a href="mailto:{{ "a@b c" }}">m</a>',
    r'<style>p { color: red; } /* c */ a { b: "/*" } </style>x',
    r'{{ .Receiver | html }} {{ "a+b" | html }} {{ "a b&c" | urlquery }}',
    r'<a href="/x?q={{ .Receiver | urlquery }}&r={{ "a b" }}#{{ "f g" }}">q</a>',
    r'<a href="{{ if .Alerts }}/a{{ else }}/b{{ end }}">c</a>',
    r'<img src="{{ .ExternalURL }}/img.png" alt="{{ .Status }}">',
    r'<div data-url="{{ "javascript:y" }}" data-x="{{ "q" }}">d</div>',
    r'{{ range .Alerts }}<li><a href="{{ .GeneratorURL }}">{{ .Labels.alertname }}</a></li>{{ end }}',
    r"a < b && c > d <b>bold</b> <!DOCTYPE html>",
    r'{{ template "__subject" . }} <title>{{ template "__subject" . }}</title> '
    r'<a href="{{ template "__alertmanagerURL" . }}">l</a>',
    r"<a href='{{ .ExternalURL }}'>s</a> <a href={{ .ExternalURL }}>u</a>",
    r"{{ 1.5 }} {{ .CommonLabels }} {{ true }}",
    "<script>var x = 1; // c\n/* block */ var y = '//' + \"/*\"; /* two\nlines */</script>y",
]

FAILING = [
    "{{ humanizeDummy }}",
    "{{ .Nope }}",
    "{{ index .Alerts 9 }}",
    '{{ eq 1 "a" }}',
    "{{ lt .Alerts 1 }}",
    "{{ toUpper 1 }}",
    "{{ .Alerts.Firing.Firing }}",
    '{{ template "missing" . }}',
    "{{ range .Status }}x{{ end }}",
    "{{ $x := 1 }}{{ $x.Foo }}",
    "{{ .Status.Foo }}",
    '{{ join "," .CommonLabels.SortedPairs }}',
    "{{ len 3 }}",
    "{{ .CommonLabels.SortedPairs 1 }}",
    "{{ nil }}",
    "{{ if }}",
    "{{ end }}",
    "{{ $undefined }}",
    '{{ reReplaceAll "(a" "" "x" }}',
]

Job = tuple[str, str, str]  # text, mode, data set


@pytest.fixture(scope="module")
def construct_reference(files: Files) -> dict[Job, Reference]:
    """amtool's answers for every construct, computed once (in parallel)."""
    jobs: list[Job] = []
    for dataset in ("mixed", "escaping"):
        jobs += [(text, mode, dataset) for text in CONSTRUCTS for mode in ("text", "html")]
        jobs += [(text, "html", dataset) for text in HTML_CONSTRUCTS]
    jobs += [(text, mode, "mixed") for text in FAILING for mode in ("text", "html")]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda j: amtool(j[0], files.reference_globs, j[1], files.data[j[2]]), jobs))
    return dict(zip(jobs, results, strict=True))


@pytest.mark.parametrize("dataset", ["mixed", "escaping"])
@pytest.mark.parametrize("mode", ["text", "html"])
def test_constructs(
    ours: Templates, construct_reference: dict[Job, Reference], dataset: str, mode: str
) -> None:
    data = to_template_data(DATASETS[dataset])
    texts = CONSTRUCTS + (HTML_CONSTRUCTS if mode == "html" else [])
    mismatches = []
    for text in texts:
        rc, out, err = construct_reference[(text, mode, dataset)]
        assert rc == 0, f"{text!r}: {err}"
        try:
            mine = ours_render(ours, text, mode, data)
        except TemplateError as e:
            mine = f"TemplateError: {e}"
        if mine != out:
            mismatches.append(f"{text!r}\n  amtool: {out!r}\n  ampp:   {mine!r}")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("mode", ["text", "html"])
def test_failures(ours: Templates, construct_reference: dict[Job, Reference], mode: str) -> None:
    data = to_template_data(DATASETS["mixed"])
    for text in FAILING:
        rc, out, _ = construct_reference[(text, mode, "mixed")]
        assert rc != 0, f"amtool accepted {text!r}: {out!r}"
        with pytest.raises(TemplateError) as e:
            ours_render(ours, text, mode, data)
        assert str(e.value).startswith("template: <text>:1: "), str(e.value)


# --- generated texts --------------------------------------------------------------------------


class _Generator:
    """Random but well-formed template texts over the data model (seeded: the same every run)."""

    STRINGS = (
        ".Status",
        ".Receiver",
        ".ExternalURL",
        ".CommonLabels.alertname",
        ".CommonLabels.nope",
        "(index .Alerts 0).Labels.instance",
        "(index .Alerts 0).Annotations.description",
        '"lit<&>"',
        '"a b"',
        '`raw"q`',
        "(index .Alerts 0).GeneratorURL",
    )
    VALUES = (
        *STRINGS,
        ".Alerts",
        ".CommonLabels",
        ".GroupLabels.SortedPairs",
        "(len .Alerts)",
        "1",
        "2.5",
        "true",
        ".Alerts.Firing",
        "(index .Alerts 0).StartsAt",
        ".CommonLabels.Names",
    )
    TEXT = ("x", " ", "\n", "<b>", "</b>", " & ")

    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)

    def string(self, depth: int = 0) -> str:
        r = self.rnd.random()
        if depth > 2 or r < 0.4:
            return self.rnd.choice(self.STRINGS)
        wrap = (
            "({} | toUpper)",
            '(printf "%s-%v" {} .Status)',
            "(title {})",
            "(urlquery {})",
            "(html {})",
            '(reReplaceAll "[aeiou]" "_" {})',
        )
        return self.rnd.choice(wrap).format(self.string(depth + 1))

    def value(self) -> str:
        return self.rnd.choice(self.VALUES) if self.rnd.random() < 0.6 else self.string()

    def condition(self) -> str:
        return self.rnd.choice(
            (
                f"eq {self.string(2)} {self.string(2)}",
                f"gt (len .Alerts) {self.rnd.randint(0, 2)}",
                f"and {self.value()} {self.value()}",
                f"or {self.value()} {self.value()}",
                f"not {self.value()}",
            )
        )

    def body(self, depth: int = 0) -> str:
        out = []
        for _ in range(self.rnd.randint(1, 4)):
            r = self.rnd.random()
            if r < 0.3:
                out.append(self.rnd.choice(self.TEXT))
            elif r < 0.6:
                out.append("{{ " + self.value() + " }}")
            elif r < 0.7 and depth < 2:
                alt = "{{ else }}" + self.body(depth + 1) if self.rnd.random() < 0.5 else ""
                out.append("{{ if " + self.condition() + " }}" + self.body(depth + 1) + alt + "{{ end }}")
            elif r < 0.8 and depth < 2:
                inner = self.body(depth + 1).replace(".Status", "$a.Status")
                out.append("{{ range $i, $a := .Alerts }}{{ $i }}:" + inner + "{{ end }}")
            elif r < 0.9 and depth < 2:
                out.append("{{ with " + self.value() + " }}[{{ . }}]" + self.body(depth + 1) + "{{ end }}")
            else:
                out.append("{{- " + self.string() + " -}}")
        return "".join(out)

    def html(self) -> str:
        parts = []
        for _ in range(self.rnd.randint(1, 4)):
            r = self.rnd.random()
            if r < 0.3:
                parts.append(
                    f'<a href="{{{{ {self.string()} }}}}?q={{{{ {self.string()} }}}}">{{{{ {self.value()} }}}}</a>'
                )
            elif r < 0.5:
                parts.append(f'<p title="{{{{ {self.value()} }}}}">{self.body(1)}</p>')
            elif r < 0.6:
                parts.append(f"<title>{{{{ {self.value()} }}}}</title>")
            else:
                parts.append(self.body(1))
        return "".join(parts)


@pytest.fixture(scope="module")
def generated_reference(files: Files) -> list[tuple[str, str, Reference]]:
    gen = _Generator(20240301)
    cases = [(gen.body(), "text") for _ in range(120)] + [(gen.html(), "html") for _ in range(120)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        refs = list(pool.map(lambda c: amtool(c[0], files.reference_globs, c[1], files.data["mixed"]), cases))
    return [(text, mode, ref) for (text, mode), ref in zip(cases, refs, strict=True)]


def test_generated_texts(ours: Templates, generated_reference: list[tuple[str, str, Reference]]) -> None:
    data = to_template_data(DATASETS["mixed"])
    mismatches = []
    for text, mode, (rc, out, err) in generated_reference:
        try:
            mine: str | None = ours_render(ours, text, mode, data)
        except TemplateError as e:
            mine = None
            if rc != 0:
                continue  # both refuse
            mismatches.append(f"{mode} {text!r}\n  amtool: {out!r}\n  ampp:   TemplateError: {e}")
            continue
        if rc != 0 or mine != out:
            mismatches.append(f"{mode} {text!r}\n  amtool: rc={rc} {out!r} {err!r}\n  ampp:   {mine!r}")
    assert not mismatches, "\n".join(mismatches[:10])
