"""`ampp doctor` against real services: storage (SQLite, PostgreSQL), Redis, an OTLP receiver,
the LLM stand-in and receivers' endpoints. One line per check with its verdict, exit 1 when
any failed, no secret and no traceback in the report, nothing sent without --send-test."""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from ampp.store.postgres.schema import MIGRATIONS
from ampp.store.sqlite.schema import HISTORY_MIGRATIONS, STATE_MIGRATIONS

from tests.integration.services import Services
from tests.support.capture import CaptureServer
from tests.support.llm_standins import llm_standin
from tests.support.otlp import otlp_receiver
from tests.support.servers import free_port
from tests.support.vendors import SMTPServer, VendorServer, make_cert, server_tls

pytestmark = pytest.mark.integration

AMPP = [sys.executable, "-m", "ampp"]
LINE = re.compile(r"^(OK|WARN|FAIL|SKIP) +(\S+(?: \S+)?) +(.*)$")
SECRET = "sk-doctor-secret"
ROUTE = """
alerting:
  route: {receiver: a}
  receivers: [{name: a}]
"""


async def doctor(config: Path, *args: str) -> tuple[int, str, dict[str, tuple[str, str]]]:
    """Exit code, the whole output, and each check's (verdict, detail) by name."""
    proc = await asyncio.create_subprocess_exec(
        *AMPP, "doctor", f"--config.file={config}", *args,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    text = out.decode()
    assert "Traceback" not in text, text
    lines = text.splitlines()
    assert lines[0].startswith("ampp doctor: ampp "), text
    checks = {}
    for line in lines[1:-1]:
        m = LINE.match(line)
        assert m, f"not a check line: {line!r}\n{text}"
        checks[m.group(2)] = (m.group(1), m.group(3))
    assert proc.returncode is not None
    return proc.returncode, text, checks


def migrate(data: Path) -> None:
    subprocess.run([*AMPP, "migrate", f"--storage.path={data}"], check=True, capture_output=True)


async def test_every_check_passes_and_the_llm_is_asked_once_with_send_test(
    tmp_path: Path, services: Services
) -> None:
    migrate(tmp_path / "data")
    redis = urlsplit(services.redis_url)
    with otlp_receiver() as otlp:
        async with llm_standin() as llm:
            config = tmp_path / "config.yaml"
            config.write_text(
                f"storage: {{type: sqlite, sqlite: {{path: '{tmp_path / 'data'}'}}}}\n"
                f"cache: {{address: '{redis.hostname}:{redis.port}'}}\n"
                f"tracing: {{enabled: true, endpoint: '{otlp.grpc_endpoint}'}}\n"
                f"ai: {{enabled: true, provider: openai, base_url: '{llm.url}/v1', api_key: {SECRET}}}\n"
                + ROUTE
            )
            code, text, checks = await doctor(config)
            assert llm.requests == [], "nothing is sent without --send-test"
            assert code == 0, text
            assert checks["llm"][0] == "OK" and "checked with --send-test" in checks["llm"][1]
            code, text, checks = await doctor(config, "--send-test")
            assert code == 0, text
            assert len(llm.requests) == 1, "one test prompt"
            assert "AmppDoctorTest" in str(llm.requests[0].body)
    assert {k: v[0] for k, v in checks.items()} == {
        "config": "OK", "storage": "OK", "cache": "OK", "tracing": "OK", "llm": "OK",
    }  # fmt: skip
    assert checks["storage"][1].startswith(f"sqlite://{tmp_path / 'data'}: SQLite ")
    state, history = len(STATE_MIGRATIONS), len(HISTORY_MIGRATIONS)
    expected = f": ampp.db schema version {state}, history.db schema version {history}"
    assert checks["storage"][1].endswith(expected), checks["storage"]
    assert "answers PING" in checks["cache"][1]
    assert checks["tracing"][1].startswith(f"OTLP over grpc to grpc://{otlp.grpc_endpoint}: 127.0.0.1 is")
    assert "model gpt-4o-mini answered a test prompt" in checks["llm"][1]
    assert SECRET not in text
    assert text.splitlines()[-1] == "no check failed (5 ok)"


async def test_each_failure_says_which_step_failed_and_the_exit_code_is_1(
    tmp_path: Path, services: Services, pg_url: str
) -> None:
    """A PostgreSQL database that does not exist, Redis and the OTLP receiver not listening, the
    provider's name not resolving: four FAIL lines, none with a secret."""
    pg = urlsplit(pg_url)
    dead = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(
        f"storage: {{type: postgresql, postgresql: {{host: '{pg.hostname}', port: {pg.port}, "
        f"database: ampp_doctor_missing, user: '{pg.username}', password: pg-secret}}}}\n"
        f"cache: {{address: '127.0.0.1:{dead}', password: redis-secret}}\n"
        f"tracing: {{enabled: true, protocol: http, endpoint: 'http://127.0.0.1:{dead}'}}\n"
        "ai: {enabled: true, provider: openai, base_url: 'https://llm.doctor.invalid/v1', api_key: sk-x}\n"
        + ROUTE
    )
    code, text, checks = await doctor(config)
    assert code == 1, text
    assert checks["config"][0] == "OK"
    assert checks["storage"][0] == "FAIL" and checks["storage"][1] == (
        f"postgresql://{pg.username}@{pg.hostname}:{pg.port}/ampp_doctor_missing: "
        'InvalidCatalogNameError: database "ampp_doctor_missing" does not exist'
    )
    assert checks["cache"][0] == "FAIL"
    assert checks["cache"][1].startswith(f"redis://127.0.0.1:{dead}/0: ConnectionError: ")
    assert checks["tracing"][0] == "FAIL"
    assert checks["tracing"][1].startswith(f"OTLP over http to http://127.0.0.1:{dead}: connect: ")
    assert checks["llm"][0] == "FAIL"
    assert checks["llm"][1].startswith("openai at https://llm.doctor.invalid:443: dns: llm.doctor.invalid: ")
    for secret in ("pg-secret", "redis-secret"):
        assert secret not in text
    assert text.splitlines()[-1] == "some checks FAILED (1 ok, 4 fail)"


async def test_postgresql_reached_and_its_schema_compared(tmp_path: Path, pg_url: str) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"storage: {{url: '{pg_url}'}}\n" + ROUTE)
    code, text, checks = await doctor(config)
    assert code == 0, text
    assert re.fullmatch(
        r"postgresql://\w+@[\w.]+:\d+/ampp_test_\w+: PostgreSQL [\d.]+.*, as \w+; schema version 0, "
        rf"this release's {len(MIGRATIONS)} \(serve or ampp migrate applies it\)",
        checks["storage"][1],
    ), checks["storage"]
    assert checks["cache"][0] == checks["tracing"][0] == checks["llm"][0] == "SKIP"


