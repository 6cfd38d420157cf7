"""Which proxy the one HTTP sender goes through: ``proxy_url``; the environment's proxy
variables only with ``proxy_from_environment`` (Go's common ignores them otherwise, and so
must a drop-in replacement: a Pod's HTTP_PROXY meant for something else must not capture
notifications)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ampp.config.httpclient import HTTPConfig
from ampp.notify.http import HTTPSender

from tests.support.capture import CaptureServer

pytestmark = pytest.mark.integration

UNRESOLVABLE = "http://hooks.proxy-test.invalid/hook"
"""Reachable only through a proxy."""


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[CaptureServer]:
    """A capture server named by the environment's proxy variables (it answers 200 to anything)."""
    server = CaptureServer().start()
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, server.url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    yield server
    server.stop()


async def send(config: dict[str, object] | None, url: str) -> int:
    sender = HTTPSender(HTTPConfig.model_validate(config) if config is not None else None, timeout=5)
    try:
        return (await sender.post(url, b"{}")).status_code
    finally:
        await sender.close()


@pytest.mark.parametrize("config", [None, {}])
async def test_the_environment_proxy_is_ignored_by_default(
    proxy: CaptureServer, config: dict[str, object] | None
) -> None:
    with CaptureServer() as direct:
        assert await send(config, f"{direct.url}/hook") == 200
        assert len(direct.requests) == 1
    assert proxy.requests == [], "went through the environment's proxy without proxy_from_environment"


async def test_proxy_from_environment_takes_it(proxy: CaptureServer) -> None:
    assert await send({"proxy_from_environment": True}, UNRESOLVABLE) == 200
    assert [r.path for r in proxy.requests] == [UNRESOLVABLE], "not sent through the environment's proxy"


async def test_proxy_url_wins(proxy: CaptureServer) -> None:
    with CaptureServer() as configured:
        assert await send({"proxy_url": configured.url}, UNRESOLVABLE) == 200
        assert [r.path for r in configured.requests] == [UNRESOLVABLE]
    assert proxy.requests == []
