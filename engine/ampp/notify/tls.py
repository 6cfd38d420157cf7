"""TLS for outgoing connections (HTTP integrations and SMTP), from a tls_config block.

prometheus/common's NewTLSConfig: the CA, the client certificate and its key (each a file or
inline), whether to verify, the TLS versions. The system CAs are loaded once for the whole
process.
"""

from __future__ import annotations

import functools
import os
import ssl
import tempfile

from ..config.httpclient import TLSConfig

_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}


@functools.cache
def default_context() -> ssl.SSLContext:
    """The system CAs, loaded once: loading them costs tens of milliseconds per context."""
    return ssl.create_default_context()


def tls_context(tls: TLSConfig | None) -> ssl.SSLContext | None:
    """The context a tls_config asks for; None when it asks for nothing but the system CAs
    (use :func:`default_context`). A bad CA or key file raises here, at config load."""
    if tls is None or not (
        tls.cert_file
        or tls.cert
        or tls.ca_file
        or tls.ca
        or tls.insecure_skip_verify
        or tls.min_version
        or tls.max_version
    ):
        return None
    if tls.insecure_skip_verify:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies nothing: no CA store to load
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx = ssl.create_default_context(cafile=tls.ca_file or None, cadata=tls.ca or None)
    if tls.cert_file or tls.cert:
        _load_client_certificate(ctx, tls)
    if tls.min_version:
        ctx.minimum_version = _VERSIONS[tls.min_version]
    if tls.max_version:
        ctx.maximum_version = _VERSIONS[tls.max_version]
    return ctx


def _load_client_certificate(ctx: ssl.SSLContext, tls: TLSConfig) -> None:
    """The client certificate and its key, each from a file or inline (``cert``, ``key``, as a
    Receiver resource gives them from a Secret). OpenSSL reads them only from files, so inline
    ones pass through a directory only this process may read, removed at once."""
    if not tls.cert and not tls.key:
        ctx.load_cert_chain(tls.cert_file, tls.key_file or None)
        return
    with tempfile.TemporaryDirectory(prefix="ampp-tls-") as private:  # mode 0700
        cert, key = tls.cert_file, tls.key_file or None
        if tls.cert:
            cert = os.path.join(private, "cert.pem")
            with open(cert, "w", encoding="utf-8") as f:
                f.write(tls.cert)
        if tls.key:
            key = os.path.join(private, "key.pem")
            with open(key, "w", encoding="utf-8") as f:
                f.write(str(tls.key))
        ctx.load_cert_chain(cert, key)
