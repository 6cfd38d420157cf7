"""The ``ampp`` command: ``serve`` takes Alertmanager's flags, spelled the same."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from . import __version__
from .config.errors import ConfigError
from .model.timefmt import DurationError, parse_duration

if TYPE_CHECKING:
    from aiohttp import web

    from .api.app import ApiSettings
    from .cluster import ClusterSettings
    from .config.loader import Config, Override
    from .config.settings import StorageSettings
    from .engine import Engine, EngineOptions


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except DurationError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer: {text!r}")
    return value


def _serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="run the engine (accepts Alertmanager's flags)")
    a = p.add_argument
    a(
        "--config.file",
        dest="config_file",
        default="alertmanager.yml",
        help="Alertmanager configuration file name.",
    )
    a(
        "--storage.path",
        dest="storage_path",
        default=None,
        help="Base path for data storage (SQLite; storage.sqlite.path, data/).",
    )
    a(
        "--storage.url",
        dest="storage_url",
        default=None,
        help="A PostgreSQL URL; SQLite under --storage.path when unset (storage.url).",
    )
    a("--cache.url", dest="cache_url", default=None, help="A Redis URL for the shared cache (cache.url).")
    a(
        "--data.retention",
        dest="retention",
        type=_duration,
        default=120 * 3600,
        help="How long to keep data for.",
    )
    a(
        "--alerts.gc-interval",
        dest="alerts_gc_interval",
        type=_duration,
        default=30 * 60,
        help="Interval between alert GC.",
    )
    a(
        "--web.listen-address",
        dest="listen_address",
        default=None,
        help="Address to listen on for the web interface and API (server.address, :9093).",
    )
    a(
        "--web.external-url",
        dest="external_url",
        default=None,
        help="The URL under which Alertmanager is externally reachable (server.external_url).",
    )
    a(
        "--web.route-prefix",
        dest="route_prefix",
        default=None,
        help="Prefix for the internal routes of web endpoints (server.route_prefix).",
    )
    a("--web.get-concurrency", dest="get_concurrency", type=int, default=0)
    a(
        "--web.timeout",
        dest="web_timeout",
        default=None,
        help="Timeout for HTTP requests; 0: none (server.write_timeout).",
    )
    a("--web.config.file", dest="web_config_file", default="")
    a(
        "--cluster.listen-address",
        dest="cluster_listen",
        default="0.0.0.0:9094",
        help="Listen address for cluster; empty disables HA mode.",
    )
    a("--cluster.advertise-address", dest="cluster_advertise", default="")
    a(
        "--cluster.peer",
        dest="cluster_peers",
        action="append",
        default=[],
        help="Initial peers (may be repeated).",
    )
    a("--cluster.settle-timeout", dest="settle_timeout", type=_duration, default=60)
    for flag in (
        "peer-timeout",
        "gossip-interval",
        "pushpull-interval",
        "tcp-timeout",
        "probe-timeout",
        "probe-interval",
        "reconnect-interval",
        "reconnect-timeout",
    ):
        a(f"--cluster.{flag}", dest=flag.replace("-", "_"), type=_duration, default=None)
    a("--cluster.label", dest="cluster_label", default="")
    a("--cluster.allow-insecure-public-advertise-address-discovery", dest="insecure_adv", action="store_true")
    a(
        "--notify.workers",
        dest="notify_workers",
        type=_positive,
        default=None,
        help="Notifications sent at once (the delivery queue's worker pool; config.yaml notify.workers, 10).",
    )
    a("--log.level", dest="log_level", default=None, help="debug, info, warn or error (logging.level, info).")
    a("--log.format", dest="log_format", default=None, help="logfmt or json (logging.format, logfmt).")


FLAG_SETTINGS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("listen_address", "--web.listen-address", ("server", "address")),
    ("external_url", "--web.external-url", ("server", "external_url")),
    ("route_prefix", "--web.route-prefix", ("server", "route_prefix")),
    ("web_timeout", "--web.timeout", ("server", "write_timeout")),
    ("storage_path", "--storage.path", ("storage", "sqlite", "path")),
    ("storage_url", "--storage.url", ("storage", "url")),
    ("cache_url", "--cache.url", ("cache", "url")),
    ("log_level", "--log.level", ("logging", "level")),
    ("log_format", "--log.format", ("logging", "format")),
    ("notify_workers", "--notify.workers", ("notify", "workers")),
)
"""The flags that set a config.yaml setting: argparse's name, the flag, the setting's path."""


def overrides(args: argparse.Namespace) -> list[Override]:
    """The settings the command line gives; they win over config.yaml and the environment."""
    out: list[Override] = []
    for dest, flag, path in FLAG_SETTINGS:
        value = getattr(args, dest, None)
        if value is not None:
            out.append((f"flag {flag}", path, value))
    return out


def _listen(address: str) -> socket.socket:
    """Bind and listen on --web.listen-address before anything else is loaded.

    Connections made while the engine starts wait in the kernel's backlog and are answered once
    it is ready, instead of being refused: Prometheus' pushes and health checks during a restart
    see a slow answer, not an error (as with systemd socket activation).
    """
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    if not host and socket.has_dualstack_ipv6():
        return socket.create_server(
            ("", int(port)), family=socket.AF_INET6, dualstack_ipv6=True, backlog=1024, reuse_port=False
        )
    family, _, _, _, addr = socket.getaddrinfo(host or None, int(port), type=socket.SOCK_STREAM)[0]
    return socket.create_server(addr[:2], family=family, backlog=1024)


async def _serve(args: argparse.Namespace) -> int:
    import gc

    # The engine holds ~10 container objects per alert; with the default gen-0 threshold (700)
    # ingesting a batch triggers collections that walk them over and over (7% of ingest time
    # at 100,000 alerts). Its objects are rarely cyclic, so collecting less often costs little.
    gc.set_threshold(20_000, 50, 100)
    log = logging.getLogger("ampp")
    address, origin = args.listen_address, "--web.listen-address"
    if address is None:  # the address is in config.yaml (or the default): read it first
        cfg = load_config(args, log)
        if cfg is None:
            return 1
        address, origin = cfg.server.address, "server.address"
    try:
        sock = _listen(address)
    except (OSError, ValueError) as e:
        log.error("Listening on %s %s failed: %s", origin, address, e)
        return 1
    try:
        return await _serve_on(sock, args)
    finally:
        sock.close()


def load_config(args: argparse.Namespace, log: logging.Logger) -> Config | None:
    """--config.file with the flags over it (and the environment under it), the log set up as
    it says; None (after logging why) when it is refused."""
    from . import logs
    from .config.loader import load_file

    try:
        cfg = load_file(args.config_file, overrides(args))
    except ConfigError as e:
        log.error("Loading configuration file failed: %s", e)
        return None
    logs.setup(cfg.logging.level, cfg.logging.format)
    return cfg


def engine_options(args: argparse.Namespace, cfg: Config) -> EngineOptions:
    """The engine the serve flags describe: `ampp serve` runs it, `ampp operator` embeds it."""
    from .engine import EngineOptions
    from .store.factory import open_storage

    server = cfg.server
    replica = f"{socket.gethostname()}:{server.address.rpartition(':')[2]}"
    return EngineOptions(
        config_file=args.config_file,
        storage=open_storage(None, None, cfg.storage),
        external_url=server.public_url(),
        retention_s=args.retention,
        alerts_gc_interval_s=args.alerts_gc_interval,
        cluster_peers=args.cluster_peers,
        initial_config=cfg,
        replica=replica,  # delivery claims
        overrides=overrides(args),
        cluster=cluster_settings(args, replica),
    )


def cluster_settings(args: argparse.Namespace, replica: str) -> ClusterSettings | None:
    """The cluster of replicas sharing the PostgreSQL database (ampp.cluster), unless
    --cluster.listen-address is empty (Alertmanager's way of turning HA off)."""
    from .cluster import ClusterSettings, Timing

    if not args.cluster_listen:
        return None
    default = Timing()
    timing = Timing(args.probe_interval or default.heartbeat, args.probe_timeout or default.timeout)
    return ClusterSettings(
        replica,
        args.cluster_advertise or args.cluster_listen,
        timing,
        args.reconnect_timeout or 6 * 3600,
    )


EngineT = TypeVar("EngineT", bound="Engine")


async def start_engine(
    args: argparse.Namespace, make: Callable[[EngineOptions], EngineT], log: logging.Logger
) -> tuple[EngineT, ApiSettings] | None:
    """The web config loaded and the engine started, with the API's settings; None (after
    logging why, without a traceback) when it cannot serve. `ampp operator` starts its own
    Engine subclass the same way."""
    from .api.app import ApiSettings

    guard = None
    if args.web_config_file:  # without the TLS or authentication it asks for, better not to serve
        from .api.webconfig import WebConfigError, WebGuard

        try:
            guard = WebGuard.load(args.web_config_file)
        except WebConfigError as e:
            log.error("Loading the web config failed: %s", e)
            return None
    cfg = load_config(args, log)
    if cfg is None:
        return None
    options = engine_options(args, cfg)
    engine = make(options)
    try:
        await engine.start()
    except ConfigError as e:
        log.error("Loading configuration file failed: %s", e)
        return None
    except Exception as e:  # storage unreachable or refusing: say so, no traceback
        log.error("Opening storage failed: %s: %s", type(e).__name__, e)
        return None
    if engine.config.auth is None:
        log.info(
            "No auth: section in the config: the API is open to anyone who can reach it, as Alertmanager's is"
        )
    server = cfg.server
    prefix = "/" + (server.route_prefix or urlsplit(options.external_url).path).strip("/")
    cluster = args.cluster_advertise or args.cluster_listen
    return engine, ApiSettings(prefix, cluster, web=guard, server=server, metrics=cfg.metrics)


async def serve_api(engine: Engine, settings: ApiSettings, sock: socket.socket) -> web.AppRunner:
    """The API of a started engine served on ``sock`` (TLS as the web config says); cleaning
    the runner up waits for requests in flight up to ``server.shutdown_timeout``."""
    from aiohttp import web

    from .api.app import create_app
    from .api.body import runner as make_runner

    runner = make_runner(create_app(engine, settings), shutdown_timeout=settings.server.shutdown_timeout)
    await runner.setup()
    tls = settings.web.server_context() if settings.web else None
    await web.SockSite(runner, sock, ssl_context=tls).start()
    log = logging.getLogger("ampp")
    log.info("Listening address=%s tls=%s", settings.server.address, "enabled" if tls else "disabled")
    return runner


async def _serve_on(sock: socket.socket, args: argparse.Namespace) -> int:
    from .engine import Engine

    log = logging.getLogger("ampp")
    started = await start_engine(args, Engine, log)
    if started is None:
        return 1
    engine, settings = started
    runner = await serve_api(engine, settings, sock)
    # The HTTP client stack and the system CAs load in a thread once the API serves, rather than
    # delay the first notification by ~0.1 s; not before, where its imports would hold the GIL
    # the start-up's own imports need (ready ~0.1 s later).
    from .notify.http import preload

    asyncio.get_running_loop().run_in_executor(None, preload)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    pending: set[asyncio.Task[None]] = set()

    def on_hup() -> None:
        async def go() -> None:
            try:
                await engine.reload()
            except ConfigError as e:
                log.error("Loading configuration file failed: %s", e)

        task = loop.create_task(go())
        pending.add(task)
        task.add_done_callback(pending.discard)

    loop.add_signal_handler(signal.SIGHUP, on_hup)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    log.info("Received shutdown signal, exiting gracefully")
    await runner.cleanup()
    await engine.stop()
    return 0


def _run(main: Coroutine[Any, Any, int]) -> int:
    return _run_any(main)


T = TypeVar("T")


def _run_any(main: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop where installed: it halves the per-request overhead of the event loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def _import(args: argparse.Namespace) -> int:
    from .importer import ImportError_, import_from
    from .store.factory import open_storage

    storage = open_storage(args.storage_url, args.storage_path, None)
    try:
        result = _run_any(import_from(args.source, storage))
    except ImportError_ as e:
        print(f"ampp: error: {e}", file=sys.stderr)
        return 1
    for line in result.skipped:
        print(f"skipped {line}", file=sys.stderr)
    print(f"imported {result.silences} silences and {result.alerts} alerts from {args.source}")
    return 0


def _storage_settings(args: argparse.Namespace) -> StorageSettings | None:
    """The storage section of --config.file, when one is given (ConfigError if it is bad)."""
    from .config.loader import load_file

    return load_file(args.config_file).storage if args.config_file else None


def _migrate(args: argparse.Namespace) -> int:
    from .store.factory import migrate

    try:
        settings = _storage_settings(args)
    except ConfigError as e:
        print(f"ampp: error: {e}", file=sys.stderr)
        return 1
    try:
        version = _run(migrate(args.storage_url, args.storage_path, settings))
    except Exception as e:
        print(f"ampp: error: migrating storage failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(f"storage schema at version {version}")
    return 0


def _apikey(args: argparse.Namespace) -> int:
    """``ampp apikey create|list|revoke`` on the storage directly: works with the engine down,
    which is how the first admin key is made. Each change is written to the audit log."""
    import getpass
    import time

    from .auth.apikeys import ApiKeyNotFound, ApiKeys
    from .auth.audit import AuditEvent, AuditLog
    from .auth.roles import Role
    from .model.timefmt import NS, format_rfc3339millis, parse_rfc3339
    from .store.factory import open_storage

    try:
        settings = _storage_settings(args)
        sources = tuple(dict.fromkeys(getattr(args, "sources", None) or ()))
        if sources:
            from .config.loader import load_file
            from .config.settings import WebhookSettings
            from .ingest.webhook import source_names

            known = source_names(
                load_file(args.config_file).webhook if args.config_file else WebhookSettings()
            )
            for s in sources:
                if s not in known:
                    where = "" if args.config_file else " (give --config.file for its webhook.sources)"
                    print(f"ampp: error: --source: no webhook source {s!r}{where}; known: {', '.join(known)}",
                          file=sys.stderr)  # fmt: skip
                    return 1
    except ConfigError as e:
        print(f"ampp: error: {e}", file=sys.stderr)
        return 1
    expires_at = None
    if getattr(args, "expires", None):
        try:
            expires_at = parse_rfc3339(args.expires) / NS
        except ValueError as e:
            print(f"ampp: error: --expires: {e}", file=sys.stderr)
            return 1
    actor = f"cli:{getpass.getuser()}"

    def when(seconds: float | None) -> str:
        return format_rfc3339millis(int(seconds * NS)) if seconds else "-"

    async def run() -> int:
        storage = open_storage(args.storage_url, args.storage_path, settings)
        await storage.open()
        try:
            keys, audit = ApiKeys(storage), AuditLog(storage)

            async def record(action: str, target: str, after: dict[str, Any]) -> None:
                await audit.record(AuditEvent(time.time(), actor, "admin", "cli", "local", action, target, 0,
                                              None, after))  # fmt: skip

            if args.apikey_command == "create":
                record_, secret = await keys.create(
                    args.name, Role.parse(args.role), actor, expires_at, not args.person, sources
                )
                after = {"name": args.name, "role": args.role, "sources": list(sources)}
                await record("apikey.create", record_.id, after)
                print(f"id:   {record_.id}\nname: {record_.name}\nrole: {record_.role.label}")
                if sources:
                    print(f"sources: {', '.join(sources)} (only posting their alerts to /webhook)")
                print(f"key:  {secret}\n(shown once: it is stored only as a hash)")
            elif args.apikey_command == "revoke":
                try:
                    found = await keys.revoke(args.id)
                except ApiKeyNotFound:
                    print(f"ampp: error: no API key with id {args.id!r}", file=sys.stderr)
                    return 1
                await record("apikey.revoke", found.id, {"name": found.name})
                print(f"revoked {found.id} ({found.name})")
            else:
                print(
                    f"{'ID':38} {'NAME':20} {'ROLE':9} {'EXPIRES':25} {'LAST USED':25} {'REVOKED':25} SOURCES"
                )
                for k in await keys.list():
                    scope = ",".join(k.sources) or "-"
                    print(f"{k.id:38} {k.name:20} {k.role.label:9} {when(k.expires_at):25} "
                          f"{when(k.last_used_at):25} {when(k.revoked_at):25} {scope}")  # fmt: skip
            return 0
        finally:
            await storage.close()

    try:
        return _run(run())
    except Exception as e:
        print(f"ampp: error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


def _check_config(files: Sequence[str]) -> int:
    from .config.loader import load_file
    from .engine import key_file_refusal, refusals

    failed = 0
    for f in files:
        print(f"Checking '{f}'", end="")
        try:
            cfg = load_file(f)
        except ConfigError as e:
            print(f"  FAILED: {e}\n")
            failed += 1
            continue
        print("  SUCCESS")
        a = cfg.alerting
        print("Found:")
        print(" - global config")
        print(" - route")
        print(f" - {len(a.inhibit_rules)} inhibit rules")
        print(f" - {len(a.receivers)} receivers")
        print(f" - {len(a.templates)} templates")
        if a.templates:
            from .notify.pipeline import load_templates

            try:
                load_templates(cfg)
            except ConfigError as e:
                print(f"  FAILED: {e}")
                failed += 1
            else:
                print("  SUCCESS")
        refused = refusals(cfg)
        unreadable = key_file_refusal(cfg)
        if unreadable is not None:
            refused.append(unreadable)
        if refused:  # what serve would refuse, check-config refuses
            print(f"  FAILED: {ConfigError(refused)}")
            failed += 1
        print()
    if failed:
        print(f"amtool: error: failed to validate {failed} file(s)", file=sys.stderr)
        return 1
    return 0


def _config_show(args: argparse.Namespace) -> int:
    from .config.loader import load_file
    from .config.show import render_settings

    try:
        if args.effective:
            cfg = load_file(args.config_file, overrides(args))
        else:
            cfg = load_file(args.config_file, environ={})
    except ConfigError as e:
        print(f"ampp: error: {e}", file=sys.stderr)
        return 1
    print(render_settings(cfg), end="")
    return 0


def _routes_test(args: argparse.Namespace) -> int:
    from .config.loader import load_file
    from .dispatch.route import build_route

    try:
        cfg = load_file(args.config_file)
    except ConfigError as e:
        print(f"amtool: error: {e}", file=sys.stderr)
        return 1
    labels: dict[str, str] = {}
    for item in args.labels:
        name, sep, value = item.partition("=")
        if not sep:
            print(
                f"amtool: error: Failed to parse labels: invalid label {item!r}: expected name=value",
                file=sys.stderr,
            )
            return 1
        labels[name] = value.strip('"')
    route = build_route(cfg.route)
    receivers: list[str] = []
    for r in route.match(labels):
        if r.opts.receiver not in receivers:
            receivers.append(r.opts.receiver)
    slug = ",".join(receivers)
    print(slug)
    if args.verify_receivers and args.verify_receivers != slug:
        print("WARNING: Expected receivers did not match resolved receivers.")
        return 1
    return 0


def _routes_show(args: argparse.Namespace) -> int:
    from .config.loader import load_file
    from .dispatch.route import Route, build_route

    try:
        cfg = load_file(args.config_file)
    except ConfigError as e:
        print(f"amtool: error: {e}", file=sys.stderr)
        return 1

    def show(r: Route, depth: int) -> None:
        matchers = "{" + ", ".join(str(m) for m in r.matchers) + "}" if r.matchers else "default-route"
        print("  " * depth + f"└── {matchers}  receiver: {r.opts.receiver}")
        for c in r.routes:
            show(c, depth + 1)

    print("Routing tree:")
    show(build_route(cfg.route), 0)
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from .doctor import run

    report = _run_any(
        run(
            args.config_file,
            overrides(args),
            send_test=args.send_test,
            receivers=args.receivers,
            limit_s=args.timeout,
        )
    )
    report.print()
    return 1 if report.failed else 0


def _load_plugins(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> dict[str, Any]:
    """Subcommands contributed by other packages (``ampp operator``), via entry points.

    The engine never imports the operator: the operator registers itself here.
    """
    from importlib.metadata import entry_points

    found: dict[str, Any] = {}
    for ep in entry_points(group="ampp.commands"):
        try:
            register = ep.load()
        except ImportError:  # the operator's extras (kopf) are not installed
            continue
        found[ep.name] = register(sub)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ampp",
        description="Alertmanager++: a drop-in replacement for Prometheus Alertmanager. "
        "Flags without a command run `serve`, as the alertmanager binary takes them.",
    )
    parser.add_argument("--version", action="version", version=f"ampp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    mig = sub.add_parser("migrate", help="apply the storage schema migrations and exit")
    mig.add_argument("--storage.path", dest="storage_path", default=None)
    mig.add_argument("--storage.url", dest="storage_url", default=None)
    mig.add_argument("--config.file", dest="config_file", default=None)
    imp = sub.add_parser("import", help="copy silences and alerts from a running Alertmanager into storage")
    imp.add_argument(
        "--from", dest="source", required=True, help="the Alertmanager's URL, e.g. http://alertmanager:9093"
    )
    imp.add_argument("--storage.path", dest="storage_path", default=None)
    imp.add_argument("--storage.url", dest="storage_url", default=None)
    keys = sub.add_parser("apikey", help="create, list and revoke API keys (in the storage)")
    ksub = keys.add_subparsers(dest="apikey_command", required=True)
    kcreate = ksub.add_parser("create", help="make a key; it is printed once and stored only as a hash")
    kcreate.add_argument("--name", required=True)
    kcreate.add_argument("--role", required=True, choices=["viewer", "operator", "admin"])
    kcreate.add_argument("--expires", default=None, help="an RFC 3339 time after which the key is refused")
    kcreate.add_argument(
        "--person", action="store_true", help="a person's key: the alerts it posts are audited"
    )
    kcreate.add_argument(
        "--source",
        dest="sources",
        action="append",
        help="scope the key to this webhook source (repeatable): it may post alerts of it and nothing else",
    )
    krevoke = ksub.add_parser("revoke", help="refuse a key from now on (other replicas: within 10 s)")
    krevoke.add_argument("id")
    klist = ksub.add_parser("list", help="list the keys (never their secrets)")
    for p in (kcreate, krevoke, klist):
        p.add_argument("--storage.path", dest="storage_path", default="data/")
        p.add_argument("--storage.url", dest="storage_url", default=None)
        p.add_argument("--config.file", dest="config_file", default=None)
    cc = sub.add_parser("check-config", help="validate config files, as amtool check-config does")
    cc.add_argument("files", nargs="+")
    config = sub.add_parser("config", help="inspect a config file")
    csub = config.add_subparsers(dest="config_command", required=True)
    routes = csub.add_parser("routes", help="show the routing tree or test it")
    rsub = routes.add_subparsers(dest="routes_command")
    test = rsub.add_parser("test", help="print the receivers an alert with the given labels goes to")
    for p in (routes, test):
        p.add_argument("--config.file", dest="config_file", default="alertmanager.yml")
    test.add_argument("--verify.receivers", dest="verify_receivers", default="")
    show = csub.add_parser(
        "show",
        help="print the engine's settings (secrets hidden), with --effective as serve would run them",
        description="Prints every setting of config.yaml's engine sections and where it came from. "
        "With --effective, the flags given here and AMPP_* environment variables are applied as "
        "`ampp serve` applies them: flags > config.yaml > environment > defaults.",
    )
    show.add_argument("--config.file", dest="config_file", default="alertmanager.yml")
    show.add_argument("--effective", action="store_true", help="apply the flags and the environment")
    for dest, flag, path in FLAG_SETTINGS:
        show.add_argument(flag, dest=dest, default=None, help=f"as for serve ({'.'.join(path)})")
    test.add_argument("labels", nargs="*")
    doctor = sub.add_parser(
        "doctor",
        help="check a config and everything it reaches (storage, Redis, receivers, LLM): a report",
        description="Loads the config as `ampp serve` would (the same flags and environment), then "
        "checks the storage, Redis, the OTLP receiver, the LLM provider and every receiver's "
        "endpoint (DNS, TCP, TLS). One line per check; exits 1 if any failed. Nothing is sent "
        "unless --send-test is given.",
    )
    doctor.add_argument("--config.file", dest="config_file", default="alertmanager.yml")
    doctor.add_argument(
        "--send-test",
        action="store_true",
        help="also send one test notification per integration and ask the LLM provider once",
    )
    doctor.add_argument(
        "--receiver",
        dest="receivers",
        action="append",
        default=[],
        help="check (and with --send-test, send to) only this receiver; repeatable",
    )
    doctor.add_argument("--timeout", type=_duration, default=5.0, help="the most each check may take (5s)")
    for dest, flag, path in FLAG_SETTINGS:
        doctor.add_argument(flag, dest=dest, default=None, help=f"as for serve ({'.'.join(path)})")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0].startswith("-") and argv[0] not in ("--version", "-h", "--help"):
        # Flags alone run the engine, as the `alertmanager` binary takes them: prom/alertmanager
        # command lines (`docker run IMAGE --config.file=...`, a pod's args) work unchanged.
        argv.insert(0, "serve")
    words = [a for a in argv if not a.startswith("-")]
    builtin = {"serve", "check-config", "config", "migrate", "import", "apikey", "doctor"}
    # Plugins cost ~0.1 s of entry-point scanning and imports: not on `serve`'s start-up path.
    plugins = {} if words and words[0] in builtin else _load_plugins(sub)
    args = parser.parse_args(argv)
    if args.command in plugins:
        return int(plugins[args.command](args))

    if args.command == "serve":
        from . import logs

        try:  # the flags' format until the config is read, so that its errors are logged in it
            logs.setup(args.log_level, args.log_format)
        except ValueError:
            logs.setup()  # the config's validation names the bad flag
        try:
            return _run(_serve(args))
        except KeyboardInterrupt:
            return 0
    if args.command == "import":
        return _import(args)
    if args.command == "migrate":
        return _migrate(args)
    if args.command == "apikey":
        return _apikey(args)
    if args.command == "check-config":
        return _check_config(args.files)
    if args.command == "doctor":
        return _doctor(args)
    if args.command == "config":
        if args.config_command == "show":
            return _config_show(args)
        if getattr(args, "routes_command", None) == "test":
            return _routes_test(args)
        return _routes_show(args)
    parser.error("unknown command")
    return 2


if __name__ == "__main__":
    sys.exit(main())
