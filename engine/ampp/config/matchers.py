"""Label matchers, parsed and matched exactly as Alertmanager does.

Three parsers, as upstream has them:

* the classic one (``pkg/labels.ParseMatcher``/``ParseMatchers``), which Alertmanager 0.25 uses
  for config ``matchers``, the API's ``filter`` and amtool;
* the UTF-8 one (``matcher/parse``), introduced in 0.27, which accepts any UTF-8 label name
  and Go-quoted strings;
* the fallback mode of ``matcher/compat`` (upstream's default since 0.27): the classic result
  wins whenever the classic parser accepts the input, otherwise the UTF-8 parser's.

Regular expressions are Go RE2 syntax. Python's ``re`` differs in many small ways (``$`` also
matches before a final newline, ``\\d``/``\\w``/``\\s``/``\\b`` are Unicode-aware, ``{,n}`` is a
repetition, no ``[[:alpha:]]``/``\\pL``, case folding, ...), so a Go pattern is parsed here with
Go's own grammar and re-emitted as an equivalent Python pattern that uses only constructs whose
meaning is the same in both. What has no Python equivalent is refused with a clear error.
"""

from __future__ import annotations

import bisect
import enum
import functools
import importlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..model.labels import go_quote, is_valid_label_name

__all__ = [
    "MatchType",
    "Matcher",
    "MatcherParseError",
    "RegexpError",
    "UnsupportedRegexpError",
    "compile_go_regexp",
    "is_valid_label_name",
    "matchers_from_legacy",
    "matches_labels",
    "may_backtrack",
    "new_matcher",
    "parse_classic_matchers",
    "parse_matcher",
    "parse_matchers",
    "parse_utf8_matchers",
    "translate_go_regexp",
]


class MatchType(enum.Enum):
    """The four matcher operators, valued by their textual form."""

    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


class MatcherParseError(ValueError):
    """A matcher (or its regular expression) that Alertmanager would reject."""


class RegexpError(MatcherParseError):
    """A regular expression that Go's regexp package rejects; the message is Go's."""

    def __init__(self, code: str, expr: str) -> None:
        super().__init__(f"error parsing regexp: {code}: `{expr}`")
        self.code = code
        self.expr = expr


class UnsupportedRegexpError(MatcherParseError):
    """Valid Go RE2 syntax that Alertmanager++ cannot reproduce faithfully with Python's re."""


# --------------------------------------------------------------------------------------------
# Matcher


@dataclass(frozen=True, slots=True)
class Matcher:
    """One label matcher; regex types hold the compiled, anchored ``^(?:value)$`` pattern."""

    name: str
    type: MatchType
    value: str
    _regex: Regex | None = field(default=None, init=False, compare=False, repr=False, hash=False)

    def __post_init__(self) -> None:
        if self.type in (MatchType.REGEX, MatchType.NOT_REGEX):
            # Validated at construction, as labels.NewMatcher does, so a Matcher always matches.
            object.__setattr__(self, "_regex", compile_go_regexp("^(?:" + self.value + ")$"))

    def matches(self, value: str) -> bool:
        """Whether a label value matches; the caller passes "" for a missing label."""
        t = self.type
        if t is MatchType.EQUAL:
            return value == self.value
        if t is MatchType.NOT_EQUAL:
            return value != self.value
        assert self._regex is not None
        found = self._regex.search(value) is not None  # the anchors are part of the pattern
        return found if t is MatchType.REGEX else not found

    def __str__(self) -> str:
        """Alertmanager's Matcher.String().

        Classic-looking names print as ``name op "value"`` with OpenMetrics escaping (what 0.25
        prints, and what route keys are built from); names with characters the UTF-8 parser
        reserves are Go-quoted together with the value, as upstream does since 0.27.
        """
        op = self.type.value
        if any(_is_reserved(c) for c in self.name):
            return f"{go_quote(self.name)}{op}{go_quote(self.value)}"
        return f'{self.name}{op}"{_openmetrics_escape(self.value)}"'


def new_matcher(name: str, type: MatchType, value: str) -> Matcher:
    """labels.NewMatcher: build a matcher, validating regular expressions (Go RE2 syntax)."""
    return Matcher(name, type, value)


def matches_labels(matchers: Sequence[Matcher], labels: Mapping[str, str]) -> bool:
    """labels.Matchers.Matches: every matcher matches; a missing label is the empty string.

    On the ingest path (routes, inhibition), so a plain loop rather than all() over a generator.
    """
    for m in matchers:
        if not m.matches(labels.get(m.name, "")):
            return False
    return True


def matchers_from_legacy(match: Mapping[str, str], match_re: Mapping[str, str]) -> list[Matcher]:
    """Route/inhibit ``match`` and ``match_re`` maps as Alertmanager turns them into matchers.

    ``match_re`` values go through config.Regexp, whose String() is the anchored source, so the
    matcher's value is ``^(?:value)$`` (it shows in route keys). Names must be classic.
    """
    out: list[Matcher] = []
    for name, value in match.items():
        if not is_valid_label_name(name):
            raise MatcherParseError(f"invalid label name {go_quote(name)}")
        out.append(Matcher(name, MatchType.EQUAL, value))
    for name, value in match_re.items():
        if not is_valid_label_name(name):
            raise MatcherParseError(f"invalid label name {go_quote(name)}")
        anchored = "^(?:" + value + ")$"
        compile_go_regexp(anchored)
        out.append(Matcher(name, MatchType.REGEX, anchored))
    return out


# --------------------------------------------------------------------------------------------
# Go's character predicates and quoting

# unicode.IsSpace: the Latin-1 spaces plus the White_Space property above U+00FF.
_GO_SPACES = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _go_is_space(c: str) -> bool:
    return c in _GO_SPACES


def _is_reserved(c: str) -> bool:
    """Characters the UTF-8 matcher lexer does not allow in unquoted text."""
    return c in _GO_SPACES or c in "{}!=~,\\\"'`"


