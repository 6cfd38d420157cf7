"""Email against a real SMTP server (aiosmtpd): STARTTLS, implicit TLS, AUTH, the message.

The last test runs the real Alertmanager 0.25 against the same server and compares the mail
(envelope, headers, both parts) with what ampp sends for the same alerts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from ampp.config.loader import load_text
from ampp.notify.integrations.email import EmailIntegration
from ampp.notify.stage import NotifyError
from ampp.notify.templates import Templates

from tests.support.integrations import build_integration, ctx
from tests.support.prereq import GO, GO_1_19, REFERENCE
from tests.support.servers import run_server
from tests.support.vendors import (
    EXTERNAL_URL,
    FAR_FUTURE,
    GROUP_KEY,
    RESOLVED_AT,
    Mail,
    SMTPServer,
    api_alerts,
    make_cert,
    post_alerts,
    reference_config,
    to_alerts,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("built_integrations")]


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_cert(tmp_path_factory.mktemp("smtp-tls"))


def email(receiver_yaml: str, global_yaml: str = "") -> EmailIntegration:
    return build_integration(EmailIntegration, receiver_yaml, global_yaml)


def smtp_yaml(
    server: SMTPServer,
    extra: str = "",
    ca: Path | None = None,
    text: str = "'Text {{ .Status }}'",
    html: str = "'<p>{{ .CommonAnnotations.description }}</p>'",
) -> str:
    out = (
        "  email_configs:\n"
        "  - to: 'oncall@example.com, Storage Team <storage@example.com>'\n"
        "    from: 'Alertmanager <am@example.com>'\n"
        f"    smarthost: 'localhost:{server.port}'\n"
        "    hello: ampp.example\n"
        f"    auth_username: {server.username}\n"
        f"    auth_password: {server.password}\n"
        f"    text: {text}\n"
        f"    html: {html}\n"
    )
    if ca is not None:
        out += f"    tls_config:\n      ca_file: {ca}\n"
    return out + extra


@pytest.fixture
def starttls_server(cert: tuple[Path, Path]) -> Iterator[SMTPServer]:
    with SMTPServer(cert=cert, starttls=True, mechanisms=("PLAIN",)) as s:
        yield s


def parts(mail: Mail) -> list[EmailMessage]:
    msg = mail.message
    assert msg.get_content_type() == "multipart/alternative"
    return [p for p in msg.iter_parts() if isinstance(p, EmailMessage)]


async def test_starttls_auth_plain_and_the_message(
    starttls_server: SMTPServer, cert: tuple[Path, Path]
) -> None:
    e = email(smtp_yaml(starttls_server, ca=cert[0]))
    await e.notify(ctx(), to_alerts(api_alerts(2)))
    (mail,) = starttls_server.wait_for(1)
    assert mail.tls and mail.auth == ("PLAIN", "alertmanager") and mail.helo == "ampp.example"
    assert mail.mail_from == "am@example.com"
    assert mail.rcpt_tos == ["oncall@example.com", "storage@example.com"]
    assert "BODY=8BITMIME" in mail.mail_options
    msg = mail.message
    assert msg["Subject"] == "[FIRING:2] Disk (critical)"
    assert msg["To"] == "oncall@example.com, Storage Team <storage@example.com>"
    assert msg["From"] == "Alertmanager <am@example.com>"
    assert msg["MIME-Version"] == "1.0"
    assert re.fullmatch(r"<\d+\.\d+@[^>]+>", msg["Message-Id"])
    assert re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}", msg["Date"])
    # Go's multipart writer: a 60-hex-digit boundary, and two spaces after the semicolon
    raw_head = mail.data.split(b"\r\n\r\n", 1)[0].decode()
    assert re.search(r"\r\nContent-Type: multipart/alternative;  boundary=[0-9a-f]{60}\r\n", raw_head)
    text, html = parts(mail)
    # each part as Go's multipart writer puts it: headers sorted, then the quoted-printable body
    assert (
        b"\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Type: text/plain; charset=UTF-8\r\n"
        b"\r\nText firing\r\n--" in mail.data
    )
    assert b"\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n" in mail.data
    assert text.get_content() == "Text firing"
    assert html.get_content() == "<p>Less than &lt;5%&gt; &amp; falling</p>"  # html/template escapes


async def test_auth_login(cert: tuple[Path, Path]) -> None:
    # both the challenge Alertmanager expects ("Username:") and aiosmtpd's own ("User Name")
    for challenges in (("Username:", "Password:"), ("User Name\x00", "Password\x00")):
        with SMTPServer(cert=cert, starttls=True, mechanisms=("LOGIN",), login_challenges=challenges) as s:
            await email(smtp_yaml(s, ca=cert[0])).notify(ctx(), to_alerts(api_alerts(1)))
            assert s.wait_for(1)[0].auth == ("LOGIN", "alertmanager")


async def test_auth_cram_md5_uses_the_secret(cert: tuple[Path, Path]) -> None:
    with SMTPServer(cert=cert, starttls=True, mechanisms=("CRAM-MD5", "PLAIN")) as s:
        e = email(smtp_yaml(s, f"    auth_secret: {s.password}\n", ca=cert[0]))
        await e.notify(ctx(), to_alerts(api_alerts(1)))
        assert s.wait_for(1)[0].auth == ("CRAM-MD5", "alertmanager")


async def test_first_offered_mechanism_with_credentials_wins(cert: tuple[Path, Path]) -> None:
    # CRAM-MD5 is offered first but there is no secret: PLAIN, with the password, is used
    with SMTPServer(cert=cert, starttls=True, mechanisms=("CRAM-MD5", "PLAIN")) as s:
        await email(smtp_yaml(s, ca=cert[0])).notify(ctx(), to_alerts(api_alerts(1)))
        assert s.wait_for(1)[0].auth == ("PLAIN", "alertmanager")


async def test_password_file(cert: tuple[Path, Path], tmp_path: Path) -> None:
    f = tmp_path / "pw"
    with SMTPServer(cert=cert, starttls=True, mechanisms=("PLAIN",)) as s:
        f.write_text(s.password + "\n")
        yaml = smtp_yaml(s, f"    auth_password_file: {f}\n", ca=cert[0]).replace(
            f"    auth_password: {s.password}\n", ""
        )
        await email(yaml).notify(ctx(), to_alerts(api_alerts(1)))
        assert s.wait_for(1)[0].auth == ("PLAIN", "alertmanager")


async def test_wrong_password_is_retried_with_the_servers_words(
    starttls_server: SMTPServer, cert: tuple[Path, Path]
) -> None:
    yaml = smtp_yaml(starttls_server, ca=cert[0]).replace("auth_password: s3cret", "auth_password: nope")
    with pytest.raises(NotifyError) as e:
        await email(yaml).notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry
    assert str(e.value).startswith("*smtp.plainAuth auth: 535 5.7.8 Authentication credentials invalid")


async def test_implicit_tls(cert: tuple[Path, Path]) -> None:
    with SMTPServer(cert=cert, implicit_tls=True, mechanisms=("PLAIN",)) as s:
        await email(smtp_yaml(s, "    force_implicit_tls: true\n", ca=cert[0])).notify(
            ctx(), to_alerts(api_alerts(1))
        )
        mail = s.wait_for(1)[0]
        assert mail.tls and mail.auth == ("PLAIN", "alertmanager")


async def test_untrusted_certificate_fails(starttls_server: SMTPServer) -> None:
    with pytest.raises(NotifyError) as e:
        await email(smtp_yaml(starttls_server)).notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry and str(e.value).startswith("send STARTTLS command: ")
    assert "CERTIFICATE_VERIFY_FAILED" in str(e.value)


async def test_require_tls_without_starttls_fails() -> None:
    with SMTPServer(mechanisms=("PLAIN",)) as s:
        with pytest.raises(NotifyError) as e:
            await email(smtp_yaml(s)).notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry
    assert str(e.value) == (
        f"'require_tls' is true (default) but \"localhost:{s.port}\" does not advertise the "
        "STARTTLS extension"
    )


async def test_plain_auth_in_the_clear_only_to_localhost() -> None:
    with SMTPServer(mechanisms=("PLAIN",)) as s:
        await email(smtp_yaml(s, "    require_tls: false\n")).notify(ctx(), to_alerts(api_alerts(1)))
        mail = s.wait_for(1)[0]
        assert not mail.tls and mail.auth == ("PLAIN", "alertmanager")
        # the same server by another name than localhost: the password is not sent in the clear
        yaml = smtp_yaml(s, "    require_tls: false\n").replace("localhost:", f"{_hostname()}:")
        with pytest.raises(NotifyError) as e:
            await email(yaml).notify(ctx(), to_alerts(api_alerts(1)))
        assert str(e.value) == "*smtp.plainAuth auth: unencrypted connection"


def _hostname() -> str:
    import socket

    return socket.gethostname()


async def test_no_username_sends_without_auth() -> None:
    with SMTPServer(mechanisms=("PLAIN",)) as s:
        yaml = smtp_yaml(s, "    require_tls: false\n").replace("    auth_username: alertmanager\n", "")
        await email(yaml).notify(ctx(), to_alerts(api_alerts(1)))
        assert s.wait_for(1)[0].auth is None


async def test_rejected_recipient_is_retried() -> None:
    with SMTPServer(mechanisms=("PLAIN",), reject_rcpt="storage@example.com") as s:
        with pytest.raises(NotifyError) as e:
            await email(smtp_yaml(s, "    require_tls: false\n")).notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry and str(e.value) == "send RCPT command: 550 5.1.1 no such user"


async def test_headers_are_templated_and_q_encoded() -> None:
    with SMTPServer(mechanisms=("PLAIN",)) as s:
        extra = (
            "    require_tls: false\n"
            "    headers:\n"
            "      subject: 'Alerte : disque plein sur {{ .CommonLabels.alertname }} "
            "\u2014 tr\u00e8s urgent'\n"
            "      X-Group: '{{ .GroupLabels.alertname }}'\n"
        )
        await email(smtp_yaml(s, extra, html="''")).notify(ctx(), to_alerts(api_alerts(1)))
        mail = s.wait_for(1)[0]
    raw = mail.data.decode()
    assert "\r\nSubject: =?utf-8?q?Alerte_:_disque_plein_sur_Disk_=E2=80=94_tr=C3=A8s_urgent?=\r\n" in (
        "\r\n" + raw
    )
    assert mail.message["Subject"] == "Alerte : disque plein sur Disk \u2014 tr\u00e8s urgent"
    assert mail.message["X-Group"] == "Disk"
    (text,) = parts(mail)  # no html configured: one part
    assert text.get_content_type() == "text/plain"


async def test_bad_from_address_is_permanent() -> None:
    with SMTPServer(mechanisms=("PLAIN",)) as s:
        yaml = smtp_yaml(s, "    require_tls: false\n").replace(
            "from: 'Alertmanager <am@example.com>'", "from: 'a@example.com, b@example.com'"
        )
        with pytest.raises(NotifyError) as e:
            await email(yaml).notify(ctx(), to_alerts(api_alerts(1)))
    assert not e.value.retry and str(e.value) == "must be exactly one 'from' address (got: 2)"


async def test_connection_refused_is_retried() -> None:
    e_ = email(
        "  email_configs:\n  - to: a@example.com\n    from: b@example.com\n    smarthost: 127.0.0.1:1\n"
    )
    with pytest.raises(NotifyError) as e:
        await e_.notify(ctx(), to_alerts(api_alerts(1)))
    assert e.value.retry and str(e.value).startswith("establish connection to server: ")


async def test_threading_headers() -> None:
    import hashlib

    with SMTPServer(mechanisms=("PLAIN",)) as s:
        extra = "    require_tls: false\n    threading:\n      enabled: true\n      thread_by_date: none\n"
        await email(smtp_yaml(s, extra)).notify(ctx(), to_alerts(api_alerts(1)))
        msg = s.wait_for(1)[0].message
    root = f"<alert-{hashlib.sha256(GROUP_KEY.encode()).hexdigest()[:16]}-@alertmanager>"
    assert msg["References"] == root and msg["In-Reply-To"] == root


async def test_dot_stuffing() -> None:
    with SMTPServer(mechanisms=("PLAIN",)) as s:
        body = '"line\\n.starts with a dot\\n.\\n"'
        e = email(smtp_yaml(s, "    require_tls: false\n", text=body, html="''"))
        await e.notify(ctx(), to_alerts(api_alerts(1)))
        (part,) = parts(s.wait_for(1)[0])
    # a leading dot is doubled on the wire (else the server would drop it, or end the DATA)
    assert part.get_content().replace("\r\n", "\n") == "line\n.starts with a dot\n.\n"


# --------------------------------------------------------------------------------------------
# Side by side with Alertmanager 0.25

COMPARED = """\
  email_configs:
  - to: 'oncall@example.com, Storage Team <storage@example.com>'
    from: 'Alertmanager <am@example.com>'
    smarthost: 'localhost:{port}'
    auth_username: alertmanager
    auth_password: s3cret
    send_resolved: true
    text: '{{ template "email.default.subject" . }} {{ range .Alerts }}{{ .Labels.instance }} {{ end }}'
    headers:
      X-Team: storage
    tls_config:
      ca_file: {ca}
