"""--web.config.file: basic authentication, security headers and TLS (with client certificates)
as Alertmanager 0.25 applies them, amtool through TLS and basic auth, refusals that name the
field, and changes taken without a restart."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path
from typing import Any

import bcrypt
import httpx
import pytest

from tests.support.amtool import run_command
from tests.support.eventually import eventually
from tests.support.servers import AMTOOL, REFERENCE_BINARY, ampp_command, free_port, run_server
from tests.support.vendors import make_cert

pytestmark = pytest.mark.integration

CONFIG = "route:\n  receiver: 'null'\nreceivers:\n- name: 'null'\n"


def hashed(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()


AUTH_WEB = f"""\
basic_auth_users:
  alice: {hashed("wonderland")}
http_server_config:
  headers:
    X-Frame-Options: deny
    Strict-Transport-Security: max-age=31536000
"""


def _answers(url: str) -> list[tuple[int, str | None, str | None]]:
    out = []
    for auth in (None, ("alice", "wrong"), ("mallory", "wonderland"), ("alice", "wonderland")):
        r = httpx.get(f"{url}/api/v2/status", auth=auth, timeout=10)
        out.append((r.status_code, r.headers.get("WWW-Authenticate"), r.headers.get("X-Frame-Options")))
    return out


def test_basic_auth_and_headers_as_alertmanager(tmp_path: Path) -> None:
    seen = {}
    for kind in ("reference", "ampp"):
        client = {"auth": ("alice", "wonderland")}
        with run_server(kind, CONFIG, tmp_path / kind, web_config_yaml=AUTH_WEB, client=client) as srv:
            seen[kind] = _answers(srv.url)
            healthy = httpx.get(f"{srv.url}/-/healthy", timeout=10)
            assert healthy.status_code == 401, f"{kind}: /-/healthy is guarded too"
            sts = httpx.get(f"{srv.url}/-/ready", auth=("alice", "wonderland")).headers
            assert sts.get("Strict-Transport-Security") == "max-age=31536000", kind
    assert (
        seen["ampp"]
        == seen["reference"]
        == [
            (401, "Basic", "deny"),
            (401, "Basic", "deny"),
            (401, "Basic", "deny"),
            (200, None, "deny"),
        ]
    )


@pytest.fixture
def tls_files(tmp_path: Path) -> Path:
    """server/ (its own CA) and client/ (ditto, the CA the server verifies clients against)."""
    make_cert(tmp_path / "server")
    make_cert(tmp_path / "client", ("ampp-client",))
    return tmp_path


def test_tls_with_client_certificates_and_amtool(tls_files: Path, tmp_path: Path) -> None:
    web = f"""\
tls_server_config:
  cert_file: server/cert.pem
  key_file: server/key.pem
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: client/cert.pem
  min_version: TLS12
basic_auth_users:
  alice: {hashed("wonderland")}
"""
    client_cert = (str(tls_files / "client/cert.pem"), str(tls_files / "client/key.pem"))
    verify = ssl.create_default_context(cafile=str(tls_files / "server/cert.pem"))
    verify.load_cert_chain(*client_cert)
    client: dict[str, Any] = {"verify": verify, "auth": ("alice", "wonderland")}
    # web.yml sits in tls_files, so the relative paths above are relative to it
    with run_server("ampp", CONFIG, tls_files, web_config_yaml=web, client=client) as srv:
        assert srv.url.startswith("https://")
        bare = ssl.create_default_context(cafile=str(tls_files / "server/cert.pem"))
        with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
            httpx.get(f"{srv.url}/-/ready", verify=bare, auth=("alice", "wonderland"), timeout=10)
        http_config = tmp_path / "amtool-http.yml"
        http_config.write_text(f"""\
basic_auth: {{username: alice, password: wonderland}}
tls_config:
  ca_file: {tls_files / "server/cert.pem"}
  cert_file: {client_cert[0]}
  key_file: {client_cert[1]}
