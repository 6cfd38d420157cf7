"""``ampp operator``: the engine, its HTTP API and the kopf operator in one process.

Start order: the engine on the base config (as ``ampp serve`` would), the API (not ready
yet), then the initial listing of every resource and the first merged config, then ready.
kopf owns SIGTERM/SIGINT (it stops, then everything else is stopped in reverse order);
SIGHUP and POST /-/reload re-read the base config and merge the resources again.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import signal
import socket
import tempfile
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import kopf
from ampp.config.errors import ConfigError
from ampp.engine import Engine

from . import handlers
from . import settings as settings_mod
from .controller import Controller
from .kube import Kube
from .leader import LeaderElector
from .secretwatch import SecretWatches
from .webhookcerts import SelfManagedCertificates

__all__ = ["OperatorEngine", "login", "run"]

log = logging.getLogger("ampp.operator")


class OperatorEngine(Engine):
    """The engine, whose reload re-merges the custom resources instead of applying the base
    config file alone (which would drop them until the next change)."""

    reload_hook: Callable[[], Awaitable[None]] | None = None

    async def reload(self, announce: bool = True) -> None:
        if self.reload_hook is None:
            await super().reload(announce)
            return
        try:
            await self.reload_hook()
        except ConfigError:
            self.metrics.config_last_reload_successful.set(0)
            raise


async def _first(task: asyncio.Task[None], other: Coroutine[Any, Any, Any]) -> None:
    """Wait until ``task`` ends or ``other`` completes, whichever is first."""
    waiter = asyncio.ensure_future(other)
    try:
        await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()


def login(kubeconfig: str | None) -> kopf.ConnectionInfo:
    """Credentials: --kubeconfig, else the pod's service account, else $KUBECONFIG."""
    ks = kopf.OperatorSettings()
    if kubeconfig:
        os.environ["KUBECONFIG"] = kubeconfig
    info = None
    if not kubeconfig:
        info = kopf.login_with_service_account(settings=ks)
    if info is None:
        info = kopf.login_with_kubeconfig(settings=ks)
    if info is None:
        raise kopf.LoginError("no credentials: pass --kubeconfig, set $KUBECONFIG, or run in a pod")
    return info


