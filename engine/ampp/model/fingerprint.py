"""Alertmanager's label-set fingerprint: FNV-1a 64 over sorted name/value pairs.

Each label name and each value is followed by the byte 0xff, pairs are sorted by name, and the
result is printed as ``%016x``. The hash runs in C (fnv-c) because it sits on the ingest path.
"""

from __future__ import annotations

from collections.abc import Mapping

try:
    from fnv_c import fnv1a_64 as _fnv1a_64
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
    parts: list[bytes] = []
    for name in sorted(labels):
        parts.append(name.encode())
        parts.append(b"\xff")
        parts.append(labels[name].encode())
        parts.append(b"\xff")
    return int(_fnv1a_64(b"".join(parts)))


def fingerprint_hex(labels: Mapping[str, str]) -> str:
    """The fingerprint as Alertmanager prints it (16 lower-case hex digits)."""
    return f"{fingerprint(labels):016x}"
