"""Email through an SMTP smarthost, as Alertmanager's notify/email sends it.

The session: implicit TLS on port 465 (or with ``force_implicit_tls``), else a plain
connection upgraded with STARTTLS when ``require_tls`` (the default) - a server that does not
offer it is an error; EHLO with ``hello``; AUTH with the first mechanism the server offers
that credentials exist for (CRAM-MD5 with ``auth_secret``, PLAIN or LOGIN with
``auth_password``), none without ``auth_username``. The message: the configured headers
(Subject, To and From by default) Q-encoded, Message-Id and Date, and a multipart/alternative
body with the text part (if ``text`` is set) then the HTML part, both quoted-printable.

Unlike Alertmanager, every template is rendered before connecting, so a broken template
never leaves a half-open session at the server; the outcome is the same (nothing is sent,
the error is not retried).
"""

from __future__ import annotations

import email.errors
import email.policy
import email.utils
import random
import secrets
import socket
import ssl
import time
from collections.abc import Sequence
from datetime import datetime

import aiosmtplib

from ...auth.urlpolicy import OutboundRefused, UrlPolicy
from ...config.notifiers import EmailConfig
from ...model.alert import Alert
from ...model.labels import go_quote
from ..stage import FlushContext, NotifyError
from ..templates import Templates
from ..tls import default_context, tls_context
from . import _smtp
from ._common import ConfiguredIntegration, Renderer, key_hash, read_secret_file

DEFAULT_SUBJECT = '{{ template "email.default.subject" . }}'


def _split_host_port(hostport: str) -> tuple[str, str]:
    host, _, port = hostport.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, port


def parse_address_list(value: str) -> list[str]:
    """net/mail.ParseAddressList, for what it is used here: the bare addresses, or an error."""
    if not value.strip():
        raise ValueError("mail: no address")
    header = email.policy.default.header_factory("To", value)
    addrs = [a.addr_spec for a in getattr(header, "addresses", ())]
    problems = [d for d in header.defects if not isinstance(d, email.errors.ObsoleteHeaderDefect)]
    if problems or not addrs or any("@" not in a for a in addrs):
        why = str(problems[0]) if problems else "missing @ in addr-spec"
        raise ValueError(f"mail: {why}")
    return addrs


