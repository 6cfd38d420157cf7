"""html/template's contextual escaping, for the HTML parts Alertmanager's emails use.

html/template decides, for every action, where in the HTML document it lands (text, a quoted
attribute, a URL attribute and which part of the URL, the body of <title>, a comment) and
escapes the value for that place; it also drops comments from the template text. This module
follows the same state machine (html/template's transition.go) for those contexts. Actions
inside <script>, <style>, event-handler and style attributes, srcset, or in an attribute or
tag name are refused with a clear error rather than escaped differently from Go.
"""

from __future__ import annotations

import html as _html
from dataclasses import dataclass, replace
from typing import Any

from markupsafe import Markup

from ._funcs import SafeURL, html_escape_string, query_escape
from ._gofmt import sprint_value

# states
TEXT, TAG, ATTR_NAME, AFTER_NAME, BEFORE_VALUE, HTML_CMT, RCDATA, ATTR, URL = (
    "Text",
    "Tag",
    "AttrName",
    "AfterName",
    "BeforeValue",
    "HTMLCmt",
    "RCDATA",
    "Attr",
    "URL",
)
JS, CSS, CSS_CMT_BLOCK, CSS_CMT_LINE, CSS_DQ, CSS_SQ, CSS_URL, SRCSET, ERROR = (
    "JS",
    "CSS",
    "CSSBlockCmt",
    "CSSLineCmt",
    "CSSDqStr",
    "CSSSqStr",
    "CSSURL",
    "Srcset",
    "Error",
)
JS_DQ, JS_SQ, JS_BQ, JS_REGEXP, JS_CMT_BLOCK, JS_CMT_LINE = (
    "JSDqStr",
    "JSSqStr",
    "JSBqStr",
    "JSRegexp",
    "JSBlockCmt",
    "JSLineCmt",
)
# delimiters
D_NONE, D_DQ, D_SQ, D_SPACE = "", '"', "'", " "
# URL parts
U_NONE, U_PRE, U_QUERY, U_UNKNOWN = "", "PreQuery", "QueryOrFrag", "Unknown"
# elements
E_NONE, E_SCRIPT, E_STYLE, E_TEXTAREA, E_TITLE = "", "script", "style", "textarea", "title"
# attribute kinds
A_NONE, A_SCRIPT, A_STYLE, A_URL, A_SRCSET = "", "script", "style", "url", "srcset"


@dataclass(frozen=True)
class Context:
    state: str = TEXT
    delim: str = D_NONE
    url_part: str = U_NONE
    element: str = E_NONE
    attr: str = A_NONE
    js_regexp: bool = True  # a '/' here would start a regexp (not a division)
    err: str = ""

    def key(self) -> str:
        return f"{self.state}|{self.delim}|{self.url_part}|{self.element}|{self.attr}|{int(self.js_regexp)}"

    def __str__(self) -> str:
        parts = [f"state{self.state}"]
        if self.delim:
            parts.append(
                {D_DQ: "delimDoubleQuote", D_SQ: "delimSingleQuote", D_SPACE: "delimSpaceOrTagEnd"}[
                    self.delim
                ]
            )
        if self.url_part:
            parts.append(f"urlPart{self.url_part}")
        if self.element:
            parts.append(f"element{self.element.title()}")
        return "{" + " ".join(parts) + "}"


TEXT_CONTEXT = Context()

_ELEMENT_CONTENT = {E_NONE: TEXT, E_SCRIPT: JS, E_STYLE: CSS, E_TEXTAREA: RCDATA, E_TITLE: RCDATA}
_ATTR_START = {A_NONE: ATTR, A_SCRIPT: JS, A_STYLE: CSS, A_URL: URL, A_SRCSET: SRCSET}
_URL_ATTRS = {
    "action",
    "archive",
    "background",
    "cite",
    "classid",
    "codebase",
    "data",
    "formaction",
    "href",
    "icon",
    "longdesc",
    "manifest",
    "poster",
    "profile",
    "src",
    "usemap",
    "xmlns",
}
_PLAIN_ATTRS_WITH_URL_WORDS = {"srclang"}


