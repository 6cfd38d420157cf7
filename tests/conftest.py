"""Shared pytest setup: make the engine and the test support package importable, and take in
the hooks that fail skips under CI and tests outside the tiers (tests/support/prereq.py)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT / "engine", ROOT):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from tests.support.prereq import (  # noqa: E402
    pytest_collection_modifyitems,
    pytest_make_collect_report,
    pytest_runtest_makereport,
)

__all__ = ["pytest_collection_modifyitems", "pytest_make_collect_report", "pytest_runtest_makereport"]
