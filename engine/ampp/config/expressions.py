"""Mapping expressions of configured webhook sources: ``$.json.path`` (JSONPath, first match),
``{{ template }}`` (Jinja2, sandboxed, seeing ``item`` and ``body``), or a literal. Compiled when
the config loads, so a bad one is a config error naming its field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Expression = Callable[[Any, Any], Any]
"""(item, body) -> value."""

_ENV: Any = None
"""The sandboxed Jinja2 environment, made when a first template is compiled (Jinja2 and
jsonpath-ng load only when a configured source needs them, not at every start)."""


def compile_expression(source: str) -> Expression:
    """Compile one mapping expression; ValueError says what is wrong with it."""
    if source.startswith("$"):
        from jsonpath_ng.exceptions import JsonPathParserError
        from jsonpath_ng.ext.parser import parse as jsonpath_parse

        try:
            path = jsonpath_parse(source)
        except (JsonPathParserError, Exception) as e:  # jsonpath-ng raises bare Exceptions too
            raise ValueError(f"invalid JSONPath {source!r}: {e}") from None

        def by_path(item: Any, body: Any) -> Any:
            found = [m.value for m in path.find(item)]
            if not found:
                return None
            return found[0] if len(found) == 1 else found

        return by_path
    if "{{" in source or "{%" in source:
        global _ENV
        from jinja2 import TemplateError
        from jinja2.sandbox import SandboxedEnvironment

        if _ENV is None:
            _ENV = SandboxedEnvironment(autoescape=False)
        try:
            template = _ENV.from_string(source)
        except TemplateError as e:
            raise ValueError(f"invalid Jinja2 template {source!r}: {e}") from None

        def by_template(item: Any, body: Any) -> Any:
            return template.render(item=item, body=body).strip()

        return by_template
    return lambda item, body: source