def _go_trim_space(s: str) -> str:
    """strings.TrimSpace (unicode.IsSpace at both ends)."""
    i, j = 0, len(s)
    while i < j and s[i] in _GO_SPACES:
        i += 1
    while j > i and s[j - 1] in _GO_SPACES:
        j -= 1
    return s[i:j]


def _openmetrics_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _has_surrogate(s: str) -> bool:
    """A Python str with a lone surrogate is not valid UTF-8, which Go would refuse."""
    return any(0xD800 <= ord(c) <= 0xDFFF for c in s)


# --------------------------------------------------------------------------------------------
# Classic parser (pkg/labels/parse.go)

_CLASSIC_MATCHER = re.compile(
    # Go's \s is [\t\n\f\r ] and its $ is the end of text: spelled out, since Python's are not.
    r"[\t\n\f\r ]*([a-zA-Z_:][a-zA-Z0-9_:]*)[\t\n\f\r ]*(=~|=|!=|!~)[\t\n\f\r ]*(.*?)[\t\n\f\r ]*\Z",
    re.DOTALL,
)


def parse_matcher(text: str) -> Matcher:
    """labels.ParseMatcher: one matcher in the classic syntax (the 0.25 API's ``filter``)."""
    m = _CLASSIC_MATCHER.match(text)
    if m is None:
        raise MatcherParseError(f"bad matcher format: {text}")
    name, op, raw = m.group(1), m.group(2), m.group(3)
    body = raw
    expect_trailing_quote = False
    if body.startswith('"'):
        body = body[1:]
        expect_trailing_quote = True
    if _has_surrogate(body):
        raise MatcherParseError(f"matcher value not valid UTF-8: {raw}")
    value: list[str] = []
    escaped = False
    last = len(body) - 1
    for i, c in enumerate(body):
        if escaped:
            escaped = False
            if c == "n":
                value.append("\n")
            elif c in '"\\':
                value.append(c)
            else:  # a spurious escape: the backslash is literal
                value.append("\\" + c)
            continue
        if c == "\\":
            if i < last:
                escaped = True
                continue
            value.append("\\")  # a backslash as the last character is literal
        elif c == '"':
            if not expect_trailing_quote or i < last:
                raise MatcherParseError(f"matcher value contains unescaped double quote: {raw}")
            expect_trailing_quote = False
        else:
            value.append(c)
    if expect_trailing_quote:
        raise MatcherParseError(f"matcher value contains unescaped double quote: {raw}")
    return Matcher(name, MatchType(op), "".join(value))


def parse_classic_matchers(text: str) -> list[Matcher]:
    """labels.ParseMatchers: comma-separated classic matchers, optional surrounding braces."""
    s = text[1:] if text.startswith("{") else text
    if s.endswith("}"):
        s = s[:-1]
    tokens: list[str] = []
    token: list[str] = []
    inside_quotes = False
    escaped = False
    for c in s:
        if c == ",":
            if not inside_quotes:
                tokens.append("".join(token))
                token = []
                continue
            # a comma inside quotes leaves the escape state alone, as upstream's loop does
        elif c == '"':
            if not escaped:
                inside_quotes = not inside_quotes
            else:
                escaped = False
        elif c == "\\":
            escaped = not escaped
        else:
            escaped = False
        token.append(c)
    last = _go_trim_space("".join(token))
    if last:
        tokens.append(last)
    return [parse_matcher(t) for t in tokens]


# --------------------------------------------------------------------------------------------
# UTF-8 parser (matcher/parse)


class _Tok(enum.Enum):
    OPEN_BRACE = "OpenBrace"
    CLOSE_BRACE = "CloseBrace"
    COMMA = "Comma"
    EQUALS = "Equals"
    NOT_EQUALS = "NotEquals"
    MATCHES = "Matches"
    NOT_MATCHES = "NotMatches"
    QUOTED = "Quoted"
    UNQUOTED = "Unquoted"


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _Tok
    value: str
    col_start: int
    col_end: int


_OP_TOKENS = {
    _Tok.EQUALS: MatchType.EQUAL,
    _Tok.NOT_EQUALS: MatchType.NOT_EQUAL,
    _Tok.MATCHES: MatchType.REGEX,
    _Tok.NOT_MATCHES: MatchType.NOT_REGEX,
}


def _lex(text: str) -> tuple[list[_Token], MatcherParseError | None]:
    """Scan the whole input up front: the tokens and the lexer's error after them, if any.

    Upstream's lexer is lazy but its error is sticky and independent of the parser's state,
    so scanning ahead yields the same tokens and the same error at the same point.
    """
    tokens: list[_Token] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        start = i
        if c in "{},":
            kind = {"{": _Tok.OPEN_BRACE, "}": _Tok.CLOSE_BRACE, ",": _Tok.COMMA}[c]
            tokens.append(_Token(kind, c, i, i + 1))
            i += 1
        elif c == "!":
            nxt = text[i + 1] if i + 1 < n else ""
            if nxt == "=":
                tokens.append(_Token(_Tok.NOT_EQUALS, "!=", i, i + 2))
                i += 2
            elif nxt == "~":
                tokens.append(_Token(_Tok.NOT_MATCHES, "!~", i, i + 2))
                i += 2
            else:
                end = i + 1
                if end >= n:
                    msg = f"{start}:{end}: unexpected end of input, expected one of '=~'"
                else:
                    msg = f"{start}:{end}: {text[start:end]}: expected one of '=~'"
                return tokens, MatcherParseError(msg)
        elif c == "=":
            if i + 1 < n and text[i + 1] == "~":
                tokens.append(_Token(_Tok.MATCHES, "=~", i, i + 2))
                i += 2
            else:
                tokens.append(_Token(_Tok.EQUALS, "=", i, i + 1))
                i += 1
        elif c == '"':
            j = i + 1
            escaped = False
            closed = False
            while j < n:
                d = text[j]
                j += 1
                if escaped:
                    escaped = False
                elif d == "\\":
                    escaped = True
                elif d == '"':
                    closed = True
                    break
            if not closed:
                return tokens, MatcherParseError(f'{start}:{n}: {text[start:n]}: missing end "')
            tokens.append(_Token(_Tok.QUOTED, text[i:j], i, j))
            i = j
        elif not _is_reserved(c):
            j = i + 1
            while j < n and not _is_reserved(text[j]):
                j += 1
            tokens.append(_Token(_Tok.UNQUOTED, text[i:j], i, j))
            i = j
        elif _go_is_space(c):
            i += 1
        else:
            return tokens, MatcherParseError(f"{i}:{i + 1}: {c}: invalid input")
    return tokens, None


