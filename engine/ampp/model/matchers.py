"""Label matchers, parsed and matched exactly as Alertmanager does.

Three parsers, as upstream has them:

* the classic one (``pkg/labels.ParseMatcher``/``ParseMatchers``), which Alertmanager 0.25 uses
  for config ``matchers``, the API's ``filter`` and amtool;
* the UTF-8 one (``matcher/parse``), introduced in 0.27, which accepts any UTF-8 label name
  and Go-quoted strings;
* the fallback mode of ``matcher/compat`` (upstream's default since 0.27): the classic result
  wins whenever the classic parser accepts the input, otherwise the UTF-8 parser's.

Regular expressions are Go RE2 syntax, translated by ampp.model.goregexp.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .goregexp import GoRegexpError, Regex, compile_go_regexp, has_surrogate, unhex
from .labels import go_quote, is_valid_label_name

__all__ = [
    "MatchType",
    "Matcher",
    "MatcherParseError",
    "is_valid_label_name",
    "matchers_from_legacy",
    "matches_labels",
    "new_matcher",
    "parse_classic_matchers",
    "parse_matcher",
    "parse_matchers",
    "parse_utf8_matchers",
]


class MatchType(enum.Enum):
    """The four matcher operators, valued by their textual form."""

    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


class MatcherParseError(ValueError):
    """A matcher (or its regular expression) that Alertmanager would reject."""


def _compile(pattern: str) -> Regex:
    """The matcher's regular expression; Go's error (the cause kept) as a MatcherParseError."""
    try:
        return compile_go_regexp(pattern)
    except GoRegexpError as e:
        raise MatcherParseError(str(e)) from e


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
            object.__setattr__(self, "_regex", _compile("^(?:" + self.value + ")$"))

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
        _compile(anchored)
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
    if has_surrogate(body):
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
                if len(digits) < width or any(unhex(d) < 0 for d in digits):
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
        if out is None or has_surrogate(out):
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
