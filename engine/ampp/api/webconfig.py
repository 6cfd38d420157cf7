"""``--web.config.file``: TLS, basic authentication and security headers for the API, in the
format of the Prometheus exporter-toolkit that Alertmanager 0.25 reads.

The file is strict YAML (an unknown key is an error) with ``tls_server_config`` (cert_file,
key_file, client_auth_type, client_ca_file, min_version, max_version, cipher_suites,
prefer_server_cipher_suites), ``http_server_config`` (http2, headers) and
``basic_auth_users`` (user: bcrypt hash). Paths are relative to the file. As with
exporter-toolkit, changes to the file or to the certificate files take effect without a
restart (checked at most once a second); a change that does not load is logged and the last
good settings stay. Basic authentication guards every path, ``/-/healthy`` included.

Not supported, refused with a message: ``curve_preferences`` (Python's ssl module cannot set
an order of curves) and the client_auth_types that ask for a certificate without verifying it
(RequestClientCert, RequireAnyClientCert).
"""

from __future__ import annotations

import logging
import os
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from ..auth.passwords import PasswordChecker, parse_basic
from ..config.security import NOT_BCRYPT, is_bcrypt_hash

log = logging.getLogger("ampp.web")

TLS_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
CLIENT_AUTH = {
    "": ssl.CERT_NONE,
    "NoClientCert": ssl.CERT_NONE,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
UNVERIFIED_CLIENT_AUTH = ("RequestClientCert", "RequireAnyClientCert", "RequireClientCert")
CIPHERS = {
    # Go's tls.CipherSuites(), the names exporter-toolkit accepts, as OpenSSL names them. The
    # TLS 1.3 suites are accepted and, as in Go, not configurable.
    "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_AES_128_GCM_SHA256": "",
    "TLS_AES_256_GCM_SHA384": "",
    "TLS_CHACHA20_POLY1305_SHA256": "",
}
HEADERS: dict[str, tuple[str, ...]] = {
    # exporter-toolkit's list: other headers are refused, these values checked where listed.
    "Strict-Transport-Security": (),
    "X-Content-Type-Options": ("nosniff",),
    "X-Frame-Options": ("deny", "sameorigin"),
    "X-XSS-Protection": (),
    "Content-Security-Policy": (),
}
CHECK_EVERY_S = 1.0
WEB_USER = web.RequestKey("web_user", str)
"""The basic-auth user the middleware let in."""

_KEYS = {
    "": {"tls_server_config", "http_server_config", "basic_auth_users"},
    "tls_server_config": {
        "cert_file", "key_file", "client_auth_type", "client_ca_file", "cipher_suites",
        "curve_preferences", "min_version", "max_version", "prefer_server_cipher_suites",
    },
    "http_server_config": {"http2", "headers"},
}  # fmt: skip


class WebConfigError(ValueError):
    """A web config that cannot be used; the message names the file and the field."""


Fail = Callable[[str, str], WebConfigError]


@dataclass
class WebConfig:
    tls: ssl.SSLContext | None = None
    users: dict[str, bytes] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    """The file and the files it names: a change to any of them reloads it."""


def load_web_config(path: str) -> WebConfig:
    """Read and check the file; WebConfigError says what is wrong and where."""

    def fail(where: str, reason: str) -> WebConfigError:
        return WebConfigError(f"{path}: {where}: {reason}" if where else f"{path}: {reason}")

    try:
        text = Path(path).read_text()
    except OSError as e:
        raise fail("", e.strerror or str(e)) from None
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise fail("", f"not valid YAML: {e}") from None
    _check_keys(doc, "", fail)
    tls_doc = doc.get("tls_server_config") or {}
    http_doc = doc.get("http_server_config") or {}
    _check_keys(tls_doc, "tls_server_config", fail)
    _check_keys(http_doc, "http_server_config", fail)
    base = os.path.dirname(path)
    files = [path]
    headers = _headers(http_doc.get("headers") or {}, fail)
    users = _users(doc.get("basic_auth_users") or {}, fail)
    tls = _tls(tls_doc, base, files, fail)
    return WebConfig(tls, users, headers, tuple(files))


def _check_keys(doc: Any, section: str, fail: Fail) -> None:
    if not isinstance(doc, dict):
        raise fail(section or "the file", "must be a mapping")
    for key in doc:
        if key not in _KEYS[section]:
            where = f"{section}.{key}" if section else str(key)
            raise fail(where, f"unknown field (known: {', '.join(sorted(_KEYS[section]))})")


def _mapping(doc: Any, where: str, what: str, fail: Fail) -> dict[Any, Any]:
    if not isinstance(doc, dict):
        raise fail(where, f"must be a mapping of {what}")
    return doc


def _headers(doc: Any, fail: Fail) -> dict[str, str]:
    out = {}
    for name, value in _mapping(doc, "http_server_config.headers", "header names to values", fail).items():
        where = f"http_server_config.headers.{name}"
        if name not in HEADERS:
            raise fail(where, f"this header can not be configured (only: {', '.join(HEADERS)})")
        allowed = HEADERS[name]
        if not isinstance(value, str) or (allowed and value not in allowed):
            reason = f"must be one of {', '.join(allowed)} (got {value!r})" if allowed else "must be text"
            raise fail(where, reason)
        out[name] = value
    return out


def _users(doc: Any, fail: Fail) -> dict[str, bytes]:
    out = {}
    for user, hashed in _mapping(doc, "basic_auth_users", "user names to bcrypt hashes", fail).items():
        where = f"basic_auth_users.{user}"
        raw = str(hashed).encode()
        if not is_bcrypt_hash(raw):
            raise fail(where, NOT_BCRYPT)
        out[str(user)] = raw
    return out


def _tls(doc: dict[str, Any], base: str, files: list[str], fail: Fail) -> ssl.SSLContext | None:
    def rel(key: str) -> str:
        value = doc.get(key) or ""
        return os.path.join(base, value) if value and not os.path.isabs(value) else str(value)

    cert, key, ca = rel("cert_file"), rel("key_file"), rel("client_ca_file")
    auth = str(doc.get("client_auth_type") or "")
    if not (cert or key or auth or ca):
        return None
    if not cert:
        raise fail("tls_server_config.cert_file", "missing (TLS needs cert_file and key_file)")
    if not key:
        raise fail("tls_server_config.key_file", "missing (TLS needs cert_file and key_file)")
    if doc.get("curve_preferences"):
        raise fail("tls_server_config.curve_preferences", "not supported: remove it (OpenSSL's curves apply)")
    if auth in UNVERIFIED_CLIENT_AUTH:
        raise fail("tls_server_config.client_auth_type",
                   f"{auth} (a certificate asked for but not verified) is not supported: use "
                   "VerifyClientCertIfGiven or RequireAndVerifyClientCert with client_ca_file")  # fmt: skip
    if auth not in CLIENT_AUTH:
        known = ", ".join(k for k in CLIENT_AUTH if k)
        raise fail("tls_server_config.client_auth_type", f"invalid: {auth!r} (one of {known})")
    if ca and CLIENT_AUTH[auth] == ssl.CERT_NONE:
        raise fail("tls_server_config.client_ca_file", "set without a client_auth_type that verifies")
    if CLIENT_AUTH[auth] != ssl.CERT_NONE and not ca:
        raise fail("tls_server_config.client_ca_file", f"missing: client_auth_type {auth} needs it")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    bounds = (("min_version", "minimum_version", "TLS12"), ("max_version", "maximum_version", "TLS13"))
    for name, attr, default in bounds:
        version = str(doc.get(name) or default)
        if version not in TLS_VERSIONS:
            known = ", ".join(TLS_VERSIONS)
            raise fail(f"tls_server_config.{name}", f"unknown TLS version: {version} (one of {known})")
        setattr(ctx, attr, TLS_VERSIONS[version])
    try:
        ctx.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as e:
        reason = f"failed to load X509KeyPair from {cert} and {key}: {e}"
        raise fail("tls_server_config.cert_file", reason) from None
    files += [cert, key]
    if ca:
        try:
            ctx.load_verify_locations(cafile=ca)
        except (OSError, ssl.SSLError) as e:
            raise fail("tls_server_config.client_ca_file", f"{ca}: {e}") from None
        files.append(ca)
    ctx.verify_mode = CLIENT_AUTH[auth]
    suites = doc.get("cipher_suites") or []
    names = []
    for i, suite in enumerate(suites):
        if suite not in CIPHERS:
            raise fail(f"tls_server_config.cipher_suites[{i}]", f"unknown cipher: {suite}")
        if CIPHERS[suite]:
            names.append(CIPHERS[suite])
    if names:
        ctx.set_ciphers(":".join(names))
    if doc.get("prefer_server_cipher_suites", True):
        ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    return ctx


def _stamp(files: tuple[str, ...]) -> tuple[tuple[float, int] | None, ...]:
    out: list[tuple[float, int] | None] = []
    for f in files:
        try:
            st = os.stat(f)
            out.append((st.st_mtime, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class WebGuard:
    """The web settings in force: the API's middleware, its response headers and each TLS
    handshake read them, and they are reloaded when one of their files changes."""

    def __init__(self, path: str, config: WebConfig) -> None:
        self.path = path
        self.config = config
        self._stamp = _stamp(config.files)
        self._checked = time.monotonic()
        self._passwords = PasswordChecker()

    @classmethod
    def load(cls, path: str) -> WebGuard:
        return cls(path, load_web_config(path))

    def current(self) -> WebConfig:
        now = time.monotonic()
        if now - self._checked < CHECK_EVERY_S:
            return self.config
        self._checked = now
        stamp = _stamp(self.config.files)
        if stamp == self._stamp:
            return self.config
        self._stamp = stamp
        try:
            new = load_web_config(self.path)
            if (new.tls is None) != (self.config.tls is None):
                raise WebConfigError(f"{self.path}: TLS cannot be turned on or off without a restart")
        except WebConfigError as e:
            log.error("Reloading the web config failed; the last good one stays: %s", e)
            return self.config
        self.config, self._stamp = new, _stamp(new.files)
        self._passwords.clear()
        log.info("Web config reloaded file=%s", self.path)
        return new

    def server_context(self) -> ssl.SSLContext | None:
        """The context to listen with; each handshake is handed the current one."""
        ctx = self.config.tls
        if ctx is not None:
            ctx.sni_callback = self._pick_context
        return ctx

    def _pick_context(self, conn: ssl.SSLObject, server_name: str | None, ctx: ssl.SSLContext) -> None:
        current = self.current().tls
        if current is not None and current is not conn.context:
            conn.context = current

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        config = self.current()
        if config.users:
            user = await self._authorized(config, request.headers.get("Authorization", ""))
            if user is None:
                return web.Response(status=401, text="Unauthorized\n", headers={"WWW-Authenticate": "Basic"})
            request[WEB_USER] = user  # auth.users may give this user a role
        return await handler(request)

    async def add_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        """on_response_prepare: every answer, errors and 401s included, carries the headers."""
        response.headers.update(self.config.headers)

    async def _authorized(self, config: WebConfig, header: str) -> str | None:
        """The user the header authenticates; None if it does not."""
        parsed = parse_basic(header)
        if parsed is None:
            return None
        user, password = parsed
        ok = await self._passwords.check(user, password, config.users.get(user))
        return user if ok else None
