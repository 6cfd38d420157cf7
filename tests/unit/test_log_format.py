"""Log lines: the engine's own exceptions with their traceback, a library's on one line."""

from __future__ import annotations

import json
import logging

import pytest
from ampp.logs import JSONFormatter, LogfmtFormatter

pytestmark = pytest.mark.unit


def record(name: str) -> logging.LogRecord:
    try:
        raise ConnectionRefusedError(111, "Connection refused")
    except OSError:
        import sys

        return logging.LogRecord(name, logging.WARNING, __file__, 1, "pool: retrying", None, sys.exc_info())


@pytest.mark.parametrize("formatter", [LogfmtFormatter(), JSONFormatter()], ids=["logfmt", "json"])
def test_a_library_exception_is_one_line_the_engines_a_traceback(formatter: logging.Formatter) -> None:
    library = formatter.format(record("asyncpg.pool"))
    assert "Traceback" not in library
    assert "pool: retrying" in library and "ConnectionRefusedError: [Errno 111] Connection refused" in library
    if isinstance(formatter, JSONFormatter):
        assert (
            json.loads(library)["msg"]
            == "pool: retrying\nConnectionRefusedError: [Errno 111] Connection refused"
        )
    for own in ("ampp.notify", "ampp_operator.handlers"):
        assert "Traceback (most recent call last)" in formatter.format(record(own))