def attr_kind(name: str) -> str:
    """html/template's attrType, reduced to the kinds escaping distinguishes."""
    if name.startswith("data-"):
        name = name[5:]
    elif ":" in name:
        prefix, _, short = name.partition(":")
        if prefix == "xmlns":
            return A_URL
        name = short
    if name in _URL_ATTRS:
        return A_URL
    if name == "style":
        return A_STYLE
    if name == "srcset":
        return A_SRCSET
    if name == "srcdoc" or name in _PLAIN_ATTRS_WITH_URL_WORDS:
        return A_NONE
    if name.startswith("on"):
        return A_SCRIPT
    if "src" in name or "uri" in name or "url" in name:
        return A_URL
    return A_NONE


def _ascii_alpha(c: str) -> bool:
    return ("a" <= c <= "z") or ("A" <= c <= "Z")


def _ascii_alnum(c: str) -> bool:
    return _ascii_alpha(c) or ("0" <= c <= "9")


def _eat_tag_name(s: str, i: int) -> tuple[int, str]:
    if i == len(s) or not _ascii_alpha(s[i]):
        return i, E_NONE
    j = i + 1
    while j < len(s):
        x = s[j]
        if _ascii_alnum(x):
            j += 1
            continue
        if x in ":-" and j + 1 < len(s) and _ascii_alnum(s[j + 1]):
            j += 2
            continue
        break
    name = s[i:j].lower()
    return j, name if name in (E_SCRIPT, E_STYLE, E_TEXTAREA, E_TITLE) else E_NONE


def _eat_space(s: str, i: int) -> int:
    while i < len(s) and s[i] in " \t\n\f\r":
        i += 1
    return i


class HTMLContextError(Exception):
    pass


def _t_text(c: Context, s: str) -> tuple[Context, int]:
    k = 0
    while True:
        i = s.find("<", k)
        if i < 0 or i + 1 == len(s):
            return c, len(s)
        if s.startswith("<!--", i):
            return Context(state=HTML_CMT), i + 4
        i += 1
        end = False
        if s[i] == "/":
            if i + 1 == len(s):
                return c, len(s)
            end, i = True, i + 1
        j, e = _eat_tag_name(s, i)
        if j != i:
            return Context(state=TAG, element=E_NONE if end else e), j
        k = j


def _t_tag(c: Context, s: str) -> tuple[Context, int]:
    i = _eat_space(s, 0)
    if i == len(s):
        return c, len(s)
    if s[i] == ">":
        return Context(state=_ELEMENT_CONTENT[c.element], element=c.element), i + 1
    j = i
    while j < len(s) and s[j] not in " \t\n\f\r=>":
        if s[j] in "'\"<":
            return Context(state=ERROR, err=f"{s[j]!r} in attribute name: {s[:32]!r}"), len(s)
        j += 1
    if i == j:
        return Context(state=ERROR, err=f"expected space, attr name, or end of tag, but got {s[i:]!r}"), len(
            s
        )
    name = s[i:j].lower()
    kind = A_NONE if (c.element == E_SCRIPT and name == "type") else attr_kind(name)
    state = ATTR_NAME if j == len(s) else AFTER_NAME
    return Context(state=state, element=c.element, attr=kind), j


def _t_attr_name(c: Context, s: str) -> tuple[Context, int]:
    i = 0
    while i < len(s) and s[i] not in " \t\n\f\r=>":
        if s[i] in "'\"<":
            return Context(state=ERROR, err=f"{s[i]!r} in attribute name"), len(s)
        i += 1
    if i != len(s):
        c = replace(c, state=AFTER_NAME)
    return c, i


def _t_after_name(c: Context, s: str) -> tuple[Context, int]:
    i = _eat_space(s, 0)
    if i == len(s):
        return c, len(s)
    if s[i] != "=":
        return replace(c, state=TAG), i
    return replace(c, state=BEFORE_VALUE), i + 1


def _t_before_value(c: Context, s: str) -> tuple[Context, int]:
    i = _eat_space(s, 0)
    if i == len(s):
        return c, len(s)
    delim = D_SPACE
    if s[i] == "'":
        delim, i = D_SQ, i + 1
    elif s[i] == '"':
        delim, i = D_DQ, i + 1
    return replace(c, state=_ATTR_START[c.attr], delim=delim), i


def _t_html_cmt(c: Context, s: str) -> tuple[Context, int]:
    i = s.find("-->")
    if i >= 0:
        return Context(), i + 3
    return c, len(s)