""")
        amtool = [AMTOOL, f"--alertmanager.url={srv.url}", f"--http.config.file={http_config}"]
        run_command([*amtool, "alert", "add", "alertname=OverTLS", "job=tls"])
        listed = run_command([*amtool, "alert", "query", "-o", "json"]).json()
        assert [a["labels"]["alertname"] for a in listed] == ["OverTLS"]


@pytest.mark.parametrize(
    ("web", "message"),
    [
        ("tls_server_config:\n  cert_file: x.pem\n", "tls_server_config.key_file: missing"),
        ("tls_server_config:\n  certfile: x.pem\n", "tls_server_config.certfile: unknown field"),
        ("tls_server_config:\n  cert_file: x.pem\n  key_file: y.pem\n  min_version: TLS14\n",
         "tls_server_config.min_version: unknown TLS version: TLS14"),
        ("basic_auth_users:\n  alice: wonderland\n", "basic_auth_users.alice: not a bcrypt hash"),
        ("http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
         "http_server_config.headers.X-Frame-Options: must be one of deny, sameorigin (got 'allow')"),
        ("http_server_config:\n  headers:\n    Server: ampp\n",
         "http_server_config.headers.Server: this header can not be configured"),
    ],
    ids=["no-key", "unknown-field", "tls-version", "not-bcrypt", "header-value", "header-name"],
)  # fmt: skip
def test_a_bad_web_config_is_refused_as_alertmanager_refuses_it(
    tmp_path: Path, web: str, message: str
) -> None:
    (tmp_path / "alertmanager.yml").write_text(CONFIG)
    (tmp_path / "web.yml").write_text(web)
    for kind, cmd in (("reference", [REFERENCE_BINARY]), ("ampp", ampp_command())):
        args = [f"--config.file={tmp_path / 'alertmanager.yml'}", f"--storage.path={tmp_path / kind}",
                f"--web.listen-address=127.0.0.1:{free_port()}", "--cluster.listen-address=",
                f"--web.config.file={tmp_path / 'web.yml'}"]  # fmt: skip
        try:
            done = subprocess.run(cmd + args, capture_output=True, text=True, timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{kind} served with a bad web config ({web!r})")
        assert done.returncode != 0, f"{kind} accepted {web!r}"
        if kind == "ampp":
            assert f"{tmp_path / 'web.yml'}: {message}" in done.stderr, done.stderr
            assert "Traceback" not in done.stderr


def test_changes_apply_without_a_restart_and_a_bad_one_is_not_taken(tmp_path: Path) -> None:
    web_yml = tmp_path / "web.yml"
    client = {"auth": ("alice", "wonderland")}
    with run_server("ampp", CONFIG, tmp_path, web_config_yaml=AUTH_WEB, client=client) as srv:
        web_yml.write_text(f"basic_auth_users:\n  alice: {hashed('looking-glass')}\n")
        eventually(
            lambda: httpx.get(f"{srv.url}/-/ready", auth=("alice", "looking-glass")).status_code == 200,
            "the new password to be taken",
        )
        assert httpx.get(f"{srv.url}/-/ready", auth=("alice", "wonderland")).status_code == 401
        headers = httpx.get(f"{srv.url}/-/ready", auth=("alice", "looking-glass")).headers
        assert "Strict-Transport-Security" not in headers, "the headers the new file dropped are still sent"
        assert headers["X-Frame-Options"] == "DENY", "the engine's own default, no longer the file's 'deny'"
        web_yml.write_text("basic_auth_users:\n  alice: plaintext\n")
        time.sleep(2.5)
        assert httpx.get(f"{srv.url}/-/ready", auth=("alice", "looking-glass")).status_code == 200
        assert "Reloading the web config failed; the last good one stays" in srv.log()
        assert "basic_auth_users.alice: not a bcrypt hash" in srv.log()


def _served_certificate(port: int, server_name: str | None) -> bytes:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=server_name) as tls:
            der = tls.getpeercert(binary_form=True)
    assert der is not None
    return der


@pytest.mark.parametrize("server_name", ["localhost", None], ids=["sni", "no-sni"])
def test_a_renewed_certificate_is_served_without_a_restart(tmp_path: Path, server_name: str | None) -> None:
    """As cert-manager renews it: the files change in place."""
    first, _ = make_cert(tmp_path / "certs")
    web = "tls_server_config:\n  cert_file: certs/cert.pem\n  key_file: certs/key.pem\n"
    client = {"verify": ssl.create_default_context(cafile=str(first))}
    with run_server("ampp", CONFIG, tmp_path, web_config_yaml=web, client=client) as srv:
        assert _served_certificate(srv.port, server_name) == ssl.PEM_cert_to_DER_cert(first.read_text())
        renewed = make_cert(tmp_path / "renewed")
        time.sleep(1.1)  # a different mtime
        for name in ("cert.pem", "key.pem"):
            shutil.copy(tmp_path / "renewed" / name, tmp_path / "certs" / name)
        want = ssl.PEM_cert_to_DER_cert(renewed[0].read_text())
        eventually(lambda: _served_certificate(srv.port, server_name) == want, "the renewed certificate")
