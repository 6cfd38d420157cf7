"""Logging in Alertmanager's formats: logfmt (default) or JSON, at --log.level."""

from __future__ import annotations

import json
import logging
import sys
import time

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING, "error": logging.ERROR}

_format = "logfmt"
"""The format ``setup`` chose, for the processes the engine starts (they log to its stderr)."""


def _ts(record: logging.LogRecord) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        if record.exc_info:
            msg += " " + self.formatException(record.exc_info).replace("\n", " | ")
        level = record.levelname.lower().replace("warning", "warn")
        return f"ts={_ts(record)} caller={record.name} level={level} msg={json.dumps(msg)}"


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        if record.exc_info:
            msg += "\n" + self.formatException(record.exc_info)
        level = record.levelname.lower().replace("warning", "warn")
        return json.dumps({"ts": _ts(record), "caller": record.name, "level": level, "msg": msg})


def setup(level: str | None = "info", fmt: str | None = "logfmt") -> None:
    """Log at ``level`` in ``fmt`` (None: the default); called again once the config says."""
    level = {None: "info", "warning": "warn"}.get(level, level)
    fmt = {None: "logfmt", "text": "logfmt"}.get(fmt, fmt)
    if level not in _LEVELS:
        raise ValueError(f"--log.level must be one of debug, info, warn, error (got {level!r})")
    if fmt not in ("logfmt", "json"):
        raise ValueError(f"--log.format must be logfmt or json (got {fmt!r})")
    global _format
    _format = fmt
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogfmtFormatter() if fmt == "logfmt" else JSONFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(_LEVELS[level])
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("asyncio").setLevel(logging.WARNING)


def active_format() -> str:
    """The format this process logs in: a child process logging to the same stderr uses it too."""
    return _format
