"""Self-managed admission certificates: what is renewed when, and what the bundle holds.
(Against a real API server, with the chart, renewing every few seconds: e2e/test_chart.py.)"""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

import pytest
from ampp_operator import webhookcerts as wc
from cryptography import x509

pytestmark = pytest.mark.unit

NAMES = ("ampp-webhook.monitoring.svc", "127.0.0.1")
HOUR = 3600.0


def settings() -> wc.CertSettings:
    return wc.CertSettings("monitoring", "tls", "conf", NAMES, validity=9 * HOUR, ca_validity=90 * HOUR)


def certs(pem: bytes) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem)


def test_first_material_is_a_ca_and_a_certificate_for_the_names(tmp_path: Path) -> None:
    m = wc.renew(None, settings())
    assert m is not None and m.bundle == m.ca_cert
    (leaf,) = certs(m.cert)
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["ampp-webhook.monitoring.svc"]
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    # It verifies against the bundle, as the API server checks it.
    (tmp_path / "ca.pem").write_bytes(m.bundle)
    (tmp_path / "tls.pem").write_bytes(m.cert + m.key)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "tls.pem", tmp_path / "tls.pem")  # one file, as kopf is given
    client = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    assert client.cert_store_stats()["x509_ca"] == 1
    assert wc.renew(m, settings()) is None  # fresh: kept


def test_renewal_when_a_third_is_left() -> None:
    m = wc.renew(None, settings())
    assert m is not None
    now = datetime.datetime.now(datetime.UTC)
    assert wc.needs_renewal(m, NAMES, now + datetime.timedelta(hours=5)) == (False, False)
    assert wc.needs_renewal(m, NAMES, now + datetime.timedelta(hours=6.5)) == (False, True)
    assert wc.needs_renewal(m, NAMES, now + datetime.timedelta(hours=61)) == (True, True)
    # Other names (the Service renamed): a new certificate from the same CA.
    assert wc.needs_renewal(m, ("other.svc",), now) == (False, True)


def test_a_new_ca_is_bundled_with_the_previous_one(monkeypatch: pytest.MonkeyPatch) -> None:
    s = settings()
    old = wc.renew(None, s)
    assert old is not None
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=61)  # the CA 2/3 through
    monkeypatch.setattr(wc, "_now", lambda: later)
    fresh = wc.renew(old, s)
    assert fresh is not None and fresh.ca_cert != old.ca_cert
    new_ca, old_ca = certs(fresh.ca_cert)[0], certs(old.ca_cert)[0]
    assert [c.subject for c in certs(fresh.bundle)] == [new_ca.subject, old_ca.subject]
    assert certs(fresh.cert)[0].issuer == new_ca.subject
    # Once the previous CA has expired, the next renewal leaves it out.
    monkeypatch.setattr(wc, "_now", lambda: later + datetime.timedelta(hours=60))
    third = wc.renew(fresh, s)
    assert third is not None and len(certs(third.bundle)) == 2  # the second CA, spent, and a third
    assert old.ca_cert not in third.bundle
