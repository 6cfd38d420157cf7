"""Webex against a local stand-in of the messages API, and side by side with 0.25."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from ampp.config.loader import load_text
from ampp.model.timefmt import now_ns
from ampp.notify.integrations.webex import WebexIntegration
from ampp.notify.stage import FlushContext, NotifyError
from ampp.notify.templates import Templates

from tests.support.prereq import REFERENCE
from tests.support.vendors import (
    EXTERNAL_URL,
    FAR_FUTURE,
    GROUP_KEY,
    GROUP_LABELS,
    RESOLVED_AT,
    ReferenceRun,
    Reply,
    VendorServer,
    api_alerts,
    capture_reference,
    reference_config,
    same_request,
    to_alerts,
)

pytestmark = pytest.mark.integration

_made: list[WebexIntegration] = []


@pytest.fixture(autouse=True)
async def _close_integrations() -> AsyncIterator[None]:
    yield
    while _made:
        await _made.pop().close()


@pytest.fixture
def vendor() -> Iterator[VendorServer]:
    with VendorServer() as v:
        yield v


def ctx() -> FlushContext:
    return FlushContext(GROUP_KEY, dict(GROUP_LABELS), "team-a", 3600, now_ns())


def webex(receiver_yaml: str) -> WebexIntegration:
    cfg = load_text(reference_config(receiver_yaml))
    w = WebexIntegration(
        0, cfg.alerting.receivers[0].webex_configs[0], "team-a", EXTERNAL_URL, Templates.load([])
    )
    _made.append(w)
    return w


BASE = """\
  webex_configs:
  - api_url: '{url}/v1/messages'
    room_id: Y2lzY29zcGFyazovL3VzL1JPT00v
    http_config:
      authorization:
        credentials: b0tt0k3n
"""


async def test_markdown_to_the_room_with_the_bot_token(vendor: VendorServer) -> None:
    w = webex(BASE.replace("{url}", vendor.url) + "    message: '**Disk** full'\n")
    await w.notify(ctx(), to_alerts(api_alerts(1)))
    (req,) = vendor.requests
    assert req.path == "/v1/messages" and req.headers["Authorization"] == "Bearer b0tt0k3n"
    assert req.body == b'{"markdown":"**Disk** full","roomId":"Y2lzY29zcGFyazovL3VzL1JPT00v"}\n'


async def test_message_is_cut_at_7439_bytes(vendor: VendorServer) -> None:
    w = webex(BASE.replace("{url}", vendor.url) + "    message: '" + "\u00e9" * 4000 + "'\n")
    await w.notify(ctx(), to_alerts(api_alerts(1)))
    md = vendor.requests[0].json()["markdown"]
    assert len(md.encode()) <= 7439 and md.endswith("\u2026") and md[:-1] == "\u00e9" * 3718


async def test_failures(vendor: VendorServer) -> None:
    w = webex(BASE.replace("{url}", vendor.url) + "    message: x\n")
    vendor.reply(
        "/v1/messages",
        Reply(
            401,
            {"message": "The request requires a valid access token set in the Authorization request header."},
        ),
    )
    with pytest.raises(NotifyError) as e:
        await w.notify(ctx(), to_alerts(api_alerts(1)))
    assert not e.value.retry and "valid access token" in str(e.value)
    vendor.reply("/v1/messages", Reply(503))
    with pytest.raises(NotifyError) as e:
        await w.notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceRun]:
    REFERENCE.require()
    with VendorServer() as v:
        yield capture_reference(BASE, tmp_path_factory.mktemp("webex-ref"), v)


@pytest.mark.parametrize("status", ["firing", "resolved"])
async def test_same_request_as_alertmanager(reference: ReferenceRun, status: str) -> None:
    conf = load_text(reference.config).alerting.receivers[0].webex_configs[0]
    w = WebexIntegration(0, conf, "team-a", EXTERNAL_URL, Templates.load([]))
    _made.append(w)
    reference.vendor.clear()
    await w.notify(ctx(), to_alerts(api_alerts(2, ends_at=FAR_FUTURE if status == "firing" else RESOLVED_AT)))
    theirs = (reference.firing if status == "firing" else reference.resolved)[0]
    same_request(reference.vendor.requests[0], theirs)
