"""The application key under which the API's handler modules find the engine.

Apart from ``app`` (which builds the application and imports the handler modules), so a handler
module reads the engine without importing the module that imports it.
"""

from __future__ import annotations

from aiohttp import web

from ..engine import Engine

ENGINE: web.AppKey[Engine] = web.AppKey("engine", Engine)
