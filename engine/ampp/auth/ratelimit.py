"""Rate limits with the ``limits`` library: fixed one-second windows per client address, per
identity and for everyone, counted apart for the API and for alert ingestion; and failed logins
per client address per minute.

Counters live in Redis when a cache URL is configured, so replicas share them; in memory
otherwise. With Redis unreachable, each replica counts in memory (logged once) and goes back to
Redis a few seconds later: a Redis outage never takes the API down.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Literal

from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError

from ..config.security import RateBudget, RateLimitSettings

log = logging.getLogger("ampp.auth")

Budget = Literal["api", "ingest"]
RETRY_REDIS_S = 5.0


@dataclass(frozen=True, slots=True)
class _Items:
    per_ip: RateLimitItem | None
    per_identity: RateLimitItem | None
    global_: RateLimitItem | None

    @classmethod
    def of(cls, b: RateBudget) -> _Items:
        def item(n: int | None) -> RateLimitItem | None:
            return RateLimitItemPerSecond(n) if n else None

        return cls(item(b.per_ip), item(b.per_identity), item(b.global_))


class RateLimiter:
    def __init__(self, settings: RateLimitSettings, redis_url: str | None = None) -> None:
        self._items = {"api": _Items.of(settings.api), "ingest": _Items.of(settings.ingest)}
        n = settings.failed_logins_per_minute
        self._logins = RateLimitItemPerMinute(n) if n else None
        self._memory = FixedWindowRateLimiter(MemoryStorage())
        self._pool: Any = None
        self._shared: FixedWindowRateLimiter | None = None
        self._shared_down_until = 0.0
        if redis_url:
            import redis.asyncio

            self._pool = redis.asyncio.ConnectionPool.from_url(
                redis_url, socket_timeout=0.5, socket_connect_timeout=0.5
            )
            storage: Storage = RedisStorage(
                "async+" + redis_url,  # checked by limits; the pool below is what connects
                implementation="redispy",
                wrap_exceptions=True,
                key_prefix="ampp-limits",
                connection_pool=self._pool,
            )
            self._shared = FixedWindowRateLimiter(storage)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()

    def _limiter(self) -> FixedWindowRateLimiter:
        if self._shared is not None and time.monotonic() >= self._shared_down_until:
            return self._shared
        return self._memory

    async def _hit(self, item: RateLimitItem, *keys: str) -> float | None:
        """None if the hit fits in the window, else the seconds until the window ends."""
        limiter = self._limiter()
        try:
            if await limiter.hit(item, *keys):
                return None
            reset = (await limiter.get_window_stats(item, *keys)).reset_time
        except StorageError as e:
            if self._shared_down_until == 0.0 or time.monotonic() > self._shared_down_until + 60:
                log.warning("Rate limits: Redis unreachable, counting in memory for now: %s", e)
            self._shared_down_until = time.monotonic() + RETRY_REDIS_S
            return await self._hit(item, *keys)
        return max(1.0, math.ceil(reset - time.time()))

    async def before_auth(self, budget: Budget, address: str) -> float | None:
        """Per client address and global: checked before any credential is."""
        items = self._items[budget]
        if items.per_ip is not None:
            wait = await self._hit(items.per_ip, budget, "ip", address)
            if wait is not None:
                return wait
        if items.global_ is not None:
            return await self._hit(items.global_, budget, "global")
        return None

    async def after_auth(self, budget: Budget, identity: str) -> float | None:
        items = self._items[budget]
        if items.per_identity is None:
            return None
        return await self._hit(items.per_identity, budget, "id", identity)

    async def login_blocked(self, address: str) -> float | None:
        """Seconds to wait if this address failed to log in too often in the last minute."""
        if self._logins is None:
            return None
        limiter = self._limiter()
        try:
            stats = await limiter.get_window_stats(self._logins, "login", address)
        except StorageError:
            self._shared_down_until = time.monotonic() + RETRY_REDIS_S
            return None
        if stats.remaining > 0:
            return None
        return max(1.0, math.ceil(stats.reset_time - time.time()))

    async def login_failed(self, address: str) -> None:
        if self._logins is not None:
            await self._hit(self._logins, "login", address)
