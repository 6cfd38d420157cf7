"""JSON responses: how every handler of the API answers."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web


def json_response(data: Any, status: int = 200) -> web.Response:
    """``data`` as JSON (orjson); JSON already encoded is passed as an ``orjson.Fragment``."""
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")
