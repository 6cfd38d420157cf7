"""The container image, built from the Dockerfile the way `make image` builds it, then run.

There is no Docker engine here: scripts/image.sh builds with buildah into an empty storage of
this test's own, so nothing is reused but the Debian base tarball (bootstrapped once per machine
by mmdebstrap, like the control-plane binaries). The image then runs with buildah's chroot
isolation on the host's network, as its own user, with its root filesystem read-only and its
storage on a volume: it answers /-/ready, takes an alert and delivers it to a webhook here.

Bounded: the build has BUILD_TIMEOUT; cold (base bootstrap included) it takes about two minutes
and a half here, the checks about half a minute.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.capture import CaptureServer  # noqa: E402
from tests.support.servers import free_port  # noqa: E402

pytestmark = pytest.mark.e2e

BUILD_TIMEOUT = 900  # seconds, from an empty build cache
SIZE_BUDGET = 330 * 1000**2  # bytes, uncompressed (what `docker images` shows); README states it
NOBODY = 65534  # prom/alertmanager's user
SOURCE = "https://example.org/alertmanager-plusplus"
COMPILERS = ("cc", "c++", "gcc", "g++", "clang", "clang++", "tcc", "cpp", "ld", "as")
COMPILER_PACKAGES = r"(gcc|g\+\+|cpp|clang|tcc|binutils|build-essential|python3(\.\d+)?-(pip|dev))(-[0-9.]+)?"
PIP_DIRS = r"(pip|setuptools|ensurepip)(-[^/]*\.dist-info)?"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


@dataclass
class Image:
    name: str
    buildah: list[str]
    container: str
    rootfs: Path

    def inspect(self) -> dict[str, Any]:
        done = subprocess.run(
            [*self.buildah, "inspect", "--type", "image", self.name],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        found: dict[str, Any] = json.loads(done.stdout)
        return found

    def config(self) -> dict[str, Any]:
        docker: dict[str, Any] = self.inspect()["Docker"]["config"]
        return docker

    def run(self, *cmd: str) -> subprocess.CompletedProcess[str]:
        """Run a command in the image; its output comes back through files on a volume rather
        than through buildah's relay of the container's pipes, which can drop the last lines."""
        with tempfile.TemporaryDirectory() as out:
            os.chmod(out, 0o777)
            script = '"$@" >/out/stdout 2>/out/stderr; echo $? >/out/rc'
            subprocess.run(
                self.run_command("sh", "-c", script, "sh", *cmd, volumes=(f"{out}:/out",)),
                check=True,
                capture_output=True,
                timeout=60,
            )
            files = {name: (Path(out) / name).read_text() for name in ("stdout", "stderr", "rc")}
        return subprocess.CompletedProcess(cmd, int(files["rc"]), files["stdout"], files["stderr"])

    def run_command(self, *cmd: str, volumes: tuple[str, ...] = ()) -> list[str]:
        opts = [arg for v in volumes for arg in ("--volume", v)]
        return [*self.buildah, "run", "--isolation", "chroot", *opts, self.container, "--", *cmd]


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Image]:
    store = tmp_path_factory.mktemp("buildah")
    env = {
        **os.environ,
        "AMPP_IMAGE_BUILDER": "buildah",
        "AMPP_BUILDAH_ROOT": str(store),
        "AMPP_IMAGE_SOURCE": SOURCE,
    }
    buildah = ["buildah", "--root", str(store / "storage"), "--runroot", str(store / "run")]
    started = time.monotonic()
    try:
        built = subprocess.run(
            [str(ROOT / "scripts" / "image.sh")],
            env=env,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
        )
        assert built.returncode == 0, built.stderr[-5000:]
        print(f"image built in {time.monotonic() - started:.0f}s")
        name = built.stdout.strip().splitlines()[-1]
        container = subprocess.run(
            [*buildah, "from", "--pull=never", name], capture_output=True, text=True, check=True
        ).stdout.strip()
        rootfs = subprocess.run(
            [*buildah, "mount", container], capture_output=True, text=True, check=True
        ).stdout.strip()
        yield Image(name, buildah, container, Path(rootfs))
    finally:
        subprocess.run([*buildah, "rm", "--all"], capture_output=True)
        subprocess.run([*buildah, "rmi", "--all", "--force"], capture_output=True)
        _unmount_under(store)
        subprocess.run(["rm", "-rf", str(store)], check=True)


def _unmount_under(path: Path) -> None:
    """Storage drivers leave their own mounts under the storage root; undo them, deepest first."""
    mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    for point in sorted((m for m in mounts if m.startswith(f"{path}/")), key=len, reverse=True):
        subprocess.run(["umount", "--lazy", point], capture_output=True)


def test_the_image_is_named_as_the_chart_expects_and_labelled(image: Image) -> None:
    assert image.name == f"alertmanager-plusplus:{VERSION}"
    labels = image.config()["Labels"]
    assert labels["org.opencontainers.image.version"] == VERSION
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    assert labels["org.opencontainers.image.revision"] == head.stdout.strip()
    assert labels["org.opencontainers.image.source"] == SOURCE


def test_ampp_version_is_the_health_check(image: Image) -> None:
    config = image.config()
    assert config["Healthcheck"]["Test"] == ["CMD", "ampp", "--version"]
    done = image.run("ampp", "--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"ampp {VERSION}"), done.stderr


def test_the_operator_is_in_the_image(image: Image) -> None:
    done = image.run("ampp", "operator", "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: ampp operator"), done.stdout


def test_it_runs_as_prom_alertmanagers_non_root_user(image: Image) -> None:
    config = image.config()
    assert config["User"] == "nobody:nogroup"
    done = image.run("id", "-u")
    assert (done.returncode, done.stdout.strip()) == (0, str(NOBODY)), done.stderr
    storage = image.rootfs / "alertmanager"
    assert storage.stat().st_uid == NOBODY
    assert config["Volumes"] == {"/alertmanager": {}} and config["WorkingDir"] == "/alertmanager"
    assert "9093/tcp" in config["ExposedPorts"]


def test_no_compiler_and_no_pip_in_the_image(image: Image) -> None:
    found = []
    for dirpath, dirnames, filenames in os.walk(image.rootfs):
        for name in filenames:
            path = os.path.join(dirpath, name)
            tool = re.sub(r"-[0-9.]+$", "", name.removeprefix("x86_64-linux-gnu-"))
            if (tool in COMPILERS or re.fullmatch(r"pip[0-9.]*", tool)) and os.access(path, os.X_OK):
                found.append(path)
        found += [os.path.join(dirpath, d) for d in dirnames if re.fullmatch(PIP_DIRS, d)]
    assert found == []
    status = (image.rootfs / "var/lib/dpkg/status").read_text()
    packages = re.findall(r"^Package: (\S+)$", status, flags=re.MULTILINE)
    assert "python3.11" in packages
    assert [p for p in packages if re.fullmatch(COMPILER_PACKAGES, p)] == []
    for module in ("pip", "ensurepip", "setuptools"):
        done = image.run("python3.11", "-c", f"import {module}")
        assert done.returncode == 1 and "ModuleNotFoundError" in done.stderr, (module, done.stderr)


def test_the_image_is_within_its_size_budget(image: Image) -> None:
    manifest = json.loads(image.inspect()["Manifest"])
    layers = manifest["layers"]
    assert {layer["mediaType"] for layer in layers} == {"application/vnd.docker.image.rootfs.diff.tar"}
    size = sum(layer["size"] for layer in layers)  # uncompressed, as `docker images` counts
    print(f"image size {size / 1000**2:.0f} MB (budget {SIZE_BUDGET / 1000**2:.0f} MB)")
    assert size <= SIZE_BUDGET, f"{size / 1000**2:.0f} MB; the largest installed packages: {largest(image)}"


def largest(image: Image) -> str:
    site = image.rootfs / "opt/ampp/lib/python3.11/site-packages"
    sizes = {
        d.name: sum(f.stat().st_size for f in d.rglob("*") if f.is_file())
        for d in site.iterdir()
        if d.is_dir()
    }
    top = sorted(sizes.items(), key=lambda kv: -kv[1])[:8]
    return ", ".join(f"{name} {size / 1000**2:.0f} MB" for name, size in top)


@contextlib.contextmanager
def read_only(rootfs: Path) -> Iterator[None]:
    """The container's root filesystem mounted read-only, as `docker run --read-only` has it.

    Like Docker's init layer, the container's own layer first gets the mount point the runtime
    binds its files onto (buildah's /run/.containerenv; /etc/hosts and the like are in the base).
    """
    (rootfs / "run" / ".containerenv").touch()
    subprocess.run(["mount", "--bind", str(rootfs), str(rootfs)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(rootfs)], check=True)
        yield
    finally:
        subprocess.run(["umount", str(rootfs)], check=True)


@contextlib.contextmanager
def serving(image: Image, volumes: tuple[str, ...], log: Path) -> Iterator[str]:
    """The image's own entrypoint and command, on a port of this test's."""
    port = free_port()
    config = image.config()
    cmd = [*config["Entrypoint"], *config["Cmd"], f"--web.listen-address=127.0.0.1:{port}"]
    with log.open("wb") as out:
        proc = subprocess.Popen(image.run_command(*cmd, volumes=volumes), stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log.read_text()
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/-/ready", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, f"not ready after 30s:\n{log.read_text()}"
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def config_for(hook: str) -> str:
    return f"""
route: {{receiver: hook, group_by: [alertname], group_wait: 0s}}
receivers:
  - name: hook
    webhook_configs: [{{url: "{hook}/from-the-image"}}]
"""


def storage_volume(tmp_path: Path) -> Path:
    storage = tmp_path / "storage"
    storage.mkdir()
    os.chown(storage, NOBODY, NOBODY)
    return storage


def test_serve_on_a_read_only_root_delivers_an_alert_to_a_webhook(image: Image, tmp_path: Path) -> None:
    storage = storage_volume(tmp_path)
    with CaptureServer() as hook:
        config = tmp_path / "alertmanager.yml"
        config.write_text(config_for(hook.url))
        # The specification's migration path mounts the file here.
        volumes = (f"{config}:/etc/alertmanager++/config.yml:ro", f"{storage}:/alertmanager")
        with read_only(image.rootfs), serving(image, volumes, tmp_path / "serve.log") as url:
            status = httpx.get(f"{url}/api/v2/status", timeout=5).json()
            assert status["config"]["original"].count("/from-the-image") == 1, status
            alert = {"labels": {"alertname": "FromTheImage", "severity": "page"}}
            assert httpx.post(f"{url}/api/v2/alerts", json=[alert], timeout=5).status_code == 200
            [sent] = hook.wait_for(1, timeout=30)
    assert sent.path == "/from-the-image"
    body = sent.json()
    assert (body["version"], body["receiver"], body["status"]) == ("4", "hook", "firing")
    assert body["alerts"][0]["labels"] == alert["labels"]
    written = list(storage.iterdir())
    assert written, "nothing written to the storage volume"
    assert {p.stat().st_uid for p in written} == {NOBODY}


def test_prom_alertmanagers_config_path_works_unchanged(image: Image, tmp_path: Path) -> None:
    storage = storage_volume(tmp_path)
    config = tmp_path / "alertmanager.yml"
    config.write_text(config_for("http://127.0.0.1:1"))
    volumes = (f"{config}:/etc/alertmanager/alertmanager.yml:ro", f"{storage}:/alertmanager")
    with serving(image, volumes, tmp_path / "serve.log") as url:
        status = httpx.get(f"{url}/api/v2/status", timeout=5).json()
    assert status["config"]["original"].count("/from-the-image") == 1, status
