"""Self-managed certificates for the validating admission webhook, renewed before they expire.

The API server calls the webhook over HTTPS and checks its certificate against the
``caBundle`` of the ValidatingWebhookConfiguration. Without cert-manager, the operator makes
both ends itself: a CA and a serving certificate (for the webhook Service's DNS names), kept
in a Secret the chart renders empty (so every replica serves the same certificate, and a
restart keeps it), written to files for kopf's webhook server (which reloads them when they
change), and the CA put into the configuration's ``caBundle``.

Renewal: a serving certificate with less than a third of its validity left is re-issued; a
CA likewise, and then the bundle holds the new CA and the previous one (while it is valid),
so the API server trusts the old certificate and the new one alike while replicas switch.
The bundle is written to the configuration before the new certificate is served. Every
replica checks every ``check_interval``; two renewing at once are told apart by the Secret's
resourceVersion (409: the other won, read it again).
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import ipaddress
import logging
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .kube import KubeError, Requests, secret_data
from .settings import CertSettings

__all__ = ["CertSettings", "Material", "SelfManagedCertificates", "issue", "needs_renewal"]

log = logging.getLogger("ampp.operator.admission")

CA_CERT, CA_KEY, TLS_CERT, TLS_KEY, BUNDLE = "ca.crt", "ca.key", "tls.crt", "tls.key", "ca-bundle.crt"


@dataclass(frozen=True)
class Material:
    """The PEM texts kept in the Secret."""

    ca_cert: bytes
    ca_key: bytes
    cert: bytes
    key: bytes
    bundle: bytes

    def as_data(self) -> dict[str, str]:
        pairs = ((CA_CERT, self.ca_cert), (CA_KEY, self.ca_key), (TLS_CERT, self.cert),
                 (TLS_KEY, self.key), (BUNDLE, self.bundle))  # fmt: skip
        return {k: base64.b64encode(v).decode() for k, v in pairs}

    @classmethod
    def from_data(cls, data: Mapping[str, str]) -> Material | None:
        try:
            parts = [data[k].encode() for k in (CA_CERT, CA_KEY, TLS_CERT, TLS_KEY, BUNDLE)]
        except KeyError:
            return None
        return cls(*parts)


_CA_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _leeway(validity: float) -> datetime.timedelta:
    """How far back a certificate's validity starts, for clocks a little behind ours."""
    return datetime.timedelta(seconds=min(300.0, validity / 10))


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _new_ca(validity: float) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"ampp-admission-ca-{secrets.token_hex(4)}")])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _leeway(validity))
        .not_valid_after(now + datetime.timedelta(seconds=validity))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_CA_USAGE, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)


