"""Start an Alertmanager-compatible server process for tests and benchmarks.

The same helper starts the real Alertmanager 0.25 (Debian's binary, the reference) and
`ampp serve`, with the same flags, so a test can run one scenario against both.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.eventually import eventually

REFERENCE_BINARY = "/usr/bin/prometheus-alertmanager"
AMTOOL = "/usr/bin/amtool"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_running(pid: int) -> bool:
    """Whether a process exists and has not exited (a zombie has exited)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def ampp_command() -> list[str]:
    """The command that runs `ampp serve` from this checkout's environment."""
    exe = shutil.which("ampp", path=str(Path(sys.executable).parent))
    return [exe, "serve"] if exe else [sys.executable, "-m", "ampp", "serve"]


@dataclass
class Server:
    kind: str  # "reference" or "ampp"
    url: str
    port: int
    process: subprocess.Popen[bytes]
    config_path: Path
    storage_path: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def reload(self) -> httpx.Response:
        return httpx.post(f"{self.url}/-/reload", timeout=10)


def wait_ready(
    url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float = 15, **client: Any
) -> None:
    """Until /-/ready answers 200; ``client``: httpx options (verify, auth) for a guarded server."""

    def ready() -> bool:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited with {process.returncode} before it was ready:\n"
                + log_path.read_text(errors="replace")[-4000:]
            )
        try:
            return httpx.get(f"{url}/-/ready", timeout=1, **client).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        eventually(ready, f"{url}/-/ready", within=timeout)
    except AssertionError:
        raise RuntimeError(
            f"server at {url} not ready after {timeout}s:\n" + log_path.read_text(errors="replace")[-4000:]
        ) from None


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 10 s; the process is reaped either way."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def run_ampp(
    args: list[str], url: str, log_path: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`ampp serve ARGS` until ready at ``url``, logging to ``log_path``; stopped on exit, and
    its log checked for tracebacks."""
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [*ampp_command(), *args], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd
        )
    try:
        wait_ready(url, proc, log_path)
        yield proc
    finally:
        stop(proc)
    assert "Traceback" not in log_path.read_text(errors="replace"), log_path.read_text(errors="replace")


@contextlib.contextmanager
def run_server(
    kind: str,
    config_yaml: str,
    workdir: Path,
    *,
    extra_args: list[str] | None = None,
    cluster: bool = False,
    storage_path: Path | None = None,
    port: int | None = None,
    route_prefix: str = "",
    web_config_yaml: str = "",
    client: dict[str, Any] | None = None,
) -> Iterator[Server]:
    """Start `kind` ("reference" or "ampp") with `config_yaml`; stop it on exit. With
    ``route_prefix`` the server's URL (``Server.url``) includes it. With ``web_config_yaml``
    (--web.config.file) ``client`` holds the httpx options that reach it (verify, auth), and the
    URL is https when the file has TLS settings."""
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "alertmanager.yml"
    config_path.write_text(config_yaml)
    storage = storage_path or (workdir / "data")
    storage.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    cmd = [REFERENCE_BINARY] if kind == "reference" else ampp_command()
    cmd += [
        f"--config.file={config_path}",
        f"--storage.path={storage}",
        f"--web.listen-address=127.0.0.1:{port}",
        f"--cluster.listen-address={f'127.0.0.1:{free_port()}' if cluster else ''}",
        "--log.level=debug",
    ]
    if route_prefix:
        cmd.append(f"--web.route-prefix={route_prefix}")
    scheme = "http"
    if web_config_yaml:
        (workdir / "web.yml").write_text(web_config_yaml)
        cmd.append(f"--web.config.file={workdir / 'web.yml'}")
        scheme = "https" if "tls_server_config" in web_config_yaml else "http"
    cmd += extra_args or []
    log_path = workdir / f"{kind}-{port}.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
    url = f"{scheme}://127.0.0.1:{port}" + ("/" + route_prefix.strip("/") if route_prefix.strip("/") else "")
    try:
        wait_ready(url, process, log_path, **(client or {}))
        yield Server(kind, url, port, process, config_path, storage, log_path)
    finally:
        stop(process)
