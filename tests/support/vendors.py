"""Local stand-ins for the vendors' endpoints that notifications go to.

``VendorServer`` is an HTTP server (aiohttp, in a thread of its own so both synchronous tests
driving the real Alertmanager and async tests driving ampp's integrations can use it) that
records every request and answers as the vendor would: Slack's ``ok``, PagerDuty's 202 with
``{"status": "success"}``, Telegram's ``{"ok": true, "result": {...}}``... Replies can be
scripted per path (a 503 then a 200, a 429 with Retry-After) to exercise retries.

``SMTPServer`` is a real SMTP server (aiosmtpd) with STARTTLS, implicit TLS, and AUTH PLAIN,
LOGIN and CRAM-MD5 against one user, recording each message with its envelope and with how
the client authenticated and whether the session was encrypted.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import logging
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web

# --------------------------------------------------------------------------------------------
# HTTP


@dataclass(frozen=True)
class Reply:
    """What the stand-in answers to one request."""

    status: int = 200
    body: bytes | str | dict[str, Any] | list[Any] = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    delay: float = 0.0

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, (dict, list)):
            return json.dumps(self.body).encode(), self.content_type or "application/json"
        raw = self.body.encode() if isinstance(self.body, str) else self.body
        return raw, self.content_type or "text/plain; charset=utf-8"


@dataclass
class Request:
    """One recorded request."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    received_at: float

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode(), keep_blank_values=True)


SNS_PUBLISHED = (
    '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult>'
    "<MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId></PublishResult>"
    "<ResponseMetadata><RequestId>f187a3c1-376f-11df-8963-01868b7c937a</RequestId></ResponseMetadata>"
    "</PublishResponse>"
)


def sns_error(code: str, message: str, kind: str = "Sender") -> str:
    return (
        '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
        f"<Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>42d59b56-7407-4c4a-be0f-4c88daeea257</RequestId></ErrorResponse>"
    )


# The vendors' success answers, by path suffix; the first match wins.
VENDOR_REPLIES: list[tuple[str, Reply]] = [
    ("/api/chat.postMessage", Reply(200, {"ok": True, "channel": "C0123", "ts": "1700000000.000100"})),
    ("/api/chat.update", Reply(200, {"ok": True, "channel": "C0123", "ts": "1700000000.000100"})),
    ("/slack", Reply(200, "ok", content_type="text/html")),
    ("/v2/enqueue", Reply(202, {"status": "success", "message": "Event processed", "dedup_key": "x"})),
    ("/create_event.json", Reply(200, {"status": "success", "message": "Event processed"})),
    ("/v2/alerts", Reply(202, {"result": "Request will be processed", "took": 0.1, "requestId": "r"})),
    (
        "/sendMessage",
        Reply(
            200,
            {
                "ok": True,
                "result": {"message_id": 7, "date": 1700000000, "chat": {"id": -1001, "type": "group"}},
            },
        ),
    ),
    ("/discord", Reply(204)),
    ("/gettoken", Reply(200, {"errcode": 0, "errmsg": "ok", "access_token": "W3CH4T", "expires_in": 7200})),
    ("/message/send", Reply(200, {"errcode": 0, "errmsg": "ok"})),
    ("/v1/messages", Reply(200, {"id": "Y2lzY29zcGFyazovL3VzL01FU1NBR0UvMQ"})),
    ("/integrations/generic", Reply(200, {"result": "success", "entity_id": "x"})),
    ("/1/messages.json", Reply(200, {"status": 1, "request": "5042853c-402d-4a18-abcb-168734a801de"})),
    ("/webhookb2", Reply(200, "1")),
    ("/workflows", Reply(202)),
    ("/sns", Reply(200, SNS_PUBLISHED, content_type="text/xml")),
    ("/sts", Reply(200, "", content_type="text/xml")),
]


