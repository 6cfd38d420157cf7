"""The doctor's findings and how they print: one line per check, its verdict first."""

from __future__ import annotations

import platform
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, TextIO

from .. import ALERTMANAGER_VERSION, __version__

Verdict = Literal["ok", "warn", "fail", "skip"]
LABELS: dict[Verdict, str] = {"ok": "OK", "warn": "WARN", "fail": "FAIL", "skip": "SKIP"}


@dataclass(frozen=True, slots=True)
class Check:
    """One finding: ``what`` was checked (``storage``, ``receiver team-a/slack[0]``), the verdict,
    and what was found or went wrong."""

    what: str
    verdict: Verdict
    detail: str


class Failed(Exception):
    """A failure already worded for the report (what was reached, and what went wrong)."""


Probe = Callable[[], Awaitable[str]]
"""A check's work: what it found, or an exception saying what is wrong."""


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)

    def add(self, what: str, verdict: Verdict, detail: str) -> Check:
        check = Check(what, verdict, detail)
        self.checks.append(check)
        return check

    @property
    def failed(self) -> bool:
        return any(c.verdict == "fail" for c in self.checks)

    def print(self, out: TextIO = sys.stdout) -> None:
        print(header(), file=out)
        width = max((len(c.what) for c in self.checks), default=0)
        for c in self.checks:
            print(f"{LABELS[c.verdict]:<4}  {c.what:<{width}}  {c.detail}", file=out)
        counts = {v: sum(c.verdict == v for c in self.checks) for v in LABELS}
        summary = ", ".join(f"{n} {LABELS[v].lower()}" for v, n in counts.items() if n)
        verdict = "some checks FAILED" if self.failed else "no check failed"
        print(f"{verdict} ({summary})", file=out)


def header() -> str:
    return (
        f"ampp doctor: ampp {__version__} (Alertmanager {ALERTMANAGER_VERSION} API), "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()} {platform.machine()}"
    )


def describe(e: BaseException) -> str:
    """An exception as one line a user can act on (never a traceback)."""
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    name = type(e).__name__
    if isinstance(e, OSError) and e.strerror:
        return f"{name}: {e.strerror}" + (f": {e.filename}" if e.filename else "")
    return f"{name}: {text}" if text else name