async def test_a_refused_config_is_one_fail_line_naming_file_line_and_field(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("cache: {db: -1}\n" + ROUTE)
    code, _, checks = await doctor(config)
    assert code == 1
    verdict, detail = checks["config"]
    assert verdict == "FAIL" and f"{config}:1" in detail and "cache.db" in detail, detail
    assert checks["the rest"][0] == "SKIP"


def receivers(tls_url: str, ca: Path, plain_url: str, smtp_port: int, proxy_url: str) -> dict[str, Any]:
    tls = {"tls_config": {"ca_file": str(ca)}}
    email = {"to": "oncall@example.org", "from": "am@example.org", "smarthost": f"127.0.0.1:{smtp_port}"}
    proxied = {"url": "http://hooks.doctor.invalid/", "http_config": {"proxy_url": proxy_url}}
    return {
        "alerting": {
            "route": {"receiver": "team"},
            "receivers": [
                {
                    "name": "team",
                    "webhook_configs": [
                        {"url": f"{tls_url}/{SECRET}", "http_config": tls},
                        {"url": plain_url},
                    ],
                    "email_configs": [email | {"require_tls": False}],
                },
                {"name": "untrusted", "webhook_configs": [{"url": f"{tls_url}/x"}]},
                {"name": "templated", "webhook_configs": [{"url": "http://{{ .GroupKey }}.example/"}]},
                {"name": "proxied", "webhook_configs": [proxied]},
                {"name": "metadata", "webhook_configs": [{"url": "http://169.254.169.254/latest/"}]},
            ],
        }
    }


async def test_receivers_dns_tcp_tls_and_a_test_notification_only_when_asked(tmp_path: Path) -> None:
    """A webhook over TLS with its CA (the handshake the engine makes), the same server without
    the CA (refused), a templated URL (said, not failed), an SMTP smarthost, a proxy; nothing
    is sent until --send-test, which sends one test notification to each."""
    cert, key = make_cert(tmp_path)
    tls_hook = VendorServer().start(server_tls(cert, key))  # its __enter__ would start it plain
    with (
        contextlib.ExitStack() as stack,
        CaptureServer() as hook,
        CaptureServer() as proxy,
        SMTPServer() as smtp,
    ):
        stack.callback(tls_hook.stop)
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump(receivers(tls_hook.url, cert, hook.url, smtp.port, proxy.url)))
        code, text, checks = await doctor(config)
        assert code == 1, text
        assert not tls_hook.requests and not hook.requests and not smtp.mails and not proxy.requests
        verdict, detail = checks["receiver team/webhook[0]"]
        assert verdict == "OK" and re.fullmatch(
            rf"{tls_hook.url}: 127\.0\.0\.1 is 127\.0\.0\.1; TLSv1\.[23] with 127\.0\.0\.1, "
            r"certificate valid until .+",
            detail,
        ), detail
        assert checks["receiver team/webhook[1]"] == (
            "OK", f"{hook.url}: 127.0.0.1 is 127.0.0.1; connected to 127.0.0.1:{hook.url.rsplit(':', 1)[1]}"
        )  # fmt: skip
        assert checks["receiver team/email[0]"][0] == "OK"
        assert checks["receiver team/email[0]"][1].startswith(f"smtp://127.0.0.1:{smtp.port}: ")
        verdict, detail = checks["receiver untrusted/webhook[0]"]
        assert verdict == "FAIL" and detail.startswith(f"{tls_hook.url}: tls: "), detail
        assert "self-signed certificate" in detail or "unable to get local issuer" in detail, detail
        assert checks["receiver templated/webhook[0]"] == (
            "SKIP",
            "its URL is a template, rendered for each notification",
        )
        assert checks["receiver metadata/webhook[0]"] == (
            "FAIL",
            "http://169.254.169.254:80: policy: 169.254.169.254: a link-local or cloud metadata address "
            "(security.outbound)",
        ), "refused as the engine refuses it"
        verdict, detail = checks["receiver proxied/webhook[0]"]
        assert verdict == "OK" and detail.startswith(f"{proxy.url} (the proxy): "), detail
        assert SECRET not in text

        code, text, checks = await doctor(config, "--send-test", "--receiver=team")
        assert code == 0, text
        assert [r.path for r in tls_hook.wait_for(1)] == [f"/{SECRET}"]
        (sent,) = hook.wait_for(1)
        assert sent.json()["commonLabels"]["alertname"] == "AmppDoctorTest"
        (mail,) = smtp.wait_for(1)
        assert mail.rcpt_tos == ["oncall@example.org"]
        for name in ("webhook[0]", "webhook[1]", "email[0]"):
            assert checks[f"receiver team/{name}"][1].endswith("; a test notification was sent"), checks
        assert "receiver untrusted/webhook[0]" not in checks
