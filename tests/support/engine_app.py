"""A started engine and its HTTP app on a config of one's own, for in-process API tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer


@contextlib.asynccontextmanager
async def engine_client(tmp_path: Path, config_yaml: str) -> AsyncIterator[tuple[Any, TestClient[Any, Any]]]:
    """(engine, client) for ``config_yaml`` (alertmanager.yml or config.yaml), SQLite storage."""
    from ampp.api.app import ApiSettings, create_app
    from ampp.engine import Engine, EngineOptions
    from ampp.store.sqlite.storage import SQLiteStorage

    cfg = tmp_path / "config.yml"
    cfg.write_text(config_yaml, encoding="utf-8")
    (tmp_path / "data").mkdir(exist_ok=True)
    engine = Engine(EngineOptions(config_file=str(cfg), storage=SQLiteStorage(str(tmp_path / "data"))))
    await engine.start()
    try:
        app = create_app(engine, ApiSettings(route_prefix="/", cluster_address=""))
        async with TestClient(TestServer(app)) as client:
            yield engine, client
    finally:
        await engine.stop()
