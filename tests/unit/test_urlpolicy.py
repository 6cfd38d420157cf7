"""The outbound URL policy: link-local and metadata addresses refused by default, allow and deny
lists of CIDRs and names, checked on the addresses a name resolves to when connecting and again
on every redirect (against real local servers)."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import BaseTestServer, TestServer
from ampp.auth.urlpolicy import OutboundRefused, UrlPolicy, guard
from ampp.config.security import OutboundPolicy

pytestmark = pytest.mark.unit


def policy(**kw: object) -> UrlPolicy:
    return UrlPolicy.of(OutboundPolicy.model_validate(kw))


@pytest.mark.parametrize(
    ("address", "settings", "refused"),
    [
        ("169.254.169.254", {}, "link-local or cloud metadata"),
        ("::ffff:169.254.169.254", {}, "link-local or cloud metadata"),
        ("fd00:ec2::254", {}, "link-local or cloud metadata"),
        ("100.100.100.200", {}, "link-local or cloud metadata"),
        ("fe80::1", {}, "link-local or cloud metadata"),
        ("0.0.0.0", {}, "not a unicast address"),
        ("10.1.2.3", {}, None),
        ("127.0.0.1", {}, None),
        ("169.254.169.254", {"allow_link_local": True}, None),
        ("169.254.169.254", {"allow": ["169.254.169.254/32"]}, None),
        ("10.1.2.3", {"deny": ["10.0.0.0/8"]}, r"deny \(10\.0\.0\.0/8\)"),
        ("10.1.2.3", {"deny": ["10.0.0.0/8"], "allow": ["10.1.2.3"]}, r"deny \(10\.0\.0\.0/8\)"),
        ("192.0.2.7", {"default": "deny", "allow": ["192.0.2.0/24"]}, None),
        ("198.51.100.1", {"default": "deny", "allow": ["192.0.2.0/24"]}, "default: deny"),
    ],
)
def test_address_rules(address: str, settings: dict[str, object], refused: str | None) -> None:
    p = policy(**settings)
    if refused is None:
        p.check_address(address, ipaddress.ip_address(address))
    else:
        with pytest.raises(OutboundRefused, match=refused):
            p.check_address(address, ipaddress.ip_address(address))


def test_host_name_rules() -> None:
    p = policy(deny=["*.internal.example", "evil.example"], allow=["hooks.example"], default="deny")
    for host in ("db.internal.example", "EVIL.example.", "169.254.169.254"):
        with pytest.raises(OutboundRefused):
            p.check_host(host)
    p.check_host("hooks.example")  # a name: its addresses are checked when connecting
    p.check_address("hooks.example", ipaddress.ip_address("198.51.100.1"))


@pytest.fixture
async def servers() -> AsyncIterator[tuple[BaseTestServer, BaseTestServer]]:
    """An endpoint on 127.0.0.1 that redirects where it is told, and one on 127.0.0.2."""

    async def hop(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="reached")

    first = web.Application()
    first.router.add_get("/hop", hop)
    first.router.add_get("/ok", ok)
    second = web.Application()
    second.router.add_get("/ok", ok)
    async with TestServer(first, host="127.0.0.1") as a, TestServer(second, host="127.0.0.2") as b:
        yield a, b


async def test_checked_after_resolution_when_connecting_and_on_every_redirect(
    servers: tuple[BaseTestServer, BaseTestServer],
) -> None:
    a, b = servers
    deny_second = policy(deny=["127.0.0.2/32"])
    async with guard(httpx.AsyncClient(follow_redirects=True), deny_second) as client:
        assert (await client.get(f"http://127.0.0.1:{a.port}/ok")).text == "reached"
        with pytest.raises(OutboundRefused, match=r"127\.0\.0\.2: refused by security.outbound.deny"):
            await client.get(f"http://127.0.0.1:{a.port}/hop", params={"to": f"http://127.0.0.2:{b.port}/ok"})
    by_name = policy(deny=["evil.example"])
    async with guard(httpx.AsyncClient(follow_redirects=True), by_name) as client:
        with pytest.raises(OutboundRefused, match=r"evil\.example"):
            await client.get(f"http://127.0.0.1:{a.port}/hop", params={"to": "http://evil.example/ok"})
    # A name is judged by the addresses it resolves to: localhost is 127.0.0.1 (and ::1).
    loopback = policy(deny=["127.0.0.0/8", "::1/128"])
    async with guard(httpx.AsyncClient(), loopback) as client:
        with pytest.raises(OutboundRefused, match=r"localhost \((127\.0\.0\.1|::1)\): refused"):
            await client.get(f"http://localhost:{a.port}/ok")
    async with guard(httpx.AsyncClient(), policy()) as client:
        assert (await client.get(f"http://localhost:{a.port}/ok")).text == "reached"
