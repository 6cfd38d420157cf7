"""The ``ampp operator`` subcommand, registered through the ``ampp.commands`` entry point.

It takes every flag of ``ampp serve`` (the same engine runs inside) plus the operator's own.
The engine's flag definitions are borrowed from ``ampp.cli`` by building its ``serve``
parser once and using it as a parent, so the two commands can never drift apart.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from typing import Any

from . import settings

__all__ = ["register"]


def _serve_flags() -> argparse.ArgumentParser:
    from ampp import cli

    holder = argparse.ArgumentParser(add_help=False)
    sub = holder.add_subparsers()
    cli._serve_parser(sub)
    serve: argparse.ArgumentParser = sub.choices["serve"]
    return serve


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> Callable[[argparse.Namespace], int]:
    p = subparsers.add_parser(
        "operator",
        parents=[_serve_flags()],
        conflict_handler="resolve",
        help="run the engine with the Kubernetes operator (custom resources -> config)",
        description="The engine (with every flag of `ampp serve`) plus a kopf operator that merges "
        "AlertRoute, Receiver, InhibitRule, TimeInterval and Silence resources into its config.",
    )
    settings.add_flags(p)
    return _main


def _main(args: argparse.Namespace) -> int:
    import logging

    from ampp import logs

    from .handlers import QuietRefusals
    from .runtime import run

    try:  # the flags' format until the config is read (its validation names a bad flag)
        logs.setup(args.log_level, args.log_format)
    except ValueError:
        logs.setup()
    if args.log_level != "debug":
        logging.getLogger("kopf").setLevel(logging.WARNING)
    logging.getLogger("kopf.objects").addFilter(QuietRefusals())
    try:
        result: Any = asyncio.run(run(args))
    except KeyboardInterrupt:
        return 0
    return int(result)
