"""What the API calls: /history, /history/{fingerprint} and /report answers, cached."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import orjson

from ..model.timefmt import now_ns
from ..store.base import HistoryReader
from .cache import QueryCache
from .query import BadParameter, page_json, parse_history_query, report_json, timeline_json
from .recorder import HistoryRecorder

TIMELINE_EVENTS = 1000
"""A timeline shows an alert's latest events, at most this many (``truncated`` says when)."""


class HistoryService:
    def __init__(self, storage: HistoryReader, recorder: HistoryRecorder, cache: QueryCache) -> None:
        # Cache keys are per database: several engines (or tests) may share one Redis. A store
        # reached by host/port/database rather than a URL is named by those (never the password).
        connect = getattr(storage, "connect_args", None) or {}
        named = sorted((k, str(v)) for k, v in connect.items() if k != "password")
        where = str(getattr(storage, "path", None) or getattr(storage, "dsn", None) or named)
        self.namespace = hashlib.sha256(where.encode()).hexdigest()[:12]
        self.storage = storage
        self.recorder = recorder
        self.cache = cache

    async def _cached(self, kind: str, normalized: str, compute: object) -> bytes:
        key = self.cache.key(f"{self.namespace}:{kind}", self.recorder.version, normalized)
        hit = await self.cache.get(key)
        if hit is not None:
            return hit
        assert callable(compute)
        body: bytes = orjson.dumps(await compute())
        await self.cache.set(key, body)
        return body

    async def history(self, params: Mapping[str, Sequence[str]]) -> bytes:
        h = parse_history_query(params)

        async def compute() -> object:
            now = now_ns()
            return page_json(h, await self.storage.query_history(h, now), now)

        return await self._cached("history", h.normalized, compute)

    async def report(self, params: Mapping[str, Sequence[str]]) -> bytes:
        allowed = {"from", "to", "flapping", "flapping_window"}
        extra = sorted(set(params) - allowed)
        if extra:
            raise BadParameter(f"{extra[0]}: unknown parameter")
        h = parse_history_query(params)
        threshold = h.flapping if h.flapping is not None else 3

        async def compute() -> object:
            r = await self.storage.history_report(h.from_, h.to, threshold, h.flapping_window)
            return report_json(r, h.from_, h.to)

        return await self._cached("report", h.normalized, compute)

    async def timeline(self, fingerprint: str) -> bytes | None:
        if len(fingerprint) != 16 or any(c not in "0123456789abcdef" for c in fingerprint):
            raise BadParameter(f"fingerprint: not 16 lowercase hex digits: {fingerprint!r}")

        async def compute() -> object:
            t = await self.storage.history_timeline(fingerprint, TIMELINE_EVENTS)
            return None if t is None else timeline_json(fingerprint, t, now_ns())

        body = await self._cached("timeline", fingerprint, compute)
        return None if body == b"null" else body
