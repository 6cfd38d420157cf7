"""Run Debian's amtool (and `ampp`'s amtool-like commands) from tests.

amtool reads defaults from $HOME/.config/prometheus/amtool.yml and /etc/prometheus/amtool.yml;
every call here passes --alertmanager.url explicitly and runs with TZ=UTC, so the output does
not depend on the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from typing import Any

from tests.support.servers import AMTOOL, ampp_command


class AmtoolError(AssertionError):
    pass


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["TZ"] = "UTC"
    env.setdefault("USER", "root")
    return env


def run_command(args: list[str], *, check: bool = True, timeout: float = 30) -> Result:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=_env())
    res = Result(args, proc.returncode, proc.stdout, proc.stderr)
    if check and proc.returncode != 0:
        raise AmtoolError(
            f"{' '.join(args)} exited with {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return res


@dataclass
class Amtool:
    """amtool pointed at one server: `Amtool(url).run("alert", "query")`."""

    url: str

    def run(self, *args: str, output: str | None = None, check: bool = True) -> Result:
        cmd = [AMTOOL, f"--alertmanager.url={self.url}"]
        if output:
            cmd.append(f"--output={output}")
        return run_command(cmd + list(args), check=check)

    def json(self, *args: str) -> Any:
        return self.run(*args, output="json").json()


def amtool_local(*args: str, check: bool = False) -> Result:
    """amtool commands that never talk to a server (check-config, routes test --config.file)."""
    return run_command([AMTOOL, *args], check=check)


def ampp_local(*args: str, check: bool = False) -> Result:
    """The same commands through the `ampp` command line."""
    base = ampp_command()[:-1]  # drop "serve"
    return run_command([*base, *args], check=check)


def fingerprint(labels: dict[str, str]) -> str:
    """Alertmanager's alert fingerprint: FNV-1a 64 over sorted name/value pairs, 0xff separators."""
    h = 0xCBF29CE484222325
    for name in sorted(labels):
        for part in (name.encode(), labels[name].encode()):
            for byte in part + b"\xff":
                h ^= byte
                h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"
