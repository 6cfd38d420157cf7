"""Matcher parsing and matching against the real Alertmanager 0.25 and amtool, on generated input.

The expected answers come from the reference binaries, never from our own code:

* the API: a corpus of alerts is posted once; each generated ``filter=`` is sent to
  GET /api/v2/alerts. 0.25 parses it with the classic ``labels.ParseMatcher`` (one matcher,
  no splitting at commas): a 400 and its message must equal our parse error, a 200 must list
  exactly the alerts our matcher selects from our copy of the stored alerts;
* the config: generated ``matchers:`` lines go through ``amtool check-config`` (0.25 reads them
  with the classic ``labels.ParseMatchers``), and what it accepts through ``amtool config routes
  show``, which prints each route's parsed, sorted matchers with Matcher.String().
"""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from ampp.model.matchers import (
    Matcher,
    MatcherParseError,
    MatchType,
    matches_labels,
    parse_classic_matchers,
    parse_matcher,
    parse_matchers,
    parse_utf8_matchers,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.support.prereq import REFERENCE
from tests.support.servers import AMTOOL, run_server

pytestmark = [pytest.mark.integration, REFERENCE.mark()]

CONFIG = """\
route:
  receiver: r
receivers:
  - name: r
    webhook_configs:
      - url: http://127.0.0.1:1/
"""

# Label values chosen where Go's RE2 and Python's re disagree: case folding (Kelvin sign, long s,
# dotted/dotless i, sharp s, sigma), ASCII-only \d \w \s \b, $ before a final newline, \v and
# NBSP, non-ASCII digits, regex metacharacters, quotes and backslashes.
VALUES = [
    "",
    "a",
    "A",
    "ab",
    "abc",
    "aBc",
    "ABC",
    "k",
    "K",
    "\u212a",
    "s",
    "S",
    "\u017f",
    "ß",
    "ẞ",
    "ss",
    "i",
    "I",
    "\u0130",
    "\u0131",
    "é",
    "É",
    "0",
    "42",
    "٣",
    "a\nb",
    "a\n",
    "\n",
    " ",
    "a b",
    "\t",
    "\v",
    "\xa0",
    "x.y",
    "x-y",
    "a*b",
    "[x]",
    "{2}",
    "\\",
    '"',
    "'",
    ",",
    "=",
    "~",
    "a,b",
    "🙂",
    "\u03c3",  # sigma
    "ς",
    "Σ",
    "foo",
    "foobar",
    "barfoo",
    "prod",
    "staging",
    "a\x00b",
    "_",
]


def _corpus_labels() -> list[dict[str, str]]:
    out = []
    for i, v in enumerate(VALUES):
        labels = {"alertname": "matchers", "id": str(i), "v": v}
        if i % 3 == 0:
            labels["w"] = VALUES[(i * 7) % len(VALUES)]
        out.append(labels)
    return out


class Reference:
    """The running reference server, its stored alerts (fingerprint -> labels) and a client."""

    def __init__(self, client: httpx.Client, alerts: dict[str, dict[str, str]]) -> None:
        self.client = client
        self.alerts = alerts

    def filter(self, text: str) -> tuple[int, Any]:
        r = self.client.get("/api/v2/alerts", params={"filter": text})
        return r.status_code, r.json()


@pytest.fixture(scope="module")
def reference(module_workdir: Path) -> Iterator[Reference]:
    with run_server("reference", CONFIG, module_workdir / "reference") as srv:
        with httpx.Client(base_url=srv.url, timeout=10) as client:
            now = datetime.now(UTC)
            alerts = [
                {
                    "labels": labels,
                    "startsAt": now.isoformat(),
                    "endsAt": (now + timedelta(hours=2)).isoformat(),
                }
                for labels in _corpus_labels()
            ]
            assert client.post("/api/v2/alerts", json=alerts).status_code == 200
            stored = {a["fingerprint"]: a["labels"] for a in client.get("/api/v2/alerts").json()}
            assert len(stored) == len(alerts)
            # 0.25 drops empty-valued labels on ingest: our copy is what it stored.
            assert all("" not in labels.values() for labels in stored.values())
            yield Reference(client, stored)


# --- generators ----------------------------------------------------------------------------------

CHARS = [*"abkKsSéx0 ,\"\\'`{}=~!\n\t.*+?()[]|^$-_:", "\u212a", "\u017f", "🙂", "\v", "\xa0"]
# Valid names and operators are repeated to weigh them up against the invalid ones.
NAMES = ["v"] * 6 + ["w"] * 3 + ["id", "nope", "a:b", "_x", "1bad", "bad-name", "é", "", "v w"]
OPS = ["=", "!=", "=~", "!~"] * 3 + ["==", "=!", "~=", "!", "~", "", "=~~"]
SPACES = ["", "", "", " ", "  ", "\t", "\n", "\v", "\xa0"]

# RE2 fragments, valid and not; Unicode scripts and (?<name>) are left out on purpose (refused
# by us, and accepted only by newer Go, respectively).
REGEX_PIECES = [
    "a",
    "b",
    "A",
    "k",
    "K",
    "s",
    "é",
    "0",
    "_",
    "-",
    " ",
    "\n",
    ".",
    "*",
    "+",
    "?",
    "*?",
    "|",
    "(",
    ")",
    "(?:",
    "(?i)",
    "(?i:",
    "(?-i)",
    "(?m)",
    "(?s)",
    "(?U)",
    "(?P<n>",
    "[",
    "]",
    "[^",
    "a-z",
    "^",
    "$",
    "\\A",
    "\\z",
    "\\b",
    "\\B",
    "\\d",
    "\\D",
    "\\w",
    "\\W",
    "\\s",
    "\\S",
    "\\.",
    "\\\\",
    "\\n",
    "\\x41",
    "\\x{1F642}",
    "\\101",
    "\\0",
    "\\1",
    "\\Z",
    "\\C",
    "\\Qa.b\\E",
    "{",
    "}",
    "{2}",
    "{1,3}",
    "{0,}",
    "{,3}",
    "{01}",
    "{1001}",
    "[[:alpha:]]",
    "[[:^digit:]]",
    "[:word:]",
    "[[:foo:]]",
    "\\pL",
    "\\pN",
    "\\p{Lu}",
    "\\P{Ll}",
    "\\p{^L}",
    "\\p{Any}",
    "(?=",
    "(?!",
    "(?#c)",
    "\\E",
    "[a-z]",
    "(a|b)",
    "(?i)[^k]",
    "ß",
    "\u03c3",  # sigma
    "\u212a",
    "\u017f",
    "\\pZ",
    "[\\d\\s]",
    ".*",
    "x{2}",
    "(?i)\\W",
]

# A small RE2 grammar for regexes that are mostly valid, so that matching gets tested too.
ATOMS = [
    "a",
    "b",
    "k",
    "K",
    "s",
    "é",
    "0",
    " ",
    "_",
    "ß",
    "\u03c3",  # sigma
    "ς",
    "\u212a",
    "\u017f",
    "\\.",
    "\\n",
    ".",
    "\\d",
    "\\w",
    "\\s",
    "\\W",
    "\\pL",
    "\\p{Lu}",
    "\\PN",
    "[a-z]",
    "[^a]",
    "[[:alpha:]]",
    "[[:^space:]]",
    "(?i:k)",
    "(?i:ss)",
    "\\x41",
    "\\x{17F}",
    "^",
    "$",
    "\\b",
    "\\B",
    "\\z",
    "\\A",
    "\\Qa.b\\E",
    "[\\d-z]",
    "[]a]",
    "[k-s]",
    "(?i:[k-s])",
    "\\0",
]
QUANTIFIERS = ["", "", "", "*", "+", "?", "{2}", "{1,3}", "{0,}", "*?", "+?"]
FLAGS = ["", "", "", "(?i)", "(?s)", "(?m)", "(?U)", "(?i-s)"]


@st.composite
def grammar_regexes(draw: st.DrawFn, depth: int = 0) -> str:
    branches = []
    for _ in range(draw(st.integers(1, 2 if depth else 3))):
        pieces = []
        for _ in range(draw(st.integers(1, 4))):
            if depth < 2 and draw(st.integers(0, 5)) == 0:
                opener = draw(st.sampled_from(["(", "(?:", "(?i:", "(?P<g>"]))
                atom = opener + draw(grammar_regexes(depth + 1)) + ")"
            else:
                atom = draw(st.sampled_from(ATOMS))
            pieces.append(atom + draw(st.sampled_from(QUANTIFIERS)))
        branches.append("".join(pieces))
    return draw(st.sampled_from(FLAGS)) + "|".join(branches)


raw_text = st.text(st.sampled_from(CHARS), max_size=10)
noisy_regexes = st.lists(st.sampled_from(REGEX_PIECES), min_size=1, max_size=6).map("".join)
regexes = st.one_of(grammar_regexes(), grammar_regexes(), noisy_regexes)


def om_escape(s: str) -> str:
    """OpenMetrics escaping, the inverse of the classic parser's unescaping."""
    return s.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


@st.composite
def matcher_texts(draw: st.DrawFn) -> str:
    """One matcher as a user might type it: structured, with noise, or pure noise."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(raw_text)
    name = draw(st.sampled_from(NAMES))
    op = draw(st.sampled_from(OPS))
    if kind <= 4:
        value = '"' + om_escape(draw(regexes)) + '"'
        op = draw(st.sampled_from(["=~", "!~"]))
    elif kind <= 6:
        value = draw(regexes)
    elif kind == 7:
        value = '"' + om_escape(draw(raw_text)) + '"'
    else:
        value = draw(raw_text)
    sp = [draw(st.sampled_from(SPACES)) for _ in range(4)]
    return f"{sp[0]}{name}{sp[1]}{op}{sp[2]}{value}{sp[3]}"


@st.composite
def matcher_lines(draw: st.DrawFn) -> str:
    """A config `matchers:` line: one or more matchers, braces or not, or UTF-8 syntax."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(raw_text)
    if kind == 1:  # the UTF-8 syntax of newer Alertmanagers
        name = draw(st.sampled_from(['"foo bar"', "foo.bar", "🙂", '"a"', "v"]))
        value = draw(st.sampled_from(["x", '"y z"', '"\\\\d+"', '"\\u00e9"']))
        return "{" + name + "=" + value + "}"
    count = draw(st.sampled_from([1, 1, 1, 2, 3]))
    parts = [draw(matcher_texts()) for _ in range(count)]
    sep = draw(st.sampled_from([",", ", ", " , "]))
    text = sep.join(parts) + draw(st.sampled_from(["", ",", ", "]))
    return "{" + text + "}" if draw(st.booleans()) else text


def _bucket(n: int) -> str:
    return "0" if n == 0 else "all" if n == len(VALUES) else "some"


# --- the API's filter= -------------------------------------------------------------------------


def our_filter(text: str, alerts: dict[str, dict[str, str]]) -> set[str] | str:
    try:
        m = parse_matcher(text)
    except MatcherParseError as e:
        return str(e)
    return {fp for fp, labels in alerts.items() if matches_labels([m], labels)}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=matcher_texts())
