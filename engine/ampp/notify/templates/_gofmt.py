"""Go's fmt for template values: how text/template prints a value, and printf's verbs.

Values in templates are Python objects standing in for Go ones (str, int, float, bool, None for
nil, lists for slices, dicts for maps, and the data model's own types), so "Go type" below means
the type the value stands for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ...model.labels import go_quote


class GoStringer:
    """A value that prints itself the way its Go type's String() method would."""

    def go_string(self) -> str:
        raise NotImplementedError


class GoStruct:
    """A value that stands for a Go struct: printed as ``{field1 field2 ...}``."""

    go_type_name = "struct"

    def go_struct_fields(self) -> list[tuple[str, Any]]:
        raise NotImplementedError


def go_type_name(v: Any) -> str:
    """The name %T prints and error messages use."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    name = getattr(type(v), "go_type_name", None)
    if isinstance(name, str):
        return name
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, Mapping):
        return "map[string]interface {}"
    if isinstance(v, (list, tuple)):
        if v and all(isinstance(x, str) for x in v):
            return "[]string"
        return "[]interface {}"
    return type(v).__name__


# --- floats -----------------------------------------------------------------------------


def _shortest_digits(f: float) -> tuple[str, int]:
    """Shortest decimal digits that round-trip and the decimal exponent of the first digit."""
    d = Decimal(repr(abs(f)))
    _, digits, exp = d.as_tuple()
    assert isinstance(exp, int)
    ds = "".join(map(str, digits)).lstrip("0") or "0"
    # strip trailing zeros, adjusting the exponent
    stripped = ds.rstrip("0") or "0"
    exp += len(ds) - len(stripped)
    return stripped, exp + len(stripped) - 1


def _special(f: float, plus: bool = False) -> str | None:
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    return None


def format_float_g_shortest(f: float, exp_threshold: int = 6) -> str:
    """strconv.FormatFloat(f, 'g', -1, 64), which %v and %g use: the shortest digits that
    round-trip, in %e form when the exponent is below -4 or at least 6."""
    special = _special(f)
    if special is not None:
        return special
    neg = f < 0 or (f == 0 and math.copysign(1.0, f) < 0)
    if f == 0:
        return "-0" if neg else "0"
    digits, exp = _shortest_digits(f)
    sign = "-" if neg else ""
    if exp < -4 or exp >= exp_threshold:
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mant}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if exp < 0:
        return f"{sign}0.{'0' * (-exp - 1)}{digits}"
    if len(digits) <= exp + 1:
        return sign + digits + "0" * (exp + 1 - len(digits))
    return f"{sign}{digits[: exp + 1]}.{digits[exp + 1 :]}"


def format_float_v(f: float) -> str:
    """How fmt prints a float64 with %v (and Print)."""
    return format_float_g_shortest(f)


def _fmt_e(f: float, prec: int, upper: bool) -> str:
    s = f"{f:.{prec}e}"
    return s.upper() if upper else s


def _fmt_g(f: float, prec: int | None, upper: bool, sharp: bool) -> str:
    if prec is None:
        s = format_float_g_shortest(f)
    else:
        p = max(prec, 1)
        s = f"{f:{'#' if sharp else ''}.{p}g}"
    return s.upper() if upper else s


# --- printing ---------------------------------------------------------------------------


def sprint_value(v: Any, depth: int = 0) -> str:
    """fmt.Sprint of one value (the %v rendering)."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, GoStringer):
        return v.go_string()
    if isinstance(v, str):
        return str.__str__(v)
    if isinstance(v, int):
        return int.__repr__(v)
    if isinstance(v, float):
        return format_float_v(v)
    if isinstance(v, GoStruct):
        return "{" + " ".join(sprint_value(x, depth + 1) for _, x in v.go_struct_fields()) + "}"
    if isinstance(v, Mapping):
        items = sorted(v.items(), key=lambda kv: _sort_key(kv[0]))
        return (
            "map["
            + " ".join(f"{sprint_value(k, depth + 1)}:{sprint_value(x, depth + 1)}" for k, x in items)
            + "]"
        )
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(sprint_value(x, depth + 1) for x in v) + "]"
    return str(v)


