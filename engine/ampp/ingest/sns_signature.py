"""Amazon SNS message signatures, checked the way AWS documents: the certificate is fetched
from the message's SigningCertURL (only from hosts ``webhook.sns.signing_cert_url`` allows), it
must be valid now (and issued by ``ca_file``'s CAs when set), and its RSA key must verify the
Base64 Signature over the canonical string of the message's fields (SHA1 for
SignatureVersion 1, SHA256 for 2)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import re
from collections import OrderedDict
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..config.settings import SNSSettings

_NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_SUBSCRIPTION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}
_CERTS_KEPT = 32


class SignatureError(ValueError):
    """The message is not signed by SNS (or its signature could not be checked): refused."""


class ConfirmError(RuntimeError):
    """Visiting a SubscribeURL failed: SNS will send the confirmation again."""


def string_to_sign(message: dict[str, Any]) -> bytes:
    """The canonical text SNS signs: "Name\\nvalue\\n" for each field, in this order."""
    kind = message.get("Type")
    fields = _NOTIFICATION_FIELDS if kind == "Notification" else _SUBSCRIPTION_FIELDS
    out = []
    for name in fields:
        value = message.get(name)
        if value is None:
            if name == "Subject":
                continue  # optional, signed only when present
            raise SignatureError(f"{name} is required in a signed {kind} message")
        out.append(f"{name}\n{value}\n")
    return "".join(out).encode()


class SNSVerifier:
    def __init__(self, settings: SNSSettings) -> None:
        self.settings = settings
        self._cert_url = re.compile(settings.signing_cert_url)
        self._subscribe_url = re.compile(settings.subscribe_url)
        self._certs: OrderedDict[str, x509.Certificate] = OrderedDict()
        self._cas: list[x509.Certificate] | None = None
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=10, follow_redirects=False)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def verify(self, message: dict[str, Any]) -> None:
        version = str(message.get("SignatureVersion", ""))
        algorithm = _HASHES.get(version)
        if algorithm is None:
            raise SignatureError(f"SignatureVersion must be 1 or 2, not {version!r}")
        try:
            signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
        except binascii.Error:
            raise SignatureError("Signature is not Base64") from None
        cert = await self._certificate(str(message.get("SigningCertURL", "")))
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise SignatureError("the signing certificate's key is not RSA")
        try:
            key.verify(signature, string_to_sign(message), padding.PKCS1v15(), algorithm())
        except InvalidSignature:
            raise SignatureError("the signature does not match the message") from None

    async def _certificate(self, url: str) -> x509.Certificate:
        if not self._cert_url.match(url):
            raise SignatureError(f"SigningCertURL {url!r} is not an allowed SNS certificate URL")
        cert = self._certs.get(url)
        if cert is None:
            pem = await self._get(url, "fetching the signing certificate", SignatureError)
            try:
                cert = x509.load_pem_x509_certificate(pem)
            except ValueError:
                raise SignatureError("the signing certificate is not a PEM certificate") from None
            await self._check_issuer(cert)
            self._certs[url] = cert
            while len(self._certs) > _CERTS_KEPT:
                self._certs.popitem(last=False)
        now = dt.datetime.now(dt.UTC)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            self._certs.pop(url, None)
            raise SignatureError("the signing certificate is expired or not yet valid")
        return cert

    async def _check_issuer(self, cert: x509.Certificate) -> None:
        if self.settings.ca_file is None:
            return
        if self._cas is None:
            pem = await asyncio.to_thread(Path(self.settings.ca_file).read_bytes)
            self._cas = x509.load_pem_x509_certificates(pem)
        for ca in self._cas:
            try:
                cert.verify_directly_issued_by(ca)
                return
            except (ValueError, TypeError, InvalidSignature):
                continue
        raise SignatureError("the signing certificate was not issued by a CA of webhook.sns.ca_file")

    async def confirm(self, url: str) -> None:
        """Visit a SubscribeURL (after the confirmation's signature was checked)."""
        if not self._subscribe_url.match(url):
            raise SignatureError(f"SubscribeURL {url!r} is not an allowed SNS URL")
        await self._get(url, "confirming the subscription", ConfirmError)

    async def _get(self, url: str, what: str, error: type[Exception]) -> bytes:
        try:
            response = await self._http().get(url)
        except httpx.HTTPError as e:
            raise error(f"{what} failed: {e}") from None
        if response.status_code != 200:
            raise error(f"{what} answered {response.status_code}")
        return response.content
