"""The outbound URL policy (SSRF, OWASP A10): where the engine may connect.

Checked where it cannot be dodged: when a connection is opened, on the addresses the name
resolved to (the connection is then made to exactly that address, so DNS rebinding between a
check and a connect is not possible), and on every request, redirects included (names, and
literal addresses, also through a proxy). By default link-local addresses and the cloud
metadata endpoints are refused; ``security.outbound`` allows and denies CIDRs and host names.
A refusal is an OutboundRefused naming the target and the rule, which the sender turns into a
permanent failure (a dead letter), never a retry.
"""

from __future__ import annotations

import asyncio
import importlib
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ..config.security import OutboundPolicy

if TYPE_CHECKING:
    import httpcore
    import httpx

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Net = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA = tuple(
    ipaddress.ip_network(n)
    for n in (
        "169.254.0.0/16",  # link-local: AWS, GCP, Azure and OpenStack metadata at 169.254.169.254
        "fe80::/10",  # IPv6 link-local
        "fd00:ec2::254/128",  # AWS metadata over IPv6
        "100.100.100.200/32",  # Alibaba Cloud metadata
        "168.63.129.16/32",  # Azure WireServer
    )
)
"""Refused unless ``allow_link_local`` is set or ``allow`` names them."""


class OutboundRefused(Exception):
    """A connection the policy does not allow; the message names the target and the rule."""


def _normalize(ip: IP) -> IP:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # ::ffff:169.254.169.254 is 169.254.169.254
    return ip


@dataclass(frozen=True)
class UrlPolicy:
    allow_nets: tuple[Net, ...] = ()
    allow_hosts: tuple[str, ...] = ()
    deny_nets: tuple[Net, ...] = ()
    deny_hosts: tuple[str, ...] = ()
    default_deny: bool = False
    allow_link_local: bool = False

    @classmethod
    def of(cls, settings: OutboundPolicy) -> UrlPolicy:
        def split(entries: Iterable[str]) -> tuple[tuple[Net, ...], tuple[str, ...]]:
            nets: list[Net] = []
            hosts: list[str] = []
            for e in entries:
                try:
                    nets.append(ipaddress.ip_network(e, strict=False))
                except ValueError:
                    hosts.append(e.lower().rstrip("."))
            return tuple(nets), tuple(hosts)

        allow_nets, allow_hosts = split(settings.allow)
        deny_nets, deny_hosts = split(settings.deny)
        return cls(allow_nets, allow_hosts, deny_nets, deny_hosts, settings.default == "deny",
                   settings.allow_link_local)  # fmt: skip

    @staticmethod
    def _host_in(host: str, patterns: tuple[str, ...]) -> str | None:
        host = host.lower().rstrip(".")
        for p in patterns:
            if host == p or (p.startswith("*.") and host.endswith(p[1:])):
                return p
        return None

    def check_host(self, host: str) -> None:
        """The rules a name alone decides (deny by name); addresses are checked on connect."""
        hit = self._host_in(host, self.deny_hosts)
        if hit is not None:
            raise OutboundRefused(f"{host}: refused by security.outbound.deny ({hit})")
        try:
            ip = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return
        self.check_address(host, ip)

    def check_address(self, host: str, ip: IP) -> None:
        ip = _normalize(ip)
        where = host if host == str(ip) else f"{host} ({ip})"
        for net in self.deny_nets:
            if ip in net:
                raise OutboundRefused(f"{where}: refused by security.outbound.deny ({net})")
        if self._host_in(host, self.allow_hosts) or any(ip in net for net in self.allow_nets):
            return
        if not self.allow_link_local and any(ip in net for net in METADATA):
            raise OutboundRefused(f"{where}: a link-local or cloud metadata address (security.outbound)")
        if ip.is_unspecified or ip.is_multicast:
            raise OutboundRefused(f"{where}: not a unicast address")
        if self.default_deny:
            raise OutboundRefused(f"{where}: not in security.outbound.allow (default: deny)")

    def check_url(self, url: httpx.URL) -> None:
        """Every request, redirects included: the host's name rules, or a literal address."""
        self.check_host(url.host)


