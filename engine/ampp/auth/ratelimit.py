"""Rate limits: fixed one-second windows per client address, per identity and for everyone,
counted apart for the API and for alert ingestion; and failed logins per client address per
minute.

With a cache URL the counters live in Redis, through the ``limits`` library (its atomic
scripts), so replicas share them. Without one they live in this process: a dict of
(window, count) per key, a few hundred nanoseconds a check, because three checks of the
library's in-memory storage cost the ingest path a quarter of its rate (an asyncio lock and a
task per check). With Redis unreachable each replica counts in memory (logged once) and goes
back to Redis a few seconds later: a Redis outage never takes the API down.
"""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING, Any, Literal

from ..config.security import RateBudget, RateLimitSettings

if TYPE_CHECKING:  # limits (and redis-py) load only with a Redis URL: not on every start's path
    from limits import RateLimitItem
    from limits.aio.strategies import FixedWindowRateLimiter

log = logging.getLogger("ampp.auth")

Budget = Literal["api", "ingest"]
RETRY_REDIS_S = 5.0
MAX_KEYS = 100_000
"""Local counters kept before those of past windows are dropped (addresses come and go)."""


class LocalWindows:
    """Fixed windows aligned on the clock (a second, a minute), counted in this process."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}

    def hit(self, key: str, limit: int, period: int, now: float) -> float | None:
        """Count one; None if it fits, else the seconds until the window ends."""
        window = int(now // period)
        seen = self._counts.get(key)
        count = seen[1] + 1 if seen is not None and seen[0] == window else 1
        self._counts[key] = (window, count)
        if len(self._counts) > MAX_KEYS:
            self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
        if count <= limit:
            return None
        return max(1.0, math.ceil((window + 1) * period - now))

    def spent(self, key: str, limit: int, period: int, now: float) -> float | None:
        """Without counting: the seconds until the window ends if it is spent, else None."""
        window = int(now // period)
        seen = self._counts.get(key)
        if seen is None or seen[0] != window or seen[1] < limit:
            return None
        return max(1.0, math.ceil((window + 1) * period - now))


class RateLimiter:
    def __init__(self, settings: RateLimitSettings, redis_url: str | None = None) -> None:
        self._budgets: dict[str, RateBudget] = {"api": settings.api, "ingest": settings.ingest}
        self._logins = settings.failed_logins_per_minute
        self._local = LocalWindows()
        self._items: dict[tuple[int, int], RateLimitItem] = {}
        self._pool: Any = None
        self._shared: FixedWindowRateLimiter | None = None
        self._shared_down_until = 0.0
        if redis_url:
            import redis.asyncio
            from limits.aio.storage import RedisStorage, Storage
            from limits.aio.strategies import FixedWindowRateLimiter

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

    def _item(self, limit: int, period: int) -> RateLimitItem:
        item = self._items.get((limit, period))
        if item is None:
            from limits import RateLimitItemPerMinute, RateLimitItemPerSecond

            make = RateLimitItemPerSecond if period == 1 else RateLimitItemPerMinute
            item = self._items[limit, period] = make(limit)
        return item

    def _redis(self) -> FixedWindowRateLimiter | None:
        if self._shared is not None and time.monotonic() >= self._shared_down_until:
            return self._shared
        return None

    def _redis_failed(self, e: Exception) -> None:
        if self._shared_down_until == 0.0 or time.monotonic() > self._shared_down_until + 60:
            log.warning("Rate limits: Redis unreachable, counting in memory for now: %s", e)
        self._shared_down_until = time.monotonic() + RETRY_REDIS_S

    async def _hit(self, limit: int, period: int, key: str) -> float | None:
        """None if the hit fits in its window, else the seconds until the window ends."""
        shared = self._redis()
        if shared is not None:
            from limits.errors import StorageError

            item = self._item(limit, period)
            try:
                if await shared.hit(item, key):
                    return None
                reset = (await shared.get_window_stats(item, key)).reset_time
                return max(1.0, math.ceil(reset - time.time()))
            except StorageError as e:
                self._redis_failed(e)
        return self._local.hit(key, limit, period, time.time())

    async def before_auth(self, budget: Budget, address: str) -> float | None:
        """Per client address and global: checked before any credential is."""
        b = self._budgets[budget]
        if b.per_ip is not None:
            wait = await self._hit(b.per_ip, 1, f"{budget}/ip/{address}")
            if wait is not None:
                return wait
        if b.global_ is not None:
            return await self._hit(b.global_, 1, f"{budget}/global")
        return None

    async def after_auth(self, budget: Budget, identity: str) -> float | None:
        b = self._budgets[budget]
        if b.per_identity is None:
            return None
        return await self._hit(b.per_identity, 1, f"{budget}/id/{identity}")

    async def login_blocked(self, address: str) -> float | None:
        """Seconds to wait if this address failed to log in too often in this minute."""
        if self._logins is None:
            return None
        key = f"login/{address}"
        shared = self._redis()
        if shared is not None:
            from limits.errors import StorageError

            item = self._item(self._logins, 60)
            try:
                stats = await shared.get_window_stats(item, key)
            except StorageError as e:
                self._redis_failed(e)
            else:
                if stats.remaining > 0:
                    return None
                return max(1.0, math.ceil(stats.reset_time - time.time()))
        return self._local.spent(key, self._logins, 60, time.time())

    async def login_failed(self, address: str) -> None:
        if self._logins is not None:
            await self._hit(self._logins, 60, f"login/{address}")