def test_api_filter_agrees_with_reference(reference: Reference, text: str) -> None:
    status, body = reference.filter(text)
    ours = our_filter(text, reference.alerts)
    event(f"status {status}")
    if status == 400:
        assert isinstance(ours, str), f"reference rejected {text!r}: {body}"
        assert ours == body, text
    else:
        assert status == 200
        assert not isinstance(ours, str), f"reference accepted {text!r}, we said: {ours}"
        assert ours == {a["fingerprint"] for a in body}, text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(["v", "v", "w", "nope"]),
    op=st.sampled_from(["=~", "!~"]),
    regex=regexes,
)
def test_api_regex_semantics_agree_with_reference(
    reference: Reference, name: str, op: str, regex: str
) -> None:
    """Well-formed filters whose regex is generated: which alerts each regex selects."""
    text = f'{name}{op}"{om_escape(regex)}"'
    status, body = reference.filter(text)
    ours = our_filter(text, reference.alerts)
    event("invalid regex" if status == 400 else f"selects {_bucket(len(body))} alerts")
    if status == 400:
        assert ours == body, text
    else:
        assert not isinstance(ours, str), f"reference accepted {text!r}, we said: {ours}"
        assert ours == {a["fingerprint"] for a in body}, text


# --- config acceptance with amtool --------------------------------------------------------------