def _unhex(c: str) -> int:
    if "0" <= c <= "9":
        return ord(c) - 48
    if "a" <= c <= "f":
        return ord(c) - 87
    if "A" <= c <= "F":
        return ord(c) - 55
    return -1


def _go_unquote(tok: str) -> str | None:
    """strconv.Unquote of a double-quoted token, then the UTF-8 check; None when invalid."""
    body = tok[1:-1]
    buf = bytearray()
    i, n = 0, len(body)
    try:
        while i < n:
            c = body[i]
            if c == "\n":
                return None
            if c != "\\":
                buf += c.encode()
                i += 1
                continue
            if i + 1 >= n:
                return None
            e = body[i + 1]
            i += 2
            if e in "abfnrtv":
                buf.append(b"\a\b\f\n\r\t\v"["abfnrtv".index(e)])
            elif e in "xuU":
                width = {"x": 2, "u": 4, "U": 8}[e]
                digits = body[i : i + width]
                if len(digits) < width or any(_unhex(d) < 0 for d in digits):
                    return None
                v = int(digits, 16)
                i += width
                if e == "x":
                    buf.append(v)  # a single byte, possibly not UTF-8 on its own
                else:
                    if v > 0x10FFFF or 0xD800 <= v <= 0xDFFF:
                        return None
                    buf += chr(v).encode()
            elif "0" <= e <= "7":
                digits = body[i : i + 2]
                if len(digits) < 2 or any(not "0" <= d <= "7" for d in digits):
                    return None
                v = int(e + digits, 8)
                i += 2
                if v > 255:
                    return None
                buf.append(v)
            elif e in '\\"':
                buf.append(ord(e))
            else:  # includes \' , which Go only allows in single-quoted literals
                return None
        return buf.decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None


_EOF = "end of input"
_NO_LABEL_NAME = "expected label name"
_NO_OPERATOR = "expected an operator such as '=', '!=', '=~' or '!~'"
_NO_LABEL_VALUE = "expected label value"
_NO_CLOSE_BRACE = "expected close brace"
_NO_OPEN_BRACE = "expected opening brace"
_EXPECTED_EOF = "expected end of input"
_EXPECTED_COMMA_OR_CLOSE = "expected a comma or close brace"
_EXPECTED_MATCHER_OR_CLOSE = "expected a matcher or close brace after comma"


class _Utf8Parser:
    """matcher/parse's state machine, over the lexer's tokens (its error comes after them)."""

    def __init__(self, text: str) -> None:
        self.tokens, self.lex_error = _lex(text)
        self.pos = 0
        self.col = 0  # the column after the last consumed token (upstream's lexer.cols)
        self.matchers: list[Matcher] = []

    def peek(self) -> _Token | None:
        """The next token, None at the end of input; the lexer's error once it is reached."""
        if self.pos < len(self.tokens):
            return self.tokens[self.pos]
        if self.lex_error is not None:
            raise self.lex_error
        return None

    def take(self) -> _Token:
        t = self.tokens[self.pos]
        self.pos += 1
        self.col = t.col_end
        return t

    def expect_peek(self, sentinel: str, *kinds: _Tok) -> _Token | None:
        try:
            t = self.peek()
        except MatcherParseError as e:
            raise MatcherParseError(f"{e}: {sentinel}") from None
        if t is not None and t.kind not in kinds:
            raise MatcherParseError(f"{t.col_start}:{t.col_end}: unexpected {t.value}: {sentinel}")
        return t

    def expect(self, sentinel: str, *kinds: _Tok) -> _Token:
        if self.expect_peek(sentinel, *kinds) is None:
            raise MatcherParseError(f"{_EOF}: {sentinel}")
        return self.take()

    def parse(self) -> list[Matcher]:
        t = self.peek()
        if t is None:
            return self.parse_eof()
        has_open = t.kind is _Tok.OPEN_BRACE
        if has_open:
            self.take()
        t = self.peek()
        if t is None or t.kind is _Tok.CLOSE_BRACE:
            return self.parse_close_brace(has_open)
        while True:
            self.parse_matcher()
            t = self.expect_peek(_EXPECTED_COMMA_OR_CLOSE, _Tok.COMMA, _Tok.CLOSE_BRACE)
            if t is None or t.kind is _Tok.CLOSE_BRACE:
                return self.parse_close_brace(has_open)
            self.take()  # the comma
            t = self.expect_peek(_EXPECTED_MATCHER_OR_CLOSE, _Tok.CLOSE_BRACE, _Tok.UNQUOTED, _Tok.QUOTED)
            if t is None or t.kind is _Tok.CLOSE_BRACE:
                return self.parse_close_brace(has_open)

    def parse_matcher(self) -> None:
        name = self.unquote(self.expect(_NO_LABEL_NAME, _Tok.QUOTED, _Tok.UNQUOTED))
        op = _OP_TOKENS[self.expect(_NO_OPERATOR, *_OP_TOKENS).kind]
        value = self.unquote(self.expect(_NO_LABEL_VALUE, _Tok.UNQUOTED, _Tok.QUOTED))
        try:
            self.matchers.append(Matcher(name, op, value))
        except MatcherParseError as e:
            raise MatcherParseError(f"failed to create matcher: {e}") from None

    @staticmethod
    def unquote(t: _Token) -> str:
        out = _go_unquote(t.value) if t.kind is _Tok.QUOTED else t.value
        if out is None or _has_surrogate(out):
            raise MatcherParseError(f"{t.col_start}:{t.col_end}: {t.value}: invalid input")
        return out

    def parse_close_brace(self, has_open: bool) -> list[Matcher]:
        if has_open:
            t = self.peek()  # only reached at the end of input or at a close brace
            if t is None:
                raise MatcherParseError(f"0:{self.col}: {_EOF}: {_NO_CLOSE_BRACE}")
            self.take()
        else:
            try:
                t = self.peek()
            except MatcherParseError:
                t = None  # parse_eof reports it
            if t is not None and t.kind is _Tok.CLOSE_BRACE:
                self.take()
                raise MatcherParseError(f"0:{self.col}: }}: {_NO_OPEN_BRACE}")
        return self.parse_eof()

    def parse_eof(self) -> list[Matcher]:
        try:
            t = self.peek()
        except MatcherParseError as e:
            raise MatcherParseError(f"{e}: {_EXPECTED_EOF}") from None
        if t is None:
            return self.matchers
        raise MatcherParseError(f"{t.col_start}:{t.col_end}: {t.value}: {_EXPECTED_EOF}")


