"""Vendor webhook formats: one module per sender, a registry that detects which one a body is."""

from __future__ import annotations

from ...model.severity import severity
from .base import FIRING, RESOLVED, FormatError, Incoming, Parsed, WebhookFormat
from .generic import Generic, compile_mapping
from .registry import BY_NAME, FORMATS, NAMES, detect

__all__ = [
    "BY_NAME",
    "FIRING",
    "FORMATS",
    "NAMES",
    "RESOLVED",
    "FormatError",
    "Generic",
    "Incoming",
    "Parsed",
    "WebhookFormat",
    "compile_mapping",
    "detect",
    "severity",
]