def _index_tag_end(s: str, tag: str) -> int:
    """Index of "</tag" (case-insensitive, followed by a separator) or -1."""
    low = s.lower()
    start = 0
    while True:
        i = low.find("</" + tag, start)
        if i < 0:
            return -1
        after = i + 2 + len(tag)
        if after < len(s) and s[after] in "> \t\n\f/":
            return i
        start = i + 2


def _t_special_end(c: Context, s: str) -> tuple[Context, int]:
    if c.element != E_NONE:
        i = _index_tag_end(s, c.element)
        if i >= 0:
            return Context(), i
    return c, len(s)


def _t_url(c: Context, s: str) -> tuple[Context, int]:
    if "#" in s or "?" in s:
        c = replace(c, url_part=U_QUERY)
    elif len(s) != _eat_space(s, 0) and c.url_part == U_NONE:
        c = replace(c, url_part=U_PRE)
    return c, len(s)


def _t_css(c: Context, s: str) -> tuple[Context, int]:
    k = 0
    while True:
        idx = [x for x in (s.find(ch, k) for ch in "(\"'/") if x >= 0]
        if not idx:
            return c, len(s)
        i = min(idx)
        ch = s[i]
        if ch == "(":
            p = s[:i].rstrip("\t\n\f\r ")
            if p.lower().endswith("url"):
                j = len(s) - len(s[i + 1 :].lstrip("\t\n\f\r "))
                if j != len(s) and s[j] == '"':
                    return replace(c, state=CSS_DQ), j + 1
                if j != len(s) and s[j] == "'":
                    return replace(c, state=CSS_SQ), j + 1
                return replace(c, state=CSS_URL), j
        elif ch == "/":
            if i + 1 < len(s):
                if s[i + 1] == "/":
                    return replace(c, state=CSS_CMT_LINE), i + 2
                if s[i + 1] == "*":
                    return replace(c, state=CSS_CMT_BLOCK), i + 2
        elif ch == '"':
            return replace(c, state=CSS_DQ), i + 1
        elif ch == "'":
            return replace(c, state=CSS_SQ), i + 1
        k = i + 1


def _t_css_str(c: Context, s: str) -> tuple[Context, int]:
    end = {CSS_DQ: '"', CSS_SQ: "'", CSS_URL: "\t\n\f\r )"}[c.state]
    k = 0
    while True:
        i = min([x for x in (s.find(ch, k) for ch in "\\" + end) if x >= 0], default=-1)
        if i < 0:
            return c, len(s)
        if s[i] == "\\":
            if i + 1 == len(s):
                return Context(state=ERROR, err="unfinished escape sequence in CSS string"), len(s)
            k = i + 2
            continue
        return replace(c, state=CSS), i + 1


def _t_block_cmt(c: Context, s: str) -> tuple[Context, int]:
    i = s.find("*/")
    if i < 0:
        return c, len(s)
    return replace(c, state=JS if c.state == JS_CMT_BLOCK else CSS), i + 2


def _t_line_cmt(c: Context, s: str) -> tuple[Context, int]:
    ends = "\n\r\u2028\u2029" if c.state == JS_CMT_LINE else "\n\f\r"
    idx = [x for x in (s.find(ch) for ch in ends) if x >= 0]
    if not idx:
        return c, len(s)
    return replace(c, state=JS if c.state == JS_CMT_LINE else CSS), min(idx)


_REGEXP_PRECEDERS = {
    "break",
    "case",
    "continue",
    "delete",
    "do",
    "else",
    "finally",
    "in",
    "instanceof",
    "return",
    "throw",
    "try",
    "typeof",
    "void",
}


def _next_js_regexp(s: str, preceding: bool) -> bool:
    """Whether a '/' after JS text s starts a regexp (html/template's nextJSCtx)."""
    s = s.rstrip("\t\n\f\r \u2028\u2029")
    if not s:
        return preceding
    c, n = s[-1], len(s)
    if c in "+-":
        start = n - 1
        while start > 0 and s[start - 1] == c:
            start -= 1
        return (n - start) % 2 == 1
    if c == ".":
        return not (n != 1 and s[-2].isdigit())
    if c in ",<>=*%&|^?!~([:;{}":
        return True
    j = n
    while j > 0 and (s[j - 1].isalnum() or s[j - 1] in "_$"):
        j -= 1
    return s[j:] in _REGEXP_PRECEDERS