def _sort_key(k: Any) -> tuple[int, Any]:
    if isinstance(k, str):
        return (1, k)
    if isinstance(k, (int, float)):
        return (0, k)
    return (2, str(k))


def sprint(*args: Any) -> str:
    """fmt.Sprint: a space between operands when neither is a string."""
    out: list[str] = []
    prev_string = True
    for i, a in enumerate(args):
        is_string = isinstance(a, str)
        if i > 0 and not is_string and not prev_string:
            out.append(" ")
        out.append(sprint_value(a))
        prev_string = is_string
    return "".join(out)


def sprintln(*args: Any) -> str:
    """fmt.Sprintln: always a space between operands, and a newline."""
    return " ".join(sprint_value(a) for a in args) + "\n"


# --- quoting ----------------------------------------------------------------------------


def _quote_rune(cp: int) -> str:
    if cp == ord("'"):
        return "'\\''"
    if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
        cp = 0xFFFD
    inner = go_quote(chr(cp))[1:-1]
    if inner == '\\"':
        inner = '"'
    return f"'{inner}'"


# --- printf -----------------------------------------------------------------------------


class _Spec:
    __slots__ = ("minus", "plus", "plus_v", "prec", "sharp", "space", "verb", "width", "zero")

    def __init__(self, flags: str, width: int | None, prec: int | None, verb: str) -> None:
        self.minus = "-" in flags
        self.plus = "+" in flags
        self.plus_v = False
        if verb == "v" and self.plus:  # %+v: field names, no sign
            self.plus, self.plus_v = False, True
        self.sharp = "#" in flags
        self.space = " " in flags
        self.zero = "0" in flags and not self.minus
        self.width = width
        self.prec = prec
        self.verb = verb


def _pad(s: str, spec: _Spec, numeric: bool = False) -> str:
    if spec.width is None or len(s) >= spec.width:
        return s
    fill = spec.width - len(s)
    if spec.minus:
        return s + " " * fill
    if spec.zero and numeric:
        sign = s[0] if s and s[0] in "+- " else ""
        body = s[len(sign) :]
        return sign + "0" * fill + body
    if spec.zero and not numeric:
        return "0" * fill + s
    return " " * fill + s


def _bad(spec: _Spec, v: Any) -> str:
    as_v = _Spec("", spec.width, spec.prec, "v")
    as_v.minus, as_v.zero = spec.minus, spec.zero
    return f"%!{spec.verb}({go_type_name(v)}={format_value(v, as_v)})"


def _fmt_int(v: int, spec: _Spec) -> str:
    verb = spec.verb
    neg = v < 0
    u = -v if neg else v
    if verb in ("d", "v"):
        digits = str(u)
    elif verb == "b":
        digits = format(u, "b")
    elif verb == "o":
        digits = format(u, "o")
        if spec.sharp and digits != "0":
            digits = "0" + digits
    elif verb == "O":
        digits = "0o" + format(u, "o")
    elif verb == "x":
        digits = format(u, "x")
        if spec.sharp:
            digits = "0x" + digits
    elif verb == "X":
        digits = format(u, "X")
        if spec.sharp:
            digits = "0X" + digits
    elif verb == "c":
        return _pad(chr(u) if u <= 0x10FFFF else "\ufffd", spec)
    elif verb == "q":
        return _pad(_quote_rune(u), spec)
    elif verb == "U":
        s = f"U+{u:04X}"
        if spec.sharp and u <= 0x10FFFF and chr(u).isprintable():
            s += f" '{chr(u)}'"
        return _pad(s, spec)
    elif verb in "eEfFgG":
        return _fmt_float_verb(float(v), spec)
    else:
        return _bad(spec, v)
    if spec.prec is not None:
        if spec.prec == 0 and u == 0:
            digits = ""
        digits = digits.rjust(spec.prec, "0")
        zero_ok = False
    else:
        zero_ok = True
    sign = "-" if neg else "+" if spec.plus else " " if spec.space else ""
    s = sign + digits
    return _pad(s, spec, numeric=zero_ok)


