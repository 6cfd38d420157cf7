"""The functions templates call: Go's text/template builtins and Alertmanager's FuncMap.

Alertmanager 0.25's DefaultFuncs are toUpper, toLower, title, join, match, safeHtml,
reReplaceAll and stringSlice; later versions added trimSpace, safeUrl, urlUnescape, date, tz,
now, since, humanizeDuration, toJson, base64encode/decode, list, append and dict. All are here
(a template written for a newer Alertmanager works too). Each behaves as its Go counterpart,
including the errors it reports.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from markupsafe import Markup

from ._data import KV, Pair, TemplateAlert, TemplateData
from ._errors import ExecError
from ._gofmt import GoStruct, go_type_name, sprint, sprintf, sprintln
from ._goregexp import GoRegexpError, match_string, replace_all
from ._gotime import NS, GoDuration, GoTime, UnknownTimeZone, load_location, local_location


class SafeHTML(Markup):
    """html/template's HTML type (what safeHtml returns): not escaped in HTML text."""

    go_type_name = "template.HTML"


class SafeURL(str):
    """html/template's URL type (what safeUrl returns): passes the URL filter."""

    go_type_name = "template.URL"

    __slots__ = ()


def _want_str(fn: str, v: Any) -> str:
    if isinstance(v, str):
        return str.__str__(v)
    raise ExecError(f"error calling {fn}: wrong type for value; expected string; got {go_type_name(v)}")


def _want_time(fn: str, v: Any) -> GoTime:
    if isinstance(v, GoTime):
        return v
    raise ExecError(f"error calling {fn}: wrong type for value; expected time.Time; got {go_type_name(v)}")


# --- case mapping ------------------------------------------------------------------------

_SPECIAL_LOWER = {"\u0130": "i"}  # İ: Go's simple mapping; Python's full one adds a dot
_MID = set(":\u00b7\u0387\u05f4\u2027\ufe13\ufe55\uff1a.\u2018\u2019\u2024\ufe52\uff07\uff0e'")


def _simple_upper(ch: str) -> str:
    u = ch.upper()
    return u if len(u) == 1 else ch


def _simple_lower(ch: str) -> str:
    if ch in _SPECIAL_LOWER:
        return _SPECIAL_LOWER[ch]
    lo = ch.lower()
    return lo if len(lo) == 1 else ch


def to_upper(s: str) -> str:
    """strings.ToUpper: Unicode simple case mapping, rune by rune."""
    s = _want_str("toUpper", s)
    if s.isascii():
        return s.upper()
    return "".join(_simple_upper(c) for c in s)


def to_lower(s: str) -> str:
    s = _want_str("toLower", s)
    if s.isascii():
        return s.lower()
    return "".join(_simple_lower(c) for c in s)


def _is_cased(ch: str) -> bool:
    return ch.lower() != ch or ch.upper() != ch or unicodedata.category(ch) in ("Lu", "Ll", "Lt")


def _is_break(ch: str) -> bool:
    """Whether x/text/cases ends a word at this (uncased) rune."""
    if ch in _MID:
        return False
    cat = unicodedata.category(ch)
    if cat[0] in "MN" or cat == "Pc":
        return False
    if cat == "Cf":
        return ch == "\u200b"
    if cat[0] == "L":
        if cat == "Lo":
            name = unicodedata.name(ch, "")
            return name.startswith(("CJK ", "HIRAGANA", "IDEOGRAPHIC"))
        return False
    return True


def title(s: str) -> str:
    """cases.Title(language.AmericanEnglish): the first cased letter of each word in title
    case, the rest lower case; words break at spaces and most punctuation, not at ' . :"""
    s = _want_str("title", s)
    out: list[str] = []
    mid_word = False
    prev_mid = False
    for ch in s:
        is_mid = ch in _MID
        if prev_mid and is_mid:
            mid_word = False
        if _is_cased(ch):
            if not mid_word:
                out.append(ch.title() if len(ch.title()) >= 1 else ch)
                mid_word = True
            else:
                out.append(ch.lower())
        else:
            out.append(ch)
            if _is_break(ch):
                mid_word = False
        prev_mid = is_mid
    return "".join(out)


