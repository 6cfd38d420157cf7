"""Go's net/smtp, as Alertmanager's email notifier uses it, on aiosmtplib's SMTP client.

aiosmtplib speaks the protocol (replies, EHLO/HELO, STARTTLS, dot-stuffing, timeouts); what
is Go's is here: the session's steps and their error texts (``send RCPT command: 550 5.1.1
...``, replies worded as textproto.Error ``"%03d %s"``), the AUTH exchange of net/smtp's Auth
interface (PLAIN refused on an unencrypted connection to anything but localhost, Alertmanager's
LOGIN, CRAM-MD5, ``*`` to abort a failed exchange), and the MIME encoders Go's email notifier
uses, byte for byte: ``mime.QEncoding`` for header values and ``mime/quotedprintable`` for the
bodies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ssl
from collections.abc import Awaitable
from typing import TypeVar

import aiosmtplib

from ...auth.urlpolicy import UrlPolicy, connect_socket

LOCALHOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
TIMEOUT = 30.0
"""Seconds allowed to connect and for each reply of the server."""

T = TypeVar("T")


class SMTPError(Exception):
    """A failed step of the session, worded as Go words it."""


def go_error(e: BaseException) -> str:
    """How Go's net/smtp words a failure: a reply as textproto.Error (``"%03d %s"``)."""
    if isinstance(e, aiosmtplib.SMTPResponseException):
        return f"{e.code:03d} {e.message}"
    if isinstance(e, aiosmtplib.SMTPException) and isinstance(e.__cause__, (OSError, ssl.SSLError)):
        return str(e.__cause__) or type(e.__cause__).__name__
    return str(e) or type(e).__name__


async def step(what: str, op: Awaitable[T]) -> T:
    """One step of the session; its failure is an SMTPError saying which step (Go's Wrap)."""
    try:
        return await op
    except (aiosmtplib.SMTPException, SMTPError, OSError, TimeoutError, ssl.SSLError) as e:
        raise SMTPError(f"{what}: {go_error(e)}") from None


async def connect(
    host: str,
    port: int,
    tls: ssl.SSLContext | None,
    local_name: str,
    policy: UrlPolicy,
    io_timeout: float = TIMEOUT,
) -> aiosmtplib.SMTP:
    """A session with the server's greeting read; with ``tls``, TLS from the first byte. The
    socket is connected here, to an address the outbound ``policy`` allows (OutboundRefused
    otherwise), and handed to aiosmtplib."""
    sock = await connect_socket(policy, host, port, io_timeout)
    smtp = aiosmtplib.SMTP(
        hostname=host,
        sock=sock,
        local_hostname=local_name,
        use_tls=tls is not None,
        start_tls=False,  # Go's notifier decides on STARTTLS itself, after EHLO
        tls_context=tls,
        timeout=io_timeout,
    )
    await smtp.connect()
    return smtp


async def hello(smtp: aiosmtplib.SMTP) -> None:
    """Client.Hello: EHLO, or HELO when the server refuses EHLO."""
    try:
        await smtp.ehlo()
    except aiosmtplib.SMTPHeloError:
        await smtp.helo()


def extension(smtp: aiosmtplib.SMTP, name: str) -> tuple[bool, str]:
    """Client.Extension: whether EHLO advertised ``name``, and its parameters."""
    key = name.lower()
    return key in smtp.esmtp_extensions, smtp.esmtp_extensions.get(key, "")


async def starttls(smtp: aiosmtplib.SMTP, tls: ssl.SSLContext, server_name: str) -> None:
    """Client.StartTLS: STARTTLS, the handshake, then EHLO again over TLS."""
    await smtp.starttls(tls_context=tls, server_hostname=server_name)
    await smtp.ehlo()


async def mail(smtp: aiosmtplib.SMTP, sender: str) -> None:
    """Client.Mail: ``MAIL FROM:<sender>``, with BODY=8BITMIME and SMTPUTF8 when offered."""
    options = []
    if extension(smtp, "8BITMIME")[0]:
        options.append("BODY=8BITMIME")
    if extension(smtp, "SMTPUTF8")[0]:
        options.append("SMTPUTF8")
    await smtp.mail(sender, options=options, encoding="utf-8")


async def quit(smtp: aiosmtplib.SMTP) -> None:
    """Client.Quit, whatever the session's state; the connection is closed either way."""
    try:
        if smtp.is_connected:
            await smtp.quit()
    except (aiosmtplib.SMTPException, OSError, TimeoutError, ssl.SSLError):
        pass
    finally:
        smtp.close()


async def authenticate(smtp: aiosmtplib.SMTP, auth: Auth, server_name: str) -> None:
    """Client.Auth: the mechanism's exchange; a failure sends ``*`` and ends the session."""
    tls = smtp.get_transport_info("sslcontext") is not None
    mech, resp = auth.start(server_name, tls)
    initial = [mech.encode()] + ([base64.b64encode(resp)] if resp else [])
    reply = await smtp.execute_command(b"AUTH", *initial)
    while True:
        code, msg = reply.code, reply.message
        if code == 334:
            try:
                challenge = base64.b64decode(msg, validate=True)
            except ValueError as e:
                await _abort(smtp)
                raise SMTPError(f"illegal base64 data: {e}") from None
        elif code == 235:
            challenge = msg.encode()
        else:
            await _abort(smtp)
            raise SMTPError(f"{code:03d} {msg}")
        try:
            answer = auth.next(challenge, code == 334)
        except SMTPError:
            await _abort(smtp)
            raise
        if answer is None:
            return
        reply = await smtp.execute_command(base64.b64encode(answer))


