"""`ampp operator`: registered through the entry point with every `ampp serve` flag, its own
flags and the chart's environment; and `ampp` itself stays free of kopf."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest
from ampp_operator import cli, settings

pytestmark = pytest.mark.unit


def parse(*argv: str, env: dict[str, str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    cli.register(sub)
    if env is not None:  # re-register the flags with this environment's defaults
        settings.add_flags(sub.choices["operator"], env)
    return parser.parse_args(["operator", *argv])


def test_operator_takes_the_serve_flags_and_its_own() -> None:
    args = parse(
        "--config.file=a.yml", "--web.listen-address=:9999", "--cluster.listen-address=", "--storage.path=/d"
    )
    assert (args.config_file, args.listen_address, args.cluster_listen, args.storage_path) == (
        "a.yml",
        ":9999",
        "",
        "/d",
    )
    opts = settings.from_args(args, "from-kubeconfig")
    assert opts.namespaces == () and opts.enforce_namespace
    assert (
        opts.lease is not None
        and opts.lease.namespace == "from-kubeconfig"
        and opts.lease.lease_duration == 15
    )


def test_environment_defaults_from_the_chart() -> None:
    env = {
        "AMPP_WATCH_NAMESPACES": "a, b,",
        "AMPP_NAMESPACE_ENFORCEMENT": "false",
        "AMPP_POD_NAME": "ampp-0",
        "AMPP_POD_NAMESPACE": "monitoring",
    }
    opts = settings.from_args(parse(env=env), None)
    assert opts.namespaces == ("a", "b") and not opts.enforce_namespace
    assert opts.identity == "ampp-0" and opts.lease is not None and opts.lease.namespace == "monitoring"
    flags = settings.from_args(
        parse(
            "--operator.watch-namespace=c",
            "--operator.namespace-enforcement",
            "--no-leader-election",
            env=env,
        ),
        None,
    )
    assert flags.namespaces == ("c",) and flags.enforce_namespace and flags.lease is None


def test_lease_timings_are_checked() -> None:
    args = parse("--leader-election.lease-duration=5s", "--leader-election.renew-deadline=5s")
    with pytest.raises(ValueError, match="renew-deadline"):
        settings.from_args(args, None)


def test_ampp_never_imports_kopf() -> None:
    """The operator's entry point is loaded to offer its subcommand (built-in commands such as
    `serve` skip it); registering it, even showing its help, must not pull in kopf (or the
    operator's runtime)."""
    code = (
        "import sys\n"
        "from ampp.cli import main\n"
        "try:\n"
        "    main(['operator', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('kopf', 'kubernetes') "
        "or m in ('ampp_operator.runtime', 'ampp_operator.controller'))\n"
        "print('REGISTERED=' + str('ampp_operator.cli' in sys.modules))\n"
        "print('BAD=' + ','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    assert "REGISTERED=True" in lines and "BAD=" in lines, out.stdout