def _san(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def issue(ca_cert: bytes, ca_key: bytes, names: Sequence[str], validity: float) -> tuple[bytes, bytes]:
    """A serving certificate for ``names``, signed by the CA."""
    ca = x509.load_pem_x509_certificate(ca_cert)
    signer = serialization.load_pem_private_key(ca_key, password=None)
    assert isinstance(signer, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ampp-admission")]))  # names: SANs
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _leeway(validity))
        .not_valid_after(min(now + datetime.timedelta(seconds=validity), ca.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([_san(n) for n in names]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
        )
        .sign(signer, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)


def _spent(cert: x509.Certificate, at: datetime.datetime) -> bool:
    """Less than a third of its validity left."""
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    return at >= end - (end - start) / 3


def needs_renewal(
    m: Material, names: Sequence[str], at: datetime.datetime | None = None
) -> tuple[bool, bool]:
    """(renew the CA, renew the serving certificate)."""
    at = at or _now()
    ca = x509.load_pem_x509_certificate(m.ca_cert)
    cert = x509.load_pem_x509_certificate(m.cert)
    renew_ca = _spent(ca, at)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    wanted = {_san(n) for n in names}
    signer = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    own = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    renew_cert = renew_ca or _spent(cert, at) or set(sans) != wanted or signer != own
    return renew_ca, renew_cert


def _bundle(new_ca: bytes, previous: bytes | None, at: datetime.datetime) -> bytes:
    """The new CA, and the previous one while it is still valid."""
    out = [new_ca]
    if previous and previous != new_ca:
        old = x509.load_pem_x509_certificate(previous)
        if old.not_valid_after_utc > at:
            out.append(previous)
    return b"".join(out)


def renew(current: Material | None, s: CertSettings) -> Material | None:
    """The material to keep from now on, or None if ``current`` is good as it is."""
    at = _now()
    if current is None:
        ca_cert, ca_key = _new_ca(s.ca_validity)
        return Material(ca_cert, ca_key, *issue(ca_cert, ca_key, s.names, s.validity), ca_cert)
    renew_ca, renew_cert = needs_renewal(current, s.names, at)
    if not renew_cert:
        return None
    ca_cert, ca_key, bundle = current.ca_cert, current.ca_key, current.bundle
    if renew_ca:
        ca_cert, ca_key = _new_ca(s.ca_validity)
        bundle = _bundle(ca_cert, current.ca_cert, at)
    return Material(ca_cert, ca_key, *issue(ca_cert, ca_key, s.names, s.validity), bundle)


class SelfManagedCertificates:
    """Keeps the Secret, the files kopf serves from, and the configuration's caBundle."""

    def __init__(self, kube: Requests, settings: CertSettings, directory: Path) -> None:
        self.kube = kube
        self.settings = settings
        self.pem_file = directory / "tls.pem"
        """The certificate and its key in one file, replaced at once: kopf reads the
        certificate and the key files separately, so two files could be read half renewed."""
        self.served: Material | None = None

    def bootstrap(self) -> None:
        """Files kopf can start with before the Secret could be read: a throw-away pair the API
        server does not trust (admission fails, as failurePolicy says) until ``ensure`` works."""
        if self.pem_file.exists():
            return
        ca_cert, ca_key = _new_ca(3600)
        self._write_files(*issue(ca_cert, ca_key, self.settings.names, 3600))

    async def run(self) -> None:
        while True:
            try:
                await self.ensure()
            except (KubeError, OSError, TimeoutError, ValueError) as e:
                log.warning(
                    "admission certificates: %s; trying again in %gs", e, self.settings.check_interval
                )
            await asyncio.sleep(self.settings.check_interval)

    async def ensure(self) -> None:
        """Read the Secret; renew what must be; put the bundle in place; serve the certificate."""
        s = self.settings
        for _ in range(3):
            found = await self.kube.secret_object(s.namespace, s.secret)
            if found is None:
                raise KubeError(
                    404, f"the Secret {s.namespace}/{s.secret} does not exist (the chart makes it)"
                )
            current = Material.from_data(secret_data(found))
            fresh = renew(current, s)
            if fresh is None:
                break
            try:
                await self._store(found, fresh)
            except KubeError as e:
                if e.status == 409:  # another replica renewed first: take theirs
                    continue
                raise
            log.info("admission certificate %s (%s)", "renewed" if current else "created", ", ".join(s.names))
            current = fresh
            break
        else:
            raise KubeError(409, "the certificate Secret kept changing under us")
        assert current is not None
        await self._inject(current.bundle)
        if self.served != current:
            self._write_files(current.cert, current.key)
            self.served = current

    async def _store(self, found: dict[str, Any], fresh: Material) -> None:
        meta = found["metadata"]
        body = {"metadata": {"resourceVersion": meta["resourceVersion"]}, "data": fresh.as_data()}
        await self.kube.request(
            "PATCH",
            f"/api/v1/namespaces/{meta['namespace']}/secrets/{meta['name']}",
            body=body,
            content_type="application/merge-patch+json",
        )

    async def _inject(self, bundle: bytes) -> None:
        """Put the bundle into every webhook of the configuration that lacks it."""
        name = self.settings.configuration
        if not name:
            return
        path = f"/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/{name}"
        conf = await self.kube.request("GET", path)
        encoded = base64.b64encode(bundle).decode()
        ops = [
            {"op": "add", "path": f"/webhooks/{i}/clientConfig/caBundle", "value": encoded}
            for i, w in enumerate(conf.get("webhooks") or [])
            if (w.get("clientConfig") or {}).get("caBundle") != encoded
        ]
        if ops:
            ops.insert(
                0,
                {
                    "op": "test",
                    "path": "/metadata/resourceVersion",
                    "value": conf["metadata"]["resourceVersion"],
                },
            )
            await self.kube.request("PATCH", path, body=ops, content_type="application/json-patch+json")
            log.info("admission CA bundle put into %s", name)

    def _write_files(self, cert: bytes, key: bytes) -> None:
        """Replace the file in one rename (kopf reloads it when its content changes)."""
        self.pem_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.pem_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(cert + key)
        tmp.replace(self.pem_file)
