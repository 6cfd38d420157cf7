"""WeChat Work against a local stand-in of its API (token, then message), and side by side with 0.25."""

from __future__ import annotations

import pytest
from ampp.notify.integrations.wechat import WechatIntegration
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


def wechat(receiver_yaml: str) -> WechatIntegration:
    return build_integration(WechatIntegration, receiver_yaml)


BASE = """\
  wechat_configs:
  - api_url: '{url}/cgi-bin/'
    corp_id: wwcorp
    api_secret: c0rps3cret
    to_user: '@all'
    agent_id: '1000002'
    message: 'Disk <full>'
"""


async def test_token_then_message(vendor: VendorServer) -> None:
    w = wechat(BASE.replace("{url}", vendor.url))
    await w.notify(ctx(), to_alerts(api_alerts(1)))
    await w.notify(ctx(), to_alerts(api_alerts(1)))
    token, first, second = vendor.requests  # the token is fetched once and kept
    assert (token.method, token.path) == ("GET", "/cgi-bin/gettoken")
    assert token.query == {"corpid": ["wwcorp"], "corpsecret": ["c0rps3cret"]}
    assert (first.method, first.path, first.query) == (
        "POST",
        "/cgi-bin/message/send",
        {"access_token": ["W3CH4T"]},
    )
    # Go writes both content structs, the unused one empty
    assert first.body == (
        b'{"text":{"content":"Disk \\u003cfull\\u003e"},"touser":"@all","agentid":"1000002","safe":"0",'
        b'"msgtype":"text","markdown":{"content":""}}\n'
    )
    assert second.path == "/cgi-bin/message/send"


async def test_markdown(vendor: VendorServer) -> None:
    w = wechat(BASE.replace("{url}", vendor.url) + "    message_type: markdown\n")
    await w.notify(ctx(), to_alerts(api_alerts(1)))
    body = vendor.requests[1].json()
    assert body["msgtype"] == "markdown" and body["markdown"] == {"content": "Disk <full>"}
    assert body["text"] == {"content": ""}


async def test_expired_token_is_dropped_and_retried(vendor: VendorServer) -> None:
    w = wechat(BASE.replace("{url}", vendor.url))
    vendor.script("/message/send", Reply(200, {"errcode": 42001, "errmsg": "access_token expired"}))
    with pytest.raises(NotifyError) as e:
        await w.notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry and str(e.value) == "access_token expired"
    await w.notify(ctx(), to_alerts(api_alerts(1)))
    assert [r.path for r in vendor.requests] == [
        "/cgi-bin/gettoken",
        "/cgi-bin/message/send",
        "/cgi-bin/gettoken",
        "/cgi-bin/message/send",
    ]


async def test_errors(vendor: VendorServer) -> None:
    w = wechat(BASE.replace("{url}", vendor.url))
    vendor.reply(
        "/message/send", Reply(200, {"errcode": 60020, "errmsg": "not allow to access from your ip"})
    )
    with pytest.raises(NotifyError) as e:
        await w.notify(ctx(), to_alerts(api_alerts(1)))
    assert not e.value.retry and "not allow" in str(e.value)
    vendor.reply("/message/send", Reply(502, "bad gateway"))
    with pytest.raises(NotifyError) as e:
        await w.notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry and str(e.value) == "unexpected status code 502"
    bad = wechat(BASE.replace("{url}", vendor.url).replace("c0rps3cret", "wrong"))
    vendor.reply("/gettoken", Reply(200, {"errcode": 40001, "errmsg": "invalid credential"}))
    with pytest.raises(NotifyError) as e:
        await bad.notify(ctx(), to_alerts(api_alerts(1)))
    assert not e.value.retry and str(e.value) == "invalid APISecret for CorpID: wwcorp"


COMPARED = Compared(
    """\
  wechat_configs:
  - api_url: '{url}/cgi-bin/'
    corp_id: wwcorp
    api_secret: c0rps3cret
    to_party: '2'
    agent_id: '1000002'
    send_resolved: true
""",
    per_notification=2,
    per_resolved=1,
    # 0.25 reads {"code": 0} where WeChat says {"errcode": 0}: both keys keep it happy
    replies={"/message/send": Reply(200, {"errcode": 0, "errmsg": "ok", "code": 0})},
)


@pytest.mark.parametrize("status", ["firing", "resolved"])
async def test_same_requests_as_alertmanager(reference: ReferenceRun, status: str) -> None:
    w = integration_from_config(WechatIntegration, reference.config)
    if status == "resolved":
        w._token, w._token_at = "W3CH4T", __import__("time").monotonic()  # fetched by the firing one
    reference.vendor.clear()
    await w.notify(ctx(), to_alerts(api_alerts(2, ends_at=FAR_FUTURE if status == "firing" else RESOLVED_AT)))
    theirs = reference.firing if status == "firing" else reference.resolved
    assert len(reference.vendor.requests) == len(theirs)
    for ours, their in zip(reference.vendor.requests, theirs, strict=True):
        same_request(ours, their, headers=("Content-Type",))
