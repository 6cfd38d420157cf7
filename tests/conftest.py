"""Shared pytest setup: make the engine and the test support package importable."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT / "engine", ROOT):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))