"""


def _normalised(mail: Mail) -> tuple[dict[str, str], bytes]:
    """Headers minus the ones made of now and randomness, and the body with a fixed boundary."""
    head, body = mail.data.split(b"\r\n\r\n", 1)
    headers = {}
    for line in head.decode().split("\r\n"):
        name, _, value = line.partition(": ")
        headers[name] = value
    boundary = headers.pop("Content-Type").split("boundary=")[1]
    for volatile in ("Message-Id", "Date"):
        headers.pop(volatile)
    return headers, body.replace(boundary.encode(), b"BOUNDARY")


@pytest.fixture(scope="module")
def reference_mails(
    tmp_path_factory: pytest.TempPathFactory, cert: tuple[Path, Path]
) -> Iterator[tuple[list[Mail], str, SMTPServer]]:
    REFERENCE.require()
    with SMTPServer(cert=cert, starttls=True, mechanisms=("PLAIN", "LOGIN")) as s:
        config = reference_config(COMPARED.replace("{port}", str(s.port)).replace("{ca}", str(cert[0])))
        with run_server(
            "reference",
            config,
            tmp_path_factory.mktemp("email-ref"),
            extra_args=[f"--web.external-url={EXTERNAL_URL}"],
        ) as am:
            post_alerts(am.url, api_alerts(2))
            s.wait_for(1)
            post_alerts(am.url, api_alerts(2, ends_at=RESOLVED_AT))
            mails = s.wait_for(2)
        s.mails.clear()
        yield mails, config, s


@pytest.mark.parametrize("status", ["firing", "resolved"])
async def test_same_mail_as_alertmanager(
    reference_mails: tuple[list[Mail], str, SMTPServer], status: str
) -> None:
    theirs_all, config, server = reference_mails
    server.mails.clear()
    e = EmailIntegration(
        0,
        load_text(config).alerting.receivers[0].email_configs[0],
        "team-a",
        EXTERNAL_URL,
        Templates.load([]),
    )
    await e.notify(ctx(), to_alerts(api_alerts(2, ends_at=FAR_FUTURE if status == "firing" else RESOLVED_AT)))
    ours = server.wait_for(1)[0]
    theirs = theirs_all[0 if status == "firing" else 1]
    assert (ours.mail_from, ours.rcpt_tos, ours.helo, ours.tls, ours.auth) == (
        theirs.mail_from,
        theirs.rcpt_tos,
        theirs.helo,
        theirs.tls,
        theirs.auth,
    )
    assert ours.mail_options == theirs.mail_options
    our_headers, our_body = _normalised(ours)
    their_headers, their_body = _normalised(theirs)
    assert our_headers == their_headers
    assert our_body.decode() == their_body.decode()


# --------------------------------------------------------------------------------------------
# The MIME encoders, byte for byte against Go's mime and mime/quotedprintable packages

GO_ENCODERS = """\
package main

