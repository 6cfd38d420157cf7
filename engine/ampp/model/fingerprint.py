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


_SEP = "\xff"
_EMPTY = 0xCBF29CE484222325  # the hash of no bytes: Alertmanager's fingerprint of an empty set


def fingerprint(labels: Mapping[str, str]) -> int:
    """The 64-bit fingerprint of a label set, equal to Alertmanager's."""
    if not labels:
        return _EMPTY
    # One encode for the whole set: U+DCFF with surrogateescape becomes the single byte 0xff.
    text = "".join([f"{name}\udcff{labels[name]}\udcff" for name in sorted(labels)])
    return _fnv1a_64(text.encode("utf-8", "surrogateescape"))


def fingerprint_hex(labels: Mapping[str, str]) -> str:
    """The fingerprint as Alertmanager prints it (16 lower-case hex digits)."""
    return f"{fingerprint(labels):016x}"