def _t_js(c: Context, s: str) -> tuple[Context, int]:
    idx = [x for x in (s.find(ch) for ch in "\"'`/") if x >= 0]
    if not idx:
        return replace(c, js_regexp=_next_js_regexp(s, c.js_regexp)), len(s)
    i = min(idx)
    c = replace(c, js_regexp=_next_js_regexp(s[:i], c.js_regexp))
    ch = s[i]
    if ch in "\"'`":
        return replace(c, state={'"': JS_DQ, "'": JS_SQ, "`": JS_BQ}[ch], js_regexp=True), i + 1
    if i + 1 < len(s) and s[i + 1] == "/":
        return replace(c, state=JS_CMT_LINE), i + 2
    if i + 1 < len(s) and s[i + 1] == "*":
        return replace(c, state=JS_CMT_BLOCK), i + 2
    if c.js_regexp:
        return replace(c, state=JS_REGEXP), i + 1
    return replace(c, js_regexp=True), i + 1


def _t_js_delimited(c: Context, s: str) -> tuple[Context, int]:
    specials = {JS_DQ: '\\"', JS_SQ: "\\'", JS_BQ: "\\`", JS_REGEXP: "\\/[]"}[c.state]
    k, in_charset = 0, False
    while True:
        idx = [x for x in (s.find(ch, k) for ch in specials) if x >= 0]
        if not idx:
            break
        i = min(idx)
        ch = s[i]
        if ch == "\\":
            i += 1
            if i == len(s):
                return Context(state=ERROR, err=f"unfinished escape sequence in JS string: {s!r}"), len(s)
        elif ch == "[":
            in_charset = True
        elif ch == "]":
            in_charset = False
        elif not in_charset:
            return replace(c, state=JS, js_regexp=False), i + 1
        k = i + 1
    if in_charset:
        return Context(state=ERROR, err=f"unfinished JS regexp charset: {s!r}"), len(s)
    return c, len(s)


def _t_rest(c: Context, s: str) -> tuple[Context, int]:
    return c, len(s)


_TRANSITIONS = {
    TEXT: _t_text,
    TAG: _t_tag,
    ATTR_NAME: _t_attr_name,
    AFTER_NAME: _t_after_name,
    BEFORE_VALUE: _t_before_value,
    HTML_CMT: _t_html_cmt,
    RCDATA: _t_special_end,
    ATTR: _t_rest,
    URL: _t_url,
    SRCSET: _t_url,
    JS: _t_js,
    JS_DQ: _t_js_delimited,
    JS_SQ: _t_js_delimited,
    JS_BQ: _t_js_delimited,
    JS_REGEXP: _t_js_delimited,
    JS_CMT_BLOCK: _t_block_cmt,
    JS_CMT_LINE: _t_line_cmt,
    CSS: _t_css,
    CSS_DQ: _t_css_str,
    CSS_SQ: _t_css_str,
    CSS_URL: _t_css_str,
    CSS_CMT_BLOCK: _t_block_cmt,
    CSS_CMT_LINE: _t_line_cmt,
    ERROR: _t_rest,
}
_COMMENTS = {HTML_CMT, CSS_CMT_BLOCK, CSS_CMT_LINE, JS_CMT_BLOCK, JS_CMT_LINE}


def _after_text(c: Context, s: str) -> tuple[Context, int]:
    if c.delim == D_NONE:
        c1, i = _t_special_end(c, s)
        if i == 0:
            return c1, 0  # an end tag (</title>) starts here
        return _TRANSITIONS[c.state](c, s[:i])
    ends = {D_DQ: '"', D_SQ: "'", D_SPACE: " \t\n\f\r>"}[c.delim]
    i = min([x for x in (s.find(ch) for ch in ends) if x >= 0], default=len(s))
    if c.delim == D_SPACE:
        for ch in s[:i]:
            if ch in "\"'<=`":
                return Context(state=ERROR, err=f"{ch!r} in unquoted attr: {s[:i]!r}"), len(s)
    if i == len(s):
        u = _html.unescape(s)
        while u:
            c1, i1 = _TRANSITIONS[c.state](c, u)
            c, u = c1, u[i1:]
        return c, len(s)
    if c.delim != D_SPACE:
        i += 1
    return Context(state=TAG, element=c.element), i


