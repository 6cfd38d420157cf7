"""The engine: storage, alert store, silences, notification log, and the config-driven parts
(routes, inhibition, pipeline, dispatcher) that a reload swaps atomically.

Nothing here knows about HTTP or Kubernetes; the API and the operator drive it.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import socket
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import tracing
from .auth.apikeys import ApiKeys
from .auth.audit import AuditLog
from .auth.control import AccessControl
from .auth.urlpolicy import UrlPolicy
from .cluster.metrics import ClusterMetrics
from .config.errors import ConfigError, ConfigIssue
from .config.loader import Config, Override, load_file, with_overrides
from .config.security import SecuritySettings
from .dispatch.dispatcher import Dispatcher
from .dispatch.route import Route, build_route
from .enrich import Enricher, EnrichMetrics, EnrichStage
from .enrich.service import read_key
from .history.cache import QueryCache
from .history.recorder import HistoryRecorder
from .history.service import HistoryService
from .ingest.alertstore import AlertStore
from .ingest.webhook import source_names
from .metrics import Metrics
from .model.alert import Alert
from .model.silence import Silence
from .model.timefmt import now_ns
from .mute.inhibit import Inhibitor, InhibitRule
from .mute.marker import Marker
from .mute.silencer import Silencer
from .mute.silences import Silences
from .notify.attempt import Attempts
from .notify.http import CircuitCollector
from .notify.integrations.registry import BuiltIntegration
from .notify.nflog import NotificationLog
from .notify.pipeline import build_integrations, build_pipeline, close_integrations, unsupported_integrations
from .notify.queue import DeliveryQueue
from .notify.stage import FlushContext, Stage
from .store.base import Storage
from .store.writebehind import AlertWriteBehind, StorageUnavailable

if TYPE_CHECKING:
    from .cluster import ClusterSettings
    from .cluster.node import Cluster

log = logging.getLogger("ampp.engine")


@dataclass
class EngineOptions:
    config_file: str
    storage: Storage
    external_url: str = "http://localhost:9093"
    retention_s: float = 120 * 3600
    alerts_gc_interval_s: float = 30 * 60
    maintenance_interval_s: float = 15 * 60
    cluster_peers: list[str] = field(default_factory=list)
    initial_config: Config | None = None
    """The config already loaded from ``config_file`` (saves reading it twice at start-up)."""
    durable_timeout_s: float = 5.0
    """How long a POST waits for its alerts to be committed before telling the sender to retry
    (Prometheus' own timeout for an Alertmanager is 10 s)."""
    replica: str = field(default_factory=socket.gethostname)
    """This instance's name in the delivery queue's claims: the same across its restarts (so it
    takes back what it was sending when killed), different for each replica sharing a database."""
    overrides: list[Override] = field(default_factory=list)
    """The settings the command line gives: laid over every config applied, the file's at a
    reload and the operator's alike."""
    cluster: ClusterSettings | None = None
    """With PostgreSQL storage: join the replicas sharing the database (ampp.cluster)."""


@dataclass
class Runtime:
    """Everything built from one config; replaced as a whole on reload."""

    config: Config
    route: Route
    inhibitor: Inhibitor
    silencer: Silencer
    dispatcher: Dispatcher
    integrations: dict[str, list[BuiltIntegration]]
    pipeline: Stage
    """The receivers' stages, without the cluster's ownership check (the webhook proxy's)."""


class _Running:
    """AlertSink: the running config's inhibitor and dispatcher, whichever a reload put in."""

    def __init__(self) -> None:
        self.runtime: Runtime | None = None

    def alerts_changed(self, stored: Sequence[Alert], deleted: Sequence[int]) -> None:
        rt = self.runtime
        if rt is None:
            return
        for a in stored:
            rt.inhibitor.observe(a)
            rt.dispatcher.process(a)
        for fp in deleted:
            rt.inhibitor.forget(fp)


class Changes:
    """AlertSink and SilenceSink: counts the changes to the alerts and to the silences and
    wakes whoever waits for the next one (the dashboard's live stream), at most every
    ``coalesce_s``, so a burst of changes is one wake-up."""

    def __init__(self, coalesce_s: float = 0.25) -> None:
        self.coalesce_s = coalesce_s
        self.alerts = 0
        self.silences = 0
        self.closed = False
        self._event = asyncio.Event()
        self._scheduled = False

    def versions(self) -> dict[str, int]:
        return {"alerts": self.alerts, "silences": self.silences}

    def next_change(self) -> asyncio.Event:
        """An event set at the next announcement (or when the feed closes)."""
        return self._event

    def alerts_changed(self, stored: Sequence[Alert], deleted: Sequence[int]) -> None:
        self.alerts += len(stored) + len(deleted)
        self._schedule()

    async def silence_changed(self, event: str, sil: Silence, prev: Silence | None) -> None:
        self.silences += 1
        self._schedule()

    def close(self) -> None:
        """Wake every waiter for good: the server is shutting down."""
        self.closed = True
        self._publish()

    def _schedule(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_later(self.coalesce_s, self._publish)

    def _publish(self) -> None:
        self._scheduled = False
        event, self._event = self._event, asyncio.Event()
        event.set()


class _SavedSilences:
    """SilenceSink: every change is in storage before its caller is answered."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def silence_changed(self, event: str, sil: Silence, prev: Silence | None) -> None:
        try:
            await self.storage.save_silence(sil)
        except Exception as e:
            raise StorageUnavailable(f"saving the silence failed: {e}") from e


class Engine:
    def __init__(self, options: EngineOptions) -> None:
        self.options = options
        self.storage = options.storage
        self.metrics = Metrics()
        self.metrics.registry.register(CircuitCollector())
        self.recorder = HistoryRecorder(options.storage, self.metrics.registry)
        self.writer = AlertWriteBehind(options.storage)
        self.marker = Marker(sinks=[self.recorder])
        self._running = _Running()
        self.changes = Changes()
        # The alert store's sinks, in order: the history sees each change before the routing.
        self.alerts = AlertStore(sinks=[self.recorder, self._running, self.writer, self.marker, self.changes])
        self.silences = Silences(
            options.retention_s, sinks=[_SavedSilences(self.storage), self.recorder, self.changes]
        )
        self.nflog = NotificationLog(options.storage, options.retention_s, self.metrics)
        self.attempts = Attempts(self.metrics, sinks=[self.recorder])
        self.deliveries = DeliveryQueue(options.storage, self.nflog, self.attempts, options.replica)
        self.deliveries.sending = False  # until ready
        self.started_at = time.time()
        self._reload_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._ready = False
        self.enrich_metrics = EnrichMetrics(self.metrics.registry)
        self.enricher: Enricher | None = None
        """The ``ai:`` enrichment of the running config (None while it is disabled)."""
        self.history: HistoryService  # set by start()
        self.api_keys = ApiKeys(options.storage)
        self.audit = AuditLog(options.storage)
        self.access = AccessControl(None, SecuritySettings(), self.api_keys)
        """Who may call the API, and the rate limits: the config's, once applied (open before)."""
        self.cluster_metrics = ClusterMetrics(self.metrics.registry)
        """Alertmanager's cluster metrics, exported as it does (zero while alone)."""
        self.cluster: Cluster | None = None
        """The replicas sharing this PostgreSQL database, once started (None: alone)."""

    @property
    def runtime(self) -> Runtime | None:
        """What the running config built; None until the first config is applied."""
        return self._running.runtime

    @property
    def ready(self) -> bool:
        """Serving: /-/ready answers OK and the delivery queue sends."""
        return self._ready

    @ready.setter
    def ready(self, value: bool) -> None:
        self._ready = value
        self._sending(self.cluster is None or self.cluster.connected())

    def _sending(self, connected: bool) -> None:
        """The delivery queue sends while ready and, in a cluster, not cut off from the others."""
        sending = self._ready and connected
        if sending != self.deliveries.sending:
            self.deliveries.sending = sending
            self.deliveries.wake()

    def unready_reason(self) -> str | None:
        """Why /-/ready says no while the engine runs (None: it says yes)."""
        return None if self.cluster is None else self.cluster.problem()

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        """Open storage, restore state, apply the config; raises ConfigError if it is bad."""
        cfg = self.options.initial_config or load_file(self.options.config_file, self.options.overrides)
        self._refuse_unsupported(cfg)
        tracing.setup(cfg.tracing, version=_version(), instance=self.options.replica)
        await self.storage.open()
        self.silences.load(await self.storage.load_silences())
        self.nflog.load(await self.storage.load_nflog())
        self.alerts.load(await self.storage.load_alerts())
        await self._start_cluster()
        self._start_history(cfg)
        self.writer.start()
        await self.apply(cfg)
        await self.deliveries.start()
        self._tasks.append(asyncio.create_task(self._alert_gc_loop(), name="alert-gc"))
        self._tasks.append(asyncio.create_task(self._maintenance_loop(), name="maintenance"))
        self.metrics.build_info.labels(_version(), "", "", "python").set(1)
        self.ready = True

    async def _start_cluster(self) -> None:
        settings = self.options.cluster
        if settings is None or type(self.storage).__module__ != "ampp.store.postgres.storage":
            return  # SQLite: one instance, nothing shared (nor asyncpg imported to find out)
        from .cluster.node import Cluster
        from .store.postgres.storage import PostgresStorage

        assert isinstance(self.storage, PostgresStorage)
        self.cluster = Cluster(
            settings,
            self.storage,
            self.cluster_metrics,
            alerts=self.alerts,
            alert_sinks=[self._running, self.marker, self.changes],
            silences=self.silences,
            silence_sinks=[self.changes],
            nflog=self.nflog,
            groups=lambda: () if self.runtime is None else self.runtime.dispatcher.groups.values(),
            sending=self._sending,
            deliveries_released=self.deliveries.wake,
            reload=lambda: self.reload(announce=False),
        )
        await self.cluster.start()
        self.metrics.cluster_enabled.set(1)

    async def stop(self) -> None:
        self.ready = False
        if self.cluster is not None:
            await self.cluster.stop()
        for t in self._tasks:
            t.cancel()
        if self.runtime is not None:
            self.runtime.dispatcher.stop()
        await self.deliveries.stop()
        if self.runtime is not None:
            await close_integrations(self.runtime.integrations)
        await self.writer.stop()
        if self.enricher is not None:
            await self.enricher.close()
        await self._stop_history()
        await self.access.close()
        await self.storage.close()
        if tracing.enabled():  # the last spans exported (a blocking flush, within its timeout)
            await asyncio.to_thread(tracing.shutdown)

    # -- history (ampp.history) -----------------------------------------------------------
    def _start_history(self, cfg: Config) -> None:
        r = self.recorder
        r.retention_s = cfg.storage.retention
        r.cleanup_interval_s = cfg.storage.cleanup_interval
        r.prime(self.alerts.snapshot())
        r.start()
        c = cfg.cache
        cache = QueryCache(self.metrics.registry, c.redis_url(), c.ttl if c.enabled else 0, c.l1_size)
        self.history = HistoryService(self.storage, r, cache)

    async def _stop_history(self) -> None:
        await self.recorder.stop()
        if hasattr(self, "history"):
            await self.history.cache.close()

    def _cache_url(self, cfg: Config) -> str | None:
        """Redis (cache.url or address, ``--cache.url``): history cache, rate limits."""
        return cfg.cache.redis_url()

    # -- configuration -------------------------------------------------------------------
    def _refuse_unsupported(self, cfg: Config) -> None:
        issues = refusals(cfg)
        if issues:
            raise ConfigError(issues)

    async def reload(self, announce: bool = True) -> None:
        """Re-read the config file; on any error keep the running config and raise. In a
        cluster the other replicas are told (``announce``), and reload theirs."""
        try:
            cfg = load_file(self.options.config_file, self.options.overrides)
            self._refuse_unsupported(cfg)
            await self.apply(cfg)
        except ConfigError:
            self.metrics.config_last_reload_successful.set(0)
            raise
        if announce and self.cluster is not None:
            await self.cluster.announce_config(_digest(cfg))

    async def apply(self, cfg: Config) -> None:
        """Build every config-driven part, then swap them in at once; alert state is kept."""
        if any(cfg.origins.get(path) != origin for origin, path, _ in self.options.overrides):
            cfg = with_overrides(cfg, self.options.overrides)  # a document the operator assembled
        async with self._reload_lock:
            route = build_route(cfg.route)
            rules = [InhibitRule(r.source(), r.target(), r.equal or []) for r in cfg.alerting.inhibit_rules]
            inhibitor = Inhibitor(rules, self.marker)
            silencer = Silencer(self.silences, self.marker)
            integrations = build_integrations(cfg, self.options.external_url)
            outbound = UrlPolicy.of(cfg.security.outbound)
            access = AccessControl.of(
                cfg, self.api_keys, self._cache_url(cfg), functools.partial(fetch_url, policy=outbound)
            )
            await access.start()
            pipeline = build_pipeline(
                integrations,
                inhibitor,
                silencer,
                cfg.alerting.all_time_intervals(),
                self.nflog,
                self.attempts,
                cfg.notify,
                self.deliveries,
                fallback=self.cluster is None,
                enrich=EnrichStage(lambda: self.enricher),
            )
            enricher = await self._enricher_for(cfg)
            old = self.runtime
            if old is not None:
                changed = [n for n in _AT_START if getattr(old.config, n) != getattr(cfg, n)]
                if changed:
                    log.warning("Settings that apply at start changed; restart to apply them: %s",
                                ", ".join(changed))  # fmt: skip
                old.dispatcher.stop()
            flushed: Stage = pipeline
            if self.cluster is not None:
                from .cluster import OwnerStage

                flushed = OwnerStage(self.cluster, pipeline)
            dispatcher = Dispatcher(route, flushed)
            for a in self.alerts.snapshot():  # the new config starts from every alert stored
                inhibitor.observe(a)
                dispatcher.process(a)
            dispatcher.start()
            self._running.runtime = Runtime(
                cfg, route, inhibitor, silencer, dispatcher, integrations, pipeline
            )
            retired, self.enricher = self.enricher, enricher
            if retired is not None and retired is not enricher:
                await retired.close()
            old_access, self.access = self.access, access
            await old_access.close()
            self.deliveries.configure(cfg.notify, integrations)
            if old is not None:
                await close_integrations(old.integrations)
            self.metrics.config_last_reload_successful.set(1)
            self.metrics.config_last_reload_success_timestamp.set(time.time())
            self.metrics.config_hash.set(int(_digest(cfg)[:12], 16))
            if self.cluster is not None:
                self.cluster.config_digest = _digest(cfg)
            log.info("Completed loading of configuration file file=%s", cfg.source)

    async def _enricher_for(self, cfg: Config) -> Enricher | None:
        """The running enricher if ``ai:`` and the key did not change (a reload re-reads
        ``api_key_file``), a new one if they did, None while disabled."""
        if not cfg.ai.enabled:
            return None
        try:
            key = await read_key(cfg.ai)
        except OSError as e:
            raise ConfigError(
                [ConfigIssue(cfg.source, ("ai", "api_key_file"), f"cannot read the key: {e}")]
            ) from None
        current = self.enricher
        policy = UrlPolicy.of(cfg.security.outbound)
        if current is not None and current.same(cfg.ai, key, policy):
            return current
        enricher = Enricher(
            cfg.ai,
            self.enrich_metrics,
            cfg.cache.redis_url(),
            api_key=key,
            policy=policy,
            sinks=[self.recorder],
        )
        return enricher

    @property
    def config(self) -> Config:
        assert self.runtime is not None
        return self.runtime.config

    # -- alerts --------------------------------------------------------------------------
    async def put_alerts(self, alerts: Iterable[Alert]) -> None:
        """Store alerts (merging with what is known) and return once they are durable.

        Raises StorageUnavailable when they could not be made durable within
        ``durable_timeout_s`` (storage failing, full or slow): the caller tells the sender to
        try again. They are kept in memory all the same (routed and notified from there, and
        written once storage takes them) until :data:`~.store.writebehind.MAX_BUFFERED` changes
        wait; beyond, new alerts are refused outright.
        """
        writer = self.writer
        if writer.full():
            raise StorageUnavailable(
                f"storage unavailable: {writer.pending()} writes buffered, no room for more"
            )
        with tracing.span("ingest") as span:  # the aggregation groups remember it (dispatch)
            span.set_attribute("ampp.alerts", len(self.alerts.put(alerts)))
            if not writer.healthy:
                raise StorageUnavailable(f"storage unavailable: {writer.pending()} writes buffered")
            try:  # the future is this caller's own: cancelling it on timeout cancels nothing else
                async with asyncio.timeout(self.options.durable_timeout_s):
                    await writer.durable()
            except TimeoutError:
                limit = self.options.durable_timeout_s
                raise StorageUnavailable(
                    f"storage is slow: the alerts were not committed within {limit:g}s"
                ) from None

    async def notify_receiver(
        self,
        receiver: str,
        alerts: list[Alert],
        group_key: str,
        repeat_interval: float,
        enrichment: Mapping[int, Mapping[str, Any] | None] | None = None,
    ) -> None:
        """Run one receiver's notification stages on ``alerts`` outside the routing tree (the
        enrichment proxy, which gives the ``enrichment`` it made): the same muting, dedup and
        durable delivery as a routed flush."""
        rt = self.runtime
        assert rt is not None
        ctx = FlushContext(group_key, {}, receiver, repeat_interval, now_ns(), enrichment=enrichment)
        await rt.pipeline.exec(ctx, alerts)

    def set_alert_status(self, alert: Alert) -> None:
        """What the API does before reporting an alert: ask both muters, which mark it."""
        rt = self.runtime
        assert rt is not None
        rt.inhibitor.mutes(alert.labels, alert.fingerprint)
        rt.silencer.mutes(alert.labels, alert.fingerprint)

    # -- background ----------------------------------------------------------------------
    async def _alert_gc_loop(self) -> None:
        while True:
            await asyncio.sleep(self.options.alerts_gc_interval_s)
            self.alerts.gc()

    async def _maintenance_loop(self) -> None:
        while True:
            await asyncio.sleep(self.options.maintenance_interval_s)
            try:
                gone = self.silences.gc()
                if gone:
                    await self.storage.delete_silences(gone)
                await self.nflog.gc()
                await self.storage.purge_deliveries(time.time_ns() - int(self.options.retention_s * 1e9))
                if self.runtime is not None:  # the audit log is kept as long as the history
                    await self.audit.purge(time.time() - self.runtime.config.storage.retention)
            except Exception:
                log.exception("maintenance failed")

    def update_gauges(self) -> None:
        now = time.time_ns()
        counts = {"active": 0, "suppressed": 0, "unprocessed": 0}
        for a in self.alerts.alerts.values():
            if a.resolved_at(now):
                continue
            counts[self.marker.status(a.fingerprint).state] += 1
        for state, n in counts.items():
            self.metrics.alerts.labels(state).set(n)
        sil = {"active": 0, "pending": 0, "expired": 0}
        for s in self.silences.all():
            sil[s.state(now)] += 1
        for state, n in sil.items():
            self.metrics.silences.labels(state).set(n)
        self.metrics.nflog_entries.set(len(self.nflog))
        self.deliveries.update_gauges()
        self.metrics.storage_up.set(1 if self.writer.healthy else 0)
        self.metrics.storage_buffered.set(self.writer.pending())
        if self.runtime is not None:
            self.metrics.dispatcher_aggregation_groups.set(len(self.runtime.dispatcher.groups))
        if self.cluster is not None:
            self.cluster.update_gauges()


_AT_START = ("server", "storage", "cache", "metrics", "logging", "tracing")
"""Sections read when the engine starts: a reload that changes them says they wait for a restart."""


def refusals(cfg: Config) -> list[ConfigIssue]:
    """What the engine refuses in a config that validated: ``check-config`` asks the same (and
    whether ``ai.api_key_file`` reads, which the engine finds when it reads the key)."""
    issues = unsupported_integrations(cfg)
    known = source_names(cfg.webhook)
    for i, key in enumerate(cfg.auth.api_keys if cfg.auth is not None else []):
        for j, source in enumerate(key.sources):
            if source not in known:
                issues.append(
                    ConfigIssue(
                        cfg.source,
                        ("auth", "api_keys", i, "sources", j),
                        f"no webhook source {source!r} (the formats and webhook.sources: {', '.join(known)})",
                    )
                )
    receivers = {r.name for r in cfg.alerting.receivers}
    for i, target in enumerate(cfg.webhook.proxy.targets):
        if target not in receivers:
            path = ("webhook", "proxy", "targets", i)
            issues.append(ConfigIssue(cfg.source, path, f"no receiver named {target!r}"))
    return issues


def _digest(cfg: Config) -> str:
    return hashlib.sha256(cfg.original.encode()).hexdigest()


def key_file_refusal(cfg: Config) -> ConfigIssue | None:
    """``ai.api_key_file`` that cannot be read (check-config and doctor ask before serve does)."""
    if not (cfg.ai.enabled and cfg.ai.api_key_file):
        return None
    try:
        with open(cfg.ai.api_key_file, "rb"):
            return None
    except OSError as e:
        return ConfigIssue(cfg.source, ("ai", "api_key_file"), f"cannot read the key: {e.strerror or e}")


def _version() -> str:
    from . import __version__

    return __version__


async def fetch_url(url: str, policy: UrlPolicy | None = None) -> bytes:
    """GET through the one HTTP sender (its TLS defaults, the outbound URL ``policy``): how
    ampp.auth fetches a JWKS."""
    from .notify.http import HTTPSender, check_response

    sender = HTTPSender(timeout=10, policy=policy)
    try:
        resp = await sender.request("GET", url, content_type=None, headers={"Accept": "application/json"})
        check_response(resp)
        return resp.content
    finally:
        await sender.close()
