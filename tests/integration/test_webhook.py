"""The webhook integration against a local HTTP(S) endpoint: payload, auth, TLS, timeouts, retries."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from ampp.config.notifiers import WebhookConfig
from ampp.model.alert import Alert
from ampp.model.timefmt import NS, ZERO, now_ns
from ampp.notify.integrations.webhook import WebhookIntegration
from ampp.notify.stage import FlushContext, NotifyError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

pytestmark = pytest.mark.integration


class Endpoint:
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        self.delay = 0.0
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.read()))
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.Response(status=self.status, text="nope" if self.status >= 400 else "ok")


def make_cert(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("hooks.test"), x509.DNSName("localhost")]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


async def serve(endpoint: Endpoint, tls: ssl.SSLContext | None = None) -> web.AppRunner:
    app = web.Application()
    app.router.add_post("/hook", endpoint.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    await site.start()
    port = runner.addresses[0][1]
    endpoint.url = f"{'https' if tls else 'http'}://localhost:{port}/hook"
    return runner


@pytest.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    e = Endpoint()
    runner = await serve(e)
    yield e
    await runner.cleanup()


def ctx() -> FlushContext:
    return FlushContext('{}/{team="a"}:{alertname="Disk"}', {"alertname": "Disk"}, "team-a", 3600, now_ns())


def alerts(n: int = 1) -> list[Alert]:
    start = 1_700_000_000 * NS + 123_456_789
    return [
        Alert(
            {"alertname": "Disk", "instance": f"i{i}"},
            {"summary": "<full>"},
            start,
            ZERO,
            "http://prom/graph",
            start,
        )
        for i in range(n)
    ]


def integration(conf: dict[str, Any]) -> WebhookIntegration:
    return WebhookIntegration(0, WebhookConfig.model_validate(conf), "team-a", "http://am.example:9093", None)


async def test_payload_is_alertmanagers_version_4(endpoint: Endpoint) -> None:
    wh = integration({"url": endpoint.url, "max_alerts": 2})
    await wh.notify(ctx(), alerts(3))
    await wh.close()
    headers, body = endpoint.requests[0]
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("Alertmanager/")
    assert body.endswith(b"\n") and b"\\u003cfull\\u003e" in body  # Go's HTML-safe JSON
    msg = orjson.loads(body)
    assert msg["version"] == "4" and msg["truncatedAlerts"] == 1 and len(msg["alerts"]) == 2
    assert msg["groupKey"] == '{}/{team="a"}:{alertname="Disk"}'
    assert msg["receiver"] == "team-a" and msg["status"] == "firing"
    assert msg["externalURL"] == "http://am.example:9093"
    assert msg["commonLabels"] == {"alertname": "Disk"} and msg["groupLabels"] == {"alertname": "Disk"}
    first = msg["alerts"][0]
    assert first["startsAt"] == "2023-11-14T22:13:20.123456789Z" and first["endsAt"] == "0001-01-01T00:00:00Z"
    assert first["fingerprint"] == f"{alerts()[0].fingerprint:016x}"
    assert list(msg) == [
        "receiver",
        "status",
        "alerts",
        "groupLabels",
        "commonLabels",
        "commonAnnotations",
        "externalURL",
        "version",
        "groupKey",
        "truncatedAlerts",
    ]


@pytest.mark.parametrize(
    ("http_config", "expected"),
    [
        ({"basic_auth": {"username": "u", "password": "p"}}, "Basic dTpw"),
        ({"authorization": {"credentials": "tok"}}, "Bearer tok"),
        ({"authorization": {"type": "Token", "credentials": "tok"}}, "Token tok"),
        ({"bearer_token": "b"}, "Bearer b"),
    ],
)
async def test_http_config_auth(endpoint: Endpoint, http_config: dict[str, Any], expected: str) -> None:
    wh = integration({"url": endpoint.url, "http_config": http_config})
    await wh.notify(ctx(), alerts())
    await wh.close()
    assert endpoint.requests[0][0]["Authorization"] == expected


async def test_credentials_file_is_read_at_send_time(endpoint: Endpoint, tmp_path: Path) -> None:
    f = tmp_path / "token"
    f.write_text("first\n")
    wh = integration({"url": endpoint.url, "http_config": {"authorization": {"credentials_file": str(f)}}})
    await wh.notify(ctx(), alerts())
    f.write_text("rotated")
    await wh.notify(ctx(), alerts())
    await wh.close()
    assert [h["Authorization"] for h, _ in endpoint.requests] == ["Bearer first", "Bearer rotated"]


async def test_status_codes_decide_retry(endpoint: Endpoint) -> None:
    wh = integration({"url": endpoint.url})
    endpoint.status = 503
    with pytest.raises(NotifyError) as e:
        await wh.notify(ctx(), alerts())
    assert e.value.retry and "unexpected status code 503" in str(e.value)
    endpoint.status = 400
    with pytest.raises(NotifyError) as e:
        await wh.notify(ctx(), alerts())
    assert not e.value.retry and "unexpected status code 400: nope" in str(e.value)
    await wh.close()


async def test_timeout_is_a_retryable_failure(endpoint: Endpoint) -> None:
    endpoint.delay = 2
    wh = integration({"url": endpoint.url, "timeout": "200ms"})
    with pytest.raises(NotifyError) as e:
        await wh.notify(ctx(), alerts())
    await wh.close()
    assert e.value.retry
    # the URL may carry a credential: errors never show it
    assert 'Post "<redacted>"' in str(e.value) and endpoint.url not in str(e.value)


async def test_http_headers_are_sent(endpoint: Endpoint, tmp_path: Path) -> None:
    """http_config's http_headers: plain values, secrets and files (read at each request, so a
    rotated file applies to the next one), several values in one field."""
    token = tmp_path / "token"
    token.write_text("from-a-file\n")
    wh = integration({
        "url": endpoint.url,
        "http_config": {"http_headers": {
            "X-Scope-OrgID": {"values": ["team-a", "team-b"]},
            "X-Api-Token": {"secrets": ["s3cret"]},
            "X-File-Token": {"files": [str(token)]},
        }},
    })  # fmt: skip
    await wh.notify(ctx(), alerts())
    token.write_text("rotated\n")
    await wh.notify(ctx(), alerts())
    await wh.close()
    (first, _), (second, _) = endpoint.requests
    assert (first["X-Scope-OrgID"], first["X-Api-Token"], first["X-File-Token"]) == (
        "team-a, team-b",
        "s3cret",
        "from-a-file",
    )
    assert second["X-File-Token"] == "rotated"
    assert first["Content-Type"] == "application/json"


async def test_tls_client_certificate_inline_or_from_files(tmp_path: Path) -> None:
    """A server that requires a client certificate: given as files or inline (``cert`` and
    ``key``, as a Receiver resource passes them from a Secret), the certificate is presented;
    without one the handshake fails."""
    (tmp_path / "server").mkdir()
    (tmp_path / "client").mkdir()
    server_cert, server_key = make_cert(tmp_path / "server")
    client_cert, client_key = make_cert(tmp_path / "client")
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(client_cert))
    tls.load_cert_chain(server_cert, server_key)
    tls.verify_mode = ssl.CERT_REQUIRED
    e = Endpoint()
    runner = await serve(e, tls)
    ca = server_cert.read_text()
    try:
        sent = [
            integration({"url": e.url, "http_config": {"tls_config": conf}})
            for conf in (
                {"ca": ca, "cert": client_cert.read_text(), "key": client_key.read_text()},
                {"ca": ca, "cert_file": str(client_cert), "key_file": str(client_key)},
                {"ca": ca, "cert": client_cert.read_text(), "key_file": str(client_key)},
            )
        ]
        for wh in sent:
            await wh.notify(ctx(), alerts())
        assert len(e.requests) == len(sent)
        without = integration({"url": e.url, "http_config": {"tls_config": {"ca": ca}}})
        with pytest.raises(NotifyError):
            await without.notify(ctx(), alerts())
        assert len(e.requests) == len(sent)
        for wh in [*sent, without]:
            await wh.close()
    finally:
        await runner.cleanup()


async def test_tls_with_ca_and_insecure_skip_verify(tmp_path: Path) -> None:
    cert, key = make_cert(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    e = Endpoint()
    runner = await serve(e, tls)
    try:
        trusted = integration({"url": e.url, "http_config": {"tls_config": {"ca_file": str(cert)}}})
        await trusted.notify(ctx(), alerts())
        untrusted = integration({"url": e.url})
        with pytest.raises(NotifyError) as err:
            await untrusted.notify(ctx(), alerts())
        assert "certificate" in str(err.value).lower() or "ssl" in str(err.value).lower()
        skip = integration({"url": e.url, "http_config": {"tls_config": {"insecure_skip_verify": True}}})
        await skip.notify(ctx(), alerts())
        for wh in (trusted, untrusted, skip):
            await wh.close()
        assert len(e.requests) == 2
    finally:
        await runner.cleanup()