def parse_utf8_matchers(text: str) -> list[Matcher]:
    """matcher/parse.Matchers: the UTF-8 syntax (quoted names, Go string escapes)."""
    return _Utf8Parser(text).parse()


def parse_matchers(text: str) -> list[Matcher]:
    """matcher/compat in fallback mode (upstream's default since 0.27).

    Upstream parses with both parsers and returns the classic result whenever the classic
    parser accepts the input (on disagreement too); the UTF-8 result only when the classic
    parser fails; and the classic error when both fail.
    """
    try:
        return parse_classic_matchers(text)
    except MatcherParseError as classic_error:
        try:
            return parse_utf8_matchers(text)
        except MatcherParseError:
            raise classic_error from None


# --------------------------------------------------------------------------------------------
# Go RE2 -> Python re

_MAX_RUNE = 0x10FFFF
_MAX_REPEAT = 1000
_MAX_HEIGHT = 1000

# Go's regexp/syntax error codes.
_E_CHAR_CLASS_RANGE = "invalid character class range"
_E_ESCAPE = "invalid escape sequence"
_E_NAMED_CAPTURE = "invalid named capture"
_E_PERL_OP = "invalid or unsupported Perl syntax"
_E_REPEAT_OP = "invalid nested repetition operator"
_E_REPEAT_SIZE = "invalid repeat count"
_E_MISSING_BRACKET = "missing closing ]"
_E_MISSING_PAREN = "missing closing )"
_E_MISSING_REPEAT_ARG = "missing argument to repetition operator"
_E_TRAILING_BACKSLASH = "trailing backslash at end of expression"
_E_UNEXPECTED_PAREN = "unexpected )"
_E_NESTING = "expression nests too deeply"
_E_UTF8 = "invalid UTF-8"

# Flags (as Go's parser keeps them).
_FOLD = 1
_ONE_LINE = 2  # set by default (Perl mode); (?m) clears it
_DOT_NL = 4
_NON_GREEDY = 8

Ranges = list[tuple[int, int]]


def _clean(ranges: Ranges) -> Ranges:
    """Sort and merge overlapping or abutting ranges."""
    out: Ranges = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def _negate(ranges: Ranges) -> Ranges:
    out: Ranges = []
    nxt = 0
    for lo, hi in _clean(ranges):
        if nxt <= lo - 1:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= _MAX_RUNE:
        out.append((nxt, _MAX_RUNE))
    return out


def _simple_fold_key(c: str) -> str:
    """The simple case fold of one character (CaseFolding.txt C+S), from Python's tables."""
    f = c.casefold()
    if len(f) == 1:
        return f
    low = c.lower()
    return low if len(low) == 1 else c


@functools.cache
def _fold_table() -> tuple[list[int], dict[int, tuple[int, ...]]]:
    """Case-fold orbits (what Go's unicode.SimpleFold cycles through), for runes that have one.

    Derived from Python's Unicode database; it agrees with Go's tables orbit for orbit.
    """
    groups: dict[str, set[int]] = {}
    for cp in range(0x41, 0x1E944):  # Go's minFold..maxFold
        c = chr(cp)
        k = _simple_fold_key(c)
        if k != c:
            groups.setdefault(k, {ord(k)}).add(cp)
    orbits: dict[int, tuple[int, ...]] = {}
    for members in groups.values():
        orbit = tuple(sorted(members))
        for m in orbit:
            orbits[m] = orbit
    return sorted(orbits), orbits


def _fold(ranges: Ranges) -> Ranges:
    """Add every rune case-fold-equivalent to one in the ranges (Go's appendFoldedRange)."""
    keys, orbits = _fold_table()
    out = list(ranges)
    for lo, hi in ranges:
        for idx in range(bisect.bisect_left(keys, lo), bisect.bisect_right(keys, hi)):
            out.extend((m, m) for m in orbits[keys[idx]])
    return _clean(out)


_PERL_GROUPS: dict[str, tuple[int, Ranges]] = {
    "\\d": (+1, [(0x30, 0x39)]),
    "\\D": (-1, [(0x30, 0x39)]),
    "\\s": (+1, [(0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20)]),
    "\\S": (-1, [(0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20)]),
    "\\w": (+1, [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)]),
    "\\W": (-1, [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)]),
}

_POSIX_CLASSES: dict[str, Ranges] = {
    "alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "ascii": [(0x00, 0x7F)],
    "blank": [(0x09, 0x09), (0x20, 0x20)],
    "cntrl": [(0x00, 0x1F), (0x7F, 0x7F)],
    "digit": [(0x30, 0x39)],
    "graph": [(0x21, 0x7E)],
    "lower": [(0x61, 0x7A)],
    "print": [(0x20, 0x7E)],
    "punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "space": [(0x09, 0x0D), (0x20, 0x20)],
    "upper": [(0x41, 0x5A)],
    "word": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
    "xdigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
}
_POSIX_GROUPS: dict[str, tuple[int, Ranges]] = {
    **{f"[:{k}:]": (+1, v) for k, v in _POSIX_CLASSES.items()},
    **{f"[:^{k}:]": (-1, v) for k, v in _POSIX_CLASSES.items()},
}

