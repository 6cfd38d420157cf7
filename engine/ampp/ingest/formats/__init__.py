"""Vendor webhook formats: one module per sender, a registry that detects which one a body is."""

from __future__ import annotations

from .base import FIRING, RESOLVED, FormatError, Incoming, Parsed, WebhookFormat, severity
from .generic import Generic, compile_expression, compile_mapping
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
    "compile_expression",
    "compile_mapping",
    "detect",
    "severity",
]
