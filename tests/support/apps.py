"""The engine's aiohttp application, built in-process on a config of one receiver."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def build_app(tmp_path: Path, route_prefix: str = "/") -> Any:
    from ampp.api.app import ApiSettings, create_app
    from ampp.engine import Engine, EngineOptions
    from ampp.store.sqlite.storage import SQLiteStorage

    cfg = tmp_path / "alertmanager.yml"
    cfg.write_text("route:\n  receiver: default\nreceivers:\n  - name: default\n", encoding="utf-8")
    engine = Engine(EngineOptions(config_file=str(cfg), storage=SQLiteStorage(str(tmp_path))))
    return create_app(engine, ApiSettings(route_prefix=route_prefix, cluster_address=""))
