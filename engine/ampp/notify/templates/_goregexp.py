"""Go's regexp (RE2 syntax) on top of Python's re: match and reReplaceAll as Go runs them.

The syntaxes agree on most patterns; this module rewrites the places where they do not:
``\\d \\w \\s \\b`` are ASCII-only in Go, ``$`` without (?m) only matches at the very end,
``\\z``, ``\\Q..\\E``, POSIX classes ``[[:alpha:]]``, flags in the middle of a pattern,
``(?<name>...)``, octal escapes. What Python cannot express (most ``\\p{...}`` classes, the
(?U) flag) is refused with an error, as Go refuses what RE2 does not support (back references,
look-arounds).
"""

from __future__ import annotations

import re
from functools import lru_cache

_ASCII_CLASSES = {
    "d": "0-9",
    "s": "\\t\\n\\f\\r ",
    "w": "0-9A-Za-z_",
}
_POSIX = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_UNICODE_CLASSES = {
    # what Python's re can say exactly (or as near as makes no difference)
    "L": ("[^\\W\\d_]", "[\\W\\d_]"),
    "Nd": ("\\d", "\\D"),
    "N": ("\\d", "\\D"),
}
_WORD = "[0-9A-Za-z_]"
_B = f"(?:(?<={_WORD})(?!{_WORD})|(?<!{_WORD})(?={_WORD}))"
_NB = f"(?:(?<={_WORD})(?={_WORD})|(?<!{_WORD})(?!{_WORD}))"
_CLASS_SPECIAL = set("\\]^-[&~|")
_OUT_SPECIAL = set(".^$*+?{}[]\\|()")
_REPEAT = re.compile(r"\{(\d+)(?:(,)(\d*))?\}")


class GoRegexpError(ValueError):
    """A pattern Go's regexp rejects (or this translation cannot express)."""


def _err(code: str, arg: str) -> GoRegexpError:
    return GoRegexpError(f"error parsing regexp: {code}: `{arg}`")


def _class_char(cp: int) -> str:
    ch = chr(cp)
    if ch in _CLASS_SPECIAL:
        return "\\" + ch
    if cp < 0x20 or cp == 0x7F:
        return f"\\x{cp:02x}"
    return ch


def _lit_char(cp: int) -> str:
    ch = chr(cp)
    if ch in _OUT_SPECIAL or ch == "#" or ch == " ":
        return "\\" + ch
    if cp < 0x20 or cp == 0x7F:
        return f"\\x{cp:02x}"
    return ch