def _fmt_float_verb(f: float, spec: _Spec) -> str:
    verb = spec.verb
    special = _special(f)
    if special is not None:
        s = special  # Go keeps the sign of +Inf, drops it from NaN unless asked
        if s == "+Inf" and spec.space and not spec.plus:
            s = " Inf"
        elif s == "NaN" and (spec.plus or spec.space):
            s = ("+" if spec.plus else " ") + s
        if spec.zero:
            spec = _Spec("-" if spec.minus else "", spec.width, None, verb)
        return _pad(s, spec)
    if verb in ("v", "g", "G"):
        s = _fmt_g(f, spec.prec, verb == "G", spec.sharp)
    elif verb in ("e", "E"):
        s = _fmt_e(f, 6 if spec.prec is None else spec.prec, verb == "E")
    elif verb in ("f", "F"):
        s = f"{f:.{6 if spec.prec is None else spec.prec}f}"
    elif verb in ("x", "X"):
        s = float.hex(f)
        if verb == "X":
            s = s.upper()
    else:
        return _bad(spec, f)
    if not s.startswith("-"):
        if spec.plus:
            s = "+" + s
        elif spec.space:
            s = " " + s
    return _pad(s, spec, numeric=True)


def _fmt_str(s: str, spec: _Spec, v: Any) -> str:
    verb = spec.verb
    if verb in ("s", "v"):
        if spec.prec is not None:
            s = s[: spec.prec]
        return _pad(s, spec)
    if verb == "q":
        if spec.prec is not None:
            s = s[: spec.prec]
        if spec.sharp and "`" not in s and all(c.isprintable() or c == "\t" for c in s):
            return _pad("`" + s + "`", spec)
        return _pad(go_quote(s, ascii_only=spec.plus), spec)
    if verb in ("x", "X"):
        data = s.encode("utf-8", "surrogateescape")
        if spec.prec is not None:
            data = data[: spec.prec]
        hexs = data.hex()
        if verb == "X":
            hexs = hexs.upper()
        if spec.space:
            pre = ("0X" if verb == "X" else "0x") if spec.sharp else ""
            hexs = " ".join(pre + hexs[i : i + 2] for i in range(0, len(hexs), 2))
        elif spec.sharp and hexs:
            hexs = ("0X" if verb == "X" else "0x") + hexs
        return _pad(hexs, spec)
    return _bad(spec, v)


def format_value(v: Any, spec: _Spec) -> str:
    verb = spec.verb
    if verb == "T":
        return _pad(go_type_name(v), spec)
    if verb == "v" and spec.sharp:
        return _pad(_go_syntax(v), spec)
    if v is None:
        if verb == "v":
            return _pad("<nil>", spec)
        return f"%!{verb}(<nil>)"
    if isinstance(v, bool):
        if verb in ("t", "v"):
            return _pad("true" if v else "false", spec)
        return _bad(spec, v)
    if isinstance(v, GoStringer) and verb in ("v", "s", "q", "x", "X"):
        return _fmt_str(v.go_string(), spec, v)
    if isinstance(v, int):
        return _fmt_int(v, spec)
    if isinstance(v, float):
        return _fmt_float_verb(v, spec)
    if isinstance(v, str):
        return _fmt_str(str.__str__(v), spec, v)
    # containers: the verb, flags and width apply to each element (as in Go)
    if isinstance(v, GoStruct):
        fields = v.go_struct_fields()
        if spec.plus_v:
            return "{" + " ".join(f"{n}:{format_value(x, spec)}" for n, x in fields) + "}"
        return "{" + " ".join(format_value(x, spec) for _, x in fields) + "}"
    if isinstance(v, Mapping):
        items = sorted(v.items(), key=lambda kv: _sort_key(kv[0]))
        return "map[" + " ".join(f"{format_value(k, spec)}:{format_value(x, spec)}" for k, x in items) + "]"
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(format_value(x, spec) for x in v) + "]"
    if verb in ("v", "s"):
        return _pad(str(v), spec)
    return _bad(spec, v)