def _free(address: str, flag: str) -> str | None:
    """Why ``address`` cannot be listened on (a one-line reason), or None if it can.

    kopf binds the admission webhook's port inside its own task, where a port in use would
    end the operator with kopf's traceback: the port is tried here first instead."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_server((host.strip("[]") or "", int(port)), reuse_port=False):
            return None
    except (OSError, ValueError) as e:
        return f"Listening on {flag} {address} failed: {e}"


async def run(args: argparse.Namespace) -> int:
    from aiohttp import web
    from ampp.api.app import create_app
    from ampp.api.body import runner as make_runner
    from ampp.cli import start_engine

    kube = Kube(lambda: login(args.kubeconfig))
    try:
        info = kube.info
    except (kopf.LoginError, OSError) as e:
        log.error("cannot log in to Kubernetes: %s", e)
        return 1
    try:
        opts = settings_mod.from_args(args, info.default_namespace)
    except ValueError as e:
        log.error("%s", e)
        return 2
    if opts.admission_address:
        busy = _free(opts.admission_address, "--admission.listen-address")
        if busy is not None:
            log.error("%s", busy)
            return 1

    # The engine `ampp serve` would run with these flags: the same storage (--storage.url),
    # cache, replica name, notify workers and web config.
    started = await start_engine(args, OperatorEngine, log)
    if started is None:
        return 1
    engine, api = started
    engine.ready = False  # until the resources are merged in

    controller = Controller(engine, kube, opts, args.config_file)
    controller.secret_watches = SecretWatches(kube, controller.secret_changed, opts.resync_interval)
    elector = None
    if opts.lease is not None:
        elector = LeaderElector(kube, opts.lease, controller.leadership_changed)
        controller.elector = elector
    engine.reload_hook = controller.reload

    app = create_app(engine, api)
    runner = make_runner(app, shutdown_timeout=api.server.shutdown_timeout)
    await runner.setup()
    host, _, port = api.server.address.rpartition(":")
    tls = api.web.server_context() if api.web else None
    try:
        await web.TCPSite(runner, host or None, int(port), reuse_address=True, ssl_context=tls).start()
    except OSError as e:  # a port in use: one line, as ampp serve says it, not a traceback
        origin = "--web.listen-address" if args.listen_address else "server.address"
        log.error("Listening on %s %s failed: %s", origin, api.server.address, e)
        await runner.cleanup()
        await engine.stop()
        return 1
    log.info("Listening address=%s tls=%s", api.server.address, "enabled" if tls else "disabled")

    loop = asyncio.get_running_loop()
    tasks: list[asyncio.Task[None]] = []
    if elector is not None:
        tasks.append(loop.create_task(elector.run(), name="leader-election"))

    async def first_sync() -> None:
        await controller.initial_sync()
        engine.ready = True
        log.info("operator synced: %d resources", len(controller.store))

    tasks.append(loop.create_task(first_sync(), name="initial-sync"))
    tasks.append(loop.create_task(controller.resync_loop(), name="resync"))

    def on_hup() -> None:
        async def go() -> None:
            try:
                await engine.reload()
            except ConfigError as e:
                log.error("Loading configuration file failed: %s", e)

        tasks.append(loop.create_task(go()))

    loop.add_signal_handler(signal.SIGHUP, on_hup)
    kopf_settings = handlers.kopf_settings()
    own_certs: Path | None = None
    if opts.admission_address:
        cert, key = opts.admission_cert_file, opts.admission_key_file
        if opts.admission_certificates is not None:
            own_certs = Path(tempfile.mkdtemp(prefix="ampp-admission-"))
            certs = SelfManagedCertificates(kube, opts.admission_certificates, own_certs)
            certs.bootstrap()
            tasks.append(loop.create_task(certs.run(), name="admission-certificates"))
            cert = key = str(certs.pem_file)
        kopf_settings.admission.server = handlers.webhook_server(opts.admission_address, cert, key)
    # kopf installs SIGTERM/SIGINT handlers that stop only kopf, then waits 5 s for every task
    # started after it (the engine's dispatcher among them). So: once kopf is up, the signals
    # are ours again, and the engine and the API stop *before* kopf is asked to.
    stop, kopf_stop, kopf_ready = asyncio.Event(), asyncio.Event(), asyncio.Event()
    operator = loop.create_task(
        kopf.operator(
            registry=handlers.build_registry(controller, kube, admission=bool(opts.admission_address)),
            settings=kopf_settings,
            standalone=True,
            clusterwide=not opts.namespaces,
            namespaces=list(opts.namespaces),
            stop_flag=kopf_stop,
            ready_flag=kopf_ready,
        ),
        name="kopf",
    )
    code = 0
    try:
        await _first(operator, kopf_ready.wait())
        if not operator.done():
            loop.add_signal_handler(signal.SIGTERM, stop.set)
            loop.add_signal_handler(signal.SIGINT, stop.set)
            await _first(operator, stop.wait())
        if operator.done():
            log.error(
                "the kopf operator stopped: %r",
                operator.exception() if not operator.cancelled() else "cancelled",
            )
            code = 1
    finally:
        log.info("Received shutdown signal, exiting gracefully")
        controller.close()
        await controller.secret_watches.close()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if elector is not None:
            await elector.release()
        await runner.cleanup()
        await engine.stop()
        kopf_stop.set()
        try:
            await asyncio.wait_for(operator, timeout=10)
        except (asyncio.CancelledError, TimeoutError, Exception) as e:  # already logged by kopf
            log.debug("kopf stopped: %r", e)
        await kube.close()
        if own_certs is not None:
            shutil.rmtree(own_certs, ignore_errors=True)
    return code