class _Translator:
    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0
        self.out: list[str] = []
        # per group: [multiline flag, list of scoped flag groups opened for "(?flags)"]
        self.frames: list[tuple[list[bool], list[str]]] = [([False], [])]
        self.groups = 0

    def error(self, code: str, arg: str | None = None) -> GoRegexpError:
        return _err(code, self.p if arg is None else arg)

    def translate(self) -> str:
        p = self.p
        n = len(p)
        while self.i < n:
            c = p[self.i]
            if c == "\\":
                self.out.append(self._escape(in_class=False))
            elif c == "[":
                self.out.append(self._class())
            elif c == "(":
                self._open_group()
            elif c == ")":
                self._close_group()
            elif c == "|":
                scoped = self.frames[-1][1]
                self.out.append(")" * len(scoped) + "|" + "".join(scoped))
                self.i += 1
            elif c == "$":
                self.out.append("$" if self.frames[-1][0][0] else "\\Z")
                self.i += 1
            elif c == "{":
                m = _REPEAT.match(p, self.i)
                if m is None:
                    self.out.append("\\{")
                    self.i += 1
                else:
                    lo = int(m.group(1))
                    hi = m.group(3)
                    if lo > 1000 or (hi and int(hi) > 1000) or (hi and int(hi) < lo):
                        raise self.error("invalid repeat count", m.group(0))
                    self.out.append(m.group(0))
                    self.i = m.end()
                    self._lazy()
            elif c in "*+?":
                self.out.append(c)
                self.i += 1
                self._lazy()
            elif c == "#" or c == " ":
                self.out.append("\\" + c)  # harmless; keeps verbose-mode lookalikes literal
                self.i += 1
            else:
                self.out.append(c)
                self.i += 1
        if len(self.frames) != 1:
            raise self.error("missing closing )")
        self.out.append(")" * len(self.frames[0][1]))
        return "".join(self.out)

    def _lazy(self) -> None:
        if self.i < len(self.p) and self.p[self.i] == "?":
            self.out.append("?")
            self.i += 1
        if self.i < len(self.p) and self.p[self.i] in "*+":
            raise self.error("invalid nested repetition operator", self.p[self.i - 1 : self.i + 1])

    def _open_group(self) -> None:
        p = self.p
        rest = p[self.i :]
        multiline = self.frames[-1][0][0]
        if rest.startswith("(?P<") or rest.startswith("(?<"):
            start = self.i + (4 if rest.startswith("(?P<") else 3)
            end = p.find(">", start)
            if end < 0:
                raise self.error("invalid named capture", rest)
            name = p[start:end]
            if not name or not re.fullmatch(r"[A-Za-z0-9_]+", name):
                raise self.error("invalid named capture", p[self.i : end + 1])
            self.out.append(f"(?P<{name}>")
            self.i = end + 1
            self.frames.append(([multiline], []))
            return
        if rest.startswith("(?"):
            m = re.match(r"\(\?([a-zA-Z-]*)([:)])", rest)
            if m is None:
                raise self.error("invalid or unsupported Perl syntax", rest[:3])
            flags, kind = m.group(1), m.group(2)
            on, _, off = flags.partition("-")
            if any(f not in "imsU" for f in on + off) or flags.count("-") > 1 or flags.endswith("-"):
                raise self.error("invalid or unsupported Perl syntax", m.group(0))
            if "U" in on + off:
                raise GoRegexpError("error parsing regexp: the (?U) flag is not supported by Alertmanager++")
            if "m" in on:
                new_m = True
            elif "m" in off:
                new_m = False
            else:
                new_m = multiline
            py_on, py_off = on, off
            py = py_on + ("-" + py_off if py_off else "")
            self.i += m.end()
            if kind == ")":
                # flags for the rest of the current group: Python only takes them at the very
                # start, so open a scoped group, closed (and re-opened around "|") later
                if py:
                    group = f"(?{py}:"
                    self.out.append(group)
                    self.frames[-1][1].append(group)
                self.frames[-1][0][0] = new_m
                return
            self.out.append(f"(?{py}:" if py else "(?:")
            self.frames.append(([new_m], []))
            return
        self.out.append("(")
        self.i += 1
        self.frames.append(([multiline], []))

    def _close_group(self) -> None:
        if len(self.frames) == 1:
            raise self.error("unexpected )")
        _, scoped = self.frames.pop()
        self.out.append(")" * len(scoped) + ")")
        self.i += 1

    def _escape(self, in_class: bool) -> str:
        """Translate the escape at self.i (a backslash); returns Python pattern text."""
        p = self.p
        if self.i + 1 >= len(p):
            raise self.error("trailing backslash at end of expression", "")
        c = p[self.i + 1]
        self.i += 2
        if c in "dswDSW":
            cls = _ASCII_CLASSES[c.lower()]
            if in_class:
                return cls if c.islower() else "\\" + c
            return f"[{cls}]" if c.islower() else f"[^{cls}]"
        if c in "pP":
            if self.i < len(p) and p[self.i] == "{":
                end = p.find("}", self.i)
                if end < 0:
                    raise self.error("invalid character class range", p[self.i - 2 :])
                name = p[self.i + 1 : end]
                self.i = end + 1
            elif self.i < len(p):
                name = p[self.i]
                self.i += 1
            else:
                raise self.error("invalid character class range", "\\" + c)
            neg = c == "P"
            if name.startswith("^"):
                name, neg = name[1:], not neg
            if name not in _UNICODE_CLASSES:
                raise GoRegexpError(
                    f"error parsing regexp: Unicode class \\p{{{name}}} is not supported by Alertmanager++"
                )
            pos_cls, neg_cls = _UNICODE_CLASSES[name]
            cls = neg_cls if neg else pos_cls
            if in_class:
                if cls.startswith("[^"):
                    raise GoRegexpError(
                        f"error parsing regexp: \\p{{{name}}} in a class is not supported by Alertmanager++"
                    )
                return cls.strip("[]") if cls.startswith("[") else cls
            return cls
        if c == "Q":
            end = p.find("\\E", self.i)
            text = p[self.i :] if end < 0 else p[self.i : end]
            self.i = len(p) if end < 0 else end + 2
            conv = _class_char if in_class else _lit_char
            return "".join(conv(ord(ch)) for ch in text)
        if not in_class:
            if c == "A":
                return "\\A"
            if c == "z":
                return "\\Z"
            if c == "b":
                return _B
            if c == "B":
                return _NB
        conv = _class_char if in_class else _lit_char
        cp = self._escape_char(c)
        if cp is None:
            raise self.error("invalid escape sequence", "\\" + c)
        return conv(cp)

    def _escape_char(self, c: str) -> int | None:
        """A single-character escape (after the backslash was consumed); None if invalid."""
        p = self.p
        if "1" <= c <= "7":
            # a lone digit would be a back reference, which RE2 does not support
            if self.i >= len(p) or not ("0" <= p[self.i] <= "7"):
                return None
        if "0" <= c <= "7":
            digits = c
            while len(digits) < 3 and self.i < len(p) and "0" <= p[self.i] <= "7":
                digits += p[self.i]
                self.i += 1
            return int(digits, 8)
        if c == "x":
            if self.i < len(p) and p[self.i] == "{":
                end = p.find("}", self.i)
                if end < 0:
                    return None
                try:
                    cp = int(p[self.i + 1 : end], 16)
                except ValueError:
                    return None
                self.i = end + 1
                return cp if cp <= 0x10FFFF else None
            hexs = p[self.i : self.i + 2]
            if len(hexs) != 2 or not all(h in "0123456789abcdefABCDEF" for h in hexs):
                return None
            self.i += 2
            return int(hexs, 16)
        simple = {"a": 7, "f": 12, "t": 9, "n": 10, "r": 13, "v": 11}
        if c in simple:
            return simple[c]
        if c < "\x80" and not c.isalnum():
            return ord(c)
        return None

    def _class(self) -> str:
        p = self.p
        start = self.i
        self.i += 1
        out = ["["]
        if self.i < len(p) and p[self.i] == "^":
            out.append("^")
            self.i += 1
        first = True
        while True:
            if self.i >= len(p):
                raise self.error("missing closing ]", p[start:])
            c = p[self.i]
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            if c == "[" and p.startswith("[:", self.i):
                end = p.find(":]", self.i + 2)
                if end >= 0:
                    name = p[self.i + 2 : end]
                    neg = name.startswith("^")
                    if neg:
                        name = name[1:]
                    if name not in _POSIX:
                        raise self.error("invalid character class range", p[self.i : end + 2])
                    if neg:
                        raise GoRegexpError(
                            "error parsing regexp: negated POSIX classes are not supported by Alertmanager++"
                        )
                    out.append(_POSIX[name])
                    self.i = end + 2
                    continue
            lo = self._class_atom()
            if isinstance(lo, str):
                out.append(lo)
                continue
            if self.i + 1 < len(p) and p[self.i] == "-" and p[self.i + 1] != "]":
                self.i += 1
                hi = self._class_atom()
                if isinstance(hi, str):
                    raise self.error("invalid character class range", p[start : self.i])
                if hi < lo:
                    raise self.error("invalid character class range", f"{chr(lo)}-{chr(hi)}")
                out.append(_class_char(lo) + "-" + _class_char(hi))
            else:
                out.append(_class_char(lo))
        out.append("]")
        return "".join(out)

    def _class_atom(self) -> int | str:
        """One class member: a code point, or (for \\d and the like) ready class text."""
        p = self.p
        c = p[self.i]
        if c == "\\":
            if self.i + 1 < len(p) and p[self.i + 1] in "dswDSWpPQ":
                return self._escape(in_class=True)
            if self.i + 1 >= len(p):
                raise self.error("missing closing ]", p)
            self.i += 2
            cp = self._escape_char(p[self.i - 1])
            if cp is None:
                raise self.error("invalid escape sequence", "\\" + p[self.i - 1])
            return cp
        self.i += 1
        return ord(c)


@lru_cache(maxsize=512)
def compile_go(pattern: str) -> re.Pattern[str]:
    """Compile a Go regexp; raises GoRegexpError with Go's kind of message."""
    py = _Translator(pattern).translate()
    try:
        return re.compile(py)
    except re.error as e:
        raise GoRegexpError(f"error parsing regexp: {e.msg}: `{pattern}`") from None
    except (OverflowError, RecursionError):
        raise GoRegexpError(f"error parsing regexp: expression too large: `{pattern}`") from None


def match_string(pattern: str, s: str) -> bool:
    """regexp.MatchString: an unanchored search."""
    return compile_go(pattern).search(s) is not None


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
    rx = compile_go(pattern)
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