import (
	"bytes"
	"encoding/json"
	"mime"
	"mime/quotedprintable"
	"os"
)

func main() {
	var cases []string
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		panic(err)
	}
	out := [][2]string{}
	for _, s := range cases {
		var b bytes.Buffer
		w := quotedprintable.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		out = append(out, [2]string{b.String(), mime.QEncoding.Encode("utf-8", s)})
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
"""

ENCODER_CASES = [
    "",
    "plain ascii",
    "h\u00e9llo w\u00f6rld = ? _ x",
    "a" * 80 + " \n" + "\u00e9" * 40 + "\tend \r\nx\r\ry=\n",
    "[FIRING:2] Disk usage tr\u00e8s \u00e9lev\u00e9e sur le serveur de production num\u00e9ro "
    "12345678901234567890",
    "x" * 75 + "=",
    " " * 80,
    "line \r\n\r\n",
    "\r\u00e9\n",
    "<p>Less than &lt;5%&gt;</p>\n" * 5,
    "\U0001f525 fire " * 12,
]


def test_encoders_match_go(tmp_path: Path) -> None:
    import json
    import os
    import subprocess

    from ampp.notify.integrations._smtp import q_encode, quoted_printable

    GO.require()
    go = GO_1_19
    (tmp_path / "main.go").write_text(GO_ENCODERS)
    env = {**os.environ, "GO111MODULE": "off", "GOFLAGS": ""}
    done = subprocess.run(
        [go, "run", str(tmp_path / "main.go")],
        input=json.dumps(ENCODER_CASES),
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    expected = json.loads(done.stdout)
    for case, (qp, q) in zip(ENCODER_CASES, expected, strict=True):
        assert quoted_printable(case.encode()).decode() == qp, case
        assert q_encode(case) == q, case
