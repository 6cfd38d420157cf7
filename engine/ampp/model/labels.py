"""Label sets as Alertmanager prints and orders them."""

from __future__ import annotations

import re
from collections.abc import Mapping


def go_quote(s: str) -> str:
    """Go's strconv.Quote (``%q``): double quotes, Go escapes, printable Unicode kept as is."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\a":
            out.append("\\a")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ch == "\v":
            out.append("\\v")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif 0xD800 <= o <= 0xDFFF or (o == 0xFFFD and ch != "\ufffd"):
            out.append("\\ufffd")
        elif not ch.isprintable() and o > 0x7F:
            out.append(f"\\u{o:04x}" if o <= 0xFFFF else f"\\U{o:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def labelset_string(labels: Mapping[str, str]) -> str:
    """model.LabelSet.String(): ``{a="1", b="2"}``, pairs sorted as strings."""
    return "{" + ", ".join(sorted(f"{k}={go_quote(v)}" for k, v in labels.items())) + "}"


def labelset_before(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    """model.LabelSet.Before: shorter sets first, then by values over the sorted union of names."""
    if len(a) != len(b):
        return len(a) < len(b)
    for name in sorted([*a, *b]):
        if name not in a:
            return True
        if name not in b:
            return False
        if a[name] != b[name]:
            return a[name] < b[name]
    return False


_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_known_valid: set[str] = set()


def is_valid_label_name(name: str) -> bool:
    """Prometheus' classic label-name rule, which Alertmanager 0.25 enforces on alerts.

    Label names repeat across alerts, so valid ones are remembered (up to a bound) to keep the
    check off the ingest path's profile.
    """
    if name in _known_valid:
        return True
    if _LABEL_NAME.fullmatch(name) is None or not name.isascii():
        return False
    if len(_known_valid) < 10_000:
        _known_valid.add(name)
    return True
