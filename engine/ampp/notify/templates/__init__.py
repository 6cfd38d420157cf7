"""Notification templates: Alertmanager's Go templates, rendered with Jinja2.

``Templates.load(files)`` reads Alertmanager's default templates plus the user's files (Go
text/template syntax, translated to Jinja2 at load, or ``*.j2``/``*.jinja`` files written in
Jinja2); ``render`` and ``render_html`` execute a config field's Go template text the way
Alertmanager's ExecuteTextString and ExecuteHTMLString do, with the same data
(``template_data``) and the same functions.
"""

from __future__ import annotations

from ._data import KV, AlertList, Pair, Pairs, TemplateAlert, TemplateData, template_data
from ._engine import Templates
from ._errors import TemplateError
from ._gotime import GoDuration, GoTime

__all__ = [
    "KV",
    "AlertList",
    "GoDuration",
    "GoTime",
    "Pair",
    "Pairs",
    "TemplateAlert",
    "TemplateData",
    "TemplateError",
    "Templates",
    "template_data",
]
