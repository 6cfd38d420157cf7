"""check-config and serve agree: every mutation of the specification's config that one accepts
the other starts with, every one that one refuses the other refuses, and neither prints a
traceback. The mutations replace one engine setting with a value of another type or out of
range, drop it, or add a key nobody knows."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.test_config_yaml import EXAMPLE, SPEC_ENV
from tests.support.servers import ampp_command, free_port, stop

pytestmark = pytest.mark.integration

BASE: dict[str, Any] = yaml.safe_load(
    EXAMPLE.read_text().replace("type: postgresql  # or sqlite", "type: sqlite")
)
"""The specification's config on SQLite (PostgreSQL's reachability is no config question)."""
SECTIONS = [k for k in BASE if k != "alerting"]

VALUES = st.one_of(
    st.sampled_from(["", "x", "-1s", "0s", "1h", ":0", "localhost:1", "/p", "text", "warning", "10"]),
    st.integers(-3, 70000),
    st.booleans(),
    st.none(),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.sampled_from(["a", "host", "path"]), st.integers(0, 3), max_size=2),
)


def leaves(data: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in leaves(v, (*path, str(k)))] or [path]
    return [path]


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(yaml.safe_dump(BASE))
    paths = [p for s in SECTIONS for p in leaves(doc[s], (s,)) if p != ("server", "address")]
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent.setdefault(key, {}) if isinstance(parent, dict) else parent
        if not isinstance(parent, dict):
            continue
        action = draw(st.sampled_from(["replace", "replace", "drop", "unknown"]))
        if action == "replace":
            parent[path[-1]] = draw(VALUES)
        elif action == "drop":
            parent.pop(path[-1], None)
        else:
            parent["no_such_key"] = 1
    return doc


def env() -> dict[str, str]:
    return {**os.environ, **SPEC_ENV}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=mutated())
def test_check_config_and_serve_agree(tmp_path: Path, doc: dict[str, Any]) -> None:
    port = free_port()
    if isinstance(doc.get("server"), dict):  # where the test finds it (never mutated)
        doc["server"]["address"] = f"127.0.0.1:{port}"
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    checked = subprocess.run([sys.executable, "-m", "ampp", "check-config", str(path)],
                             capture_output=True, text=True, timeout=60, env=env())  # fmt: skip
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:  # no flag: serve runs the file as check-config reads it
        proc = subprocess.Popen([*ampp_command(), f"--config.file={path}"], stdout=log,
                                stderr=subprocess.STDOUT, env=env(), cwd=tmp_path)  # fmt: skip
    started = False
    try:
        for _ in range(300):
            if proc.poll() is not None:
                break
            try:
                if httpx.get(f"http://127.0.0.1:{port}/-/ready", timeout=0.5).status_code == 200:
                    started = True
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
    finally:
        stop(proc)
    out = log_path.read_text()
    text = checked.stdout + checked.stderr + out
    assert "Traceback" not in text, text
    assert (checked.returncode == 0) == started, (
        f"check-config {'accepts' if checked.returncode == 0 else 'refuses'}, serve "
        f"{'started' if started else 'did not start'}:\n{yaml.safe_dump(doc)}\n{text}"
    )
    if not started:
        assert "config.yaml" in out and "Loading configuration file failed" in out, out