def escape_text(c: Context, s: str) -> tuple[Context, str]:
    """Run the text of a template through the state machine: the context after it, and the
    text as html/template emits it (comments dropped, stray '<' in text as &lt;)."""
    out: list[str] = []
    written = 0
    i = 0
    changed = False
    while i != len(s):
        c1, nread = _after_text(c, s[i:])
        i1 = i + nread
        if c.state in (TEXT, RCDATA) and c.delim == D_NONE:
            end = i1
            if c1.state != c.state:
                j = s.rfind("<", i, end)
                if j >= 0:
                    end = j
            for j in range(i, end):
                if s[j] == "<" and not s[j:].upper().startswith("<!DOCTYPE"):
                    out.append(s[written:j])
                    out.append("&lt;")
                    written = j + 1
                    changed = True
        elif c.state in _COMMENTS and c.delim == D_NONE:
            if c.state == CSS_CMT_BLOCK:
                out.append(" ")
            elif c.state == JS_CMT_BLOCK:
                out.append("\n" if any(ch in s[written:i1] for ch in "\n\r\u2028\u2029") else " ")
            written = i1
            changed = True
        if c.state != c1.state and c1.state in _COMMENTS and c1.delim == D_NONE:
            cs = i1 - 2
            if c1.state == HTML_CMT:
                cs -= 2
            out.append(s[written:cs])
            written = i1
            changed = True
        if i == i1 and c.state == c1.state:
            raise HTMLContextError(f"infinite loop from {c} on {s[i:]!r}")
        c, i = c1, i1
        if c.state == ERROR:
            break
    if not changed:
        return c, s
    if not (c.state in _COMMENTS and c.delim == D_NONE):
        out.append(s[written:])
    return c, "".join(out)


def nudge(c: Context) -> Context:
    if c.state == TAG:
        return replace(c, state=ATTR_NAME)
    if c.state == BEFORE_VALUE:
        return replace(c, state=_ATTR_START[c.attr], delim=D_SPACE, attr=A_NONE)
    if c.state == AFTER_NAME:
        return replace(c, state=ATTR_NAME, attr=A_NONE)
    return c


def join(a: Context, b: Context, what: str) -> Context:
    if a.state == ERROR:
        return a
    if b.state == ERROR:
        return b
    if a == b:
        return a
    if replace(a, url_part=b.url_part) == b:
        return replace(a, url_part=U_UNKNOWN)
    na, nb = nudge(a), nudge(b)
    if not (na == a and nb == b):
        e = join(na, nb, what)
        if e.state != ERROR:
            return e
    return Context(state=ERROR, err=f"{{{{{what}}}}} branches end in different contexts: {a}, {b}")


# escapers by name (what the translation inserts); comment escaper drops the value
URL_FILTER, URL_NORMALIZER, URL_ESCAPER = "urlfilter", "urlnormalizer", "urlescaper"
HTML_ESCAPER, RCDATA_ESCAPER, ATTR_ESCAPER, NOSPACE_ESCAPER, COMMENT_ESCAPER = (
    "htmlescaper",
    "rcdataescaper",
    "attrescaper",
    "nospaceescaper",
    "commentescaper",
)
_EQUIV = {
    ATTR_ESCAPER: "html",
    HTML_ESCAPER: "html",
    RCDATA_ESCAPER: "html",
    URL_ESCAPER: "urlquery",
    URL_NORMALIZER: "urlquery",
}
_REDUNDANT = {
    COMMENT_ESCAPER: {ATTR_ESCAPER, HTML_ESCAPER},
    URL_ESCAPER: {URL_NORMALIZER},
}


class UnsupportedContext(Exception):
    pass