# unicode.Categories in the Go that built Alertmanager 0.25 (1.19): names are exact.
_GO_CATEGORIES = frozenset(
    "C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps "
    "S Sc Sk Sm So Z Zl Zp Zs".split()
)

# unicode.Scripts: valid in Go, but Python has no script property to build them from.
_GO_SCRIPTS = frozenset(
    """Adlam Ahom Anatolian_Hieroglyphs Arabic Armenian Avestan Balinese Bamum Bassa_Vah Batak
    Bengali Bhaiksuki Bopomofo Brahmi Braille Buginese Buhid Canadian_Aboriginal Carian
    Caucasian_Albanian Chakma Cham Cherokee Chorasmian Common Coptic Cuneiform Cypriot
    Cypro_Minoan Cyrillic Deseret Devanagari Dives_Akuru Dogra Duployan Egyptian_Hieroglyphs
    Elbasan Elymaic Ethiopic Georgian Glagolitic Gothic Grantha Greek Gujarati Gunjala_Gondi
    Gurmukhi Han Hangul Hanifi_Rohingya Hanunoo Hatran Hebrew Hiragana Imperial_Aramaic Inherited
    Inscriptional_Pahlavi Inscriptional_Parthian Javanese Kaithi Kannada Katakana Kawi Kayah_Li
    Kharoshthi Khitan_Small_Script Khmer Khojki Khudawadi Lao Latin Lepcha Limbu Linear_A
    Linear_B Lisu Lycian Lydian Mahajani Makasar Malayalam Mandaic Manichaean Marchen
    Masaram_Gondi Medefaidrin Meetei_Mayek Mende_Kikakui Meroitic_Cursive Meroitic_Hieroglyphs
    Miao Modi Mongolian Mro Multani Myanmar Nabataean Nag_Mundari Nandinagari New_Tai_Lue Newa Nko
    Nushu Nyiakeng_Puachue_Hmong Ogham Ol_Chiki Old_Hungarian Old_Italic Old_North_Arabian
    Old_Permic Old_Persian Old_Sogdian Old_South_Arabian Old_Turkic Old_Uyghur Oriya Osage
    Osmanya Pahawh_Hmong Palmyrene Pau_Cin_Hau Phags_Pa Phoenician Psalter_Pahlavi Rejang Runic
    Samaritan Saurashtra Sharada Shavian Siddham SignWriting Sinhala Sogdian Sora_Sompeng Soyombo
    Sundanese Syloti_Nagri Syriac Tagalog Tagbanwa Tai_Le Tai_Tham Tai_Viet Takri Tamil Tangsa
    Tangut Telugu Thaana Thai Tibetan Tifinagh Tirhuta Toto Ugaritic Vai Vithkuqi Wancho
    Warang_Citi Yezidi Yi Zanabazar_Square""".split()
)


@functools.cache
def _category_table() -> dict[str, Ranges]:
    """Ranges of every Unicode general category (one and two letters), built once, lazily."""
    table: dict[str, Ranges] = {}
    prev = ""
    start = 0
    category = unicodedata.category
    for cp in range(_MAX_RUNE + 2):
        cat = category(chr(cp)) if cp <= _MAX_RUNE else ""
        if cat != prev:
            if prev and prev != "Cn":  # Go's tables list no unassigned code points
                table.setdefault(prev, []).append((start, cp - 1))
                table.setdefault(prev[0], []).append((start, cp - 1))
            prev, start = cat, cp
    return {k: _clean(v) for k, v in table.items()}


def _unicode_table(name: str) -> Ranges | None:
    if name == "Any":
        return [(0, _MAX_RUNE)]
    if name in _GO_CATEGORIES:
        return _category_table().get(name, [])
    return None


def _esc_rune(cp: int) -> str:
    if cp < 0x100:
        return f"\\x{cp:02x}"
    if cp < 0x10000:
        return f"\\u{cp:04x}"
    return f"\\U{cp:08x}"


def _class_source(ranges: Ranges) -> str:
    """A Python character class for exactly these runes (no flags involved)."""
    if not ranges:
        return "[^\\x00-\\U0010ffff]"  # matches nothing, as Go's empty class
    if len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
        return re.escape(chr(ranges[0][0]))
    parts = [_esc_rune(lo) if lo == hi else f"{_esc_rune(lo)}-{_esc_rune(hi)}" for lo, hi in ranges]
    return "[" + "".join(parts) + "]"


@dataclass(frozen=True, slots=True)
class _Rep:
    """A counted repetition inside a node, for Go's repeatIsValid."""

    max: int
    min: int
    inner: tuple[_Rep, ...]


@dataclass(frozen=True, slots=True)
class _Node:
    """One parsed element, already rendered as a single Python atom."""

    src: str
    height: int = 1
    reps: tuple[_Rep, ...] = ()


def _repeat_is_valid(rep: _Rep, n: int) -> bool:
    m = rep.max
    if m == 0:
        return True
    if m < 0:
        m = rep.min
    if m > n:
        return False
    if m > 0:
        n //= m
    return all(_repeat_is_valid(r, n) for r in rep.inner)


@dataclass(slots=True)
class _Frame:
    flags: int  # the flags to restore at the closing paren
    capture: bool
    branches: list[list[_Node]] = field(default_factory=list)
    items: list[_Node] = field(default_factory=list)


def _concat(items: list[_Node]) -> _Node:
    if len(items) == 1:
        return items[0]
    return _Node(
        "".join(i.src for i in items),
        1 + max((i.height for i in items), default=0),
        tuple(r for i in items for r in i.reps),
    )


