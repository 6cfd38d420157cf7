"""An engine with an ``auth:`` section, served in-process, and the credentials of each role."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import bcrypt
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

KEYS = {
    "viewer": "ampp_viewer-key-0123456789abcdef",
    "operator": "ampp_operator-key-0123456789abcdef",
    "admin": "ampp_admin-key-0123456789abcdef",
}
"""Static API keys of the config below, one per role."""
PASSWORD = "correct horse battery staple"


def hashed(password: str = PASSWORD) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()


def config_yaml(auth: str = "", security: str = "") -> str:
    """A config.yaml with one receiver, ``auth:`` (indented body) and ``security:`` sections."""
    keys = "".join(f"    - {{name: {role}-key, role: {role}, key: {key}}}\n" for role, key in KEYS.items())
    return (
        "alerting:\n  route: {receiver: default, group_wait: 1h}\n  receivers: [{name: default}]\n"
        f"auth:\n  api_keys:\n{keys}{auth}" + (f"security:\n{security}" if security else "")
    )


@contextlib.asynccontextmanager
async def serve(
    tmp_path: Path, text: str, route_prefix: str = "/", **options: Any
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """The engine started on ``text`` (config.yaml) and its API on a local port."""
    from ampp.api.app import ApiSettings, create_app
    from ampp.engine import Engine, EngineOptions
    from ampp.store.sqlite.storage import SQLiteStorage

    cfg = tmp_path / "config.yaml"
    await asyncio.to_thread(_write, cfg, text)
    engine = Engine(
        EngineOptions(config_file=str(cfg), storage=SQLiteStorage(str(tmp_path / "data")), **options)
    )
    await engine.start()
    try:
        app = create_app(engine, ApiSettings(route_prefix=route_prefix, cluster_address=""))
        async with TestClient(TestServer(app)) as client:
            yield client
    finally:
        await engine.stop()


def window_margin(period: float, need: float, fresh: bool = False) -> float:
    """Seconds to sleep so that ``need`` seconds fit in what is left of the current fixed
    window of ``period`` (the in-process rate limits align their windows on the clock); with
    ``fresh``, until the next window starts whatever is left."""
    left = period - time.time() % period
    return 0.0 if left >= need and not fresh else left + 0.01


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def key_headers(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[role]}"} if role in KEYS else {}