def _go_syntax(v: Any) -> str:
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return go_quote(str.__str__(v))
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, float):
        return format_float_v(v)
    if isinstance(v, Mapping):
        inner = ", ".join(
            f"{_go_syntax(k)}:{_go_syntax(x)}" for k, x in sorted(v.items(), key=lambda kv: _sort_key(kv[0]))
        )
        return f"{go_type_name(v)}{{{inner}}}"
    if isinstance(v, (list, tuple)):
        return f"{go_type_name(v)}{{" + ", ".join(_go_syntax(x) for x in v) + "}"
    return sprint_value(v)


def _parse_num(s: str, i: int) -> tuple[int | None, int]:
    j = i
    while j < len(s) and s[j].isdigit():
        j += 1
    if j == i:
        return None, i
    return int(s[i:j]), j


def sprintf(fmt: str, *args: Any) -> str:
    """fmt.Sprintf with Go's verbs, flags, width, precision, explicit indexes and its
    in-band error reports (%!d(string=x), %!s(MISSING), %!(EXTRA ...))."""
    out: list[str] = []
    argn = 0
    reordered = False
    i, end = 0, len(fmt)
    nargs = len(args)

    def arg_number(argn: int, i: int) -> tuple[int, int, bool, bool]:
        """Parse an explicit [n] index: (argn, i, found, ok)."""
        nonlocal reordered
        if i >= end or fmt[i] != "[":
            return argn, i, False, True
        reordered = True
        close = fmt.find("]", i + 1)
        if close < 0:
            return argn, i, False, False
        num, j = _parse_num(fmt, i + 1)
        if num is None or j != close or not (1 <= num <= nargs):
            return argn, close + 1, True, False
        return num - 1, close + 1, True, True

    while i < end:
        j = fmt.find("%", i)
        if j < 0:
            out.append(fmt[i:])
            break
        out.append(fmt[i:j])
        i = j + 1
        flags = ""
        while i < end and fmt[i] in "#0+- ":
            flags += fmt[i]
            i += 1
        good = True
        argn, i, after_index, ok = arg_number(argn, i)
        good = good and ok
        width: int | None = None
        if i < end and fmt[i] == "*":
            i += 1
            if argn < nargs and isinstance(args[argn], int) and not isinstance(args[argn], bool):
                w = int(args[argn])
                width = abs(w)
                if w < 0:
                    flags += "-"
            else:
                out.append("%!(BADWIDTH)")
            argn += 1
            after_index = False
        else:
            width, i = _parse_num(fmt, i)
            if after_index and width is not None:
                good = False
        prec: int | None = None
        if i + 1 < end and fmt[i] == ".":
            i += 1
            if after_index:
                good = False
            argn, i, after_index, ok = arg_number(argn, i)
            good = good and ok
            if i < end and fmt[i] == "*":
                i += 1
                if argn < nargs and isinstance(args[argn], int) and not isinstance(args[argn], bool):
                    prec = int(args[argn])
                    if prec < 0:
                        prec = None
                        out.append("%!(BADPREC)")
                else:
                    out.append("%!(BADPREC)")
                argn += 1
                after_index = False
            else:
                prec, i = _parse_num(fmt, i)
                if prec is None:
                    prec = 0
        if not after_index:
            argn, i, after_index, ok = arg_number(argn, i)
            good = good and ok
        if i >= end:
            out.append("%!(NOVERB)")
            break
        verb = fmt[i]
        i += 1
        if "-" in flags:
            flags = flags.replace("0", "")
        if verb == "%":
            out.append("%")
            continue
        if not good:
            out.append(f"%!{verb}(BADINDEX)")
            continue
        if argn >= nargs:
            out.append(f"%!{verb}(MISSING)")
            continue
        v = args[argn]
        argn += 1
        spec = _Spec(flags, width, prec, verb)
        if verb not in "vTtbcdoOqxXUeEfFgGsp":
            out.append(_bad(spec, v))
            continue
        out.append(format_value(v, spec))
    if not reordered and argn < nargs:
        extra = ", ".join(f"{go_type_name(a)}={sprint_value(a)}" for a in args[argn:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)