class _GoRegexpTranslator:
    """A transcription of Go's regexp/syntax parser (Perl flags) that emits Python source."""

    def __init__(self, pattern: str) -> None:
        self.s = pattern
        self.n = len(pattern)
        self.flags = _ONE_LINE
        self.stack: list[_Frame] = [_Frame(self.flags, capture=False)]

    def error(self, code: str, expr: str) -> RegexpError:
        return RegexpError(code, expr)

    # -- building blocks

    def push(self, node: _Node) -> None:
        if node.height > _MAX_HEIGHT:
            raise self.error(_E_NESTING, self.s)
        self.stack[-1].items.append(node)

    def literal(self, cp: int) -> None:
        if self.flags & _FOLD:
            self.push(_Node(_class_source(_fold([(cp, cp)]))))
        else:
            self.push(_Node(re.escape(chr(cp))))

    def class_node(self, ranges: Ranges) -> _Node:
        return _Node(_class_source(_clean(ranges)))

    def group(self, frame: _Frame) -> _Node:
        branches = [*frame.branches, frame.items]
        nodes = [_concat(b) if b else _Node("", 1) for b in branches]
        src = "|".join(node.src for node in nodes)
        height = max(node.height for node in nodes) + (1 if len(nodes) > 1 else 0)
        if frame.capture:
            height += 1
        return _Node("(?:" + src + ")", height, tuple(r for node in nodes for r in node.reps))

    # -- the main loop

    def translate(self) -> str:
        s, n = self.s, self.n
        i = 0
        last_repeat = -1
        while i < n:
            repeat = -1
            c = s[i]
            if c == "(":
                if s.startswith("(?", i):
                    i = self.perl_flags(i)
                else:
                    self.stack.append(_Frame(self.flags, capture=True))
                    i += 1
            elif c == "|":
                frame = self.stack[-1]
                frame.branches.append(frame.items)
                frame.items = []
                i += 1
            elif c == ")":
                if len(self.stack) < 2:
                    raise self.error(_E_UNEXPECTED_PAREN, s)
                frame = self.stack.pop()
                self.flags = frame.flags
                self.push(self.group(frame))
                i += 1
            elif c == "^":
                self.push(_Node("\\A" if self.flags & _ONE_LINE else "(?m:^)"))
                i += 1
            elif c == "$":
                self.push(_Node("\\Z" if self.flags & _ONE_LINE else "(?m:$)"))
                i += 1
            elif c == ".":
                self.push(_Node("(?s:.)" if self.flags & _DOT_NL else "[^\\n]"))
                i += 1
            elif c == "[":
                i = self.parse_class(i)
            elif c in "*+?":
                repeat = i
                i = self.repeat(c, 0, 0, i, i + 1, last_repeat)
            elif c == "{":
                parsed = self.parse_repeat(i)
                if parsed is None:
                    self.literal(ord("{"))  # not a repetition: a literal brace
                    i += 1
                else:
                    lo, hi, after = parsed
                    if lo < 0 or lo > _MAX_REPEAT or hi > _MAX_REPEAT or (hi >= 0 and lo > hi):
                        raise self.error(_E_REPEAT_SIZE, s[i:after])
                    repeat = i
                    i = self.repeat("{", lo, hi, i, after, last_repeat)
            elif c == "\\":
                i = self.backslash(i)
            else:
                self.literal(ord(c))
                i += 1
            last_repeat = repeat
        if len(self.stack) != 1:
            raise self.error(_E_MISSING_PAREN, s)
        root = self.group(self.stack[0])
        if root.height > _MAX_HEIGHT:
            raise self.error(_E_NESTING, s)
        return root.src

    def repeat(self, op: str, lo: int, hi: int, before: int, after: int, last_repeat: int) -> int:
        s = self.s
        flags = self.flags
        if after < self.n and s[after] == "?":
            after += 1
            flags ^= _NON_GREEDY
        if last_repeat >= 0:
            # Perl forbids stacking repetitions: a** is an error, a++ would be possessive.
            raise self.error(_E_REPEAT_OP, s[last_repeat:after])
        frame = self.stack[-1]
        if not frame.items:
            raise self.error(_E_MISSING_REPEAT_ARG, s[before:after])
        sub = frame.items.pop()
        lazy = "?" if flags & _NON_GREEDY else ""
        if op == "{":
            if hi == -1:
                q = f"{{{lo},}}"
            elif hi == lo:
                q = f"{{{lo}}}"
            else:
                q = f"{{{lo},{hi}}}"
            rep = _Rep(hi, lo, sub.reps)
            node = _Node(f"(?:{sub.src}){q}{lazy}", sub.height + 1, (rep,))
            if (lo >= 2 or hi >= 2) and not _repeat_is_valid(rep, _MAX_REPEAT):
                raise self.error(_E_REPEAT_SIZE, s[before:after])
        else:
            node = _Node(f"(?:{sub.src}){op}{lazy}", sub.height + 1, sub.reps)
        self.push(node)
        return after

    def parse_repeat(self, i: int) -> tuple[int, int, int] | None:
        """{min}, {min,} or {min,max}; None when the text is not of that form."""
        s, n = self.s, self.n
        j = i + 1
        lo, j = self.parse_int(j)
        if lo is None or j >= n:
            return None
        if s[j] != ",":
            hi = lo
        else:
            j += 1
            if j >= n:
                return None
            if s[j] == "}":
                hi = -1
            else:
                hi_, j = self.parse_int(j)
                if hi_ is None:
                    return None
                hi = hi_
                if hi < 0:
                    lo = -1  # too big a number
        if j >= n or s[j] != "}":
            return None
        return lo, hi, j + 1

    def parse_int(self, j: int) -> tuple[int | None, int]:
        s, n = self.s, self.n
        if j >= n or not "0" <= s[j] <= "9":
            return None, j
        if j + 1 < n and s[j] == "0" and "0" <= s[j + 1] <= "9":
            return None, j  # no leading zeros
        k = j
        while k < n and "0" <= s[k] <= "9":
            k += 1
        digits = s[j:k]
        value = int(digits) if len(digits) <= 8 else -1
        if value >= 100_000_000:
            value = -1
        return value, k

    def perl_flags(self, i: int) -> int:
        """(?P<name>, (?<name>, (?flags), (?flags: and (?: ."""
        s, n = self.s, self.n
        t = s[i:]
        starts_with_p = len(t) > 4 and t[2] == "P" and t[3] == "<"
        starts_with_name = len(t) > 3 and t[2] == "<"
        if starts_with_p or starts_with_name:
            begin = 4 if starts_with_p else 3
            end = t.find(">")
            if end < 0:
                raise self.error(_E_NAMED_CAPTURE, t)
            name = t[begin:end]
            if not name or not all(c == "_" or (c.isascii() and c.isalnum()) for c in name):
                raise self.error(_E_NAMED_CAPTURE, t[: end + 1])
            self.stack.append(_Frame(self.flags, capture=True))
            return i + end + 1
        flags = self.flags
        negated = False
        saw_flag = False
        j = i + 2
        while j < n:
            c = s[j]
            j += 1
            if c in "imsU":
                bit = {"i": _FOLD, "m": _ONE_LINE, "s": _DOT_NL, "U": _NON_GREEDY}[c]
                turn_on = not negated
                if c == "m":
                    turn_on = not turn_on  # m clears OneLine
                flags = flags | bit if turn_on else flags & ~bit
                saw_flag = True
            elif c == "-":
                if negated:
                    break
                negated = True
                saw_flag = False
            elif c in ":)":
                if negated and not saw_flag:
                    break
                if c == ":":
                    self.stack.append(_Frame(self.flags, capture=False))
                self.flags = flags
                return j
            else:
                break
        raise self.error(_E_PERL_OP, s[i:j])

    def backslash(self, i: int) -> int:
        s, n = self.s, self.n
        if i + 1 < n:
            c = s[i + 1]
            if c == "A":
                self.push(_Node("\\A"))
                return i + 2
            if c in "bB":
                w = "[0-9A-Za-z_]"  # Go's \b is an ASCII word boundary
                if c == "b":
                    src = f"(?:(?<={w})(?!{w})|(?<!{w})(?={w}))"
                else:  # spelled out: Python's \B never matches the empty string before 3.14
                    src = f"(?:(?<={w})(?={w})|(?<!{w})(?!{w}))"
                self.push(_Node(src))
                return i + 2
            if c == "C":
                raise self.error(_E_ESCAPE, s[i : i + 2])  # "any byte": Go does not support it
            if c == "Q":
                end = s.find("\\E", i + 2)
                lit = s[i + 2 :] if end < 0 else s[i + 2 : end]
                for ch in lit:
                    self.literal(ord(ch))
                return n if end < 0 else end + 2
            if c == "z":
                self.push(_Node("\\Z"))
                return i + 2
            if c in "pP":
                ranges, j = self.unicode_class(i)
                self.push(self.class_node(ranges))
                return j
            group = _PERL_GROUPS.get(s[i : i + 2])
            if group is not None:
                self.push(self.class_node(self.group_ranges(group)))
                return i + 2
        cp, j = self.parse_escape(i)
        self.literal(cp)
        return j

    def group_ranges(self, group: tuple[int, Ranges]) -> Ranges:
        sign, ranges = group
        if self.flags & _FOLD:
            ranges = _fold(ranges)
        return _negate(ranges) if sign < 0 else list(ranges)

    def parse_escape(self, i: int) -> tuple[int, int]:
        """An escape that stands for one rune; ``s[i]`` is the backslash."""
        s, n = self.s, self.n
        j = i + 1
        if j >= n:
            raise self.error(_E_TRAILING_BACKSLASH, "")
        c = s[j]
        j += 1
        o = ord(c)
        if o < 0x80 and not c.isalnum():
            return o, j  # escaped punctuation is itself
        if "1" <= c <= "7" and (j >= n or not "0" <= s[j] <= "7"):
            pass  # a backreference: not supported
        elif "0" <= c <= "7":
            r = o - 48
            for _ in range(2):
                if j >= n or not "0" <= s[j] <= "7":
                    break
                r = r * 8 + ord(s[j]) - 48
                j += 1
            return r, j
        elif c == "x":
            if j < n:
                c2 = s[j]
                j += 1
                if c2 == "{":
                    r, nhex = 0, 0
                    while True:
                        if j >= n:
                            break
                        d = s[j]
                        j += 1
                        if d == "}":
                            if nhex:
                                return r, j
                            break
                        v = _unhex(d)
                        if v < 0:
                            break
                        r = r * 16 + v
                        if r > _MAX_RUNE:
                            break
                        nhex += 1
                else:
                    x = _unhex(c2)
                    y = -1
                    if j < n:
                        y = _unhex(s[j])
                        j += 1
                    if x >= 0 and y >= 0:
                        return x * 16 + y, j
        elif c in "afnrtv":
            return ord("\a\f\n\r\t\v"["afnrtv".index(c)]), j
        raise self.error(_E_ESCAPE, s[i:j])

    def unicode_class(self, i: int) -> tuple[Ranges, int]:
        """\\pN, \\p{Name}, \\PN, \\P{Name}, \\p{^Name}; ``s[i:i+2]`` is ``\\p`` or ``\\P``."""
        s, n = self.s, self.n
        sign = -1 if s[i + 1] == "P" else 1
        j = i + 2
        if j < n and s[j] == "{":
            end = s.find("}", i)
            if end < 0:
                raise self.error(_E_CHAR_CLASS_RANGE, s[i:])
            seq, name, j = s[i : end + 1], s[i + 3 : end], end + 1
        else:
            j = min(j + 1, n)
            seq = s[i:j]
            name = seq[2:]
        if name.startswith("^"):
            sign = -sign
            name = name[1:]
        table = _unicode_table(name)
        if table is None:
            if name in _GO_SCRIPTS:
                raise UnsupportedRegexpError(
                    f"unsupported regexp: the Unicode script class `{seq}` is valid in Go but "
                    "Alertmanager++ cannot match scripts; use explicit ranges like [\\x{370}-\\x{3ff}]"
                )
            raise self.error(_E_CHAR_CLASS_RANGE, seq)
        if self.flags & _FOLD:
            table = _fold(table)
        return (_negate(table) if sign < 0 else list(table)), j

    def parse_class(self, i: int) -> int:
        s, n = self.s, self.n
        start = i
        j = i + 1
        negated = False
        if j < n and s[j] == "^":
            negated = True
            j += 1
        ranges: Ranges = []
        first = True
        while j >= n or s[j] != "]" or first:
            first = False
            if n - j > 2 and s[j] == "[" and s[j + 1] == ":":
                end = s.find(":]", j + 2)
                if end >= 0:
                    name = s[j : end + 2]
                    group = _POSIX_GROUPS.get(name)
                    if group is None:
                        raise self.error(_E_CHAR_CLASS_RANGE, name)
                    ranges.extend(self.group_ranges(group))
                    j = end + 2
                    continue
            if n - j >= 2 and s[j] == "\\" and s[j + 1] in "pP":
                table, j = self.unicode_class(j)
                ranges.extend(table)
                continue
            group = _PERL_GROUPS.get(s[j : j + 2]) if n - j >= 2 else None
            if group is not None:
                ranges.extend(self.group_ranges(group))
                j += 2
                continue
            rng_start = j
            lo, j = self.class_char(j, start)
            hi = lo
            if n - j >= 2 and s[j] == "-" and s[j + 1] != "]":
                hi, j = self.class_char(j + 1, start)
                if hi < lo:
                    raise self.error(_E_CHAR_CLASS_RANGE, s[rng_start:j])
            ranges.extend(_fold([(lo, hi)]) if self.flags & _FOLD else [(lo, hi)])
        j += 1  # the closing ]
        ranges = _clean(ranges)
        if negated:
            ranges = _negate(ranges)
        self.push(self.class_node(ranges))
        return j

    def class_char(self, j: int, class_start: int) -> tuple[int, int]:
        if j >= self.n:
            raise self.error(_E_MISSING_BRACKET, self.s[class_start:])
        if self.s[j] == "\\":
            return self.parse_escape(j)
        return ord(self.s[j]), j + 1