_GO_SPACE = (  # unicode.IsSpace
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def trim_space(s: str) -> str:
    return _want_str("trimSpace", s).strip(_GO_SPACE)


def join(sep: str, elems: Any) -> str:
    sep = _want_str("join", sep)
    if isinstance(elems, (str, Mapping)) or not isinstance(elems, Sequence):
        raise ExecError(
            f"error calling join: wrong type for value; expected []string; got {go_type_name(elems)}"
        )
    parts = []
    for e in elems:
        if not isinstance(e, str):
            raise ExecError(
                f"error calling join: wrong type for value; expected []string; got {go_type_name(elems)}"
            )
        parts.append(str.__str__(e))
    return sep.join(parts)


def match(pattern: str, s: str) -> bool:
    try:
        return match_string(_want_str("match", pattern), _want_str("match", s))
    except GoRegexpError as e:
        raise ExecError(f"error calling match: {e}") from None


def re_replace_all(pattern: str, repl: str, text: str) -> str:
    pattern = _want_str("reReplaceAll", pattern)
    try:
        return replace_all(pattern, _want_str("reReplaceAll", repl), _want_str("reReplaceAll", text))
    except GoRegexpError as e:
        raise ExecError(f"error calling reReplaceAll: regexp: Compile(`{pattern}`): {e}") from None


def safe_html(s: str) -> SafeHTML:
    return SafeHTML(_want_str("safeHtml", s))


def safe_url(s: str) -> SafeURL:
    return SafeURL(_want_str("safeUrl", s))


def string_slice(*s: str) -> list[str]:
    return [_want_str("stringSlice", x) for x in s]


_HEX = "0123456789abcdefABCDEF"


def url_unescape(s: str) -> str:
    """url.QueryUnescape."""
    s = _want_str("urlUnescape", s)
    data = s.encode()
    out = bytearray()
    i = 0
    while i < len(data):
        c = data[i]
        if c == ord("%"):
            h = data[i + 1 : i + 3]
            if len(h) < 2 or chr(h[0]) not in _HEX or chr(h[1]) not in _HEX:
                bad = data[i : i + 3].decode(errors="replace")
                raise ExecError(f'error calling urlUnescape: invalid URL escape "{bad}"')
            out.append(int(h, 16))
            i += 3
            continue
        out.append(ord(" ") if c == ord("+") else c)
        i += 1
    return out.decode("utf-8", "surrogateescape")


def date(layout: str, t: GoTime) -> str:
    return _want_time("date", t).Format(_want_str("date", layout))


def tz(name: str, t: GoTime) -> GoTime:
    try:
        loc = load_location(_want_str("tz", name))
    except UnknownTimeZone as e:
        raise ExecError(f"error calling tz: {e}") from None
    return _want_time("tz", t).In(loc)


def now() -> GoTime:
    return GoTime(time.time_ns(), local_location())


def since(t: GoTime) -> GoDuration:
    return GoDuration(time.time_ns() - _want_time("since", t).ns)


def _to_float(fn: str, v: Any) -> float:
    if isinstance(v, GoDuration):
        return int(v) / NS
    if isinstance(v, bool):
        raise ExecError(f"error calling {fn}: can't convert bool to float")
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        text = str.__str__(v)
        try:
            if text != text.strip() or "_" in text:
                raise ValueError(text)
            return float(text)
        except ValueError:
            raise ExecError(
                f'error calling {fn}: strconv.ParseFloat: parsing "{v}": invalid syntax'
            ) from None
    raise ExecError(f"error calling {fn}: can't convert {go_type_name(v)} to float")


def _g4(v: float) -> str:
    return sprintf("%.4g", v)


def humanize_duration(i: Any) -> str:
    """Prometheus' humanizeDuration: ``1d 2h 3m 4s``, ``1.5s``, ``250ms``."""
    v = _to_float("humanizeDuration", i)
    if math.isnan(v) or math.isinf(v):
        return _g4(v)
    if v == 0:
        return _g4(v) + "s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        dur = int(v)
        seconds = dur % 60
        minutes = (dur // 60) % 60
        hours = (dur // 3600) % 24
        days = dur // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(v)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix = p
        v *= 1000
    return f"{_g4(v)}{prefix}s"


def _jsonable(v: Any) -> Any:
    if isinstance(v, GoTime):
        return v.Format("2006-01-02T15:04:05.999999999Z07:00")
    if isinstance(v, GoDuration):
        return int(v)
    if isinstance(v, (TemplateData, TemplateAlert)):
        return {k: _jsonable(x) for k, x in _json_fields(v)}
    if isinstance(v, Pair):
        return {"Name": v.name, "Value": v.value}
    if isinstance(v, GoStruct):
        return {k: _jsonable(x) for k, x in v.go_struct_fields()}
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in sorted(v.items())}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, str):
        return str.__str__(v)
    return v


def _json_fields(v: TemplateData | TemplateAlert) -> list[tuple[str, Any]]:
    if isinstance(v, TemplateData):
        return [
            ("receiver", v.receiver),
            ("status", v.status),
            ("alerts", v.alerts),
            ("groupLabels", v.group_labels),
            ("commonLabels", v.common_labels),
            ("commonAnnotations", v.common_annotations),
            ("externalURL", v.external_url),
        ]
    return [
        ("status", v.status),
        ("labels", v.labels),
        ("annotations", v.annotations),
        ("startsAt", v.starts_at),
        ("endsAt", v.ends_at),
        ("generatorURL", v.generator_url),
        ("fingerprint", v.fingerprint),
    ]


def to_json(v: Any) -> str:
    """json.Marshal: compact, HTML characters escaped."""
    try:
        text = json.dumps(_jsonable(v), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError as e:
        raise ExecError(f"error calling toJson: json: unsupported value: {e}") from None
    except TypeError:
        raise ExecError(f"error calling toJson: json: unsupported type: {go_type_name(v)}") from None
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def base64_encode(s: str) -> str:
    return base64.urlsafe_b64encode(_want_str("base64encode", s).encode()).decode()


def base64_decode(s: str) -> str:
    try:
        return base64.urlsafe_b64decode(_want_str("base64decode", s).encode()).decode(
            "utf-8", "surrogateescape"
        )
    except (binascii.Error, ValueError) as e:
        raise ExecError(f"error calling base64decode: illegal base64 data: {e}") from None


def list_(*args: Any) -> list[Any]:
    return list(args)


def append(slice_: Any, *args: Any) -> list[Any]:
    if slice_ is None:
        return list(args)
    if not isinstance(slice_, (list, tuple)):
        got = go_type_name(slice_)
        raise ExecError(f"error calling append: wrong type for value; expected []interface {{}}; got {got}")
    return [*slice_, *args]


def dict_(*values: Any) -> dict[str, Any]:
    if len(values) % 2:
        raise ExecError("error calling dict: dict requires an even number of arguments")
    res: dict[str, Any] = {}
    for k, v in zip(values[::2], values[1::2], strict=True):
        if not isinstance(k, str):
            raise ExecError("error calling dict: dict keys must be strings")
        res[str.__str__(k)] = v
    return res


# --- Go builtins ---------------------------------------------------------------------------


def _kind(v: Any) -> str:
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, complex):
        return "complex"
    if isinstance(v, str):
        return "string"
    return "other"


_BAD_TYPE = "invalid type for comparison"
_BAD_CMP = "incompatible types for comparison"


def _comparable(v: Any) -> bool:
    if isinstance(v, (Mapping, list, tuple, TemplateAlert, TemplateData)):
        return False
    return True


def eq(arg1: Any, *arg2: Any) -> bool:
    if arg1 is not None and not _comparable(arg1):
        raise ExecError(f"error calling eq: {_BAD_TYPE}")
    if not arg2:
        raise ExecError("error calling eq: missing argument for comparison")
    k1 = _kind(arg1)
    for arg in arg2:
        k2 = _kind(arg)
        if k1 != k2:
            if arg1 is not None and arg is not None:
                raise ExecError(f"error calling eq: {_BAD_CMP}")
            truth = False
        elif k1 == "other":
            if not _comparable(arg):
                raise ExecError(f"error calling eq: {_BAD_TYPE}")
            truth = type(arg1) is type(arg) and bool(arg1 == arg)
        else:
            truth = bool(arg1 == arg)
        if truth:
            return True
    return False


def ne(arg1: Any, arg2: Any) -> bool:
    try:
        return not eq(arg1, arg2)
    except ExecError as e:
        raise ExecError(str(e).replace("calling eq", "calling ne")) from None


def _lt(fn: str, a: Any, b: Any) -> bool:
    k1, k2 = _kind(a), _kind(b)
    if k1 in ("nil", "other") or k2 in ("nil", "other"):
        raise ExecError(f"error calling {fn}: {_BAD_TYPE}")
    if k1 != k2:
        raise ExecError(f"error calling {fn}: {_BAD_CMP}")
    if k1 in ("bool", "complex"):
        raise ExecError(f"error calling {fn}: {_BAD_TYPE}")
    return bool(a < b)


def lt(a: Any, b: Any) -> bool:
    return _lt("lt", a, b)


def le(a: Any, b: Any) -> bool:
    return _lt("le", a, b) or eq(a, b)


def gt(a: Any, b: Any) -> bool:
    return not (_lt("gt", a, b) or eq(a, b))


def ge(a: Any, b: Any) -> bool:
    return not _lt("ge", a, b)


def _index_arg(i: Any, cap: int, what: str) -> int:
    if isinstance(i, bool) or not isinstance(i, int):
        raise ExecError(f"error calling {what}: cannot index slice/array with type {go_type_name(i)}")
    if i < 0 or i >= cap:
        raise ExecError(f"error calling {what}: index out of range: {i}")
    return int(i)


def index(item: Any, *indexes: Any) -> Any:
    if item is None:
        raise ExecError("error calling index: index of untyped nil")
    for i in indexes:
        if item is None:
            raise ExecError("error calling index: index of nil pointer")
        if isinstance(item, str):
            data = item.encode("utf-8", "surrogateescape")
            item = data[_index_arg(i, len(data), "index")]
        elif isinstance(item, (list, tuple)):
            item = item[_index_arg(i, len(item), "index")]
        elif isinstance(item, Mapping):
            if not isinstance(i, str) and isinstance(item, KV):
                raise ExecError(f"error calling index: value has type {go_type_name(i)}; should be string")
            if i in item:
                item = item[i]
            else:
                item = "" if isinstance(item, KV) else None
        else:
            raise ExecError(f"error calling index: can't index item of type {go_type_name(item)}")
    return item


def slice_(item: Any, *indexes: Any) -> Any:
    if item is None:
        raise ExecError("error calling slice: slice of untyped nil")
    if len(indexes) > 3:
        raise ExecError(f"error calling slice: too many slice indexes: {len(indexes)}")
    if isinstance(item, str):
        if len(indexes) == 3:
            raise ExecError("error calling slice: cannot 3-index slice a string")
        data = item.encode("utf-8", "surrogateescape")
        seq_len = len(data)
    elif isinstance(item, (list, tuple)):
        seq_len = len(item)
    else:
        raise ExecError(f"error calling slice: can't slice item of type {go_type_name(item)}")
    idx = [0, seq_len]
    for n, i in enumerate(indexes[:2]):
        idx[n] = _index_arg(i, seq_len + 1, "slice")
    if idx[0] > idx[1]:
        raise ExecError(f"error calling slice: invalid slice index: {idx[0]} > {idx[1]}")
    if isinstance(item, str):
        return data[idx[0] : idx[1]].decode("utf-8", "surrogateescape")
    return list(item[idx[0] : idx[1]])


def len_(item: Any) -> int:
    if item is None:
        raise ExecError("error calling len: len of nil pointer")
    if isinstance(item, str):
        return len(item.encode("utf-8", "surrogateescape"))
    if isinstance(item, (list, tuple, Mapping)):
        return len(item)
    raise ExecError(f"error calling len: len of type {go_type_name(item)}")


def _eval_args(args: Sequence[Any]) -> str:
    if len(args) == 1 and isinstance(args[0], str):
        return str.__str__(args[0])
    return sprint(*args)


_HTML_ESC = {'"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\0": "\ufffd"}


def html_escape_string(s: str) -> str:
    """text/template's HTMLEscapeString."""
    if not any(c in s for c in "\"'&<>\0"):
        return s
    return "".join(_HTML_ESC.get(c, c) for c in s)


def html(*args: Any) -> str:
    return html_escape_string(_eval_args(args))


def js_escape_string(s: str) -> str:
    out: list[str] = []
    for c in s:
        if c == "\\":
            out.append("\\\\")
        elif c == "'":
            out.append("\\'")
        elif c == '"':
            out.append('\\"')
        elif c in "<>&=":
            out.append(f"\\u{ord(c):04X}")
        elif ord(c) < 0x20:
            out.append(f"\\u{ord(c):04X}")
        elif ord(c) < 0x80 or c.isprintable():
            out.append(c)
        else:
            out.append(f"\\u{ord(c):04X}")
    return "".join(out)


def js(*args: Any) -> str:
    return js_escape_string(_eval_args(args))


_QUERY_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def query_escape(s: str) -> str:
    """url.QueryEscape."""
    out: list[str] = []
    for b in s.encode("utf-8", "surrogateescape"):
        if b in _QUERY_SAFE:
            out.append(chr(b))
        elif b == 0x20:
            out.append("+")
        else:
            out.append(f"%{b:02X}")
    return "".join(out)


def urlquery(*args: Any) -> str:
    return query_escape(_eval_args(args))


def print_(*args: Any) -> str:
    return sprint(*args)


def printf(fmt: str, *args: Any) -> str:
    return sprintf(_want_str("printf", fmt), *args)


def println(*args: Any) -> str:
    return sprintln(*args)


def call(fn: Any, *args: Any) -> Any:
    if not callable(fn):
        raise ExecError(f"error calling call: non-function of type {go_type_name(fn)}")
    return fn(*args)


def not_(v: Any) -> bool:
    return not v


def and_(*args: Any) -> Any:
    if not args:
        raise ExecError("wrong number of args for and: want at least 1 got 0")
    for a in args[:-1]:
        if not a:
            return a
    return args[-1]


def or_(*args: Any) -> Any:
    if not args:
        raise ExecError("wrong number of args for or: want at least 1 got 0")
    for a in args[:-1]:
        if a:
            return a
    return args[-1]


AM_FUNCS: dict[str, Callable[..., Any]] = {
    "toUpper": to_upper,
    "toLower": to_lower,
    "title": title,
    "trimSpace": trim_space,
    "join": join,
    "match": match,
    "safeHtml": safe_html,
    "safeUrl": safe_url,
    "urlUnescape": url_unescape,
    "reReplaceAll": re_replace_all,
    "stringSlice": string_slice,
    "date": date,
    "tz": tz,
    "now": now,
    "since": since,
    "humanizeDuration": humanize_duration,
    "toJson": to_json,
    "base64encode": base64_encode,
    "base64decode": base64_decode,
    "list": list_,
    "append": append,
    "dict": dict_,
}
"""Alertmanager's template.DefaultFuncs (0.25 and later)."""

BUILTINS: dict[str, Callable[..., Any]] = {
    "and": and_,
    "or": or_,
    "not": not_,
    "len": len_,
    "index": index,
    "slice": slice_,
    "print": print_,
    "printf": printf,
    "println": println,
    "html": html,
    "js": js,
    "urlquery": urlquery,
    "call": call,
    "eq": eq,
    "ne": ne,
    "lt": lt,
    "le": le,
    "gt": gt,
    "ge": ge,
}
"""text/template's predefined functions."""

ALL_FUNCS: dict[str, Callable[..., Any]] = {**BUILTINS, **AM_FUNCS}
