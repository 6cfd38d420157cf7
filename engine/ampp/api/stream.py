"""GET /api/ampp/v1/events: a Server-Sent Events stream that says when alerts or silences changed.

The dashboard's live view: instead of polling /api/v2/alerts/groups, a client keeps this stream
open and fetches again when told. Events carry version counters, not the data, so a client reads
the same public API it would read anyway, and a burst of changes is one event: changes are
coalesced for ``COALESCE_S`` before they are announced.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import web

from ..auth.roles import Role
from ..engine import Engine
from ..model.alert import Alert
from ..model.silence import Silence
from .access import requires

PATH = "/api/ampp/v1/events"
ROUTE_NAME = "events"
COALESCE_S = 0.25
"""How long a change waits for others before it is announced (at most four events a second)."""
HEARTBEAT_S = 15.0
"""A comment line this often keeps proxies from closing an idle stream and finds gone clients."""
RETRY_MS = 2000
"""How soon a browser's EventSource reconnects after the stream drops."""


class ChangeFeed:
    """Counts changes to the alert store and the silences; wakes every stream at most every
    ``COALESCE_S``. Subscribed to the engine's stores for the app's lifetime."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.alerts = 0
        self.silences = 0
        self.closed = False
        self._event = asyncio.Event()
        self._scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def versions(self) -> dict[str, int]:
        return {"alerts": self.alerts, "silences": self.silences}

    async def attach(self, app: web.Application) -> None:
        self._loop = asyncio.get_running_loop()
        self.engine.alerts.subscribe(self._on_alert, replay=False)
        self.engine.alerts.on_delete.append(self._on_delete)
        self.engine.silences.listeners.append(self._on_silence)

    async def close(self, app: web.Application) -> None:
        """On shutdown: end every stream, so that the server does not wait for them."""
        self.closed = True
        self.engine.alerts.unsubscribe(self._on_alert)
        if self._on_delete in self.engine.alerts.on_delete:
            self.engine.alerts.on_delete.remove(self._on_delete)
        if self._on_silence in self.engine.silences.listeners:
            self.engine.silences.listeners.remove(self._on_silence)
        self._publish()

    def _on_alert(self, alert: Alert) -> None:
        self.alerts += 1
        self._schedule()

    def _on_delete(self, fingerprint: int) -> None:
        self.alerts += 1
        self._schedule()

    async def _on_silence(self, event: str, sil: Silence, prev: Silence | None) -> None:
        self.silences += 1
        self._schedule()

    def _schedule(self) -> None:
        if not self._scheduled and self._loop is not None:
            self._scheduled = True
            self._loop.call_later(COALESCE_S, self._publish)

    def _publish(self) -> None:
        self._scheduled = False
        event, self._event = self._event, asyncio.Event()
        event.set()

    def next_change(self) -> asyncio.Event:
        """An event set at the next announcement (or when the feed closes)."""
        return self._event


FEED: web.AppKey[ChangeFeed] = web.AppKey("change_feed", ChangeFeed)


def _message(event: str, data: Any) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


@requires(Role.VIEWER)
async def events(request: web.Request) -> web.StreamResponse:
    feed = request.app[FEED]
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
    feed = app[FEED] = ChangeFeed(engine)
    app.on_startup.append(feed.attach)
    app.on_shutdown.append(feed.close)
    app.router.add_get(f"{prefix}{PATH}", events, name=ROUTE_NAME)