def escapers_for(c: Context) -> list[str]:
    """The escaping functions html/template appends to an action in context c."""
    s: list[str] = []
    if c.state == URL:
        if c.url_part == U_NONE:
            s += [URL_FILTER, URL_NORMALIZER]
        elif c.url_part == U_PRE:
            s.append(URL_NORMALIZER)
        elif c.url_part == U_QUERY:
            s.append(URL_ESCAPER)
        else:
            raise UnsupportedContext("appears in an ambiguous context within a URL")
    elif c.state == TEXT:
        s.append(HTML_ESCAPER)
    elif c.state == RCDATA:
        s.append(RCDATA_ESCAPER)
    elif c.state == ATTR:
        pass
    elif c.state in _COMMENTS:
        s.append(COMMENT_ESCAPER)
    elif c.state in (ATTR_NAME, TAG):
        raise UnsupportedContext("an action in an attribute or tag name is not supported by Alertmanager++")
    elif c.state in (JS, JS_DQ, JS_SQ, JS_BQ, JS_REGEXP):
        raise UnsupportedContext(
            "an action inside JavaScript (<script> or on* attributes) is not supported by Alertmanager++"
        )
    elif c.state in (CSS, CSS_DQ, CSS_SQ, CSS_URL):
        raise UnsupportedContext(
            "an action inside CSS (<style> or style attributes) is not supported by Alertmanager++"
        )
    elif c.state == SRCSET:
        raise UnsupportedContext("an action inside a srcset attribute is not supported by Alertmanager++")
    else:
        raise UnsupportedContext(f"an action in context {c} is not supported by Alertmanager++")
    if c.delim == D_SPACE:
        s.append(NOSPACE_ESCAPER)
    elif c.delim != D_NONE:
        s.append(ATTR_ESCAPER)
    return s


def merge_predefined(last_ident: str | None, s: list[str]) -> tuple[list[str], bool]:
    """ensurePipelineContains for a pipeline ending in html or urlquery: the escapers to
    append, and whether the pipeline's own last command is to be dropped (it is re-added
    in place of its equivalent)."""
    dup = False
    if last_ident in ("html", "urlquery"):
        s = list(s)
        for i, esc in enumerate(s):
            if _EQUIV.get(esc, esc) == last_ident:
                s[i] = last_ident
                dup = True
    out: list[str] = []
    for esc in s:
        if out and esc in _REDUNDANT.get(out[-1], set()):
            continue
        if not (
            last_ident is not None and not dup and _EQUIV.get(esc, esc) == _EQUIV.get(last_ident, last_ident)
        ):
            out.append(esc)
    return out, dup


# --- escaper functions ------------------------------------------------------------------------

_HTML_TABLE = {
    "\0": "\ufffd",
    '"': "&#34;",
    "&": "&amp;",
    "'": "&#39;",
    "+": "&#43;",
    "<": "&lt;",
    ">": "&gt;",
}
_HTML_NORM_TABLE = {k: v for k, v in _HTML_TABLE.items() if k != "&"}
_NOSPACE_TABLE = {
    "\0": "&#xfffd;",
    "\t": "&#9;",
    "\n": "&#10;",
    "\v": "&#11;",
    "\f": "&#12;",
    "\r": "&#13;",
    " ": "&#32;",
    '"': "&#34;",
    "&": "&amp;",
    "'": "&#39;",
    "+": "&#43;",
    "<": "&lt;",
    "=": "&#61;",
    ">": "&gt;",
    "`": "&#96;",
}
_NOSPACE_NORM_TABLE = {k: v for k, v in _NOSPACE_TABLE.items() if k != "&"}


def _replace(s: str, table: dict[str, str], bad_runes: bool) -> str:
    out: list[str] = []
    for ch in s:
        r = table.get(ch)
        if r is not None:
            out.append(r)
        elif not bad_runes and (0xFDD0 <= ord(ch) <= 0xFDEF or 0xFFF0 <= ord(ch) <= 0xFFFF):
            out.append(f"&#x{ord(ch):x};")
        else:
            out.append(ch)
    return "".join(out)


def stringify(v: Any) -> tuple[str, str]:
    """The text of a value and its html/template content type ("", "html" or "url")."""
    if isinstance(v, Markup):
        return str.__str__(v), "html"
    if isinstance(v, SafeURL):
        return str.__str__(v), "url"
    if isinstance(v, str):
        return str.__str__(v), ""
    if v is None:
        return "", ""
    return sprint_value(v), ""


def strip_tags(s: str) -> str:
    """html/template's stripTags: the text of an HTML fragment, tags dropped."""
    out: list[str] = []
    c = Context()
    i = 0
    all_text = True
    while i != len(s):
        if c.delim == D_NONE:
            st = c.state
            if c.element != E_NONE and st not in (TAG, ATTR_NAME, AFTER_NAME, BEFORE_VALUE):
                st = RCDATA
            d, nread = _TRANSITIONS[st](c, s[i:])
            i1 = i + nread
            if c.state in (TEXT, RCDATA):
                j = i1
                if d.state != c.state:
                    k = s.rfind("<", i, j)
                    if k >= 0:
                        j = k
                out.append(s[i:j])
            else:
                all_text = False
            c, i = d, i1
            continue
        ends = {D_DQ: '"', D_SQ: "'", D_SPACE: " \t\n\f\r>"}[c.delim]
        idx = [x for x in (s.find(ch, i) for ch in ends) if x >= 0]
        if not idx:
            break
        i1 = min(idx)
        if c.delim != D_SPACE:
            i1 += 1
        c, i = Context(state=TAG, element=c.element), i1
    if all_text:
        return s
    if c.state in (TEXT, RCDATA):
        out.append(s[i:])
    return "".join(out)