def translate_go_regexp(pattern: str) -> str:
    """Python ``re`` source that matches exactly what Go's regexp matches for ``pattern``.

    Raises RegexpError (Go's message) for what Go rejects, UnsupportedRegexpError for valid Go
    syntax that has no faithful Python equivalent here.
    """
    if _has_surrogate(pattern):
        raise RegexpError(_E_UTF8, pattern)
    try:
        return _GoRegexpTranslator(pattern).translate()
    except RecursionError:
        raise _too_deep(pattern) from None


def _too_deep(pattern: str) -> UnsupportedRegexpError:
    return UnsupportedRegexpError(f"unsupported regexp: `{pattern}` nests too deeply for Python's re")


class Regex(Protocol):
    def search(self, text: str) -> object | None: ...


@functools.lru_cache(maxsize=4096)
def compile_go_regexp(pattern: str) -> Regex:
    """Compile a Go RE2 pattern (unanchored, like regexp.MatchString) for ``search``.

    Go's grammar decides what is valid and words the errors (translate_go_regexp). A pattern
    Python's backtracking ``re`` could take exponential or high polynomial time on
    (``may_backtrack``: nested or many repetitions, repeated alternations) runs on RE2 itself,
    in linear time as in Alertmanager: anyone who may create a silence could otherwise stall
    the engine with one regex. The others, nearly all, stay on ``re``, ten times faster per
    match through Python than RE2's binding.
    """
    source = translate_go_regexp(pattern)
    try:
        compiled = re.compile(source)
        risky = may_backtrack(source)
    except RecursionError:
        raise _too_deep(pattern) from None
    except (re.error, OverflowError) as e:  # pragma: no cover - a translation bug
        raise UnsupportedRegexpError(f"unsupported regexp: `{pattern}`: {e}") from None
    if risky:
        linear = _re2(pattern)
        if linear is not None:
            return linear
    return compiled


