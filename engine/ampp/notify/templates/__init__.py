"""Notification templates: Alertmanager's Go templates, rendered with Jinja2.

``Templates.load(files)`` reads Alertmanager's default templates plus the user's files (Go
text/template syntax, translated to Jinja2 at load, or ``*.j2``/``*.jinja`` files written in
Jinja2); ``render`` and ``render_html`` execute a config field's Go template text the way
Alertmanager's ExecuteTextString and ExecuteHTMLString do, with the same data
(``template_data``) and the same functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._data import KV, AlertList, Pair, Pairs, TemplateAlert, TemplateData, quote_meta, template_data
from ._errors import TemplateError
from ._gotime import GoDuration, GoTime

if TYPE_CHECKING:
    from ._engine import Templates


def __getattr__(name: str) -> object:
    """``Templates`` (Jinja2 and the Go-template translator) loads when first asked for: the
    data classes serve the webhook, which renders no template, without them."""
    if name == "Templates":
        from ._engine import Templates

        return Templates
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    "quote_meta",
    "template_data",
]
