"""A small asyncio SMTP client that behaves as Go's net/smtp does for Alertmanager's email.

Why not smtplib: Alertmanager's choices are net/smtp's (EHLO falling back to HELO, the
extensions read from EHLO, ``MAIL FROM:<a> BODY=8BITMIME``, AUTH PLAIN refused on an
unencrypted connection to anything but localhost, the LOGIN exchange, ``*`` to abort a failed
exchange) and the errors users see are its ``535 5.7.8 ...`` texts; asyncio streams give
cancellation and timeouts for free where a thread would hang.

Also here: the MIME encoders Go's email notifier uses, byte for byte: ``mime.QEncoding`` for
header values and ``mime/quotedprintable`` for the bodies.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ssl
from dataclasses import dataclass, field

LOCALHOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
TIMEOUT = 30.0
"""Seconds allowed to connect and for each reply of the server."""


class SMTPError(Exception):
    """A reply with an unexpected code (textproto.Error: ``"%03d %s"``) or a protocol error."""

    def __init__(self, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Client:
    """One SMTP session (net/smtp.Client): commands, replies, and what EHLO advertised."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    server_name: str
    tls: bool = False
    local_name: str = "localhost"
    ext: dict[str, str] | None = None
    did_hello: bool = False
    timeout: float = TIMEOUT
    auth_mechs: list[str] = field(default_factory=list)
    closed: bool = False

    @classmethod
    async def connect(
        cls,
        host: str,
        port: int,
        tls: ssl.SSLContext | None,
        server_hostname: str,
        io_timeout: float = TIMEOUT,
    ) -> Client:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=tls, server_hostname=server_hostname if tls else None),
            io_timeout,
        )
        client = cls(reader, writer, host, tls=tls is not None, timeout=io_timeout)
        try:
            await client.read_response(220)
        except BaseException:
            client.abort()
            raise
        return client

    # -- wire

    async def read_response(self, expect: int) -> tuple[int, str]:
        """textproto.ReadResponse: the (possibly multi-line) reply; its code must match
        ``expect`` by prefix (2 matches 2xx, 25 matches 25x, 0 matches anything)."""
        lines: list[str] = []
        code = 0
        while True:
            raw = await asyncio.wait_for(self.reader.readline(), self.timeout)
            if not raw:
                raise SMTPError("short response: connection closed by server")
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if len(line) < 4 or not line[:3].isdigit() or line[3] not in " -":
                if len(line) == 3 and line.isdigit():
                    line += " "
                else:
                    raise SMTPError(f"short response: {line}")
            this = int(line[:3])
            if code and this != code:
                raise SMTPError(f"short response: {line}")
            code = this
            lines.append(line[4:])
            if line[3] == " ":
                break
        message = "\n".join(lines)
        if expect and not str(code).startswith(str(expect)):
            raise SMTPError(f"{code:03d} {message}", code)
        return code, message

    async def cmd(self, expect: int, line: str) -> tuple[int, str]:
        if "\r" in line or "\n" in line:
            raise SMTPError("smtp: A line must not contain CR or LF")
        self.writer.write(line.encode() + b"\r\n")
        await self.writer.drain()
        return await self.read_response(expect)

    def abort(self) -> None:
        self.closed = True
        self.writer.close()

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), 2)
        except (OSError, TimeoutError, ssl.SSLError):
            pass

    # -- session

    async def hello(self) -> None:
        if self.did_hello:
            return
        self.did_hello = True
        try:
            await self._ehlo()
        except SMTPError:
            await self.cmd(250, f"HELO {self.local_name}")

    async def say_hello(self, local_name: str) -> None:
        """Client.Hello: EHLO/HELO with the configured name, before any other command."""
        if self.did_hello:
            raise SMTPError("smtp: Hello called after other methods")
        self.local_name = local_name
        await self.hello()

    async def _ehlo(self) -> None:
        _, msg = await self.cmd(250, f"EHLO {self.local_name}")
        ext: dict[str, str] = {}
        for line in msg.split("\n")[1:]:
            name, _, args = line.partition(" ")
            ext[name] = args
        self.ext = ext
        self.auth_mechs = ext["AUTH"].split(" ") if "AUTH" in ext else []

    async def extension(self, name: str) -> tuple[bool, str]:
        await self.hello()
        if self.ext is None:
            return False, ""
        name = name.upper()
        return name in self.ext, self.ext.get(name, "")

    async def starttls(self, tls: ssl.SSLContext, server_hostname: str) -> None:
        await self.hello()
        await self.cmd(220, "STARTTLS")
        await asyncio.wait_for(self.writer.start_tls(tls, server_hostname=server_hostname), self.timeout)
        self.tls = True
        await self._ehlo()

    async def auth(self, auth: Auth) -> None:
        await self.hello()
        mech, resp = auth.start(self.server_name, self.tls)
        initial = f"AUTH {mech} {base64.b64encode(resp).decode() if resp else ''}".strip()
        code, msg = await self.cmd(0, initial)
        while True:
            if code == 334:
                try:
                    challenge = base64.b64decode(msg, validate=True)
                except ValueError as e:
                    await self._abort_auth()
                    raise SMTPError(f"illegal base64 data: {e}") from None
            elif code == 235:
                challenge = msg.encode()
            else:
                await self._abort_auth()
                raise SMTPError(f"{code:03d} {msg}", code)
            try:
                answer = auth.next(challenge, code == 334)
            except SMTPError:
                await self._abort_auth()
                raise
            if answer is None:
                return
            code, msg = await self.cmd(0, base64.b64encode(answer).decode())

    async def _abort_auth(self) -> None:
        try:
            await self.cmd(501, "*")
        except (SMTPError, OSError, TimeoutError):
            pass
        await self.quit()

    async def mail(self, sender: str) -> None:
        await self.hello()
        line = f"MAIL FROM:<{sender}>"
        if self.ext is not None:
            if "8BITMIME" in self.ext:
                line += " BODY=8BITMIME"
            if "SMTPUTF8" in self.ext:
                line += " SMTPUTF8"
        await self.cmd(250, line)

    async def rcpt(self, to: str) -> None:
        await self.cmd(25, f"RCPT TO:<{to}>")

    async def data(self, message: bytes) -> None:
        """DATA, the message dot-stuffed with CRLF line ends, and the final reply."""
        await self.cmd(354, "DATA")
        self.writer.write(dot_encode(message))
        await self.writer.drain()
        await self.read_response(250)

    async def quit(self) -> None:
        if self.closed:
            return
        try:
            await self.hello()
            await self.cmd(221, "QUIT")
        except (SMTPError, OSError, TimeoutError, ssl.SSLError):
            pass
        finally:
            await self.close()


def dot_encode(message: bytes) -> bytes:
    """textproto.DotWriter: bare LF becomes CRLF, a leading dot doubled, ``.`` to finish."""
    out = bytearray()
    at_line_start = True
    prev = 0
    for b in message:
        if at_line_start and b == 0x2E:
            out.append(0x2E)
        if b == 0x0A and prev != 0x0D:
            out.append(0x0D)
        out.append(b)
        at_line_start = b == 0x0A
        prev = b
    if not at_line_start:
        out += b"\r\n"
    out += b".\r\n"
    return bytes(out)


# --------------------------------------------------------------------------------------------
# Authentication, as net/smtp's Auth: start() -> (mechanism, initial response), next(challenge)


class Auth:
    go_type = ""

    def start(self, server_name: str, tls: bool) -> tuple[str, bytes]:
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
