"""WeChat Work against a local stand-in of its API (token, then message), and side by side with 0.25."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from ampp.config.loader import load_text
from ampp.model.timefmt import now_ns
from ampp.notify.integrations.wechat import WechatIntegration
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

_made: list[WechatIntegration] = []


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


def wechat(receiver_yaml: str) -> WechatIntegration:
    cfg = load_text(reference_config(receiver_yaml))
    w = WechatIntegration(
        0, cfg.alerting.receivers[0].wechat_configs[0], "team-a", EXTERNAL_URL, Templates.load([])
    )
    _made.append(w)
    return w


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


COMPARED = """\
  wechat_configs:
  - api_url: '{url}/cgi-bin/'
    corp_id: wwcorp
    api_secret: c0rps3cret
    to_party: '2'
    agent_id: '1000002'
    send_resolved: true
"""


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceRun]:
    REFERENCE.require()
    with VendorServer() as v:
        # 0.25 reads {"code": 0} where WeChat says {"errcode": 0}: both keys keep it happy
        v.reply("/message/send", Reply(200, {"errcode": 0, "errmsg": "ok", "code": 0}))
        yield capture_reference(
            COMPARED, tmp_path_factory.mktemp("wechat-ref"), v, per_notification=2, per_resolved=1
        )


@pytest.mark.parametrize("status", ["firing", "resolved"])
async def test_same_requests_as_alertmanager(reference: ReferenceRun, status: str) -> None:
    conf = load_text(reference.config).alerting.receivers[0].wechat_configs[0]
    w = WechatIntegration(0, conf, "team-a", EXTERNAL_URL, Templates.load([]))
    _made.append(w)
    if status == "resolved":
        w._token, w._token_at = "W3CH4T", __import__("time").monotonic()  # fetched by the firing one
    reference.vendor.clear()
    await w.notify(ctx(), to_alerts(api_alerts(2, ends_at=FAR_FUTURE if status == "firing" else RESOLVED_AT)))
    theirs = reference.firing if status == "firing" else reference.resolved
    assert len(reference.vendor.requests) == len(theirs)
    for ours, their in zip(reference.vendor.requests, theirs, strict=True):
        same_request(ours, their, headers=("Content-Type",))