class VendorServer:
    """Records requests; replies with scripted answers, else the vendor's usual success."""

    def __init__(self, default: Reply | None = None) -> None:
        self.default = default
        self.requests: list[Request] = []
        self._scripts: dict[str, deque[Reply]] = {}
        self._fixed: dict[str, Reply] = {}
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.ssl_context: ssl.SSLContext | None = None

    # -- configuration

    def reply(self, path: str, reply: Reply) -> None:
        """Answer every request to ``path`` with ``reply`` (until changed)."""
        self._fixed[path] = reply

    def script(self, path: str, *replies: Reply) -> None:
        """Answer the next requests to ``path`` with ``replies``, in order, then as before."""
        self._scripts.setdefault(path, deque()).extend(replies)

    @property
    def url(self) -> str:
        return f"{'https' if self.ssl_context else 'http'}://127.0.0.1:{self.port}"

    # -- lifecycle

    def start(self, ssl_context: ssl.SSLContext | None = None) -> VendorServer:
        self.ssl_context = ssl_context
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application(client_max_size=8 * 1024 * 1024)
            app.router.add_route("*", "/{tail:.*}", self._handle)
            self._runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=ssl_context)
            loop.run_until_complete(site.start())
            self.port = self._runner.addresses[0][1]
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True, name="vendor-server")
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("vendor server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None

    def __enter__(self) -> VendorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- handling

    def _reply_for(self, path: str) -> Reply:
        for prefix, queue in self._scripts.items():
            if path.endswith(prefix) and queue:
                return queue.popleft()
        for prefix, reply in self._fixed.items():
            if path.endswith(prefix):
                return reply
        if self.default is not None:
            return self.default
        for suffix, reply in VENDOR_REPLIES:
            if suffix in path:
                return reply
        return Reply(200, "ok")

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        recorded = Request(
            request.method,
            request.path,
            parse_qs(request.query_string, keep_blank_values=True),
            dict(request.headers),
            body,
            time.time(),
        )
        with self._cond:
            self.requests.append(recorded)
            reply = self._reply_for(request.path)
            self._cond.notify_all()
        if reply.delay:
            await asyncio.sleep(reply.delay)
        raw, ctype = reply.encoded()
        headers = {"Content-Type": ctype, **reply.headers}
        return web.Response(status=reply.status, body=raw, headers=headers)

    # -- waiting

    def wait_for(self, count: int, timeout: float = 15) -> list[Request]:
        """Block until at least ``count`` requests arrived; return them all."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} requests within {timeout}s, got {len(self.requests)}"
                    )
                self._cond.wait(left)
            return list(self.requests)

    def clear(self) -> None:
        with self._cond:
            self.requests.clear()


# --------------------------------------------------------------------------------------------
# TLS material


def make_cert(directory: Path, names: tuple[str, ...] = ("localhost", "127.0.0.1")) -> tuple[Path, Path]:
    """A self-signed certificate (also its own CA) for ``names``; returns (cert, key) paths."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    alt: list[x509.GeneralName] = []
    for n in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            alt.append(x509.DNSName(n))
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(alt), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def server_tls(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


# --------------------------------------------------------------------------------------------
# SMTP


@dataclass
class Mail:
    """One message as the SMTP server received it."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    helo: str
    auth: tuple[str, str] | None  # (mechanism, login)
    tls: bool
    mail_options: list[str]

    @property
    def message(self) -> EmailMessage:
        msg = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


class SMTPServer:
    """aiosmtpd on a free port: STARTTLS and/or implicit TLS, AUTH for one user.

    ``require_auth`` refuses MAIL before AUTH; ``starttls`` advertises STARTTLS (needs a
    certificate); ``implicit_tls`` wraps the whole connection (port-465 style); ``mechanisms``
    limits what AUTH advertises (aiosmtpd's own PLAIN/LOGIN, plus CRAM-MD5 here).
    """

    def __init__(
        self,
        *,
        username: str = "alertmanager",
        password: str = "s3cret",
        cert: tuple[Path, Path] | None = None,
        starttls: bool = False,
        implicit_tls: bool = False,
        require_auth: bool = False,
        auth_enabled: bool = True,
        mechanisms: tuple[str, ...] = ("PLAIN", "LOGIN", "CRAM-MD5"),
        login_challenges: tuple[str, str] = ("Username:", "Password:"),
        reject_rcpt: str | None = None,
    ) -> None:
        self.username = username
        self.password = password
        self.cert = cert
        self.starttls = starttls
        self.implicit_tls = implicit_tls
        self.require_auth = require_auth
        self.auth_enabled = auth_enabled
        self.mechanisms = mechanisms
        self.login_challenges = login_challenges
        self.reject_rcpt = reject_rcpt
        self.mails: list[Mail] = []
        self.failed_auth: list[str] = []
        self._cond = threading.Condition()
        self._controller: Any = None
        self.port = 0

    def start(self) -> SMTPServer:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

        outer = self

        class Handler:
            async def handle_RCPT(
                self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
            ) -> str:
                if outer.reject_rcpt and address == outer.reject_rcpt:
                    return "550 5.1.1 no such user"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                mail = Mail(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    envelope.original_content or envelope.content,
                    session.host_name or "",
                    getattr(session, "ampp_auth", None),
                    session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
                    list(envelope.mail_options),
                )
                with outer._cond:
                    outer.mails.append(mail)
                    outer._cond.notify_all()
                return "250 2.0.0 Ok: queued"

        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            if isinstance(data, LoginPassword):
                ok = data.login.decode() == outer.username and data.password.decode() == outer.password
                if ok:
                    session.ampp_auth = (mechanism, data.login.decode())
                else:
                    outer.failed_auth.append(mechanism)
                return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535
            return AuthResult(success=False, handled=False)

        class Server(SMTP):
            AuthLoginUsernameChallenge = self.login_challenges[0]
            AuthLoginPasswordChallenge = self.login_challenges[1]

            async def auth_CRAM__MD5(self, server: Any, args: list[str]) -> Any:
                challenge = f"<{time.time_ns()}.0@ampp.test>".encode()
                response = await self.challenge_auth(challenge, encode_to_b64=True)
                if response is None or not isinstance(response, bytes):
                    return AuthResult(success=False, handled=False)
                user, _, digest = response.decode().partition(" ")
                expected = hmac.new(outer.password.encode(), challenge, hashlib.md5).hexdigest()
                ok = user == outer.username and hmac.compare_digest(digest, expected)
                if ok:
                    session: Any = self.session  # handle_DATA reads the mechanism kept on it
                    session.ampp_auth = ("CRAM-MD5", user)
                else:
                    outer.failed_auth.append("CRAM-MD5")
                return AuthResult(success=ok, auth_data=user, handled=False)

        logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd's own deprecation chatter
        tls_ctx = server_tls(*self.cert) if self.cert else None
        exclude = [m for m in ("PLAIN", "LOGIN", "CRAM-MD5") if m not in self.mechanisms]
        kwargs: dict[str, Any] = {
            "authenticator": authenticator if self.auth_enabled else None,
            "auth_required": self.require_auth,
            "auth_require_tls": False,
            "auth_exclude_mechanism": exclude,
        }
        if self.starttls:
            kwargs["tls_context"] = tls_ctx
            kwargs["require_starttls"] = False

        class Ctl(Controller):
            def factory(self_inner) -> SMTP:
                return Server(self_inner.handler, **self_inner.SMTP_kwargs)

        from tests.support.servers import free_port

        self.port = free_port()
        self._controller = Ctl(
            Handler(),
            hostname="127.0.0.1",
            port=self.port,
            ssl_context=tls_ctx if self.implicit_tls else None,
            server_hostname="localhost",
            ready_timeout=10,
            **kwargs,
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SMTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for(self, count: int, timeout: float = 15) -> list[Mail]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.mails) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} mails within {timeout}s, got {len(self.mails)}")
                self._cond.wait(left)
            return list(self.mails)


Handler = Callable[[Request], Reply]


# --------------------------------------------------------------------------------------------
# Side by side with the real Alertmanager: the same alerts, the same group, the same receiver

EXTERNAL_URL = "http://am.example:9093"
STARTS_AT = "2023-11-14T22:13:20.123456789Z"
FAR_FUTURE = "2099-01-01T00:00:00Z"


def api_alerts(n: int = 2, ends_at: str = FAR_FUTURE, **extra_labels: str) -> list[dict[str, Any]]:
    """Alerts as POST /api/v2/alerts takes them: one group (alertname=Disk), ``n`` instances."""
    return [
        {
            "labels": {
                "alertname": "Disk",
                "severity": "critical",
                "instance": f"host{i}:9100",
                **extra_labels,
            },
            "annotations": {"summary": f"Disk full on host{i}", "description": "Less than <5%> & falling"},
            "startsAt": STARTS_AT,
            "endsAt": ends_at,
            "generatorURL": f"http://prometheus.example:9090/graph?g0.expr=disk{i}",
        }
        for i in range(n)
    ]


def to_alerts(items: list[dict[str, Any]]) -> list[Any]:
    """The same alerts as ampp's model holds them."""
    from ampp.model.alert import Alert
    from ampp.model.timefmt import parse_rfc3339

    return [
        Alert(
            dict(a["labels"]),
            dict(a.get("annotations") or {}),
            parse_rfc3339(a["startsAt"]),
            parse_rfc3339(a["endsAt"]) if a.get("endsAt") else 0,
            a.get("generatorURL", ""),
            parse_rfc3339(a["startsAt"]),
        )
        for a in items
    ]


def reference_config(receiver_yaml: str, global_yaml: str = "", group_interval: str = "1s") -> str:
    """An alertmanager.yml with one route grouping by alertname to receiver ``team-a``."""
    return (
        (f"global:\n{global_yaml}\n" if global_yaml else "")
        + "route:\n"
        + "  receiver: team-a\n"
        + "  group_by: [alertname]\n"
        # Not 0s: Alertmanager routes the alerts of one POST one by one, and with group_wait 0s
        # the group may flush after the first of them (seen on a loaded machine).
        + "  group_wait: 250ms\n"
        + f"  group_interval: {group_interval}\n"
        + "  repeat_interval: 1h\n"
        + "receivers:\n"
        + "- name: team-a\n"
        + receiver_yaml
    )


GROUP_KEY = '{}:{alertname="Disk"}'
GROUP_LABELS = {"alertname": "Disk"}


def post_alerts(url: str, alerts: list[dict[str, Any]]) -> None:
    import httpx

    resp = httpx.post(f"{url}/api/v2/alerts", json=alerts, timeout=10)
    resp.raise_for_status()


RESOLVED_AT = "2023-11-14T23:00:00Z"


@dataclass
class ReferenceRun:
    """What Alertmanager 0.25 sent for one group: first firing, then resolved."""

    firing: list[Request]
    resolved: list[Request]
    config: str
    vendor: VendorServer


def capture_reference(
    receiver_yaml: str,
    workdir: Path,
    vendor: VendorServer,
    *,
    global_yaml: str = "",
    per_notification: int = 1,
    per_resolved: int | None = None,
    resolve: bool = True,
) -> ReferenceRun:
    """Run the real Alertmanager with ``receiver_yaml`` (``{url}`` is the stand-in's URL),
    post the group's alerts firing, then resolved, and return what reached the stand-in."""
    from tests.support.servers import run_server

    config = reference_config(
        receiver_yaml.replace("{url}", vendor.url), global_yaml.replace("{url}", vendor.url)
    )
    for attempt in range(3):
        vendor.clear()
        where = workdir if attempt == 0 else workdir / f"retry{attempt}"
        with run_server("reference", config, where, extra_args=[f"--web.external-url={EXTERNAL_URL}"]) as am:
            post_alerts(am.url, api_alerts(2))
            firing = vendor.wait_for(per_notification)
            if _split(firing) and attempt < 2:
                # The alerts started long ago, so Alertmanager flushes their group as soon as the
                # first is in (dispatch.go: startsAt + group_wait is past), which on a busy
                # machine can be before the second one: run the reference again.
                continue
            resolved: list[Request] = []
            if resolve:
                post_alerts(am.url, api_alerts(2, ends_at=RESOLVED_AT))
                n = per_notification if per_resolved is None else per_resolved
                resolved = vendor.wait_for(per_notification + n)[per_notification:]
            time.sleep(0.3)  # nothing else may come
            assert len(vendor.requests) == len(firing) + len(resolved), [r.path for r in vendor.requests]
        break
    vendor.clear()
    return ReferenceRun(firing, resolved, config, vendor)


def _split(firing: list[Request]) -> bool:
    """Whether the first notification shows the first alert of the group and not the second."""
    bodies = b"".join(r.body for r in firing)
    return b"host0" in bodies and b"host1" not in bodies


def same_request(
    ours: Request, theirs: Request, headers: tuple[str, ...] = ("Content-Type", "Authorization")
) -> None:
    """Method, path, query, the named headers and the body, byte for byte."""
    a, b = (ours.method, ours.path, ours.query), (theirs.method, theirs.path, theirs.query)
    assert a == b, f"\nours:   {a}\ntheirs: {b}"
    for h in headers:
        assert ours.headers.get(h) == theirs.headers.get(h), (h, ours.headers.get(h), theirs.headers.get(h))
    a_body, b_body = ours.body.decode(), theirs.body.decode()
    assert a_body == b_body, f"\nours:   {a_body}\ntheirs: {b_body}"


def verify_sigv4(req: Request, secret_key: str) -> bool:
    """Checks an AWS Signature V4 the way AWS does: rebuild the canonical request from what
    arrived (signed headers only), derive the key from the secret, compare signatures."""
    import re
    from urllib.parse import quote

    auth = req.headers.get("Authorization", "")
    m = re.fullmatch(
        r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
        r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})",
        auth,
    )
    if not m:
        return False
    _, date, region, service, signed_names, signature = m.groups()
    lower = {k.lower(): v for k, v in req.headers.items()}
    query = "&".join(
        sorted(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, vs in req.query.items() for v in vs)
    )
    canonical = "\n".join(
        [
            req.method,
            quote(req.path, safe="/-_.~"),
            query,
            "".join(f"{n}:{' '.join(lower.get(n, '').split())}\n" for n in signed_names.split(";")),
            signed_names,
            hashlib.sha256(req.body).hexdigest(),
        ]
    )
    amz_date = lower.get("x-amz-date", "")
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = f"AWS4{secret_key}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)