def config_with_routes(lines: list[str]) -> str:
    """A config whose i-th child route has `matchers: [lines[i]]` and receiver r<i>."""
    cfg = {
        "route": {
            "receiver": "r",
            "routes": [{"receiver": f"r{i}", "matchers": [line]} for i, line in enumerate(lines)],
        },
        "receivers": [
            {"name": name, "webhook_configs": [{"url": "http://127.0.0.1:1/"}]}
            for name in ["r", *(f"r{i}" for i in range(len(lines)))]
        ],
    }
    return yaml.safe_dump(cfg, default_style='"')  # double-quoted: exact strings for yaml.v2


def check_configs(workdir: Path, lines: list[str]) -> list[str | None]:
    """amtool check-config over one file per line: None when accepted, else amtool's error."""
    paths = []
    for i, line in enumerate(lines):
        p = workdir / f"c{i}.yml"
        p.write_text(config_with_routes([line]))
        paths.append(p)
    out = subprocess.run(
        [AMTOOL, "check-config", *map(str, paths)], capture_output=True, text=True, timeout=60
    ).stdout
    results: list[str | None] = []
    for i, p in enumerate(paths):
        start = out.index(f"Checking '{p}'") + len(f"Checking '{p}'")
        end = out.find(f"Checking '{paths[i + 1]}'") if i + 1 < len(paths) else len(out)
        chunk = out[start:end].strip(" ")
        if chunk.startswith("SUCCESS"):
            results.append(None)
        else:
            assert chunk.startswith("FAILED: "), chunk
            results.append(chunk[len("FAILED: ") :].rstrip())
    return results


