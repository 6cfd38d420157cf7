"""Enrichments by alert content: L1 in-process LRU, L2 Redis (shared by replicas), both for
``ai.cache_ttl``. Redis being down costs a miss, never an error: it is skipped for a few
seconds and ``ampp_ai_cache_lookups_total{tier="l2",result="error"}`` counts it."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

import orjson
from prometheus_client import Counter

from .model import Enrichment

if TYPE_CHECKING:  # loaded with a Redis URL only: redis-py costs a tenth of a second to import
    import redis.asyncio as aioredis

log = logging.getLogger("ampp.enrich.cache")
PREFIX = "ampp:enrich:"
_REDIS_RETRY_S = 5.0


class EnrichmentCache:
    def __init__(
        self,
        size: int,
        ttl_s: float,
        redis_url: str | None,
        lookups: Counter,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.size = size
        self.ttl_s = ttl_s
        self.clock = clock
        self._l1: OrderedDict[str, tuple[float, Enrichment]] = OrderedDict()
        self._redis: aioredis.Redis | None = None
        self._errors: tuple[type[Exception], ...] = (OSError,)
        if redis_url:
            import redis.asyncio as aioredis

            self._redis = aioredis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
            self._errors = (aioredis.RedisError, OSError)
        self._redis_down_until = 0.0
        self._lookups = lookups

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()

    async def get(self, key: str) -> Enrichment | None:
        now = self.clock()
        found = self._l1.get(key)
        if found is not None and found[0] > now:
            self._l1.move_to_end(key)
            self._lookups.labels("l1", "hit").inc()
            return found[1]
        self._lookups.labels("l1", "miss").inc()
        if self._redis is None or now < self._redis_down_until:
            return None
        try:
            raw = await self._redis.get(PREFIX + key)
        except self._errors as e:
            self._redis_failed(e)
            return None
        if raw is None:
            self._lookups.labels("l2", "miss").inc()
            return None
        self._lookups.labels("l2", "hit").inc()
        enrichment = Enrichment.from_json(orjson.loads(raw))
        self._remember(key, enrichment)
        return enrichment

    async def put(self, key: str, enrichment: Enrichment) -> None:
        self._remember(key, enrichment)
        if self._redis is None or self.clock() < self._redis_down_until:
            return
        try:
            await self._redis.set(PREFIX + key, orjson.dumps(enrichment.to_json()), px=int(self.ttl_s * 1000))
        except self._errors as e:
            self._redis_failed(e)

    def _remember(self, key: str, enrichment: Enrichment) -> None:
        self._l1[key] = (self.clock() + self.ttl_s, enrichment)
        self._l1.move_to_end(key)
        while len(self._l1) > self.size:
            self._l1.popitem(last=False)

    def _redis_failed(self, error: Exception) -> None:
        self._lookups.labels("l2", "error").inc()
        self._redis_down_until = self.clock() + _REDIS_RETRY_S
        log.warning("enrichment cache: Redis unavailable, using the in-process cache only: %s", error)
