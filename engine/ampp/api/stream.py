"""GET /api/ampp/v1/events: a Server-Sent Events stream that says when alerts or silences changed.

The dashboard's live view: instead of polling /api/v2/alerts/groups, a client keeps this stream
open and fetches again when told. Events carry version counters, not the data, so a client reads
the same public API it would read anyway, and a burst of changes is one event: changes are
coalesced for a quarter of a second before they are announced (ampp.engine.Changes).
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import web

from ..auth.roles import Role
from ..engine import Engine
from .access import requires
from .keys import ENGINE

PATH = "/api/ampp/v1/events"
ROUTE_NAME = "events"
HEARTBEAT_S = 15.0
"""A comment line this often keeps proxies from closing an idle stream and finds gone clients."""
RETRY_MS = 2000
"""How soon a browser's EventSource reconnects after the stream drops."""


def _message(event: str, data: Any) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


@requires(Role.VIEWER)
async def events(request: web.Request) -> web.StreamResponse:
    feed = request.app[ENGINE].changes
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",  # nginx: pass events through as they come
        }
    )
    await response.prepare(request)
    try:
        await response.write(f"retry: {RETRY_MS}\n".encode() + _message("hello", feed.versions()))
        while not feed.closed:
            change = feed.next_change()
            try:
                async with asyncio.timeout(HEARTBEAT_S):
                    await change.wait()
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            if not feed.closed:
                await response.write(_message("change", feed.versions()))
    except (ConnectionResetError, ConnectionError):
        pass  # the client went away
    return response


def add_routes(app: web.Application, engine: Engine, prefix: str) -> None:
    async def end_streams(app: web.Application) -> None:  # the server need not wait for them
        engine.changes.close()

    app.on_shutdown.append(end_streams)
    app.router.add_get(f"{prefix}{PATH}", events, name=ROUTE_NAME)
