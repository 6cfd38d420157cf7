"""Query-result cache: a bounded in-process L1 with a TTL in front of an optional Redis L2.

Keys carry the recorder's write version, so a write makes every older answer unreachable here;
an answer is never older than the TTL. With Redis unreachable every lookup misses L2 (after
one failed attempt the L2 is skipped for ``retry_s``) and ``ampp_cache_up`` is 0.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge

log = logging.getLogger("ampp.history.cache")


class QueryCache:
    def __init__(
        self,
        registry: CollectorRegistry,
        url: str | None,
        ttl_s: float = 30,
        size: int = 1024,
        retry_s: float = 5,
    ) -> None:
        self.ttl_s = ttl_s
        self.size = max(1, size)
        self.retry_s = retry_s
        self._l1: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._redis: Any = None
        self._down_until = 0.0
        self._is_up = False
        self.up = Gauge(
            "ampp_cache_up", "1 while the L2 cache (Redis) answers; 0 when down or unset.", registry=registry
        )
        self.lookups = Counter(
            "ampp_cache_lookups", "Query cache lookups by result.", ["result"], registry=registry
        )
        if url:
            import redis.asyncio as aioredis

            self._redis = aioredis.Redis.from_url(
                url, socket_connect_timeout=0.25, socket_timeout=0.25, retry_on_timeout=False
            )
            self._set_up(True)

    def _set_up(self, up: bool) -> None:
        self._is_up = up
        self.up.set(1 if up else 0)

    @staticmethod
    def key(kind: str, version: int, normalized: str) -> str:
        return f"ampp:q:{kind}:{version}:{hashlib.sha256(normalized.encode()).hexdigest()[:32]}"

    def _l2_usable(self) -> bool:
        return self._redis is not None and time.monotonic() >= self._down_until

    def _l2_failed(self, e: Exception) -> None:
        if self._is_up:  # log once per outage
            log.warning("cache (Redis) unreachable; answering from the database: %s", e)
        self._set_up(False)
        self._down_until = time.monotonic() + self.retry_s

    async def get(self, key: str) -> bytes | None:
        if self.ttl_s <= 0:  # cache.enabled: false
            return None
        hit = self._l1.get(key)
        now = time.monotonic()
        if hit is not None:
            if hit[0] > now:
                self._l1.move_to_end(key)
                self.lookups.labels("l1").inc()
                return hit[1]
            del self._l1[key]
        if self._l2_usable():
            try:
                value = await self._redis.get(key)
                self._set_up(True)
            except Exception as e:
                self._l2_failed(e)
            else:
                if value is not None:
                    self.lookups.labels("l2").inc()
                    self._put_l1(key, bytes(value), now)
                    return bytes(value)
        self.lookups.labels("miss").inc()
        return None

    def _put_l1(self, key: str, value: bytes, now: float) -> None:
        self._l1[key] = (now + self.ttl_s, value)
        self._l1.move_to_end(key)
        while len(self._l1) > self.size:
            self._l1.popitem(last=False)

    async def set(self, key: str, value: bytes) -> None:
        if self.ttl_s <= 0:
            return
        self._put_l1(key, value, time.monotonic())
        if self._l2_usable():
            try:
                await self._redis.set(key, value, px=max(1, int(self.ttl_s * 1000)))
                self._set_up(True)
            except Exception as e:
                self._l2_failed(e)

    async def close(self) -> None:
        if self._redis is not None:
            try:
                await self._redis.aclose()
            except Exception:
                pass
