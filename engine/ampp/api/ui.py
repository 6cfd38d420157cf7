"""The dashboard: ``index.html`` at the route prefix, its files under ``ui/``.

The files are the sources themselves (ES modules and CSS, no build step), so `make run` serves
them with nothing but Python. They are read and gzipped once, in a thread, on the first request,
and served with an ETag: a browser revalidates each load and gets a 304 until they change. Every
URL in them is relative, so the same files work under any --web.route-prefix or proxy path.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from ..auth.roles import Role
from .access import requires

ROOT = Path(__file__).with_name("ui")
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)
"""The page's Content-Security-Policy: nothing from another origin, no inline script."""


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    gzipped: bytes
    content_type: str
    etag: str


def load_assets(root: Path = ROOT) -> dict[str, Asset]:
    """Every file under ``root`` by its relative path (only these are served: no traversal)."""
    out: dict[str, Asset] = {}
    for path in sorted(root.rglob("*")):
        content_type = TYPES.get(path.suffix)
        if content_type is None or not path.is_file():
            continue
        body = path.read_bytes()
        digest = hashlib.sha256(body).hexdigest()[:20]
        out[path.relative_to(root).as_posix()] = Asset(
            body, gzip.compress(body, 9, mtime=0), content_type, f'"{digest}"'
        )
    return out


class Assets:
    """The dashboard's files, loaded once in a thread (no file reads on the event loop)."""

    def __init__(self, root: Path = ROOT) -> None:
        self.root = root
        self._loaded: asyncio.Task[dict[str, Asset]] | None = None

    async def get(self, name: str) -> Asset | None:
        if self._loaded is None:
            self._loaded = asyncio.ensure_future(asyncio.to_thread(load_assets, self.root))
        return (await asyncio.shield(self._loaded)).get(name)


ASSETS: web.AppKey[Assets] = web.AppKey("ui_assets", Assets)


def _serve(request: web.Request, asset: Asset) -> web.Response:
    headers = {"ETag": asset.etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if asset.content_type.startswith("text/html"):
        headers["Content-Security-Policy"] = POLICY
        headers["X-Content-Type-Options"] = "nosniff"
    if asset.etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    body = asset.body
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        body = asset.gzipped
        headers["Content-Encoding"] = "gzip"
    headers["Content-Type"] = asset.content_type
    return web.Response(body=body, headers=headers)


@requires(Role.ANONYMOUS)  # the page and its files hold no data: a login needs them
async def index(request: web.Request) -> web.Response:
    asset = await request.app[ASSETS].get("index.html")
    if asset is None:
        raise web.HTTPNotFound(text="the dashboard's files are missing from this installation")
    return _serve(request, asset)


@requires(Role.ANONYMOUS)
async def static(request: web.Request) -> web.Response:
    asset = await request.app[ASSETS].get(request.match_info["path"])
    if asset is None:
        raise web.HTTPNotFound(text=f"no such file: ui/{request.match_info['path']}")
    return _serve(request, asset)


def add_routes(app: web.Application, prefix: str) -> None:
    app[ASSETS] = Assets()
    app.router.add_get(f"{prefix}/", index)
    app.router.add_get(f"{prefix}/ui/{{path:.+}}", static)
