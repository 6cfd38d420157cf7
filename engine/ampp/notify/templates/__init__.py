"""Notification templates: Alertmanager's Go templates, rendered with Jinja2.

``Templates.load(files)`` reads Alertmanager's default templates plus the user's files (Go
text/template syntax, translated to Jinja2 at load, or ``*.j2``/``*.jinja`` files written in
Jinja2); ``render`` and ``render_html`` execute a config field's Go template text the way
Alertmanager's ExecuteTextString and ExecuteHTMLString do, with the same data
(``template_data``) and the same functions.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._data import (
        KV,
        AlertList,
        Pair,
        Pairs,
        TemplateAlert,
        TemplateData,
        TemplateEnrichment,
        quote_meta,
        template_data,
    )
    from ._engine import Templates
    from ._errors import TemplateError
    from ._gotime import GoDuration, GoTime

_WHERE = {
    "KV": "_data",
    "AlertList": "_data",
    "Pair": "_data",
    "Pairs": "_data",
    "TemplateAlert": "_data",
    "TemplateData": "_data",
    "TemplateEnrichment": "_data",
    "quote_meta": "_data",
    "template_data": "_data",
    "Templates": "_engine",
    "TemplateError": "_errors",
    "GoDuration": "_gotime",
    "GoTime": "_gotime",
}


def __getattr__(name: str) -> object:
    """Each name loads its module when first asked for: a webhook-only config loads none of
    this at start-up, and Jinja2 with the Go-template translator (``Templates``) only loads
    for a config that renders templates."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "KV",
    "AlertList",
    "GoDuration",
    "GoTime",
    "Pair",
    "Pairs",
    "TemplateAlert",
    "TemplateData",
    "TemplateEnrichment",
    "TemplateError",
    "Templates",
    "quote_meta",
    "template_data",
]