def html_escaper(v: Any) -> str:
    s, t = stringify(v)
    if t == "html":
        return s
    return _replace(s, _HTML_TABLE, True)


def rcdata_escaper(v: Any) -> str:
    s, t = stringify(v)
    if t == "html":
        return _replace(s, _HTML_NORM_TABLE, True)
    return _replace(s, _HTML_TABLE, True)


def attr_escaper(v: Any) -> str:
    s, t = stringify(v)
    if t == "html":
        return _replace(strip_tags(s), _HTML_NORM_TABLE, True)
    return _replace(s, _HTML_TABLE, True)


def nospace_escaper(v: Any) -> str:
    s, t = stringify(v)
    if s == "":
        return "ZgotmplZ"
    if t == "html":
        return _replace(strip_tags(s), _NOSPACE_NORM_TABLE, False)
    return _replace(s, _NOSPACE_TABLE, False)


def url_filter(v: Any) -> str:
    s, t = stringify(v)
    if t == "url":
        return s
    proto, sep, _ = s.partition(":")
    if sep and "/" not in proto and proto.lower() not in ("http", "https", "mailto"):
        return "#ZgotmplZ"
    return s


def _process_url(s: str, norm: bool) -> str:
    out: list[str] = []
    data = s.encode("utf-8", "surrogateescape")
    n = len(data)
    for i, c in enumerate(data):
        ch = chr(c)
        if ch in "!#$&*+,/:;=?@[]":
            if norm:
                out.append(ch)
                continue
        elif ch in "-._~" or ("a" <= ch <= "z") or ("A" <= ch <= "Z") or ("0" <= ch <= "9"):
            out.append(ch)
            continue
        elif ch == "%":
            if (
                norm
                and i + 2 < n
                and chr(data[i + 1]) in "0123456789abcdefABCDEF"
                and chr(data[i + 2]) in "0123456789abcdefABCDEF"
            ):
                out.append(ch)
                continue
        out.append(f"%{c:02x}")
    return "".join(out)


def url_normalizer(v: Any) -> str:
    s, _ = stringify(v)
    return _process_url(s, True)


def url_escaper(v: Any) -> str:
    s, t = stringify(v)
    return _process_url(s, t == "url")


def comment_escaper(v: Any) -> str:
    return ""


def predefined_html(v: Any) -> str:
    """text/template's html function used as the escaper it replaces."""
    return html_escape_string(str.__str__(v) if isinstance(v, str) else sprint_value(v))


def predefined_urlquery(v: Any) -> str:
    s = str.__str__(v) if isinstance(v, str) else sprint_value(v)
    return query_escape(s)


ESCAPERS = {
    URL_FILTER: url_filter,
    URL_NORMALIZER: url_normalizer,
    URL_ESCAPER: url_escaper,
    HTML_ESCAPER: html_escaper,
    RCDATA_ESCAPER: rcdata_escaper,
    ATTR_ESCAPER: attr_escaper,
    NOSPACE_ESCAPER: nospace_escaper,
    COMMENT_ESCAPER: comment_escaper,
    "html": predefined_html,
    "urlquery": predefined_urlquery,
}


def escape_value(v: Any, escapers: tuple[str, ...]) -> Markup:
    """Apply a chain of escapers (what html/template appends to a pipeline)."""
    out: Any = v
    for name in escapers:
        out = ESCAPERS[name](out)
    if not escapers:
        out = sprint_value(out) if not isinstance(out, str) else str.__str__(out)
    return Markup(out)


NAMED_CONTEXTS = {
    "text": TEXT_CONTEXT,
    "rcdata": Context(state=RCDATA, element=E_TITLE),
    "attr": Context(state=ATTR, delim=D_DQ),
    "url": Context(state=URL, delim=D_DQ, attr=A_URL),
}
"""Contexts Jinja templates can name when they call a template or escape a value."""
