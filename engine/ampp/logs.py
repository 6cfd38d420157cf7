"""Logging in Alertmanager's formats: logfmt (default) or JSON, at --log.level.

Every line logged while a request is being served carries its request id (the caller's
``X-Request-Id``, or one made up), including lines of tasks it started, for as long as the
request lasts: the id lives in a scope object that the context variable points to and that is
emptied when the request ends, so a timer or task outliving the request stops carrying it.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from contextvars import ContextVar, Token

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING, "error": logging.ERROR}

_format = "logfmt"
"""The format ``setup`` chose, for the processes the engine starts (they log to its stderr)."""


def _ts(record: logging.LogRecord) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"


class RequestScope:
    """The request being served; ``id`` is None once it has been answered."""

    __slots__ = ("id",)

    def __init__(self, request_id: str) -> None:
        self.id: str | None = request_id


_REQUEST: ContextVar[RequestScope | None] = ContextVar("ampp_request", default=None)


def begin_request(request_id: str) -> tuple[RequestScope, Token[RequestScope | None]]:
    scope = RequestScope(request_id)
    return scope, _REQUEST.set(scope)


def end_request(scope: RequestScope, token: Token[RequestScope | None]) -> None:
    scope.id = None  # tasks that copied the context stop carrying it
    _REQUEST.reset(token)


def request_id() -> str | None:
    scope = _REQUEST.get()
    return scope.id if scope is not None else None


def _exception(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    """The record's exception: a traceback for the engine's own (a bug to report), one line for a
    library's (asyncpg's pool warns with one each time a database it reconnects to is down: an
    event the operator reads, not a bug)."""
    assert record.exc_info
    if record.name.partition(".")[0] in ("ampp", "ampp_operator"):
        return formatter.formatException(record.exc_info)
    _, error, _ = record.exc_info
    return f"{type(error).__name__}: {error}"


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        if record.exc_info:
            msg += " " + _exception(self, record).replace("\n", " | ")
        level = record.levelname.lower().replace("warning", "warn")
        rid = request_id()
        tail = f" request_id={rid}" if rid else ""
        return f"ts={_ts(record)} caller={record.name} level={level} msg={json.dumps(msg)}{tail}"


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        if record.exc_info:
            msg += "\n" + _exception(self, record)
        level = record.levelname.lower().replace("warning", "warn")
        line = {"ts": _ts(record), "caller": record.name, "level": level, "msg": msg}
        rid = request_id()
        if rid:
            line["request_id"] = rid
        return json.dumps(line)


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