_RE2_OPTIONS: Any = None


class _Re2Regex:
    """A pattern on RE2, matched over UTF-8 bytes (a lone surrogate cannot make it raise)."""

    __slots__ = ("_regex",)

    def __init__(self, regex: Any) -> None:
        self._regex = regex

    def search(self, text: str) -> object | None:
        found: object | None = self._regex.search(text.encode("utf-8", "surrogatepass"))
        return found


def _re2(pattern: str) -> _Re2Regex | None:
    """RE2 with Go's syntax (RE2's own), or None if RE2 refuses what Go accepted."""
    global _RE2_OPTIONS
    import re2

    if _RE2_OPTIONS is None:
        _RE2_OPTIONS = re2.Options()
        _RE2_OPTIONS.log_errors = False
    try:
        return _Re2Regex(re2.compile(pattern.encode("utf-8"), _RE2_OPTIONS))
    except re2.error:  # pragma: no cover - Go and RE2 disagree on the syntax
        return None


# The parser behind re.compile, to inspect a translated pattern's structure (no public API
# gives it; its module was sre_parse before Python 3.11, untyped either way).
_sre: Any = importlib.import_module("re._constants")
_sre_parse: Any = importlib.import_module("re._parser")
_REPEAT_OPS = (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT)
_MAX_PLAIN_REPEATS = 2
"""Repetitions a pattern may hold, none inside another, and stay on ``re``: two (``.*x.*``)
cost at most quadratic time in the length of a label value; a third makes it cubic."""


def may_backtrack(source: str) -> bool:
    """Whether a Python ``re`` pattern could backtrack badly: a repetition inside another, an
    alternation inside a repetition, or more than two repetitions."""
    repeats = 0

    def walk(items: Any, repeated: bool) -> bool:
        nonlocal repeats
        for op, av in items:
            if op in _REPEAT_OPS:
                _lo, hi, body = av
                if hi > 1:
                    repeats += 1
                    if repeated or repeats > _MAX_PLAIN_REPEATS or walk(body, True):
                        return True
                elif walk(body, repeated):
                    return True
            elif op is _sre.BRANCH:
                if repeated or any(walk(alt, repeated) for alt in av[1]):
                    return True
            elif op is _sre.SUBPATTERN:
                if walk(av[3], repeated):
                    return True
            elif op in (_sre.ASSERT, _sre.ASSERT_NOT):
                if walk(av[1], repeated):
                    return True
        return False

    return walk(_sre_parse.parse(source), False)
