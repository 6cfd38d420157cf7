"""What the per-vendor integration tests (tests/integration/test_integrations_*.py) share.

Each builds integrations from receiver YAML as the engine does (through the config loader),
notifies with the same flush context, points them at a stand-in (``vendor``), and compares
what they send with what Alertmanager 0.25 sends for the module's ``COMPARED`` receiver
(``reference``). tests/integration/conftest.py takes the fixtures in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import pytest
from ampp.config.loader import load_text
from ampp.model.timefmt import now_ns
from ampp.notify.stage import FlushContext
from ampp.notify.templates import Templates

from tests.support.prereq import REFERENCE
from tests.support.vendors import (
    EXTERNAL_URL,
    GROUP_KEY,
    GROUP_LABELS,
    ReferenceRun,
    Reply,
    VendorServer,
    capture_reference,
    reference_config,
)

RECEIVER = "team-a"


class _Built(Protocol):
    name: str

    def __init__(
        self, index: int, conf: Any, receiver: str, external_url: str, templates: Templates
    ) -> None: ...

    async def close(self) -> None: ...


B = TypeVar("B", bound=_Built)

_built: list[_Built] = []


def ctx() -> FlushContext:
    """The flush of the group ``api_alerts`` make, now."""
    return FlushContext(GROUP_KEY, dict(GROUP_LABELS), RECEIVER, 3600, now_ns())


def integration_from_config(cls: type[B], config: str) -> B:
    """The first ``cls.name`` integration of the config's first receiver, closed after the test
    (``built_integrations``)."""
    receiver = load_text(config).alerting.receivers[0]
    made = cls(0, getattr(receiver, f"{cls.name}_configs")[0], RECEIVER, EXTERNAL_URL, Templates.load([]))
    _built.append(made)
    return made


def build_integration(cls: type[B], receiver_yaml: str, global_yaml: str = "") -> B:
    """The same, from a receiver's YAML (and a ``global`` block) in reference_config."""
    return integration_from_config(cls, reference_config(receiver_yaml, global_yaml))


@dataclass(frozen=True)
class Compared:
    """The receiver a module compares with Alertmanager 0.25 (``COMPARED`` in the module):
    its YAML (``{url}`` is the stand-in's), how many requests a notification and a resolved one
    make, and stand-in answers the reference needs."""

    receiver_yaml: str
    per_notification: int = 1
    per_resolved: int | None = None
    replies: dict[str, Reply] = field(default_factory=dict)


# -- fixtures ---------------------------------------------------------------------------------
@pytest.fixture
async def built_integrations() -> AsyncIterator[None]:
    """Closes the integrations the test built (modules use it through pytestmark)."""
    yield
    while _built:
        await _built.pop().close()


@pytest.fixture
def vendor() -> Iterator[VendorServer]:
    """A stand-in for the vendor's API, for one test."""
    with VendorServer() as v:
        yield v


@pytest.fixture(scope="module")
def reference(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ReferenceRun]:
    """What Alertmanager 0.25 sent for the module's ``COMPARED`` receiver, firing then resolved."""
    REFERENCE.require()
    compared: Compared = request.module.COMPARED
    with VendorServer() as v:
        for path, reply in compared.replies.items():
            v.reply(path, reply)
        yield capture_reference(
            compared.receiver_yaml,
            tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]),
            v,
            per_notification=compared.per_notification,
            per_resolved=compared.per_resolved,
        )
