"""The one exception templates raise, and the internal one their helpers raise."""

from __future__ import annotations


class TemplateError(Exception):
    """A template that cannot be loaded, translated or rendered.

    The message reads like Go's (``template: FILE:LINE: REASON``): it names the file (or, for
    a config field's text, ``<text>``), the line, the template being executed when that is
    known, and the reason.
    """

    def __init__(self, reason: str, *, file: str = "", line: int = 0, name: str | None = None) -> None:
        self.reason = reason
        self.file = file
        self.line = line
        self.name = name
        where = file
        if line:
            where += f":{line}"
        prefix = f"template: {where}: " if where else "template: "
        if name is not None:
            prefix += f'executing "{name}": '
        super().__init__(prefix + reason)


class ExecError(Exception):
    """Raised by the runtime helpers; turned into a TemplateError naming file and line."""