class EmailIntegration(ConfiguredIntegration[EmailConfig]):
    name = "email"

    def __init__(
        self,
        index: int,
        conf: EmailConfig,
        receiver: str,
        external_url: str,
        templates: Templates | None,
        outbound: UrlPolicy | None = None,
    ) -> None:
        super().__init__(index, conf, receiver, external_url, templates, outbound)
        headers = dict(conf.headers)
        headers.setdefault("Subject", DEFAULT_SUBJECT)
        headers.setdefault("To", conf.to)
        headers.setdefault("From", conf.from_)
        self.headers = headers
        try:
            self.hostname = socket.gethostname()
        except OSError:
            self.hostname = "localhost.localdomain"
        self.host, self.port = _split_host_port(conf.smarthost)
        self.timeout = _smtp.TIMEOUT

    # -- credentials

    def _password(self) -> str:
        if self.conf.auth_password_file:
            return read_secret_file(self.conf.auth_password_file, "auth_password_file")
        return str(self.conf.auth_password or "")

    def _secret(self) -> str:
        if self.conf.auth_secret_file:
            return read_secret_file(self.conf.auth_secret_file, "auth_secret_file")
        return str(self.conf.auth_secret or "")

    def _auth(self, mechs: str) -> _smtp.Auth | None:
        """The first offered mechanism there are credentials for (Email.auth)."""
        c = self.conf
        if not c.auth_username:
            return None
        errors: list[str] = []
        for mech in mechs.split(" "):
            if mech == "CRAM-MD5":
                secret = self._secret()
                if not secret:
                    errors.append("missing secret for CRAM-MD5 auth mechanism")
                    continue
                return _smtp.CramMD5Auth(c.auth_username, secret)
            if mech in ("PLAIN", "LOGIN"):
                password = self._password()
                if not password:
                    errors.append(f"missing password for {mech} auth mechanism")
                    continue
                if mech == "PLAIN":
                    return _smtp.PlainAuth(c.auth_identity, c.auth_username, password, self.host)
                return _smtp.LoginAuth(c.auth_username, password)
            errors.append(f"unknown auth mechanism: {mech}")
        raise NotifyError(f"find auth mechanism: {chr(10).join(errors)}")

    # -- message

    def _message(self, r: Renderer, group_key: str) -> tuple[str, list[str], bytes]:
        c = self.conf
        sender = r.text(c.from_, "from")
        to = r.text(c.to, "to")
        try:
            senders = parse_address_list(sender)
        except ValueError as e:
            raise NotifyError(f"parse 'from' addresses: {e}", retry=False) from None
        if len(senders) != 1:
            raise NotifyError(f"must be exactly one 'from' address (got: {len(senders)})", retry=False)
        try:
            recipients = parse_address_list(to)
        except ValueError as e:
            raise NotifyError(f"parse 'to' addresses: {e}", retry=False) from None

        head: list[str] = []
        for name, value in self.headers.items():
            head.append(f"{name}: {_smtp.q_encode(r.text(value, f'{name!r} header'))}")
        if "Message-Id" not in self.headers:
            head.append(f"Message-Id: <{time.time_ns()}.{random.getrandbits(64)}@{self.hostname}>")
        if c.threading.enabled:
            thread_by = "" if c.threading.thread_by_date == "none" else datetime.now().strftime("%Y-%m-%d")
            root = f"<alert-{key_hash(group_key)[:16]}-{thread_by}@alertmanager>"
            head.append(f"References: {root}")
            head.append(f"In-Reply-To: {root}")
        boundary = secrets.token_hex(30)
        head.append(f"Date: {email.utils.format_datetime(datetime.now().astimezone())}")
        head.append(f"Content-Type: multipart/alternative;  boundary={boundary}")
        head.append("MIME-Version: 1.0")

        parts: list[tuple[str, str]] = []
        if c.text:
            parts.append(("text/plain; charset=UTF-8", r.text(c.text, "text")))
        if c.html:
            parts.append(("text/html; charset=UTF-8", r.html(c.html, "html")))
        body = bytearray()
        for i, (ctype, content) in enumerate(parts):
            body += f"{'' if i == 0 else chr(13) + chr(10)}--{boundary}\r\n".encode()
            body += b"Content-Transfer-Encoding: quoted-printable\r\n"
            body += f"Content-Type: {ctype}\r\n\r\n".encode()
            body += _smtp.quoted_printable(content.encode())
        body += f"\r\n--{boundary}--\r\n".encode()
        message = ("\r\n".join(head) + "\r\n\r\n").encode() + bytes(body)
        return senders[0], recipients, message

    # -- sending

    async def notify(self, ctx: FlushContext, alerts: Sequence[Alert]) -> None:
        sender, recipients, message = self._message(self.renderer(ctx, alerts), ctx.group_key)
        try:
            await self._send(sender, recipients, message)
        except _smtp.SMTPError as e:
            raise NotifyError(str(e)) from None
        except OutboundRefused as e:  # security.outbound: a permanent failure, never retried
            raise NotifyError(f"establish connection to server: {e}", retry=False) from None

    async def _send(self, sender: str, recipients: list[str], message: bytes) -> None:
        c = self.conf
        smarthost = c.smarthost
        implicit = c.force_implicit_tls if c.force_implicit_tls is not None else self.port == "465"
        server_name = (c.tls_config.server_name if c.tls_config is not None else "") or self.host
        try:
            port = int(self.port)
        except ValueError:
            raise NotifyError(f"invalid port in smarthost {smarthost}", retry=False) from None
        try:
            tls = (tls_context(c.tls_config) or default_context()) if implicit or c.require_tls else None
        except (OSError, ssl.SSLError, ValueError) as e:
            raise NotifyError(f"parse TLS configuration: {e}", retry=False) from None
        what = "establish TLS connection to server" if implicit else "establish connection to server"
        connect = _smtp.connect(
            self.host, port, tls if implicit else None, c.hello or "localhost", self.outbound, self.timeout
        )
        smtp = await _smtp.step(what, connect)
        try:
            await self._session(smtp, implicit, tls, server_name, sender, recipients, message)
        finally:
            await _smtp.quit(smtp)

    async def _session(
        self,
        smtp: aiosmtplib.SMTP,
        implicit: bool,
        tls: ssl.SSLContext | None,
        server_name: str,
        sender: str,
        recipients: list[str],
        message: bytes,
    ) -> None:
        c = self.conf
        step = _smtp.step
        await step("send EHLO command", _smtp.hello(smtp))
        if c.require_tls and not implicit:
            if not _smtp.extension(smtp, "STARTTLS")[0]:
                raise NotifyError(
                    f"'require_tls' is true (default) but {go_quote(c.smarthost)} does not "
                    "advertise the STARTTLS extension"
                )
            assert tls is not None
            await step("send STARTTLS command", _smtp.starttls(smtp, tls, server_name))
        offered, mechs = _smtp.extension(smtp, "AUTH")
        if offered:
            auth = self._auth(mechs)
            if auth is not None:
                await step(f"{auth.go_type} auth", _smtp.authenticate(smtp, auth, self.host))
        await step("send MAIL command", _smtp.mail(smtp, sender))
        for rcpt in recipients:
            await step("send RCPT command", smtp.rcpt(rcpt, encoding="utf-8"))
        await step("delivery failure", smtp.data(message))
