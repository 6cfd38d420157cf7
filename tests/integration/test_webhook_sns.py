"""SNS deliveries to /webhook: signatures checked with real X.509 certificates served by a local
stand-in for the SigningCertURL, SubscriptionConfirmation answered by visiting SubscribeURL,
CloudWatch alarms mapped. Envelope fields from AWS's documentation (tests/support/webhook_samples)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from ampp.ingest.sns_signature import string_to_sign
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from tests.support import webhook_samples as s
from tests.support.engine_app import engine_client

pytestmark = pytest.mark.integration


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(
    subject: str, key: rsa.RSAPrivateKey, issuer: str, issuer_key: rsa.RSAPrivateKey, ca: bool
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), True)
        .sign(issuer_key, hashes.SHA256())
    )


class CertServer:
    """Serves the signing certificates (and records SubscribeURL visits) on 127.0.0.1."""

    def __init__(self) -> None:
        self.ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ca = _cert("Test SNS CA", self.ca_key, "Test SNS CA", self.ca_key, True)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.cert = _cert("sns.amazonaws.com", self.key, "Test SNS CA", self.ca_key, False)
        other_ca = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.rogue = _cert("sns.amazonaws.com", self.key, "Someone else", other_ca, False)
        self.confirmations: list[str] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        if request.path == "/SimpleNotificationService.pem":
            return web.Response(body=self.cert.public_bytes(serialization.Encoding.PEM))
        if request.path == "/rogue.pem":
            return web.Response(body=self.rogue.public_bytes(serialization.Encoding.PEM))
        if request.path == "/confirm":
            self.confirmations.append(request.query_string)
            return web.Response(text="<ConfirmSubscriptionResponse/>", content_type="text/xml")
        return web.Response(status=404)

    def sign(self, message: dict[str, Any], version: str = "1") -> dict[str, Any]:
        message = {**message, "SignatureVersion": version}
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
        signature = self.key.sign(string_to_sign(message), padding.PKCS1v15(), algorithm)
        return {**message, "Signature": base64.b64encode(signature).decode()}


@pytest.fixture
async def certs() -> AsyncIterator[CertServer]:
    server = CertServer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.url = f"http://127.0.0.1:{port}"
    yield server
    await runner.cleanup()


def config(certs: CertServer, ca_file: Path | None = None) -> str:
    ca = f"\n    ca_file: {ca_file}" if ca_file else ""
    return f"""
webhook:
  sns:
    signing_cert_url: '^{certs.url}/'
    subscribe_url: '^{certs.url}/confirm'{ca}
alerting:
  route: {{receiver: default}}
  receivers: [{{name: default}}]
"""


def alarm_notification(certs: CertServer, state: str = "ALARM") -> dict[str, Any]:
    alarm = {**s.CLOUDWATCH_ALARM, "NewStateValue": state}
    return s.sns_notification(
        json.dumps(alarm), f'{state}: "EXAMPLE" in US East', f"{certs.url}/SimpleNotificationService.pem"
    )


SNS_HEADERS = {"x-amz-sns-message-type": "Notification", "Content-Type": "text/plain; charset=UTF-8"}


@pytest.mark.parametrize("version", ["1", "2"])
async def test_a_signed_cloudwatch_alarm_becomes_an_alert(
    tmp_path: Path, certs: CertServer, version: str
) -> None:
    async with engine_client(tmp_path, config(certs)) as (engine, client):
        body = certs.sign(alarm_notification(certs), version)
        r = await client.post("/webhook", data=orjson.dumps(body), headers=SNS_HEADERS)
        answer = orjson.loads(await r.read())
        assert r.status == 200, answer
        assert answer["format"] == "sns"
        alert = engine.alerts.get(int(answer["results"][0]["fingerprint"], 16))
        assert alert.labels == {
            "alertname": "EXAMPLE", "severity": "critical", "source": "sns", "account_id": "123456789012",
            "region": "EXAMPLE", "alarm_arn": "arn:aws:cloudwatch:REGION:ACCOUNT_NUMBER:alarm:EXAMPLE",
            "namespace": "AWS/EC2", "metric_name": "NetworkOut", "InstanceId": "TestInstance",
        }  # fmt: skip
        assert alert.annotations["reason"].startswith("Threshold Crossed")
        again = await client.post("/webhook", data=orjson.dumps(body), headers=SNS_HEADERS)
        assert again.headers.get("Idempotent-Replayed") == "true", "SNS retries reuse the MessageId"
        ok = certs.sign({**alarm_notification(certs, "OK"), "MessageId": "another"}, version)
        r = await client.post("/webhook", data=orjson.dumps(ok), headers=SNS_HEADERS)
        assert r.status == 200 and orjson.loads(await r.read())["results"][0]["alertStatus"] == "resolved"


async def test_a_message_that_is_not_signed_by_the_certificate_is_refused(
    tmp_path: Path, certs: CertServer
) -> None:
    async with engine_client(tmp_path, config(certs)) as (engine, client):
        signed = certs.sign(alarm_notification(certs))
        cases = {
            "the signature does not match": {**signed, "Message": signed["Message"].replace("ALARM", "OK")},
            "is not an allowed SNS certificate URL": {
                **signed, "SigningCertURL": "https://attacker.example/cert.pem"
            },
            "SignatureVersion must be 1 or 2": {**signed, "SignatureVersion": "3"},
            "Signature is not Base64": {**signed, "Signature": "!!!"},
        }  # fmt: skip
        for reason, body in cases.items():
            r = await client.post("/webhook", data=orjson.dumps(body), headers=SNS_HEADERS)
            assert r.status == 403, reason
            assert reason in orjson.loads(await r.read())["error"]
        assert len(engine.alerts) == 0


async def test_a_certificate_from_another_ca_is_refused_when_a_ca_file_is_set(
    tmp_path: Path, certs: CertServer
) -> None:
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(certs.ca.public_bytes(serialization.Encoding.PEM))
    async with engine_client(tmp_path, config(certs, ca_file)) as (_, client):
        good = certs.sign(alarm_notification(certs))
        assert (await client.post("/webhook", data=orjson.dumps(good), headers=SNS_HEADERS)).status == 200
        rogue = certs.sign(
            {**alarm_notification(certs), "SigningCertURL": f"{certs.url}/rogue.pem", "MessageId": "x"}
        )
        r = await client.post("/webhook", data=orjson.dumps(rogue), headers=SNS_HEADERS)
        assert r.status == 403 and "not issued by a CA" in orjson.loads(await r.read())["error"]


async def test_a_subscription_confirmation_is_confirmed_once_verified(
    tmp_path: Path, certs: CertServer
) -> None:
    async with engine_client(tmp_path, config(certs)) as (engine, client):
        body = certs.sign(
            s.sns_subscription_confirmation(
                f"{certs.url}/confirm?Action=ConfirmSubscription&Token=2336412f",
                f"{certs.url}/SimpleNotificationService.pem",
            )
        )
        headers = {"x-amz-sns-message-type": "SubscriptionConfirmation"}
        forged = {**body, "SubscribeURL": f"{certs.url}/confirm?Token=other"}
        r = await client.post("/webhook", data=orjson.dumps(forged), headers=headers)
        assert r.status == 403 and certs.confirmations == []
        r = await client.post("/webhook", data=orjson.dumps(body), headers=headers)
        assert r.status == 200 and orjson.loads(await r.read())["subscription"] == "confirmed"
        assert certs.confirmations == ["Action=ConfirmSubscription&Token=2336412f"]
        assert len(engine.alerts) == 0
