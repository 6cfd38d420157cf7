"""Can this machine reach an endpoint: its name resolved (DNS), a TCP connection, and the TLS
handshake the engine would make (same trust store, client certificate and server name).

Nothing is sent beyond the handshake, so a probe notifies no one. Each step's failure names the
step, since "connection refused" and "certificate expired" call for different fixes.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..auth.urlpolicy import OutboundRefused, UrlPolicy


class Unreachable(Exception):
    """A probe failed: ``step`` is dns, connect or tls."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a probe goes: host, port, and TLS (a context, and the name the certificate must hold)."""

    host: str
    port: int
    tls: ssl.SSLContext | None = None
    server_name: str | None = None
    scheme: str = "tcp"
    """How the report names it (``https``, ``smtp``, ``grpc``); only ``tls`` decides the handshake."""

    @classmethod
    def of_url(cls, url: str, tls: ssl.SSLContext | None = None, server_name: str | None = None) -> Endpoint:
        """An http(s) URL's endpoint; https gets ``tls`` (the system's trust store by default)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {parts.scheme}://{parts.hostname or ''}")
        secure = parts.scheme == "https"
        port = parts.port or (443 if secure else 80)
        context = (tls or ssl.create_default_context()) if secure else None
        return cls(parts.hostname, port, context, server_name, parts.scheme)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


async def reach(endpoint: Endpoint, limit_s: float, policy: UrlPolicy | None = None) -> str:
    """Resolve, connect and (for TLS) shake hands within ``limit_s`` seconds in all; what was
    found, or :class:`Unreachable`. With ``policy`` (``security.outbound``), a name or address
    the engine would refuse is refused here too (step ``policy``)."""
    try:
        async with asyncio.timeout(limit_s):
            return await _reach(endpoint, policy)
    except TimeoutError:
        raise Unreachable("timeout", f"no answer within {limit_s:g}s") from None


async def _reach(e: Endpoint, policy: UrlPolicy | None) -> str:
    loop = asyncio.get_running_loop()
    try:
        if policy is not None:
            policy.check_host(e.host)
        infos = await loop.getaddrinfo(e.host, e.port, type=socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if policy is not None:  # each address, as the engine checks them when it connects
            for address in addresses:
                policy.check_address(e.host, ipaddress.ip_address(address.split("%")[0]))
    except socket.gaierror as err:
        raise Unreachable("dns", f"{e.host}: {err.strerror}") from None
    except OutboundRefused as err:
        raise Unreachable("policy", str(err)) from None
    errors = []
    for address in addresses:  # as a client would: the next address when one refuses
        try:
            _, writer = await asyncio.open_connection(address, e.port)
        except OSError as err:
            errors.append(f"{address}: {err.strerror or err}")
            continue
        try:
            if e.tls is None:
                return f"{e.host} is {', '.join(addresses)}; connected to {address}:{e.port}"
            return f"{e.host} is {', '.join(addresses)}; {await _handshake(writer, e)}"
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except (OSError, ssl.SSLError):
                pass
    raise Unreachable("connect", "; ".join(errors))


async def _handshake(writer: asyncio.StreamWriter, e: Endpoint) -> str:
    assert e.tls is not None
    name = e.server_name or e.host
    try:
        await writer.start_tls(e.tls, server_hostname=name)
    except ssl.SSLCertVerificationError as err:
        raise Unreachable("tls", err.verify_message or str(err)) from None
    except (ssl.SSLError, ConnectionError) as err:
        raise Unreachable("tls", str(err)) from None
    tls = writer.get_extra_info("ssl_object")
    version = tls.version() if isinstance(tls, ssl.SSLObject) else "?"
    cert = writer.get_extra_info("peercert") or {}
    until = f", certificate valid until {cert['notAfter']}" if "notAfter" in cert else ""
    return f"{version} with {name}{until}"
