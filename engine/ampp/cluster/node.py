"""This replica's membership in the cluster of replicas sharing one PostgreSQL database.

One connection of its own (outside the pool) carries both the heartbeat and the LISTEN for the
other replicas' changes, so "my heartbeat went through" also means "I have heard of every
change committed until then": a replica flushes only while both hold (its *fence*, see
:mod:`.ownership`). Cut off, it flushes and sends nothing, keeps accepting alerts into memory
(the write-behind buffers them), and once it is back it first reads again what it missed
(alerts, silences, the notification log), then counts itself in.

Every interval (``--cluster.probe-interval``) the replica renews its row and reads everyone's;
between two heartbeats it wakes at the instant the set of members that own groups changes (a
new run settled, a heartbeat ran out), so a dead replica's groups move within ``dead_after``
of its last heartbeat. The groups it gains it flushes at once, after reading the notification
log again (what the previous owner sent), and the notifications the dead one had claimed but
not sent are handed back to the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from ..dispatch.dispatcher import AggregationGroup
from ..ingest.alertstore import AlertSink, AlertStore
from ..mute.silences import Silences, SilenceSink
from ..notify.nflog import NotificationLog
from ..store.postgres import cluster as sql
from ..store.postgres.storage import PostgresStorage
from .metrics import ClusterMetrics
from .ownership import alive, eligible, next_change, owner
from .settings import ClusterSettings

log = logging.getLogger("ampp.cluster")

FORGET_EVERY_S = 60.0
"""How often the rows of replicas gone for longer than --cluster.reconnect-timeout are deleted."""

CONNECT_TIMEOUT = 5.0
"""How long opening the cluster's connection, or reading everything again once it is open, may
take; any other call to PostgreSQL here has ``timing.fence`` (a heartbeat ``timing.timeout``):
a network that drops packets must never hold the heartbeat loop."""


@dataclass(frozen=True, slots=True)
class Peer:
    name: str
    address: str
    state: str
    """``ready`` (flushes its share of the groups), ``settling`` (joined, not yet counted in)."""


class Cluster:
    """The replica's side of the cluster: heartbeat, ownership, and what the others changed."""

    def __init__(
        self,
        settings: ClusterSettings,
        storage: PostgresStorage,
        metrics: ClusterMetrics,
        *,
        alerts: AlertStore,
        alert_sinks: Sequence[AlertSink],
        silences: Silences,
        silence_sinks: Sequence[SilenceSink],
        nflog: NotificationLog,
        groups: Callable[[], Iterable[AggregationGroup]],
        sending: Callable[[bool], None],
        deliveries_released: Callable[[], None],
        reload: Callable[[], Awaitable[None]],
    ) -> None:
        self.settings = settings
        self.name = settings.name
        self.timing = settings.timing
        self.storage = storage
        self.metrics = metrics
        self.alerts = alerts
        self.alert_sinks = tuple(alert_sinks)
        self.silences = silences
        self.silence_sinks = tuple(silence_sinks)
        self.nflog = nflog
        self.groups = groups
        self._sending = sending
        self._released = deliveries_released
        self._reload = reload
        self.run_id = secrets.token_hex(8)
        self.config_digest = ""
        """The running config's digest (the engine sets it): a peer announcing another one
        makes this replica reload its own file."""
        self.rows: list[sql.MemberRow] = []
        self._db_now = 0  # the database's clock at the last read (Unix microseconds) ...
        self._read_at = 0.0  # ... and this process's monotonic clock when it was answered
        self._sent_at: float | None = None  # monotonic send time of the last successful heartbeat
        self._members: frozenset[str] = frozenset()
        self._gaining: frozenset[str] = frozenset()
        """Group keys gained but not yet flushable: the notification log is being read again."""
        self._conn: asyncpg.Connection[asyncpg.Record] | None = None
        self._synced = False
        self._failures = 0
        self._alert_fps: set[int] = set()
        self._silence_ids: set[str] = set()
        self._changed = asyncio.Event()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._forgotten_at = 0.0

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        """Join: the first heartbeat must go through (storage was just opened)."""
        self.metrics.connected.set(0)
        await self._beat()
        if self._sent_at is None:
            raise OSError("the cluster's first heartbeat to PostgreSQL failed")
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._run(), name="cluster-heartbeat"),
            loop.create_task(self._fetch_loop(), name="cluster-changes"),
        ]
        log.info("Joined the cluster name=%s members=%d", self.name, len(self.live()))

    async def stop(self) -> None:
        """Leave at once (the others take this replica's groups without waiting)."""
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._sent_at = None
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.timing.timeout + 1):
                    await sql.leave(conn, self.name, self.run_id)
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1):
                    await conn.close()
            if not conn.is_closed():
                conn.terminate()

    # -- what the engine asks ------------------------------------------------------------
    def connected(self) -> bool:
        """Whether this replica may flush and send: its last heartbeat (which also means it has
        heard of every change until then) is recent enough."""
        sent = self._sent_at
        return sent is not None and self._synced and time.monotonic() < sent + self.timing.fence

    def owns(self, group_key: str) -> bool:
        """Whether this replica flushes ``group_key`` now."""
        if not self.connected() or group_key in self._gaining:
            return False
        members = self._members
        return self.name in members and owner(group_key, members) == self.name

    def keep_resolved(self) -> float:
        """How long past its group interval a group this replica does not own keeps a resolved
        alert: the owner flushed it by then, or died and this replica may take the group."""
        return self.timing.dead_after + self.timing.heartbeat

    def update_gauges(self) -> None:
        self.metrics.owned_groups.set(sum(1 for g in self.groups() if g.alerts and self.owns(g.group_key)))
        sent = self._sent_at
        self.metrics.heartbeat_seconds.set(0 if sent is None else time.monotonic() - sent)

    def now_us(self) -> int:
        """The database's clock now, estimated from the last read (never ahead of it)."""
        return self._db_now + int((time.monotonic() - self._read_at) * 1e6)

    def live(self) -> list[sql.MemberRow]:
        now = self.now_us()
        return sorted((r for r in self.rows if alive(r, now, self.timing)), key=lambda r: r.name)

    def peers(self) -> list[Peer]:
        members = self._members
        return [Peer(r.name, r.address, "ready" if r.name in members else "settling") for r in self.live()]

    def status(self) -> str:
        """The cluster status of the status API: ``ready`` while this replica flushes its share."""
        return "ready" if self.connected() and self.name in self._members else "settling"

    def problem(self) -> str | None:
        """Why this replica does not notify (for /-/ready), or None."""
        if self.connected():
            return None
        return "cut off from PostgreSQL: not notifying, accepting alerts into memory"

    async def announce_config(self, digest: str) -> None:
        """Tell the others this replica applied a config they may not have (they reload)."""
        self.config_digest = digest
        try:  # through the pool: the cluster's own connection is the heartbeat's
            async with asyncio.timeout(self.timing.fence), self.storage.pool.acquire() as conn:
                await sql.announce_config(conn, self.name, digest)
        except Exception as e:
            log.warning("Could not tell the other replicas about the reload: %s", e)

    # -- heartbeat and ownership -----------------------------------------------------------
    async def _run(self) -> None:
        next_beat = (self._sent_at or time.monotonic()) + self.timing.heartbeat
        while True:
            now = time.monotonic()
            if now >= next_beat:
                await self._beat()
                next_beat = max(time.monotonic(), (self._sent_at or now) + self.timing.heartbeat)
                if self._sent_at is None or self._sent_at < now:  # failed: try again an interval on
                    next_beat = now + self.timing.heartbeat
            await self._evaluate()
            wake = next_beat
            change = next_change(self.rows, self.now_us(), self.timing)
            if change is not None:
                wake = min(wake, self._read_at + (change - self._db_now) / 1e6 + 0.001)
            if self._sent_at is not None:
                wake = min(wake, self._sent_at + self.timing.fence + 0.001)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(wake - time.monotonic(), 0.001)):
                    await self._wake.wait()

    async def _beat(self) -> None:
        try:
            if self._conn is None or self._conn.is_closed():
                await self._connect()
            conn = self._conn
            assert conn is not None
            sent = time.monotonic()
            async with asyncio.timeout(self.timing.timeout):
                db_now, rows = await sql.heartbeat(conn, self.name, self.settings.address, self.run_id)
        except Exception as e:
            self._failed(e)
            return
        self._read_at = time.monotonic()
        self._db_now, self.rows, self._sent_at = db_now, rows, sent
        if self._failures:
            log.info("PostgreSQL reachable again: notifying name=%s", self.name)
        self._failures = 0
        self._report()

    def _failed(self, e: BaseException) -> None:
        self._failures += 1
        if self._failures == 1:
            log.warning(
                "Cluster heartbeat failed: no notification from this replica until PostgreSQL answers "
                "again name=%s err=%s",
                self.name,
                str(e) or type(e).__name__,
            )
        conn, self._conn = self._conn, None
        self._synced = False
        if conn is not None and not conn.is_closed():
            conn.terminate()  # a connection cut mid-query is not trusted again
        self._report()

    async def _connect(self) -> None:
        """Open the connection, LISTEN, then read everything again: what was missed while not
        listening (at start, or cut off) is caught up before this replica flushes anything."""
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                conn = await self.storage.connect()
        except Exception:
            if self._tasks:
                self.metrics.reconnections_failed.inc()
            raise
        try:
            await conn.add_listener(sql.ALERTS_CHANNEL, self._on_alert)
            await conn.add_listener(sql.SILENCES_CHANNEL, self._on_silence)
            await conn.add_listener(sql.CONFIG_CHANNEL, self._on_config)
            async with asyncio.timeout(CONNECT_TIMEOUT):
                await self._catch_up()
        except BaseException:
            conn.terminate()
            raise
        if self._tasks:
            self.metrics.reconnections.inc()
        self._conn = conn
        self._synced = True

    async def _catch_up(self) -> None:
        alerts = await self.storage.load_alerts()
        self.alerts.take(alerts, self.alert_sinks)
        await self._take_silences(await self.storage.load_silences())
        for e in await self.storage.load_nflog():
            self.nflog.remember(e)

    def _report(self) -> None:
        ok = self.connected()
        self._sending(ok)
        self.metrics.connected.set(1 if ok else 0)
        self.metrics.health_score.set(self._failures)

    async def _evaluate(self) -> None:
        """Recompute who owns groups; take over what this replica gained, hand back what dead
        replicas had claimed."""
        self._report()
        if self.connected() and time.monotonic() - self._forgotten_at > FORGET_EVERY_S:
            await self._forget()
        now = self.now_us()
        members = eligible(self.rows, now, self.timing) if self.connected() else frozenset()
        live = self.live()
        names = [r.name for r in live]
        m = self.metrics
        m.members.set(len(live))
        m.failed_peers.set(len(self.rows) - len(live))
        m.position.set(names.index(self.name) if self.name in names else 0)
        if members == self._members:
            return
        old, self._members = self._members, members
        for name in members - old:
            m.joined.inc()
            m.peer_info.labels(name).set(1)
        for name in old - members:
            m.left.inc()
            with contextlib.suppress(KeyError):
                m.peer_info.remove(name)
        log.info("Cluster members changed members=%s", ",".join(sorted(members)) or "none")
        dead = [n for n in old - members if n != self.name and n not in names] if self.connected() else []
        if dead:
            await self._release(dead)
        if self.name not in members:
            return
        gained = [
            g
            for g in self.groups()
            if owner(g.group_key, members) == self.name and owner(g.group_key, old) != self.name
        ]
        if not gained:
            return
        self._gaining = frozenset(g.group_key for g in gained)
        try:  # what the previous owners sent, before flushing after them
            async with asyncio.timeout(self.timing.fence):
                for e in await self.storage.load_nflog():
                    self.nflog.remember(e)
        except Exception as e:
            log.warning("Reading the notification log before a takeover failed, will retry: %s", e)
            self._members = old  # evaluated again at the next heartbeat
            return
        finally:
            self._gaining = frozenset()
        m.takeovers.inc(len(gained))
        for g in gained:
            g.flush_soon()

    async def _forget(self) -> None:
        """Stop listing the replicas not heard of for --cluster.reconnect-timeout."""
        self._forgotten_at = time.monotonic()
        try:
            async with asyncio.timeout(self.timing.fence), self.storage.pool.acquire() as conn:
                await sql.forget(conn, self.settings.forget_after)
        except Exception as e:
            log.debug("Forgetting long-dead replicas failed: %s", e)

    async def _release(self, dead: list[str]) -> None:
        """The notifications dead replicas claimed but never finished: pending again, now (not
        when their lease runs out), unless the replica came back meanwhile."""
        try:
            async with asyncio.timeout(self.timing.fence), self.storage.pool.acquire() as conn:
                n = sum([await sql.release_dead(conn, name, self.timing.dead_after) for name in dead])
        except Exception as e:
            log.warning("Handing back a dead replica's notifications failed (their lease will): %s", e)
            return
        if n:
            log.info("Handed back %d notifications claimed by dead replicas %s", n, ",".join(dead))
            self._released()

    # -- the others' changes -------------------------------------------------------------
    def _on_alert(self, conn: Any, pid: int, channel: str, payload: object) -> None:
        fp_hex, _, version = str(payload).partition(" ")
        if version == "-":
            return  # garbage-collected: each replica collects its own
        us, _, ns = version.partition(" ")
        try:
            fp, updated = int(fp_hex, 16), int(us) * 1000 + int(ns or 0)
        except ValueError:
            return
        held = self.alerts.get(fp)
        if held is not None and held.updated_at >= updated:
            return  # this replica's own write, or one it has
        self._alert_fps.add(fp)
        self._changed.set()

    def _on_silence(self, conn: Any, pid: int, channel: str, payload: object) -> None:
        self._silence_ids.add(str(payload))
        self._changed.set()

    def _on_config(self, conn: Any, pid: int, channel: str, payload: object) -> None:
        name, _, digest = str(payload).partition(" ")
        if name != self.name and digest != self.config_digest:
            self.metrics.replicated.labels("config").inc()
            asyncio.get_running_loop().create_task(self._reload_from_peer(name))

    async def _reload_from_peer(self, name: str) -> None:
        log.info("Replica %s reloaded its configuration: reloading this one's", name)
        try:
            await self._reload()
        except Exception as e:
            log.error("Reloading after replica %s did failed: %s", name, e)

    async def _fetch_loop(self) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            fps, self._alert_fps = self._alert_fps, set()
            ids, self._silence_ids = self._silence_ids, set()
            try:
                async with asyncio.timeout(self.timing.fence):
                    alerts = await self.storage.fetch_alerts(list(fps)) if fps else []
                    silences = await self.storage.fetch_silences(list(ids)) if ids else []
                taken = self.alerts.take(alerts, self.alert_sinks)
                self.metrics.replicated.labels("alert").inc(len(taken))
                await self._take_silences(silences)
            except Exception as e:  # tried again (a reconnection reads everything anyway)
                log.warning("Reading another replica's changes failed: %s", str(e) or type(e).__name__)
                self._alert_fps |= fps
                self._silence_ids |= ids
                await asyncio.sleep(self.timing.heartbeat)
                self._changed.set()

    async def _take_silences(self, found: Iterable[Any]) -> None:
        for s in found:
            held = self.silences.get(s.id)
            if held is not None and held.updated_at >= s.updated_at:
                continue
            self.silences.load([s])
            self.metrics.replicated.labels("silence").inc()
            for sink in self.silence_sinks:
                await sink.silence_changed("replicated", s, held)
