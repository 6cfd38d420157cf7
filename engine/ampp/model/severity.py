"""Severity words of every monitoring tool, normalised to the three Alertmanager users route on:
critical, warning, info (the table the README documents)."""

from __future__ import annotations

from typing import Any

_SEVERITY = {
    "critical": (
        "critical",
        "crit",
        "fatal",
        "emergency",
        "emerg",
        "alert",
        "disaster",
        "high",
        "major",
        "error",
        "err",
        "security",
        "page",
        "p1",
        "p2",
        "sev0",
        "sev1",
        "sev-0",
        "sev-1",
        "0",
        "1",
        "availability",
        "down",
    ),
    "warning": (
        "warning",
        "warn",
        "average",
        "medium",
        "moderate",
        "minor",
        "p3",
        "sev2",
        "sev-2",
        "2",
        "performance",
        "resource_contention",
        "error_rate",
    ),
    "info": (
        "info",
        "informational",
        "information",
        "low",
        "notice",
        "debug",
        "trace",
        "ok",
        "normal",
        "cleared",
        "indeterminate",
        "not classified",
        "unknown",
        "p4",
        "p5",
        "sev3",
        "sev4",
        "sev-3",
        "sev-4",
        "3",
        "4",
        "custom_alert",
    ),
}
_SEVERITY_OF = {word: level for level, words in _SEVERITY.items() for word in words}


def severity(value: Any, default: str = "warning") -> str:
    """A vendor's severity or priority word, normalised to critical, warning or info."""
    if value is None:
        return default
    return _SEVERITY_OF.get(str(value).strip().lower(), default)
