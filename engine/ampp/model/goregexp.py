"""Go's regexp syntax (RE2) on Python's re: what Go accepts, with Go's errors and matches.

Python's ``re`` differs from Go's in many small ways (``$`` also matches before a final
newline, ``\\d``/``\\w``/``\\s``/``\\b`` are Unicode-aware, ``{,n}`` is a repetition, no
``[[:alpha:]]``/``\\pL``, case folding, ...), so a Go pattern is parsed here with Go's own
grammar (a transcription of regexp/syntax's parser, Perl flags) and re-emitted as an equivalent
Python pattern that uses only constructs whose meaning is the same in both. What has no Python
equivalent is refused with a clear error. Label matchers (config, silences, the API) and the
templates' ``match`` and ``reReplaceAll`` both use it; tests/integration/test_matchers_reference.py
and test_templates_reference.py check it against Go itself.
"""

from __future__ import annotations

import bisect
import functools
import importlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Protocol


class GoRegexpError(ValueError):
    """A regular expression this module will not compile (RegexpError, UnsupportedRegexpError)."""


class RegexpError(GoRegexpError):
    """A regular expression that Go's regexp package rejects; the message is Go's."""

    def __init__(self, code: str, expr: str) -> None:
        super().__init__(f"error parsing regexp: {code}: `{expr}`")
        self.code = code
        self.expr = expr


class UnsupportedRegexpError(GoRegexpError):
    """Valid Go RE2 syntax that Alertmanager++ cannot reproduce faithfully with Python's re."""


def unhex(c: str) -> int:
    """The value of a hex digit, -1 for anything else (Go's unhex)."""
    if "0" <= c <= "9":
        return ord(c) - 48
    if "a" <= c <= "f":
        return ord(c) - 87
    if "A" <= c <= "F":
        return ord(c) - 55
    return -1


def has_surrogate(s: str) -> bool:
    """A Python str with a lone surrogate is not valid UTF-8, which Go would refuse."""
    return any(0xD800 <= ord(c) <= 0xDFFF for c in s)


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
    name: str = ""
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

    def __init__(self, pattern: str, captures: bool) -> None:
        self.s = pattern
        self.n = len(pattern)
        self.captures = captures
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
        if frame.capture and self.captures:
            opening = f"(?P<{frame.name}>" if frame.name else "("
        else:
            opening = "(?:"
        return _Node(opening + src + ")", height, tuple(r for node in nodes for r in node.reps))

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
            self.stack.append(_Frame(self.flags, capture=True, name=name))
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
                        v = unhex(d)
                        if v < 0:
                            break
                        r = r * 16 + v
                        if r > _MAX_RUNE:
                            break
                        nhex += 1
                else:
                    x = unhex(c2)
                    y = -1
                    if j < n:
                        y = unhex(s[j])
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


def translate_go_regexp(pattern: str, *, captures: bool = False) -> str:
    """Python ``re`` source that matches exactly what Go's regexp matches for ``pattern``.

    With ``captures`` Go's capturing groups capture (numbered and named as in Go); without,
    every group is non-capturing, which is all a matcher needs. Raises RegexpError (Go's
    message) for what Go rejects, UnsupportedRegexpError for valid Go syntax that has no
    faithful Python equivalent here.
    """
    if has_surrogate(pattern):
        raise RegexpError(_E_UTF8, pattern)
    try:
        return _GoRegexpTranslator(pattern, captures).translate()
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


@functools.lru_cache(maxsize=512)
def compile_go_capturing(pattern: str) -> re.Pattern[str]:
    """Compile a Go pattern with its capturing groups, for Go's ``ReplaceAllString`` and
    ``Expand`` (the templates' reReplaceAll): always Python's ``re``, as only it gives groups."""
    source = translate_go_regexp(pattern, captures=True)
    try:
        return re.compile(source)
    except RecursionError:
        raise _too_deep(pattern) from None
    except (re.error, OverflowError) as e:  # a group name Go allows and Python does not ("1x")
        raise UnsupportedRegexpError(f"unsupported regexp: `{pattern}`: {e}") from None


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