async def _abort(smtp: aiosmtplib.SMTP) -> None:
    try:
        await smtp.execute_command(b"*")
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        pass
    await quit(smtp)


# --------------------------------------------------------------------------------------------
# Authentication, as net/smtp's Auth: start() -> (mechanism, initial response), next(challenge)


class Auth:
    go_type = ""

    def start(self, server_name: str, tls: bool) -> tuple[str, bytes]:
        """The mechanism and the initial response; raises SMTPError to refuse."""
        raise NotImplementedError

    def next(self, challenge: bytes, more: bool) -> bytes | None:
        raise NotImplementedError


class PlainAuth(Auth):
    go_type = "*smtp.plainAuth"

    def __init__(self, identity: str, username: str, password: str, host: str) -> None:
        self.identity, self.username, self.password, self.host = identity, username, password, host

    def start(self, server_name: str, tls: bool) -> tuple[str, bytes]:
        # Never send a password in the clear to anything but this machine.
        if not tls and server_name not in LOCALHOSTS:
            raise SMTPError("unencrypted connection")
        if server_name != self.host:
            raise SMTPError("wrong host name")
        return "PLAIN", f"{self.identity}\0{self.username}\0{self.password}".encode()

    def next(self, challenge: bytes, more: bool) -> bytes | None:
        if more:
            raise SMTPError("unexpected server challenge")
        return None


class LoginAuth(Auth):
    go_type = "*email.loginAuth"

    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username, password

    def start(self, server_name: str, tls: bool) -> tuple[str, bytes]:
        return "LOGIN", b""

    def next(self, challenge: bytes, more: bool) -> bytes | None:
        if not more:
            return None
        # Servers say "Username:" (Alertmanager's expectation) or "User Name"; accept both.
        prompt = challenge.decode(errors="replace").strip("\0 \t").lower()
        if prompt.startswith("user"):
            return self.username.encode()
        if prompt.startswith("password"):
            return self.password.encode()
        raise SMTPError("unexpected server challenge")


class CramMD5Auth(Auth):
    go_type = "*smtp.cramMD5Auth"

    def __init__(self, username: str, secret: str) -> None:
        self.username, self.secret = username, secret

    def start(self, server_name: str, tls: bool) -> tuple[str, bytes]:
        return "CRAM-MD5", b""

    def next(self, challenge: bytes, more: bool) -> bytes | None:
        if not more:
            return None
        digest = hmac.new(self.secret.encode(), challenge, hashlib.md5).hexdigest()
        return f"{self.username} {digest}".encode()


# --------------------------------------------------------------------------------------------
# MIME encoders (Go's mime.QEncoding and mime/quotedprintable)

_MAX_ENCODED_WORD = 75
_MAX_CONTENT = _MAX_ENCODED_WORD - len("=?UTF-8?q?") - len("?=")
_HEX = "0123456789ABCDEF"


def _q_byte(b: int) -> str:
    if b == 0x20:
        return "_"
    if 0x21 <= b <= 0x7E and b not in (0x3D, 0x3F, 0x5F):
        return chr(b)
    return f"={_HEX[b >> 4]}{_HEX[b & 0x0F]}"


def q_encode(value: str) -> str:
    """mime.QEncoding.Encode("utf-8", value): unchanged when printable ASCII, else RFC 2047
    encoded-words of at most 75 characters, split between characters, joined by spaces."""
    if all(" " <= c <= "~" or c == "\t" for c in value):
        return value
    words: list[str] = []
    current: list[str] = []
    length = 0
    for ch in value:
        raw = ch.encode("utf-8", errors="surrogatepass")
        o = raw[0]
        enc_len = 1 if len(raw) == 1 and 0x20 <= o <= 0x7E and o not in (0x3D, 0x3F, 0x5F) else 3 * len(raw)
        if length + enc_len > _MAX_CONTENT:
            words.append("".join(current))
            current, length = [], 0
        current.append("".join(_q_byte(b) for b in raw))
        length += enc_len
    words.append("".join(current))
    return " ".join(f"=?utf-8?q?{w}?=" for w in words)


_QP_LINE_MAX = 76


def quoted_printable(data: bytes) -> bytes:
    """mime/quotedprintable.Writer (text mode): lines of at most 76 characters with soft
    breaks, CRLF line ends, ``=`` and non-ASCII escaped, whitespace before a break escaped."""
    out = bytearray()
    line = bytearray()
    cr = False

    def flush() -> None:
        out.extend(line)
        line.clear()

    def crlf() -> None:
        line.extend(b"\r\n")
        flush()

    def soft_break() -> None:
        line.extend(b"=")
        crlf()

    def encode(b: int) -> None:
        if _QP_LINE_MAX - 1 - len(line) < 3:
            soft_break()
        line.extend(f"={_HEX[b >> 4]}{_HEX[b & 0x0F]}".encode())

    def check_last_byte() -> None:
        if line and line[-1] in (0x20, 0x09):
            b = line.pop()
            encode(b)

    for b in data:
        literal = 0x21 <= b <= 0x7E and b != 0x3D
        if not (literal or b in (0x20, 0x09, 0x0A, 0x0D)):
            encode(b)  # as Go's writer: an escaped byte leaves the CR state as it was
            continue
        if b in (0x0A, 0x0D):
            if cr and b == 0x0A:
                cr = False
                continue
            cr = b == 0x0D
            check_last_byte()
            crlf()
            continue
        if len(line) == _QP_LINE_MAX - 1:
            soft_break()
        line.append(b)
        cr = False
    check_last_byte()
    flush()
    return bytes(out)
