"""`ampp` with flags and no command is `ampp serve`, as the `alertmanager` binary takes them."""

from __future__ import annotations

import pytest
from ampp import cli

pytestmark = pytest.mark.unit


def usage(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as done:
        cli.main(list(argv))
    assert done.value.code == 0
    return capsys.readouterr().out


def test_flags_alone_are_serve_flags(capsys: pytest.CaptureFixture[str]) -> None:
    out = usage(capsys, "--config.file=/etc/alertmanager/alertmanager.yml", "--help")
    assert out.startswith("usage: ampp serve"), out
    assert "--storage.path" in out


def test_version_and_help_stay_the_commands_own(capsys: pytest.CaptureFixture[str]) -> None:
    assert usage(capsys, "--version").strip().startswith("ampp ")
    out = usage(capsys, "--help")
    assert out.startswith("usage: ampp [-h] [--version]"), out
    assert "Flags without a command run `serve`" in " ".join(out.split())
