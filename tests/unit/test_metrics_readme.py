"""The README's metrics section lists exactly what a running engine exports on /metrics."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ampp.engine import Engine, EngineOptions
from ampp.store.sqlite.storage import SQLiteStorage
from prometheus_client import generate_latest

pytestmark = pytest.mark.unit

README = Path(__file__).resolve().parents[2] / "README.md"


def documented() -> set[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n### Metrics\n", 1)[1].split("\n#", 1)[0]
    return set(re.findall(r"`((?:alertmanager|ampp)_[a-z_]+)(?:\{[a-z_,]*\})?`", section))


async def test_readme_lists_every_exported_metric(tmp_path: Path) -> None:
    cfg = tmp_path / "alertmanager.yml"
    cfg.write_text("route: {receiver: r}\nreceivers: [{name: r}]\n", encoding="utf-8")
    engine = Engine(EngineOptions(config_file=str(cfg), storage=SQLiteStorage(str(tmp_path / "data"))))
    await engine.start()
    try:
        engine.update_gauges()
        text = generate_latest(engine.metrics.registry).decode()
    finally:
        await engine.stop()
    exported = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    assert len(exported) >= 17
    assert sorted(exported - documented()) == [], "exported but not in the README"
    assert sorted(documented() - exported) == [], "in the README but not exported"
