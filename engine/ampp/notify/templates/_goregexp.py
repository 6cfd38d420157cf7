"""The templates' ``match`` and ``reReplaceAll``: Go's regexp.MatchString and
Regexp.ReplaceAllString (empty matches, ``$`` expansion), over ampp.model.goregexp."""

from __future__ import annotations

import re

from ...model.goregexp import GoRegexpError, compile_go_capturing, compile_go_regexp

__all__ = ["GoRegexpError", "match_string", "replace_all"]


def match_string(pattern: str, s: str) -> bool:
    """regexp.MatchString: an unanchored search."""
    return compile_go_regexp(pattern).search(s) is not None


def _expand(template: str, m: re.Match[str]) -> str:
    """Regexp.Expand: $1, ${1}, $name, ${name}, $$."""
    out: list[str] = []
    i, n = 0, len(template)
    groupindex = m.re.groupindex
    while i < n:
        j = template.find("$", i)
        if j < 0:
            out.append(template[i:])
            break
        out.append(template[i:j])
        i = j + 1
        if i < n and template[i] == "$":
            out.append("$")
            i += 1
            continue
        name = ""
        if i < n and template[i] == "{":
            end = template.find("}", i + 1)
            candidate = template[i + 1 : end] if end >= 0 else ""
            if end >= 0 and candidate and re.fullmatch(r"[A-Za-z0-9_]+", candidate):
                name = candidate
                i = end + 1
        else:
            k = i
            while k < n and (template[k].isascii() and (template[k].isalnum() or template[k] == "_")):
                k += 1
            name = template[i:k]
            i = k
        if not name:
            out.append("$")  # malformed: the "$" is literal text
            continue
        value: str | None = None
        if name.isdigit():
            idx = int(name)
            if idx <= m.re.groups:
                value = m.group(idx)
        elif name in groupindex:
            value = m.group(name)
        out.append(value or "")
    return "".join(out)


def replace_all(pattern: str, repl: str, src: str) -> str:
    """Regexp.ReplaceAllString: Go's rules for empty matches and $ expansion."""
    rx = compile_go_capturing(pattern)
    out: list[str] = []
    last_end = 0
    pos = 0
    n = len(src)
    while pos <= n:
        m = rx.search(src, pos)
        if m is None:
            break
        a, b = m.span()
        out.append(src[last_end:a])
        if b > last_end or a == 0:
            out.append(_expand(repl, m))
        last_end = b
        if pos + 1 > b:
            pos += 1
        else:
            pos = b
    out.append(src[last_end:])
    return "".join(out)