async def allowed_addresses(policy: UrlPolicy, host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to that the policy allows, in the resolver's order, for
    a client to connect to exactly those. OutboundRefused (the first refusal) when there is
    none; OSError when the name does not resolve."""
    policy.check_host(host)
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    allowed: list[str] = []
    refusal: OutboundRefused | None = None
    for *_, sockaddr in infos:
        address = str(sockaddr[0])
        try:
            policy.check_address(host, ipaddress.ip_address(address.split("%")[0]))
        except OutboundRefused as e:
            refusal = refusal or e
            continue
        if address not in allowed:
            allowed.append(address)
    if not allowed:
        raise refusal or OutboundRefused(f"{host}: no address")
    return allowed


async def connect_socket(policy: UrlPolicy, host: str, port: int, seconds: float | None) -> socket.socket:
    """A TCP socket connected to an allowed address of ``host``, for a client that takes a
    connected socket (the e-mail notifier's SMTP client): the check and the connect see the
    same address; each address gets ``seconds`` to answer."""
    loop = asyncio.get_running_loop()
    last: OSError | None = None
    for address in await allowed_addresses(policy, host, port):
        ip = ipaddress.ip_address(address.split("%")[0])
        sock = socket.socket(socket.AF_INET6 if ip.version == 6 else socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            async with asyncio.timeout(seconds):
                await loop.sock_connect(sock, (address, port))
        except (OSError, TimeoutError) as e:
            sock.close()
            last = e if isinstance(e, OSError) else OSError(f"dial tcp {address}:{port}: i/o timeout")
            continue
        except BaseException:
            sock.close()
            raise
        return sock
    assert last is not None
    raise last


class PolicyBackend:
    """httpcore's network backend (duck-typed: httpcore is imported only once a client is made;
    httpcore2 under the LLM SDKs' httpx2 has the same interface) with the policy applied to
    every TCP connection: the name is resolved here, each address checked, and the connection
    made to an allowed address."""

    def __init__(
        self, inner: httpcore.AsyncNetworkBackend, policy: UrlPolicy, connect_error: type[Exception]
    ) -> None:
        self.inner = inner
        self.policy = policy
        self.connect_error = connect_error
        """The inner library's ConnectError, which its client maps to its own."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            allowed = await allowed_addresses(self.policy, host, port)
        except OSError as e:
            raise self.connect_error(f"resolving {host}: {e}") from None
        last: Exception | None = None
        for address in allowed:
            try:
                return await self.inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except Exception as e:  # the next address, as a resolver-aware connect would
                last = e
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise OutboundRefused(f"unix socket {path}: not an outbound URL")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class Client(Protocol):
    """What guard() needs of an httpx client: httpx's own, or httpx2's (its fork, which the
    OpenAI and Anthropic SDKs send through)."""

    _transport: Any
    _mounts: dict[Any, Any]

    @property
    def event_hooks(self) -> dict[str, list[Any]]: ...


C = TypeVar("C", bound=Client)


def guard(client: C, policy: UrlPolicy) -> C:
    """Apply the policy to a client: at connect time (its transport's connection pool, direct or
    through a proxy) and before every request it sends, redirects included."""
    transports = [client._transport, *client._mounts.values()]
    for transport in transports:
        if transport is None:
            continue
        pool = getattr(transport, "_pool", None)
        inner = getattr(pool, "_network_backend", None)
        library = importlib.import_module(type(pool).__module__.split(".")[0])
        connect_error = getattr(library, "ConnectError", None)
        if inner is None or connect_error is None:  # the library changed: better not to send unchecked
            raise RuntimeError("cannot apply the outbound URL policy to this httpx transport")
        pool._network_backend = PolicyBackend(inner, policy, connect_error)  # type: ignore[union-attr]

    async def check(request: httpx.Request) -> None:
        policy.check_url(request.url)

    client.event_hooks["request"].append(check)
    return client
