"""Alertmanager's label-set fingerprint: FNV-1a 64 over sorted name/value pairs.

Each label name and each value is followed by the byte 0xff, pairs are sorted by name, and the
result is printed as ``%016x``. The hash runs in C (fnv-c) because it sits on the ingest path.
"""

from __future__ import annotations

from collections.abc import Mapping

try:
    from fnv_c import lib as _fnv_lib

    def _fnv1a_64(data: bytes) -> int:
        return int(_fnv_lib.fnv1a_64(data, len(data)))

except ImportError:  # pragma: no cover - the pure-Python fallback keeps the engine importable
    _OFFSET = 0xCBF29CE484222325
    _PRIME = 0x100000001B3

    def _fnv1a_64(data: bytes) -> int:
        h = _OFFSET
        for b in data:
            h = ((h ^ b) * _PRIME) & 0xFFFFFFFFFFFFFFFF
        return h


_SEP = "\udcff"
_EMPTY = 0xCBF29CE484222325  # the hash of no bytes: Alertmanager's fingerprint of an empty set


def fingerprint(labels: Mapping[str, str]) -> int:
    """The 64-bit fingerprint of a label set, equal to Alertmanager's."""
    if not labels:
        return _EMPTY
    names = sorted(labels)
    # The fast way: NUL as the separator, one plain encode, then NUL bytes become 0xff. Exact
    # when no name or value holds a NUL of its own (the API refuses them) and all of them
    # encode as UTF-8: twice as fast as surrogateescape, whose handler runs per separator.
    text = "".join([f"{name}\x00{labels[name]}\x00" for name in names])
    if text.count("\x00") == 2 * len(names):
        try:
            return _fnv1a_64(text.encode().replace(b"\x00", b"\xff"))
        except UnicodeEncodeError:  # a lone surrogate: a byte of invalid UTF-8 Go would hash
            pass
    # Any text: U+DCFF with surrogateescape becomes the single byte 0xff, as do other lone
    # surrogates U+DC80..U+DCFF their bytes.
    text = "".join([f"{name}{_SEP}{labels[name]}{_SEP}" for name in names])
    return _fnv1a_64(text.encode("utf-8", "surrogateescape"))


def fingerprint_hex(labels: Mapping[str, str]) -> str:
    """The fingerprint as Alertmanager prints it (16 lower-case hex digits)."""
    return f"{fingerprint(labels):016x}"
