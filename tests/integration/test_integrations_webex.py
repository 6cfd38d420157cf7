"""Webex against a local stand-in of the messages API, and side by side with 0.25."""

from __future__ import annotations

import pytest
from ampp.notify.integrations.webex import WebexIntegration
from ampp.notify.stage import NotifyError

from tests.support.integrations import Compared, build_integration, ctx, integration_from_config
from tests.support.vendors import (
    FAR_FUTURE,
    RESOLVED_AT,
    ReferenceRun,
    Reply,
    VendorServer,
    api_alerts,
    same_request,
    to_alerts,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("built_integrations")]


def webex(receiver_yaml: str) -> WebexIntegration:
    return build_integration(WebexIntegration, receiver_yaml)


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


COMPARED = Compared(BASE)


@pytest.mark.parametrize("status", ["firing", "resolved"])
async def test_same_request_as_alertmanager(reference: ReferenceRun, status: str) -> None:
    w = integration_from_config(WebexIntegration, reference.config)
    reference.vendor.clear()
    await w.notify(ctx(), to_alerts(api_alerts(2, ends_at=FAR_FUTURE if status == "firing" else RESOLVED_AT)))
    theirs = (reference.firing if status == "firing" else reference.resolved)[0]
    same_request(reference.vendor.requests[0], theirs)
