"""What the test tiers need from the machine, and what a test does when it is missing.

A test whose prerequisite is missing skips with a reason that says what is missing and how to
install it, so that a developer can run one file without the whole stack. Under CI (``CI`` set
and not "false"/"0": `make test` exports it, as CI services do) nothing may skip: the hooks
below, which tests/conftest.py and e2e/conftest.py take in, turn every skip into a failure with
the same reason, so a missing PostgreSQL or Alertmanager cannot pass as a green run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path

import pytest

CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")

INSTALL = "scripts/install-deps.sh installs all the Debian packages the tests use (root and apt needed)"
GO_SRC = Path("/usr/share/gocode/src")
GO_1_19 = "/usr/lib/go-1.19/bin/go"
"""Debian's Go 1.19 (golang-1.19-go), which builds Go programs against Debian's Go sources."""


@dataclass(frozen=True)
class Prerequisite:
    """Something a test needs from the machine: what it is, how to install it, whether it is here."""

    what: str
    install: str
    present: Callable[[], bool]

    @property
    def reason(self) -> str:
        return f"{self.what} is missing: {self.install}"

    def require(self) -> None:
        """Skip the calling test (a failure under CI) unless the prerequisite is there."""
        if not self.present():
            pytest.skip(self.reason)

    def mark(self) -> pytest.MarkDecorator:
        """The same as a mark, for a test, a parameter or a module's ``pytestmark``."""
        return pytest.mark.skipif(not self.present(), reason=self.reason)


def _executable(*paths: str) -> Callable[[], bool]:
    return lambda: all(os.access(p, os.X_OK) for p in paths)


def _dirs(*paths: Path) -> Callable[[], bool]:
    return lambda: all(p.is_dir() for p in paths)


REFERENCE = Prerequisite(
    "Debian's Alertmanager 0.25 and amtool (/usr/bin/prometheus-alertmanager, /usr/bin/amtool)",
    f"apt-get install prometheus-alertmanager ({INSTALL})",
    _executable("/usr/bin/prometheus-alertmanager", "/usr/bin/amtool"),
)
ALERTMANAGER_SOURCES = Prerequisite(
    f"Alertmanager 0.25's Go sources ({GO_SRC}/github.com/prometheus/alertmanager)",
    f"apt-get install golang-github-prometheus-alertmanager-dev ({INSTALL})",
    _dirs(GO_SRC / "github.com/prometheus/alertmanager/template"),
)
GO = Prerequisite(
    f"Debian's Go 1.19 ({GO_1_19})",
    f"apt-get install golang-1.19-go ({INSTALL})",
    _executable(GO_1_19),
)
AWS_SDK_GO = Prerequisite(
    f"aws-sdk-go's Go sources ({GO_SRC}/github.com/aws/aws-sdk-go)",
    f"apt-get install golang-github-aws-aws-sdk-go-dev ({INSTALL})",
    _dirs(GO_SRC / "github.com/aws/aws-sdk-go/aws/signer/v4"),
)
SERVICES_INSTALL = (
    "scripts/services.sh start runs both (it needs apt-get install postgresql redis-server; "
    f"{INSTALL}), or set AMPP_TEST_PG_URL and AMPP_TEST_REDIS_URL to running ones"
)


# -- the hooks (imported by tests/conftest.py and e2e/conftest.py) ---------------------------
TIERS = ("unit", "integration", "e2e", "browser")


def _fail_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    if CI and report.skipped and not hasattr(report, "wasxfail"):
        longrepr = report.longrepr
        reason = (longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)).removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = f"CI={os.environ['CI']} allows no skipped test; this one would skip: {reason}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Under CI a skipped test fails, with the skip's reason."""
    report = yield
    _fail_skip(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """Under CI a module that skips as a whole fails to collect, with the skip's reason."""
    report = yield
    _fail_skip(report)
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test belongs to a tier, or `make test` (which selects the tiers) never runs it."""
    untiered = [i.nodeid for i in items if not any(i.get_closest_marker(t) for t in TIERS)]
    if untiered:
        shown = "\n  ".join(untiered[:20])
        raise pytest.UsageError(
            f"{len(untiered)} tests carry none of the tier marks {TIERS} (set pytestmark):\n  {shown}"
        )
