"""Any other JSON sender, through a mapping configured per source (``webhook.sources``).

Each field of the mapping is an expression evaluated against one item of the body: text
starting with ``$`` is a JSONPath (its first match; a list of matches is joined), text holding
``{{`` or ``{%`` is a Jinja2 template (sandboxed) seeing ``item`` and ``body``, anything else is
taken literally. ``items`` (a JSONPath) splits a body into several alerts; without it the
whole body is one alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...config.expressions import Expression, compile_expression
from .base import FIRING, RESOLVED, FormatError, Incoming, Parsed, label_name, text, timestamp

_RESOLVED_WORDS = {"resolved", "ok", "closed", "recovered", "up", "false", "0", "inactive", "cleared"}


@dataclass
class Mapping_:
    """A compiled ``webhook.sources.<name>`` entry."""

    name: str
    items: Expression | None
    labels: dict[str, Expression]
    annotations: dict[str, Expression]
    status: Expression | None
    starts_at: Expression | None
    ends_at: Expression | None
    generator_url: Expression | None
    event_id: Expression | None


def compile_mapping(name: str, spec: Any) -> Mapping_:
    """From the config model (``WebhookSource``); expressions were validated when it loaded."""

    def opt(value: str | None) -> Expression | None:
        return compile_expression(value) if value else None

    return Mapping_(
        name,
        opt(spec.items),
        {label_name(k): compile_expression(v) for k, v in spec.labels.items()},
        {k: compile_expression(v) for k, v in spec.annotations.items()},
        opt(spec.status),
        opt(spec.starts_at),
        opt(spec.ends_at),
        opt(spec.generator_url),
        opt(spec.event_id),
    )


class Generic:
    """A configured source: not detected, chosen by path or header."""

    resends = False

    def __init__(self, mapping: Mapping_) -> None:
        self.mapping = mapping
        self.name = mapping.name

    def detect(self, body: Any, headers: Mapping[str, str]) -> bool:
        return False

    def parse(self, body: Any, headers: Mapping[str, str]) -> Parsed:
        m = self.mapping
        if m.items is not None:
            found = m.items(body, body)
            if found is None:
                raise FormatError("items", "the JSONPath matched nothing")
            raw_items = found if isinstance(found, list) else [found]
        else:
            raw_items = [body]
        out: list[Incoming | FormatError] = []
        for i, item in enumerate(raw_items):
            try:
                out.append(self._item(item, body, i))
            except FormatError as e:
                out.append(e)
        event_id = text(m.event_id(body, body)) if m.event_id and m.items is None else None
        return Parsed(out, event_id or None)

    def _item(self, item: Any, body: Any, index: int) -> Incoming:
        m = self.mapping
        where = f"items[{index}]." if m.items is not None else ""

        def value(name: str, expr: Expression) -> str:
            from jinja2 import TemplateError

            try:
                return text(expr(item, body))
            except TemplateError as e:
                raise FormatError(f"{where}{name}", f"template failed: {e}") from None

        labels = {k: v for k, e in m.labels.items() if (v := value(f"labels.{k}", e))}
        if not labels.get("alertname"):
            raise FormatError(f"{where}labels.alertname", "the mapping gave no alertname")
        annotations = {k: v for k, e in m.annotations.items() if (v := value(f"annotations.{k}", e))}
        status = value("status", m.status).lower() if m.status else FIRING
        resolved = status in _RESOLVED_WORDS
        return Incoming(
            labels,
            annotations,
            RESOLVED if resolved else FIRING,
            starts_at=timestamp(value("starts_at", m.starts_at), f"{where}starts_at")
            if m.starts_at
            else None,
            ends_at=timestamp(value("ends_at", m.ends_at), f"{where}ends_at") if m.ends_at else None,
            generator_url=value("generator_url", m.generator_url) if m.generator_url else "",
            event_id=(value("event_id", m.event_id) or None) if m.event_id else None,
        )