def routes_show(workdir: Path, lines: list[str]) -> dict[str, str]:
    """amtool config routes show: receiver -> the printed, sorted matchers of its route."""
    path = workdir / "routes.yml"
    path.write_text(config_with_routes(lines))
    out = subprocess.run(
        [AMTOOL, "config", "routes", "show", f"--config.file={path}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    shown: dict[str, str] = {}
    for row in out.split("\n"):
        if "── " not in row or "  receiver: " not in row:
            continue
        slug, receiver = row.split("── ", 1)[1].rsplit("  receiver: ", 1)
        shown[receiver] = slug
    return shown


def go_sorted(ms: list[Matcher]) -> list[Matcher]:
    """labels.Matchers' sort order: name, then value, then type."""
    order = list(MatchType)
    return sorted(ms, key=lambda m: (m.name.encode(), m.value.encode(), order.index(m.type)))


def slug(ms: list[Matcher]) -> str:
    return "{" + ",".join(str(m) for m in go_sorted(ms)) + "}" if ms else "default-route"


@functools.cache
def _amtool_dir(root: str) -> Path:
    p = Path(root) / "amtool"
    p.mkdir(parents=True, exist_ok=True)
    return p


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(matcher_lines(), min_size=10, max_size=25))
def test_config_matchers_agree_with_amtool(module_workdir: Path, lines: list[str]) -> None:
    workdir = _amtool_dir(str(module_workdir))
    verdicts = check_configs(workdir, lines)
    accepted: list[tuple[str, list[Matcher]]] = []
    for line, verdict in zip(lines, verdicts, strict=True):
        try:
            classic: list[Matcher] | str = parse_classic_matchers(line)
        except MatcherParseError as e:
            classic = str(e)
        if verdict is None:
            assert not isinstance(classic, str), f"amtool accepted {line!r}, we said: {classic}"
            # What we use for configs (fallback mode) gives the classic result when it parses.
            assert parse_matchers(line) == classic, line
            accepted.append((line, classic))
        else:
            assert isinstance(classic, str), f"amtool rejected {line!r}: {verdict}"
            assert classic.rstrip() == verdict, line
            # The fallback may still accept it through the UTF-8 syntax, never otherwise.
            try:
                fallback = parse_matchers(line)
            except MatcherParseError as e:
                assert str(e) == classic
            else:
                assert fallback == parse_utf8_matchers(line), line
    event(f"{len(accepted) * 10 // len(lines) * 10}% of lines accepted")
    if accepted:
        shown = routes_show(workdir, [line for line, _ in accepted])
        for i, (line, ms) in enumerate(accepted):
            assert shown[f"r{i}"] == slug(ms), line
